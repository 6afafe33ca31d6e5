"""What a TikTok webhook means for our entities: pure rules over the typed webhook models.

Webhook payloads are looser than the API (TikTok's webhook descriptions, types 1 to 12):
statuses are normalised, and where a webhook leaves details out the handler fetches the order
from the API when it can.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from contracts.entities import ListingStatus, OrderStatus
from contracts.webhooks import (
    CancellationStatusData,
    ProductStatusData,
    ReturnStatusData,
    ReverseStatusData,
)
from service.domain.tiktok_status import map_order_status, map_product_status
from service.domain.time import from_unix

CANCELLATION_COMPLETE = frozenset({"CANCELLATION_REQUEST_COMPLETE"})
# Legacy type 2 (REVERSE_STATUS_UPDATE): reverse_type 1 and 4 are cancellations, the others
# returns or refunds; reverse_order_status 50, 51 and 100 mean the request went through. Its
# stage is kept as "REVERSE_<code>".
LEGACY_CANCEL_TYPES = frozenset({1, 4})
LEGACY_DONE_STATUSES = frozenset({50, 51, 100})
# A return stage at which TikTok has paid the buyer back (how much: the returns API says).
REFUND_DONE = frozenset(
    {
        "RETURN_OR_REFUND_REQUEST_COMPLETE",
        "REPLACEMENT_REQUEST_REFUND_SUCCESS",
        "EXCHANGE_REQUEST_REFUND_SUCCESS",
        *(f"REVERSE_{code}" for code in LEGACY_DONE_STATUSES),
    }
)
# Type 5's `status` values (TikTok's published description): two audit outcomes, which say the
# listing's new status, and PRODUCT_STATUS_CHANGED, which says only that TikTok itself changed
# the product (froze or deactivated it, say): its state must be read from the product API.
PRODUCT_AUDIT_STATUS: dict[str, ListingStatus] = {
    "PRODUCT_FIRST_PASS_REVIEW": "active",
    "PRODUCT_AUDIT_FAILURE": "rejected",
}
PRODUCT_STATUS_CHANGED = "PRODUCT_STATUS_CHANGED"

ReverseKind = Literal["cancellation", "return"]


@dataclass(frozen=True)
class Reverse:
    """A cancellation or return reported for an order.

    `order_status` is set only for a completed cancellation. A return never decides the order's
    status by itself: a stage in `REFUND_DONE` says TikTok paid the buyer back, and how much (all
    of the order or part of it) only TikTok's returns API states.
    """

    kind: ReverseKind
    status_text: str
    order_status: OrderStatus | None
    return_id: str | None = None
    return_type: str | None = None


def event_time(unix_seconds: int | None, fallback: datetime) -> datetime:
    """A webhook's own time (unix seconds), or `fallback` (when the ingress received it)."""
    if unix_seconds is None or unix_seconds <= 0:
        return fallback
    try:
        return from_unix(unix_seconds)
    except (OverflowError, OSError, ValueError):
        return fallback


def cancellation(data: CancellationStatusData) -> Reverse:
    status = data.cancel_status or ""
    done = status in CANCELLATION_COMPLETE
    return Reverse("cancellation", status, "cancelled" if done else None)


def return_request(data: ReturnStatusData) -> Reverse:
    status = data.return_status or ""
    return Reverse("return", status, None, return_id=data.return_id, return_type=data.return_type)


def legacy_reverse(data: ReverseStatusData) -> Reverse:
    kind: ReverseKind = "cancellation" if data.reverse_type in LEGACY_CANCEL_TYPES else "return"
    code = data.reverse_order_status
    text = f"REVERSE_{code}" if code is not None else ""
    if kind == "cancellation":
        return Reverse(kind, text, "cancelled" if code in LEGACY_DONE_STATUSES else None)
    return Reverse(kind, text, None)


def order_status(value: str | int | None) -> OrderStatus | None:
    return map_order_status(value)


def product_status(data: ProductStatusData) -> ListingStatus | None:
    """The listing status a type 5 webhook states (an audit outcome, or a product status by
    name or older code); None when it states none (PRODUCT_STATUS_CHANGED, a value TikTok adds
    later): then TikTok's product API must be asked."""
    raw = data.status
    if isinstance(raw, str) and raw in PRODUCT_AUDIT_STATUS:
        return PRODUCT_AUDIT_STATUS[raw]
    return map_product_status(raw)
