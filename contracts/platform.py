"""What platform services publish to the service: stock and price changes of their products.

Publish to `topics.PLATFORM_CATALOG`, keyed by the product id (`localProductId`), so that one
product's changes keep their order within a partition. The worker stores each change on the
listing of that product (a product without a listing is skipped) and pushes it to TikTok with
TikTok's light calls: inventory update per warehouse, price update (active products only).

`version` decides which change is newest: a change whose version is not above the one already
applied for that product (and warehouse, for stock) is stale and changes nothing, so redelivered
and reordered messages end in the same state. Use any number that grows with every change of the
record: its revision, or the time of the change in milliseconds.

Every integer is bounded (`contracts.amounts`): a change carrying one the database could not
store is set aside as unreadable at once, instead of failing its batch again and again.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from contracts.amounts import CurrencyCode, MinorUnits, Quantity, Version
from contracts.wire import WireModel

_Id = Annotated[str, Field(min_length=1, max_length=200)]


class PlatformChange(WireModel):
    event_id: _Id = Field(description="the publisher's id of this change (for its logs)")
    shop_id: _Id | None = Field(default=None, description="the service's default shop if absent")
    local_product_id: _Id = Field(description="the platform's product: the listing's")
    sku: _Id | None = Field(
        default=None,
        description="the platform's SKU; a listing carries one SKU, named like its product",
    )
    version: Version = Field(description="grows with every change of the record")
    occurred_at: datetime = Field(description="when the platform made the change (UTC)")


class InventoryChanged(PlatformChange):
    """`inventory.changed`: the units for sale of a product in one of the platform's warehouses.

    `warehouseId` is the platform's id; `TIKTOK_WAREHOUSE_MAP` names the TikTok warehouse it
    stands for (a warehouse it does not map is refused to the dead-letter topic). TikTok takes
    at most 99,999 units a warehouse: more are pushed as 99,999.
    """

    type: Literal["inventory.changed"] = "inventory.changed"
    warehouse_id: _Id
    quantity: Quantity = Field(description="units for sale now (not a delta)")


class PriceChanged(PlatformChange):
    """`price.changed`: the product's selling price."""

    type: Literal["price.changed"] = "price.changed"
    amount: MinorUnits = Field(gt=0)
    currency: CurrencyCode


PlatformEvent = Annotated[InventoryChanged | PriceChanged, Field(discriminator="type")]

PLATFORM_EVENT: TypeAdapter[PlatformEvent] = TypeAdapter(PlatformEvent)
