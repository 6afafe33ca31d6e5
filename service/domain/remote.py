"""What the service needs to know of TikTok's products and orders, already mapped.

The TikTok adapter turns the API's shapes into these; the application never sees TikTok JSON.
"""

from dataclasses import dataclass, field
from datetime import datetime

from contracts.entities import (
    Address,
    AuditReason,
    AuditStatus,
    ListingStatus,
    OrderItem,
    OrderStatus,
    WarehouseQuantity,
)


@dataclass(frozen=True)
class RemoteProduct:
    """A product as TikTok holds it. `status` is None for a state the service has no listing
    status for; `status_reason` is why TikTok failed, froze or deactivated it (product detail's
    `audit_failed_reasons`), when it says."""

    external_product_id: str
    title: str
    status: ListingStatus | None
    price: int | None
    currency: str | None
    updated_at: datetime | None
    external_status: str = ""
    status_reason: str | None = None
    # The first SKU's id and stock per warehouse, when the answer carries them.
    sku_id: str | None = None
    stock: tuple[WarehouseQuantity, ...] = ()


@dataclass(frozen=True)
class RemoteAudit:
    """TikTok's audit of a product as product detail reports it."""

    status: AuditStatus
    listing_status: ListingStatus | None
    reasons: tuple[AuditReason, ...] = ()
    updated_at: datetime | None = None


@dataclass(frozen=True)
class RemoteOrder:
    external_order_id: str
    status: OrderStatus | None
    external_status: str
    updated_at: datetime
    created_at: datetime | None = None
    currency: str = "USD"
    subtotal: int = 0
    shipping_fee: int = 0
    platform_fee: int = 0
    total: int = 0
    customer_name: str | None = None
    shipping_address: Address = field(default_factory=Address)
    items: tuple[OrderItem, ...] = ()
    tracking_number: str | None = None
    tracking_url: str | None = None
