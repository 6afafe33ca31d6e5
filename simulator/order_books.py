"""What TikTok keeps about a shop's orders beside the orders themselves.

Packages, cancellations, returns (each with its after-sales request and, once a return is
approved, its RMA), settlements and statements, webhook subscriptions and the log of webhook
deliveries. Plain records: the modules serving them answer in the API's shapes. Times are unix
seconds, except a subscription's, which TikTok's Event API answers in milliseconds. Money is kept
as decimal strings with the currency's precision, as TikTok writes it.
"""

from dataclasses import dataclass, field
from typing import Any


@dataclass
class Subscription:
    """A shop's webhook address for one event type (``PUT /event/202309/webhooks``)."""

    shop_id: str
    event_type: int
    address: str
    create_time_ms: int
    update_time_ms: int


@dataclass
class Package:
    """One parcel of an order (``GET /fulfillment/202309/packages/{package_id}``).

    ``status``: TO_FULFILL, PROCESSING (shipment arranged, awaiting the carrier), FULFILLING
    (collected, in transit), COMPLETED (delivered) or CANCELLED.
    """

    id: str
    shop_id: str
    order_id: str
    line_item_ids: list[str]
    create_time: int
    update_time: int
    status: str = "TO_FULFILL"
    split_tag: str = "DEFAULT"  # SPLIT once some line items left for a package of their own
    tracking_number: str | None = None
    shipping_provider_id: str | None = None
    shipping_provider_name: str | None = None
    handover_method: str | None = None
    pickup_slot: dict[str, int] | None = None
    rts_time: int | None = None


@dataclass
class Refund:
    """What a cancellation or return gives back, as ``RefundAmount`` decimal strings."""

    currency: str
    subtotal: str
    shipping_fee: str
    tax: str
    total: str
    # Order line item id -> the part of ``subtotal`` that line stands for.
    per_line: dict[str, str] = field(default_factory=dict)


@dataclass
class Cancellation:
    """An order cancellation: the buyer's request (BUYER_CANCEL) or the seller's act (CANCEL).

    ``status`` (search spelling): CANCELLATION_REQUEST_PENDING, _SUCCESS (approved, refund on its
    way), _CANCEL (rejected or withdrawn) and _COMPLETE (refunded).
    """

    id: str
    shop_id: str
    order_id: str
    cancel_type: str
    role: str
    status: str
    reason: str
    reason_text: str
    # Order line item id -> cancellation line item id.
    lines: dict[str, str]
    refund: Refund
    create_time: int
    update_time: int
    reject_reason: str | None = None
    reject_comment: str | None = None
    # When the refund completes (SUCCESS -> COMPLETE), once approved.
    refund_due: int | None = None


@dataclass
class ReturnRequest:
    """A buyer's refund-only (REFUND) or return-and-refund (RETURN_AND_REFUND) request.

    It is also the one SKU return request of its after-sales request (202603 model), and of its
    RMA once a return is approved (202604 model). ``status`` uses the 202602 search spelling.
    """

    id: str
    shop_id: str
    order_id: str
    return_type: str
    role: str
    status: str
    reason: str
    reason_text: str
    # Order line item id -> return line item id.
    lines: dict[str, str]
    refund: Refund
    create_time: int
    update_time: int
    aftersales_id: str
    aftersales_status: str
    aftersales_update_time: int
    rma_id: str | None = None
    rma_status: str | None = None
    rma_package_id: str | None = None
    rma_create_time: int | None = None
    rma_update_time: int | None = None
    return_tracking_number: str | None = None
    return_provider_id: str | None = None
    return_provider_name: str | None = None
    buyer_keep_item: bool = False
    reject_reason: str | None = None
    reject_comment: str | None = None
    # A partial refund the seller gave instead of the full one (decimal string).
    partial_refund_total: str | None = None
    refund_due: int | None = None
    refund_time: int | None = None
    # When the request reached a final status (refunded, rejected): settlements wait for it.
    close_time: int | None = None

    @property
    def open(self) -> bool:
        return self.close_time is None


@dataclass
class Settlement:
    """An order's settlement, frozen when its statement was generated (00:00 UTC)."""

    order_id: str
    shop_id: str
    statement_id: str
    statement_time: int
    currency: str
    # The order's transaction as the 202501 call answers it, amounts fixed at settlement.
    transaction: dict[str, Any]


@dataclass
class Statement:
    """A daily statement (00:00 UTC) of one shop and currency: the orders it settled."""

    id: str
    shop_id: str
    currency: str
    statement_time: int
    order_ids: list[str] = field(default_factory=list)


@dataclass
class WebhookDelivery:
    """One notification's fate, as ``GET /_sim/webhooks/deliveries`` lists it.

    ``outcome``: ``queued``, ``delivered``, ``failed`` (non-2xx or no answer: a retry is
    scheduled), ``dropped`` (the fault plan lost it), ``no_subscription`` (nobody to send it to).
    """

    sequence: int
    shop_id: str
    type: int
    notification_id: str | None
    url: str | None
    outcome: str
    attempt: int = 1
    duplicate: bool = False
    delayed: bool = False
    status_code: int | None = None
    error: str | None = None


@dataclass
class PendingRetry:
    """A failed delivery TikTok sends again later (after 2 min, 30 min, 3 h, 12 h)."""

    due: int
    shop_id: str
    type: int
    url: str
    raw_body: bytes
    attempt: int


class OrderBooks:
    """Records by id, plus indexes by order id (a generated world holds 100,000 orders)."""

    def __init__(self) -> None:
        self.subscriptions: dict[tuple[str, int], Subscription] = {}
        self.packages: dict[str, Package] = {}
        self.cancellations: dict[str, Cancellation] = {}
        self.returns: dict[str, ReturnRequest] = {}
        self._packages_by_order: dict[str, list[Package]] = {}
        self._cancellations_by_order: dict[str, list[Cancellation]] = {}
        self._returns_by_order: dict[str, list[ReturnRequest]] = {}
        # Orders with a remorse hour to end; delivered orders not settled yet, each with the
        # earliest time it can settle (its delivery's), so that most are skipped unread.
        self.held_orders: set[str] = set()
        self.awaiting_settlement: dict[str, int] = {}
        self.settlements: dict[str, Settlement] = {}  # by order id
        self.statements: dict[str, Statement] = {}
        self.deliveries: list[WebhookDelivery] = []
        self.retries: list[PendingRetry] = []
        # (shop id, call and idempotency key) of reverse-flow decisions already applied.
        self.idempotency_keys: set[tuple[str, str]] = set()

    def add_package(self, package: Package) -> None:
        self.packages[package.id] = package
        self._packages_by_order.setdefault(package.order_id, []).append(package)

    def add_cancellation(self, cancellation: Cancellation) -> None:
        self.cancellations[cancellation.id] = cancellation
        self._cancellations_by_order.setdefault(cancellation.order_id, []).append(cancellation)

    def add_return(self, request: ReturnRequest) -> None:
        self.returns[request.id] = request
        self._returns_by_order.setdefault(request.order_id, []).append(request)

    def packages_of(self, order_id: str) -> list[Package]:
        return list(self._packages_by_order.get(order_id, ()))

    def cancellations_of(self, order_id: str) -> list[Cancellation]:
        return list(self._cancellations_by_order.get(order_id, ()))

    def returns_of(self, order_id: str) -> list[ReturnRequest]:
        return list(self._returns_by_order.get(order_id, ()))

    def return_by_aftersales(self, aftersales_id: str) -> ReturnRequest | None:
        return next((r for r in self.returns.values() if r.aftersales_id == aftersales_id), None)

    def return_by_rma(self, rma_id: str) -> ReturnRequest | None:
        return next((r for r in self.returns.values() if r.rma_id == rma_id), None)
