"""Webhooks as TikTok (and the 86d seed) send them, as the ingress publishes them to Kafka, and
as the worker reads them: one typed model per webhook type.

The ingress verifies the signature on the raw bytes, reads only the envelope, and publishes a
`WebhookMessage` to `topics.WEBHOOKS` keyed so that one order's (or one product's) events share a
partition. The worker parses each message once, with `parse_webhook`, into the model of its type.

TikTok is loose and adds types and fields without notice, so every model keeps unknown fields,
ids are taken as JSON numbers or text, integers (the `type` of every model among them) as
numbers or digit strings, and a field TikTok may leave out is optional. A boolean is never an
integer, an id nor an amount: the field is refused. An unknown type parses as
`UnknownNotification` and is kept.
"""

import hashlib
from collections.abc import Mapping
from datetime import datetime
from typing import Annotated, Any, Final, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    ValidationError,
    model_validator,
)

from contracts.wire import WireModel

# --- loose scalar types ---------------------------------------------------------------------


def _id_text(value: object) -> object:
    """TikTok sends ids as text and, in some types and samples, as JSON numbers."""
    if isinstance(value, bool):
        return value  # refused by the str type: a boolean names nothing
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return value


def _not_a_boolean(value: object) -> object:
    """JSON's `true` is no status code, integer or amount (Python would read it as 1)."""
    if isinstance(value, bool):
        raise ValueError("a boolean is not a number or text here")
    return value


#: The range of an integer the database stores (BSON's int64): TikTok sends none beyond it.
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1
_BEYOND_64_BITS = "must be an integer of at most 64 bits"


def _loose_int(value: object) -> object:
    """Integers as JSON numbers or as digit strings (`"1796000000"`); empty text is absent; a
    boolean, or an integer beyond 64 bits (no database could keep it), is refused."""
    _not_a_boolean(value)
    if isinstance(value, str):
        text = value.strip()
        if not text:
            return None
        if text.lstrip("-").isdigit():
            # Counted before converting: a 64-bit integer has at most 19 digits.
            if len(text.lstrip("-")) > 19:
                raise ValueError(_BEYOND_64_BITS)
            value = int(text)
    if isinstance(value, int | float) and not INT64_MIN <= value <= INT64_MAX:
        raise ValueError(_BEYOND_64_BITS)
    return value


#: An id: text, or a JSON number taken as its decimal text. Never empty.
TikTokId = Annotated[str, BeforeValidator(_id_text), Field(min_length=1)]
#: An id that may be absent.
OptionalId = Annotated[str | None, BeforeValidator(_id_text)]
#: Unix seconds or another integer, as a number or as digit text.
LooseInt = Annotated[int | None, BeforeValidator(_loose_int)]
#: A status TikTok spells as a name or as its code (`"AWAITING_SHIPMENT"` or 111).
StatusCode = Annotated[str | int | None, BeforeValidator(_not_a_boolean)]
#: The webhook's type number, as a number or as digit text.
TypeNumber = Annotated[int, BeforeValidator(_loose_int)]


class Loose(BaseModel):
    """A model that keeps the fields it does not name (TikTok adds fields without notice)."""

    model_config = ConfigDict(extra="allow", populate_by_name=True)


# --- what the ingress reads and publishes ----------------------------------------------------

# TikTok's webhook types (its published description); 2 is the legacy form of 11 and 12.
ORDER_STATUS_CHANGE: Final = 1
REVERSE_STATUS_UPDATE: Final = 2
RECIPIENT_ADDRESS_UPDATE: Final = 3
PACKAGE_UPDATE: Final = 4
PRODUCT_STATUS_CHANGE: Final = 5
SELLER_DEAUTHORIZATION: Final = 6
UPCOMING_AUTHORIZATION_EXPIRATION: Final = 7
CANCELLATION_STATUS_CHANGE: Final = 11
RETURN_STATUS_CHANGE: Final = 12
AFTERSALES_REQUEST_STATUS_UPDATE: Final = 64
RMA_STATUS_UPDATE: Final = 65
REFUND_SUCCESS: Final = 67
INVENTORY_STATUS_CHANGE: Final = 27
PRODUCT_AUDIT_STATUS_CHANGE: Final = 37
SKU_STATUS_CHANGE: Final = 50
INVENTORY_CHANGED_BY_SHOP: Final = 71

TIKTOK_TYPE_NAMES: Final[Mapping[int, str]] = {
    1: "ORDER_STATUS_CHANGE",
    2: "REVERSE_STATUS_UPDATE",
    3: "RECIPIENT_ADDRESS_UPDATE",
    4: "PACKAGE_UPDATE",
    5: "PRODUCT_STATUS_CHANGE",
    6: "SELLER_DEAUTHORIZATION",
    7: "UPCOMING_AUTHORIZATION_EXPIRATION",
    11: "CANCELLATION_STATUS_CHANGE",
    12: "RETURN_STATUS_CHANGE",
    13: "NEW_CONVERSATION",
    14: "NEW_MESSAGE",
    15: "PRODUCT_INFORMATION_CHANGE",
    16: "PRODUCT_CREATION",
    18: "PRODUCT_CATEGORY_CHANGE",
    27: "INVENTORY_STATUS_CHANGE",
    33: "NEW_MESSAGE_LISTENER",
    36: "INVOICE_STATUS_CHANGE",
    37: "PRODUCT_AUDIT_STATUS_CHANGE",
    50: "SKU_STATUS_CHANGE",
    64: "AFTERSALES_REQUEST_STATUS_UPDATE",
    65: "RMA_STATUS_UPDATE",
    67: "REFUND_SUCCESS",
    71: "INVENTORY_CHANGED_BY_SHOP",
}

#: The types TikTok's Event API (`PUT /event/202309/webhooks`, `event_type`) can register, by
#: its enum; every other type goes to the address set for the app in Partner Center.
EVENT_API_TYPES: Final[frozenset[str]] = frozenset(
    {
        "ORDER_STATUS_CHANGE",
        "REVERSE_STATUS_UPDATE",
        "RECIPIENT_ADDRESS_UPDATE",
        "PACKAGE_UPDATE",
        "PRODUCT_STATUS_CHANGE",
        "SELLER_DEAUTHORIZATION",
        "UPCOMING_AUTHORIZATION_EXPIRATION",
        "CANCELLATION_STATUS_CHANGE",
        "RETURN_STATUS_CHANGE",
        "NEW_CONVERSATION",
        "NEW_MESSAGE",
        "PRODUCT_INFORMATION_CHANGE",
        "PRODUCT_CREATION",
        "PRODUCT_CATEGORY_CHANGE",
        "NEW_MESSAGE_LISTENER",
        "INVOICE_STATUS_CHANGE",
        "PRODUCT_AUDIT_STATUS_CHANGE",
    }
)

#: The types the service acts on and therefore subscribes to, by TikTok's type number. The
#: legacy 2 is left out: 11 and 12 carry the same changes, and both would apply each twice.
SUBSCRIBED_TYPES: Final[tuple[int, ...]] = (1, 3, 4, 5, 6, 7, 11, 12, 27, 37, 50, 64, 65, 67, 71)

SeedWebhookType = Literal[
    "order.created",
    "order.shipped",
    "order.cancelled",
    "product.sync",
    "order.sync",
    "catalog.sync",
]


class TikTokEnvelope(Loose):
    """TikTok's envelope (snake_case, as TikTok sends it), as far as the ingress reads it.

    Only `type` is required. `tts_notification_id` is missing in older shops' deliveries and some
    SDK samples; type 71 names its delivery `event_id` instead.
    """

    type: TypeNumber
    tts_notification_id: OptionalId = None
    event_id: OptionalId = None
    shop_id: OptionalId = None
    timestamp: LooseInt = None
    data: Any = None

    def notification_id(self, raw: bytes) -> str:
        """TikTok's id for this delivery, else a stable id derived from the exact body bytes
        (a redelivery of the same body is then recognised as a duplicate).

        Type 71 is told apart by its `data.event_id` (TikTok's deduplication key for it), so a
        redelivery under another notification id is still one change.
        """
        if _loose_int(self.type) == INVENTORY_CHANGED_BY_SHOP and isinstance(self.data, dict):
            event_id = _id_text(self.data.get("event_id"))
            if isinstance(event_id, str) and event_id:
                return f"inventory-event:{event_id}"
        return self.tts_notification_id or self.event_id or body_id(raw)


class SeedWebhook(Loose):
    """The 86d seed module's form: a string type and a payload."""

    type: str = Field(min_length=1)
    payload: dict[str, Any]


def body_id(raw: bytes) -> str:
    """The id of a delivery that carries none: sha256 of its exact bytes, in hex."""
    return hashlib.sha256(raw).hexdigest()


class WebhookMessage(WireModel):
    """What the ingress publishes: the verified webhook and what it learned of it."""

    notification_id: str = Field(
        description="TikTok's tts_notification_id (or event_id); else sha256 of the body"
    )
    source: Literal["tiktok", "seed"]
    webhook_type: str = Field(description="TikTok's type number as text, or the seed's type")
    shop_id: str | None = None
    received_at: datetime
    correlation_id: str
    body: dict[str, Any] = Field(description="the webhook body as it was verified")


# --- what the worker reads: one model per type ----------------------------------------------


class Delivery(BaseModel):
    """Where a webhook came from, as the ingress recorded it (not part of TikTok's body)."""

    notification_id: str
    source: Literal["tiktok", "seed"]
    webhook_type: str
    shop_id: str = Field(description="the shop it is about; the default shop when it names none")
    received_at: datetime
    correlation_id: str
    body: dict[str, Any]


class Notification(Loose):
    """TikTok's envelope around `data`; `delivery` is what the ingress learned.

    Each typed model narrows `type` to its number (`Literal[1]`); the number is read here, before
    any model's fields, so that every model takes it as a number or as digit text alike.
    """

    delivery: Delivery
    type: TypeNumber
    timestamp: LooseInt = None

    @model_validator(mode="before")
    @classmethod
    def _type_number(cls, body: object) -> object:
        # A boolean is left as it is, for the field to refuse under its own name.
        if isinstance(body, dict) and not isinstance(body.get("type"), bool | None):
            return {**body, "type": _loose_int(body["type"])}
        return body


class OrderStatusData(Loose):
    order_id: TikTokId
    order_status: StatusCode = None
    update_time: LooseInt = None
    is_on_hold_order: bool | None = None


class OrderStatusChange(Notification):
    """Type 1 ORDER_STATUS_CHANGE. TikTok's webhook spells some statuses loosely (`CANCEL`)."""

    type: Literal[1]
    data: OrderStatusData


class ReverseStatusData(Loose):
    order_id: TikTokId
    reverse_type: LooseInt = None
    reverse_order_status: LooseInt = None
    reverse_event_type: str | None = None
    update_time: LooseInt = None


class ReverseStatusUpdate(Notification):
    """Type 2 REVERSE_STATUS_UPDATE: the legacy form of 11 and 12."""

    type: Literal[2]
    data: ReverseStatusData


class AddressUpdateData(Loose):
    order_id: TikTokId
    update_time: LooseInt = None


class RecipientAddressUpdate(Notification):
    """Type 3 RECIPIENT_ADDRESS_UPDATE: the details live in the order API."""

    type: Literal[3]
    data: AddressUpdateData


class PackageOrders(Loose):
    package_id: OptionalId = None
    order_id_list: list[TikTokId] = Field(default_factory=list)


class PackageUpdateData(Loose):
    order_id: OptionalId = None
    package_list: list[PackageOrders] = Field(default_factory=list)
    update_time: LooseInt = None

    def order_ids(self) -> list[str]:
        """Every order the update names, once each, in order of appearance."""
        ids = [self.order_id] if self.order_id else []
        ids += [i for p in self.package_list for i in p.order_id_list]
        return list(dict.fromkeys(ids))


class PackageUpdate(Notification):
    """Type 4 PACKAGE_UPDATE: the details live in the order API."""

    type: Literal[4]
    data: PackageUpdateData


class ProductStatusData(Loose):
    product_id: TikTokId
    status: StatusCode = None
    suspended_reason: str | None = None
    update_time: LooseInt = None


class ProductStatusChange(Notification):
    """Type 5 PRODUCT_STATUS_CHANGE (`product_id` is a JSON number in TikTok's description)."""

    type: Literal[5]
    data: ProductStatusData


class DeauthorizationData(Loose):
    message: str | None = None


class SellerDeauthorization(Notification):
    """Type 6 SELLER_DEAUTHORIZATION: the seller revoked the app for the shop."""

    type: Literal[6]
    data: DeauthorizationData = Field(default_factory=DeauthorizationData)


class ExpirationData(Loose):
    message: str | None = None
    expiration_time: LooseInt = None


class UpcomingAuthorizationExpiration(Notification):
    """Type 7 UPCOMING_AUTHORIZATION_EXPIRATION."""

    type: Literal[7]
    data: ExpirationData = Field(default_factory=ExpirationData)


class CancellationStatusData(Loose):
    order_id: TikTokId
    cancel_status: str | None = None
    cancel_id: OptionalId = None
    cancellations_role: str | None = None
    # TikTok's cancellation webhook carries when the request was made, not an update time.
    create_time: LooseInt = None
    update_time: LooseInt = None


class CancellationStatusChange(Notification):
    """Type 11 CANCELLATION_STATUS_CHANGE."""

    type: Literal[11]
    data: CancellationStatusData


class ReturnStatusData(Loose):
    order_id: TikTokId
    return_status: str | None = None
    return_type: str | None = None
    return_id: OptionalId = None
    return_role: str | None = None
    create_time: LooseInt = None
    update_time: LooseInt = None


class ReturnStatusChange(Notification):
    """Type 12 RETURN_STATUS_CHANGE."""

    type: Literal[12]
    data: ReturnStatusData


# --- the after-sales model (types 64, 65, 67): no order id, but the request's ------------------


class AftersalesRequestData(Loose):
    aftersales_request_id: TikTokId
    return_role: str | None = None
    aftersales_request_status: str | None = None
    aftersales_request_create_time: LooseInt = None
    aftersales_request_update_time: LooseInt = None


class AftersalesRequestStatusUpdate(Notification):
    """Type 64 AFTERSALES_REQUEST_STATUS_UPDATE: an after-sales request moved (INIT,
    PENDING_REQUEST_REVIEW, REQUEST_REVIEW_COMPLETED). It names the request, not the order."""

    type: Literal[64]
    data: AftersalesRequestData


class RmaStatusData(Loose):
    rma_id: TikTokId
    aftersales_request_id: OptionalId = None
    return_role: str | None = None
    rma_status: str | None = None
    rma_request_create_time: LooseInt = None
    rma_request_update_time: LooseInt = None


class RmaStatusUpdate(Notification):
    """Type 65 RMA_STATUS_UPDATE: a return merchandise authorization moved (the webhook spells
    AWAITING_BUYER_SHIPPED where the search says AWAITING_BUYER_RETURN)."""

    type: Literal[65]
    data: RmaStatusData


class RefundLineItem(Loose):
    main_order_id: OptionalId = None
    return_line_item_id: OptionalId = None
    sku_id: OptionalId = None
    sku_return_request_id: OptionalId = None
    sub_return_line_item_id: OptionalId = None


class RefundSuccessData(Loose):
    aftersales_request_id: OptionalId = None
    rma_id: OptionalId = None
    refund_status: str | None = None
    refund_timestamp: LooseInt = None
    refund_total: Annotated[str | int | float | None, BeforeValidator(_not_a_boolean)] = Field(
        default=None, description="a decimal string in TikTok's description"
    )
    refund_currency: str | None = None
    line_items: list[RefundLineItem] = Field(default_factory=list)

    def order_ids(self) -> list[str]:
        """The orders the refund touches, once each, in order of appearance."""
        return list(dict.fromkeys(i.main_order_id for i in self.line_items if i.main_order_id))


class RefundSuccess(Notification):
    """Type 67 REFUND_SUCCESS: a refund reached the buyer (`refund_total` in
    `refund_currency`, the returned `line_items` with their orders)."""

    type: Literal[67]
    data: RefundSuccessData


class InventoryDistribution(Loose):
    total_quantity: LooseInt = None
    available_quantity: LooseInt = None


class InventoryStatusData(Loose):
    product_id: TikTokId
    sku_id: TikTokId
    current_inventory_status: str | None = None
    inventory_distribution: InventoryDistribution | None = None
    update_time: LooseInt = None


class InventoryStatusChange(Notification):
    """Type 27: a SKU's stock crossed SUFFICIENT_STOCK / LOW_STOCK / OUT_OF_STOCK."""

    type: Literal[27]
    data: InventoryStatusData


class AuditData(Loose):
    status: str | None = None
    pre_approved_reasons: list[str] = Field(default_factory=list)


class ProductAuditData(Loose):
    product_id: TikTokId
    audit: AuditData = Field(default_factory=AuditData)
    update_time: LooseInt = None


class ProductAuditStatusChange(Notification):
    """Type 37 PRODUCT_AUDIT_STATUS_CHANGE: TikTok's verdict on a created or edited product
    (AUDITING, APPROVED, FAILED, PRE_APPROVED); the reasons of a failure are in product detail."""

    type: Literal[37]
    data: ProductAuditData


class SkuStatus(Loose):
    sku_id: TikTokId
    status: str | None = None
    deactivation_source: str | None = None


class SkuStatusData(Loose):
    product_id: TikTokId
    skus: list[SkuStatus] = Field(default_factory=list)
    update_time: LooseInt = None


class SkuStatusChange(Notification):
    """Type 50: SKUs created, deleted, activated or deactivated."""

    type: Literal[50]
    data: SkuStatusData


class QuantitySnapshot(Loose):
    total_quantity: LooseInt = None
    total_available_quantity: LooseInt = None


class InventoryChangedData(Loose):
    """Its own shape: numeric ids, `occurred_at` ISO-8601 UTC, `event_id` for deduplication."""

    event_id: TikTokId
    occurred_at: datetime | None = None
    product_id: TikTokId
    sku_id: TikTokId
    quantity_snapshot_after_change: QuantitySnapshot = Field(default_factory=QuantitySnapshot)
    change_detail: list[dict[str, Any]] = Field(default_factory=list)


class InventoryChangedByShop(Notification):
    """Type 71: stock changed on TikTok's side (Seller Center, an order): the SKU's totals after
    the change. Deduplicated by `data.event_id`."""

    type: Literal[71]
    data: InventoryChangedData


class UnknownNotification(Notification):
    """A type the service does not handle (yet): stored and acknowledged, never refused."""

    data: Any = None


class SeedForm(Loose):
    """The seed's form; `delivery` is what the ingress learned."""

    delivery: Delivery
    type: str


class SeedOrderCreatedPayload(Loose):
    """The seed types `items` as `unknown[]`: they are kept as given and read where known."""

    external_order_id: OptionalId = Field(default=None, alias="externalOrderId")
    status: str | None = None
    items: list[Any] = Field(default_factory=list)
    subtotal: Any = 0
    shipping_fee: Any = Field(default=0, alias="shippingFee")
    platform_fee: Any = Field(default=0, alias="platformFee")
    total: Any = 0
    currency: str | None = None
    customer_name: str | None = Field(default=None, alias="customerName")
    shipping_address: Any = Field(default=None, alias="shippingAddress")


class SeedOrderCreated(SeedForm):
    type: Literal["order.created"]
    payload: SeedOrderCreatedPayload


class SeedOrderRef(Loose):
    order_id: OptionalId = Field(default=None, alias="orderId")
    tracking_number: str | None = Field(default=None, alias="trackingNumber")
    tracking_url: str | None = Field(default=None, alias="trackingUrl")


class SeedOrderShipped(SeedForm):
    type: Literal["order.shipped"]
    payload: SeedOrderRef


class SeedOrderCancelled(SeedForm):
    type: Literal["order.cancelled"]
    payload: SeedOrderRef


class SeedProductSync(SeedForm):
    type: Literal["product.sync"]
    payload: dict[str, Any] = Field(default_factory=dict)


class SeedOrderSync(SeedForm):
    type: Literal["order.sync"]
    payload: dict[str, Any] = Field(default_factory=dict)


class SeedCatalogSync(SeedForm):
    type: Literal["catalog.sync"]
    payload: dict[str, Any] = Field(default_factory=dict)


class UnknownSeedWebhook(SeedForm):
    """A seed type the seed itself did not know: stored and acknowledged."""

    payload: Any = None


TIKTOK_MODELS: Final[Mapping[int, type[Notification]]] = {
    ORDER_STATUS_CHANGE: OrderStatusChange,
    REVERSE_STATUS_UPDATE: ReverseStatusUpdate,
    RECIPIENT_ADDRESS_UPDATE: RecipientAddressUpdate,
    PACKAGE_UPDATE: PackageUpdate,
    PRODUCT_STATUS_CHANGE: ProductStatusChange,
    SELLER_DEAUTHORIZATION: SellerDeauthorization,
    UPCOMING_AUTHORIZATION_EXPIRATION: UpcomingAuthorizationExpiration,
    CANCELLATION_STATUS_CHANGE: CancellationStatusChange,
    RETURN_STATUS_CHANGE: ReturnStatusChange,
    AFTERSALES_REQUEST_STATUS_UPDATE: AftersalesRequestStatusUpdate,
    RMA_STATUS_UPDATE: RmaStatusUpdate,
    REFUND_SUCCESS: RefundSuccess,
    INVENTORY_STATUS_CHANGE: InventoryStatusChange,
    PRODUCT_AUDIT_STATUS_CHANGE: ProductAuditStatusChange,
    SKU_STATUS_CHANGE: SkuStatusChange,
    INVENTORY_CHANGED_BY_SHOP: InventoryChangedByShop,
}

SEED_MODELS: Final[Mapping[str, type[SeedForm]]] = {
    "order.created": SeedOrderCreated,
    "order.shipped": SeedOrderShipped,
    "order.cancelled": SeedOrderCancelled,
    "product.sync": SeedProductSync,
    "order.sync": SeedOrderSync,
    "catalog.sync": SeedCatalogSync,
}

#: Every parsed webhook.
Webhook = Notification | SeedForm


class UnreadableWebhook(ValueError):
    """A webhook of a known type whose fields can never be applied (no order id, say)."""

    def __init__(self, delivery: Delivery, reason: str) -> None:
        super().__init__(reason)
        self.delivery = delivery
        self.reason = reason


def parse_webhook(message: WebhookMessage, *, default_shop_id: str) -> Webhook:
    """The typed model of a published webhook.

    Raises `UnreadableWebhook` when a known type lacks what it needs (its order id, say); an
    unknown type is never an error.
    """
    body = message.body
    delivery = Delivery(
        notification_id=message.notification_id,
        source=message.source,
        webhook_type=message.webhook_type,
        shop_id=message.shop_id or default_shop_id,
        received_at=message.received_at,
        correlation_id=message.correlation_id,
        body=body,
    )
    model: type[Notification] | type[SeedForm]
    number: object = None
    if message.source == "seed":
        model = SEED_MODELS.get(message.webhook_type, UnknownSeedWebhook)
    else:
        given = body.get("type")
        number = None if isinstance(given, bool) else _loose_int(given)
        model = (
            TIKTOK_MODELS.get(number, UnknownNotification)
            if isinstance(number, int)
            else (UnknownNotification)
        )
    try:
        return model.model_validate({**body, "delivery": delivery})
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in error['loc']) or 'body'}: {error['msg']}"
            for error in exc.errors()[:5]
        )
        name = message.webhook_type
        if message.source == "tiktok" and isinstance(number, int):
            name = TIKTOK_TYPE_NAMES.get(number, name)
        raise UnreadableWebhook(delivery, f"{name}: {problems}") from exc
