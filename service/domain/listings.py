"""Listing rules: how a listing is born and how a partial update applies."""

from datetime import datetime
from typing import Any

from contracts.commands import CreateListing
from contracts.entities import Listing
from service.domain.ids import new_id
from service.domain.time import later


def external_key(shop_id: str, external_product_id: str) -> str:
    """The one value that names a listing by its TikTok product within a shop (unique).

    The shop id is length-prefixed, so no two (shop, product) pairs share a key.
    """
    return f"{len(shop_id)}:{shop_id}/{external_product_id}"


def new_listing(cmd: CreateListing, shop_id: str, now: datetime) -> Listing:
    return Listing(
        id=new_id(),
        shop_id=shop_id,
        local_product_id=cmd.local_product_id,
        external_product_id=cmd.external_product_id,
        title=cmd.title,
        description=cmd.description,
        price=cmd.price,
        currency=cmd.currency,
        image_url=cmd.image_url,
        status="draft",
        sync_status="pending",
        metadata=cmd.metadata,
        category_id=cmd.category_id,
        attributes=cmd.attributes,
        brand_id=cmd.brand_id,
        created_at=now,
        updated_at=now,
    )


# Content a seller edits: once pushed, a change here makes the TikTok copy outdated.
_CONTENT_FIELDS = frozenset(
    {
        "title",
        "description",
        "price",
        "currency",
        "image_url",
        "category_id",
        "attributes",
        "brand_id",
    }
)


def apply_update(listing: Listing, changes: dict[str, Any], now: datetime) -> Listing:
    """The listing with the changes applied; a pushed listing whose content changed is outdated."""
    # Validated afresh: the changes arrive as plain values (attributes as dicts).
    updated = Listing.model_validate(
        {
            **listing.model_dump(by_alias=False),
            **changes,
            "updated_at": later(now, listing.updated_at),
        }
    )
    content_changed = any(getattr(listing, f) != getattr(updated, f) for f in _CONTENT_FIELDS)
    if content_changed and listing.sync_status == "synced":
        updated = updated.model_copy(update={"sync_status": "outdated"})
    return updated
