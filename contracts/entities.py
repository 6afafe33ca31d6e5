"""The entities the service keeps, as they travel on the wire (the seed's camelCase fields).

Money is integer minor units (cents for USD) plus an ISO 4217 currency code. Times are
timezone-aware UTC.
"""

from datetime import datetime
from typing import Any, Final, Literal, get_args

from pydantic import Field

from contracts.wire import WireModel

ListingStatus = Literal["draft", "pending", "active", "rejected", "suspended"]
SyncStatus = Literal["pending", "synced", "failed", "outdated"]
OrderStatus = Literal["pending", "confirmed", "shipped", "delivered", "cancelled", "refunded"]
CatalogSyncStatus = Literal["pending", "syncing", "synced", "failed"]
ConnectionStatus = Literal["not_configured", "connected", "error"]
JobKind = Literal["orders.sync", "products.sync"]
JobStatus = Literal["running", "completed", "failed"]
ReverseRequestKind = Literal["cancellation", "return", "aftersales"]
ReconciliationTrigger = Literal["schedule", "command"]
ReconciliationStatus = Literal["running", "completed", "failed"]
#: TikTok's audit of a product, as the listing shows it: `pending` while TikTok reviews it (or
#: pre-approved it in an invite-only category), `failed` with reasons, `approved`.
AuditStatus = Literal["none", "pending", "failed", "approved"]

#: Each vocabulary once, as the Literal above; these tuples are derived from it.
LISTING_STATUSES: Final[tuple[ListingStatus, ...]] = get_args(ListingStatus)
SYNC_STATUSES: Final[tuple[SyncStatus, ...]] = get_args(SyncStatus)
AUDIT_STATUSES: Final[tuple[AuditStatus, ...]] = get_args(AuditStatus)
ORDER_STATUSES: Final[tuple[OrderStatus, ...]] = get_args(OrderStatus)

Currency = Field(default="USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 code")


class WarehouseStock(WireModel):
    """The platform's stock of a listing in one TikTok warehouse, as the service wants TikTok
    to have it."""

    warehouse_id: str = Field(description="TikTok's warehouse id")
    quantity: int = Field(ge=0, description="units for sale in that warehouse")
    version: int | None = Field(
        default=None,
        ge=0,
        description=(
            "the platform's version of the newest change applied; one not above it is stale. "
            "None until a change of the platform's is applied (then any version applies)"
        ),
    )


class WarehouseQuantity(WireModel):
    """TikTok's copy of a listing's stock in one warehouse."""

    warehouse_id: str
    quantity: int


class AttributeValue(WireModel):
    """A value by TikTok's id, or a custom one by name."""

    id: str | None = Field(default=None, max_length=50)
    name: str | None = Field(default=None, max_length=200)


class ProductAttribute(WireModel):
    """A product attribute of the listing's TikTok category (`categories.attributes`): values by
    TikTok's value id, or by name where the attribute takes custom values."""

    id: str = Field(min_length=1, max_length=50)
    values: list[AttributeValue] = Field(min_length=1, max_length=50)


class AuditReason(WireModel):
    """One reason TikTok gave for failing its audit (product detail's `audit_failed_reasons`)."""

    position: str = ""
    reasons: list[str] = Field(default_factory=list)
    suggestions: list[str] = Field(default_factory=list)


class Listing(WireModel):
    id: str
    shop_id: str
    local_product_id: str
    external_product_id: str | None = None
    title: str
    description: str | None = None
    price: int | None = Field(default=None, description="minor units of `currency`")
    currency: str = Currency
    image_url: str | None = None
    status: ListingStatus = "draft"
    sync_status: SyncStatus = "pending"
    last_synced_at: datetime | None = None
    error: str | None = None
    needs_refresh: bool = Field(
        default=False,
        description=(
            "TikTok changed the product (a product status webhook) and its state is still to "
            "be read from TikTok's API; `status` is the last state known"
        ),
    )
    metadata: dict[str, Any] = Field(default_factory=dict)
    # What TikTok needs to accept the product (`categories.list`, `categories.attributes`).
    category_id: str | None = Field(
        default=None, description="TikTok leaf category; else metadata.categoryId, the default"
    )
    attributes: list[ProductAttribute] = Field(default_factory=list)
    brand_id: str | None = None
    external_sku_id: str | None = Field(default=None, description="TikTok's id of the one SKU")
    # Stock and price follow the platform: the desired state is stored here first, then pushed
    # with TikTok's light calls; a revision above its pushed revision is still to push.
    stock: list[WarehouseStock] = Field(default_factory=list)
    stock_revision: int = Field(default=0, description="bumped by every change of `stock`")
    stock_pushed_revision: int = Field(default=0, description="the revision TikTok has")
    price_version: int | None = Field(
        default=None,
        ge=0,
        description=(
            "the platform's version of the newest price applied; None until one is applied "
            "(then any version applies)"
        ),
    )
    price_revision: int = Field(default=0, description="bumped by every change of the price")
    price_pushed_revision: int = Field(default=0, description="the revision TikTok has")
    push_error: str | None = Field(
        default=None, description="why the last stock or price push failed; None once one works"
    )
    # TikTok's copy, as its answers and webhooks (27, 50, 71) report it.
    tiktok_stock: list[WarehouseQuantity] = Field(default_factory=list)
    tiktok_stock_total: int | None = None
    tiktok_stock_updated_at: datetime | None = Field(
        default=None, description="TikTok's time of the last stock change it reported (71)"
    )
    inventory_status: str | None = Field(
        default=None, description="TikTok's SUFFICIENT_STOCK, LOW_STOCK or OUT_OF_STOCK"
    )
    inventory_status_at: datetime | None = Field(
        default=None, description="TikTok's time of that status (27)"
    )
    sku_status: str | None = Field(default=None, description="TikTok's SKU status (webhook 50)")
    # TikTok's audit of the last create or edit (webhook 37, product detail).
    audit_status: AuditStatus = "none"
    audit_reasons: list[AuditReason] = Field(default_factory=list)
    audit_updated_at: datetime | None = None
    created_at: datetime
    updated_at: datetime

    @property
    def stock_pending(self) -> bool:
        """A stock change TikTok does not have yet."""
        return self.stock_revision > self.stock_pushed_revision

    @property
    def price_pending(self) -> bool:
        """A price change TikTok does not have yet."""
        return self.price_revision > self.price_pushed_revision


class OrderItem(WireModel):
    title: str = ""
    quantity: int = Field(default=1, ge=0)
    unit_price: int = Field(default=0, ge=0, description="minor units of the order's currency")
    external_product_id: str | None = None
    external_sku_id: str | None = None
    local_product_id: str | None = None
    source: dict[str, Any] | None = Field(
        default=None, description="the item as the sender gave it, when it came in a loose shape"
    )


class Address(WireModel):
    name: str | None = None
    phone: str | None = None
    line1: str | None = None
    line2: str | None = None
    city: str | None = None
    state: str | None = None
    postal_code: str | None = None
    country: str | None = None


class ReverseRequest(WireModel):
    """A buyer's (or the seller's) cancellation, return or after-sales request of an order, as
    TikTok's searches (return_refund 202602, 202603) and webhooks (2, 11, 12, 64, 65, 67) tell it.

    The order's requests are the one record of its reverse flows: its `refundedAmount` and a
    `cancelled` or `refunded` status are derived from them. `awaitingSeller` is True while TikTok
    waits for the seller's answer; `deadline` is when TikTok decides by itself if nobody answers
    (a buyer's cancellation is approved after 24 hours, a return after 48). Amounts are minor
    units of `currency`; times UTC.
    """

    kind: ReverseRequestKind
    id: str = Field(
        description=(
            "TikTok's cancel_id, return_id or aftersales_request_id; empty for the one request "
            "of its kind that TikTok's webhooks told without an id (the legacy type 2)"
        )
    )
    status: str = Field(description="TikTok's status of the request (search spelling)")
    type: str | None = Field(default=None, description="cancel_type or return_type")
    role: str | None = Field(default=None, description="who asked: BUYER, SELLER, SYSTEM")
    reason: str | None = None
    reason_text: str | None = None
    awaiting_seller: bool = False
    next_action: str | None = Field(
        default=None, description="what TikTok waits for, e.g. SELLER_RESPOND_BUYER_CANCEL"
    )
    deadline: datetime | None = None
    refund_total: int | None = Field(
        default=None,
        description="what TikTok refunds for it, minor units of `currency`; None until stated",
    )
    currency: str | None = None
    line_item_ids: list[str] = Field(
        default_factory=list,
        description="TikTok's ids of the order line items a return covers (returns search 202602)",
    )
    rma_id: str | None = None
    rma_status: str | None = None
    rma_updated_at: datetime | None = None
    refunded_at: datetime | None = Field(
        default=None, description="when TikTok reported the refund paid (webhook 67)"
    )
    created_at: datetime | None = None
    updated_at: datetime | None = Field(
        default=None, description="TikTok's update_time of the version recorded"
    )


class ChannelOrder(WireModel):
    id: str
    shop_id: str
    external_order_id: str
    status: OrderStatus
    items: list[OrderItem] = Field(default_factory=list)
    subtotal: int = 0
    shipping_fee: int = 0
    platform_fee: int = 0
    total: int = 0
    currency: str = Currency
    customer_name: str | None = None
    shipping_address: Address = Field(default_factory=Address)
    tracking_number: str | None = None
    tracking_url: str | None = None
    external_status: str | None = Field(default=None, description="TikTok's own status value")
    external_updated_at: datetime | None = Field(
        default=None, description="TikTok's update_time of the newest version applied"
    )
    needs_refresh: bool = Field(
        default=False, description="details still to be fetched from TikTok's API"
    )
    refunded_amount: int = Field(
        default=0,
        ge=0,
        description=(
            "minor units of `currency` refunded so far: the sum of the `refundTotal` of the "
            "completed return requests in `reverseRequests`; the order is `refunded` only once "
            "this reaches `total`"
        ),
    )
    created_at: datetime
    updated_at: datetime
    # --- order lifecycle: requests, fees ---
    reverse_requests: list[ReverseRequest] = Field(
        default_factory=list,
        description="the order's cancellation, return and after-sales requests, each once by "
        "kind and TikTok's id; the open ones have `awaitingSeller` and a `deadline`",
    )
    net_amount: int | None = Field(
        default=None,
        description="what TikTok pays the seller for the order (its settlement amount, minor "
        "units), once TikTok settled it; None before",
    )
    fees_settled: bool = Field(
        default=False,
        description="True once `platformFee` and `netAmount` are TikTok's final figures",
    )
    fees_settled_at: datetime | None = None


class SyncFailure(WireModel):
    listing_id: str
    error: str


class CatalogSync(WireModel):
    id: str
    shop_id: str
    status: CatalogSyncStatus
    total_products: int = 0
    synced_products: int = 0
    failed_products: int = 0
    error: str | None = None
    failures: list[SyncFailure] = Field(default_factory=list)
    started_at: datetime
    completed_at: datetime | None = None
    created_at: datetime


class JobFailure(WireModel):
    """One record a job could not apply, and why (the rest of the job went on)."""

    ref: str = Field(description="what failed: a TikTok order or product id")
    error: str


class Job(WireModel):
    """A long operation (a pull of every order or product from TikTok), run in the background.

    At most one job of a kind runs per shop. A job whose worker stopped is closed as `failed`
    with "Interrupted" in `error` (at once on a graceful stop; within two minutes after a
    crash), keeping the progress it made. `failures` keeps the first 100 reasons.
    """

    id: str
    shop_id: str
    kind: JobKind
    status: JobStatus
    done: int = Field(default=0, description="records applied so far")
    failed: int = Field(default=0, description="records that could not be applied")
    failures: list[JobFailure] = Field(default_factory=list)
    error: str | None = None
    started_at: datetime
    completed_at: datetime | None = None


class RevenueAmount(WireModel):
    currency: str
    amount: int


class MoneyByCurrency(WireModel):
    """The orders' money in one currency, in its minor units, cancelled and fully refunded
    orders left out: `gross` their totals, `refunds` what was refunded of them, `fees` what
    the platform keeps, `net` what the seller nets (TikTok's settlement amount for a settled
    order, else its total less its refunds and fee). `gross - refunds` is the currency's
    revenue (`revenueByCurrency`)."""

    currency: str
    gross: int = Field(description="the order totals")
    refunds: int = Field(default=0, description="what was refunded of those orders")
    fees: int
    net: int


class ChannelStats(WireModel):
    total_listings: int = 0
    active_listings: int = 0
    pending_listings: int = 0
    failed_listings: int = 0
    total_orders: int = 0
    pending_orders: int = 0
    shipped_orders: int = 0
    delivered_orders: int = 0
    cancelled_orders: int = 0
    total_revenue: int = Field(
        default=0,
        description=(
            "minor units of `currency`: each order's total less what was refunded of it; "
            "cancelled and fully refunded orders left out"
        ),
    )
    currency: str = Currency
    revenue_by_currency: list[RevenueAmount] = Field(default_factory=list)
    money_by_currency: list[MoneyByCurrency] = Field(
        default_factory=list,
        description=(
            "gross (order totals), refunds, fees and net per currency; cancelled and fully "
            "refunded orders left out"
        ),
    )


# --- order lifecycle: reconciliation, webhook registration ------------------------------------


class ReconcileCounts(WireModel):
    """What a reconciliation found of one kind of record: TikTok's copy was new to us
    (`created`), differed from ours (`changed`), matched it (`unchanged`), or could not be
    applied (`failed`)."""

    created: int = 0
    changed: int = 0
    unchanged: int = 0
    failed: int = 0


class Reconciliation(WireModel):
    """One reconciliation run of a shop: what TikTok changed since the watermark (minus the
    overlap), applied like webhooks. `drift` counts the orders and requests that differed from
    TikTok's copy (created + changed): what missed webhooks had left behind. Times are UTC."""

    id: str
    shop_id: str
    trigger: ReconciliationTrigger
    status: ReconciliationStatus
    since: datetime | None = Field(
        default=None, description="update_time searched from; None for the first, full run"
    )
    watermark: datetime | None = Field(
        default=None, description="the newest update_time seen; the next run starts from it"
    )
    orders: ReconcileCounts = Field(default_factory=ReconcileCounts)
    requests: ReconcileCounts = Field(default_factory=ReconcileCounts)
    products: ReconcileCounts = Field(default_factory=ReconcileCounts)
    refreshed: int = Field(default=0, description="orders marked needsRefresh fetched first")
    fees_settled: int = Field(default=0, description="orders whose fees TikTok settled")
    drift: int = 0
    failures: list[JobFailure] = Field(default_factory=list)
    error: str | None = None
    started_at: datetime
    completed_at: datetime | None = None


class WebhookRegistration(WireModel):
    """One event type the service needs, and where TikTok sends it for the shop."""

    event_type: str = Field(description="TikTok's Event API name, e.g. ORDER_STATUS_CHANGE")
    address: str | None = Field(default=None, description="the address TikTok has; None: none")
    registered: bool = Field(description="True when TikTok sends this type to our address")


class ShopWebhooks(WireModel):
    """A shop's webhook registration as TikTok's Event API (202309) reports it.

    `missing` lists the needed types TikTok does not send to `address`; `partnerCenterTypes` are
    types the Event API cannot register (the after-sales 64, 65, 67): they go to the address set
    for the app in TikTok's Partner Center. `error` says why nothing could be checked.
    """

    shop_id: str
    address: str | None = Field(description="PUBLIC_WEBHOOK_URL, where TikTok should send")
    webhooks: list[WebhookRegistration] = Field(default_factory=list)
    missing: list[str] = Field(default_factory=list)
    partner_center_types: list[str] = Field(default_factory=list)
    error: str | None = None


# --- TikTok's catalog, as the admin commands answer it -----------------------------------------


class Warehouse(WireModel):
    """One of the shop's TikTok warehouses (Get Warehouse List 202309)."""

    id: str
    name: str
    type: str = Field(description="SALES_WAREHOUSE or RETURN_WAREHOUSE")
    is_default: bool = False
    status: str = Field(default="", description="TikTok's effect_status: ENABLED, DISABLED...")
    platform_warehouse_ids: list[str] = Field(
        default_factory=list, description="the platform's ids mapped to it (TIKTOK_WAREHOUSE_MAP)"
    )


class Category(WireModel):
    """A node of TikTok's category tree (Get Categories 202309); products go in leaves."""

    id: str
    parent_id: str = Field(description='"0" for a root')
    name: str
    is_leaf: bool
    permission_statuses: list[str] = Field(default_factory=list)


class CategoryAttributeValue(WireModel):
    id: str
    name: str


class AttributeCondition(WireModel):
    """TikTok's VALUE_ID_MATCH: choosing this value of that attribute makes another required."""

    attribute_id: str
    value_id: str


class CategoryAttribute(WireModel):
    """A category's attribute (Get Category Attributes 202309). `required` product attributes
    must be on a listing before it is pushed; `required_if` lists `(attributeId, valueId)`
    choices that make it required."""

    id: str
    name: str
    type: str = Field(description="PRODUCT_PROPERTY or SALES_PROPERTY")
    required: bool = False
    customizable: bool = True
    multiple: bool = False
    values: list[CategoryAttributeValue] = Field(default_factory=list)
    required_if: list[AttributeCondition] = Field(default_factory=list)


class DeadLetter(WireModel):
    """A message the worker set aside on the dead-letter topic, with where it came from and why.

    `id` is the letter's place on the dead-letter topic, `<partition>:<offset>`. The origin and
    the reason come from the record's headers (`x-origin-topic`, `x-origin-partition`,
    `x-origin-offset`, `x-failure-reason`); the notification id, webhook type and shop from the
    headers the ingress wrote, when the message carried them.
    """

    id: str = Field(description="`<partition>:<offset>` on the dead-letter topic")
    dead_lettered_at: datetime = Field(description="when it was set aside (the record's time)")
    reason: str = Field(description="`unreadable: ...`, `rejected: ...` or `failed: ...`")
    origin_topic: str | None = None
    origin_partition: int | None = None
    origin_offset: int | None = None
    key: str | None = Field(default=None, description="the original Kafka key, as text")
    notification_id: str | None = None
    webhook_type: str | None = None
    shop_id: str | None = None
    replay_of: str | None = Field(
        default=None, description="the letter this one is a replay of, when a replay failed again"
    )
    size: int = Field(description="bytes of the original message")
    applied: bool = Field(
        default=False,
        description="the webhook was applied since (by a replay or a redelivery): nothing is"
        " left to do for this letter",
    )


class DeadLetterDetail(DeadLetter):
    """A letter with everything it carries: every header and the original message."""

    headers: dict[str, str] = Field(description="every header, as text")
    body: str | None = Field(description="the original bytes as UTF-8 text; null if they are not")
    body_base64: str | None = Field(
        default=None, description="the original bytes in base64, when they are not UTF-8"
    )
