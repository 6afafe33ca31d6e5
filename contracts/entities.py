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

#: Each vocabulary once, as the Literal above; these tuples are derived from it.
LISTING_STATUSES: Final[tuple[ListingStatus, ...]] = get_args(ListingStatus)
SYNC_STATUSES: Final[tuple[SyncStatus, ...]] = get_args(SyncStatus)
ORDER_STATUSES: Final[tuple[OrderStatus, ...]] = get_args(OrderStatus)

Currency = Field(default="USD", pattern=r"^[A-Z]{3}$", description="ISO 4217 code")


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
    metadata: dict[str, Any] = Field(default_factory=dict)
    created_at: datetime
    updated_at: datetime


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
    cancellation_status: str | None = Field(
        default=None, description="TikTok's stage of the newest cancellation request"
    )
    cancellation_updated_at: datetime | None = Field(
        default=None, description="the time of that request (the cancellation's own clock)"
    )
    return_status: str | None = Field(
        default=None, description="TikTok's stage of the newest return or refund request"
    )
    return_updated_at: datetime | None = Field(
        default=None, description="the time of that request (the return's own clock)"
    )
    created_at: datetime
    updated_at: datetime


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
        description="minor units of `currency`; cancelled and refunded orders left out",
    )
    currency: str = Currency
    revenue_by_currency: list[RevenueAmount] = Field(default_factory=list)


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
