"""Listing rules: how a listing is born and how a partial update applies."""

from datetime import datetime
from typing import Any

from contracts.commands import CreateListing
from contracts.entities import Listing, ListingStatus
from service.domain.ids import new_id
from service.domain.remote import RemoteProduct
from service.domain.time import later

# Statuses in which TikTok does not sell the product: the reason, when TikTok gives one, is the
# listing's `error`.
_NOT_SELLING: frozenset[ListingStatus] = frozenset({"rejected", "suspended"})


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


def follow_status(
    listing: Listing, status: ListingStatus, reason: str | None, now: datetime
) -> Listing | None:
    """The listing at TikTok's status for its product (with TikTok's reason when it does not
    sell it), no longer waiting for a refresh; None when that changes nothing."""
    changes: dict[str, Any] = {"status": status, "needs_refresh": False}
    if status in _NOT_SELLING:
        changes["error"] = reason or listing.error
    elif listing.status in _NOT_SELLING and listing.sync_status != "failed":
        changes["error"] = None  # the reason it stopped selling no longer holds
    if all(getattr(listing, k) == v for k, v in changes.items()):
        return None
    return listing.model_copy(update={**changes, "updated_at": later(now, listing.updated_at)})


def follow_product(listing: Listing, product: RemoteProduct, now: datetime) -> Listing | None:
    """The listing following TikTok's copy of its product (product detail 202309); None when
    that changes nothing. A state the service has no listing status for (one TikTok added)
    keeps the status and the listing flagged, for an operator to see."""
    if product.status is None:
        return flag_listing_for_refresh(listing, now)
    return follow_status(listing, product.status, product.status_reason, now)


def flag_listing_for_refresh(listing: Listing, now: datetime) -> Listing | None:
    """The listing flagged `needs_refresh` (TikTok changed its product and could not be asked
    what it is now); None when flagged already."""
    if listing.needs_refresh:
        return None
    return listing.model_copy(
        update={"needs_refresh": True, "updated_at": later(now, listing.updated_at)}
    )
