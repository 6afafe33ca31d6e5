"""Listing operations: create, read, page, update, delete, push to TikTok."""

from contracts import commands as c
from contracts import replies as r
from contracts.entities import Listing
from contracts.events import ProductFailed, ProductSynced
from service.application.deps import Deps
from service.application.errors import Conflict, NotFound, TikTokFailed
from service.application.ports import Duplicate, PageRequest, StaleWrite
from service.application.tiktok_errors import describe
from service.domain.ids import new_id
from service.domain.listings import apply_update, new_listing
from service.domain.time import later, utcnow


async def load(deps: Deps, shop_id: str, listing_id: str) -> Listing:
    listing = await deps.listings.get(shop_id, listing_id)
    if listing is None:
        raise NotFound("Listing not found")
    return listing


async def create_listing(deps: Deps, cmd: c.CreateListing) -> r.ListingReply:
    shop_id = deps.shop(cmd.shop_id)
    listing = new_listing(cmd, shop_id, utcnow())
    try:
        await deps.listings.insert(listing)
    except Duplicate:
        existing = await deps.listings.get_by_product(shop_id, cmd.local_product_id)
        if existing is not None and _same_request(existing, listing):
            # A redelivered command: answer what the first delivery created.
            return r.ListingReply(listing=existing)
        raise Conflict(
            f"A listing for local product {cmd.local_product_id!r} already exists"
        ) from None
    return r.ListingReply(listing=listing)


def _same_request(existing: Listing, new: Listing) -> bool:
    fields = {"id", "created_at", "updated_at"}
    return existing.model_dump(exclude=fields) == new.model_dump(exclude=fields)


async def list_listings(deps: Deps, cmd: c.ListListings) -> r.ListingsReply:
    listings, total = await deps.listings.page(
        deps.shop(cmd.shop_id),
        PageRequest(cmd.page, cmd.limit),
        status=cmd.status,
        sync_status=cmd.sync_status,
    )
    return r.ListingsReply(listings=listings, total=total)


async def get_listing(deps: Deps, cmd: c.GetListing) -> r.ListingReply:
    return r.ListingReply(listing=await load(deps, deps.shop(cmd.shop_id), cmd.id))


async def get_listing_by_product(deps: Deps, cmd: c.GetListingByProduct) -> r.ListingReply:
    listing = await deps.listings.get_by_product(deps.shop(cmd.shop_id), cmd.local_product_id)
    if listing is None:
        raise NotFound("Listing not found")
    return r.ListingReply(listing=listing)


async def update_listing(deps: Deps, cmd: c.UpdateListing) -> r.ListingReply:
    shop_id = deps.shop(cmd.shop_id)
    for _ in range(5):
        listing = await load(deps, shop_id, cmd.id)
        updated = apply_update(listing, cmd.changes(), utcnow())
        try:
            await deps.listings.replace(updated, expected=listing.updated_at)
        except StaleWrite:
            continue
        except Duplicate:
            raise Conflict("Another listing already uses that TikTok product id") from None
        return r.ListingReply(listing=updated)
    raise Conflict("The listing kept changing while it was updated; try again")


async def delete_listing(deps: Deps, cmd: c.DeleteListing) -> r.DeletedReply:
    shop_id = deps.shop(cmd.shop_id)
    listing = await load(deps, shop_id, cmd.id)
    if listing.external_product_id and deps.tiktok.enabled(shop_id):
        # TikTok first: a local delete that left the product selling would be worse.
        try:
            await deps.tiktok.delete_product(shop_id, listing.external_product_id)
        except Exception as exc:
            raise TikTokFailed(f"TikTok did not delete the product: {describe(exc)}") from exc
    return r.DeletedReply(deleted=await deps.listings.delete(shop_id, cmd.id))


async def push_listing(deps: Deps, cmd: c.PushListing) -> r.ListingReply:
    shop_id = deps.shop(cmd.shop_id)
    listing = await load(deps, shop_id, cmd.id)
    return r.ListingReply(listing=await push(deps, listing))


async def push(deps: Deps, listing: Listing) -> Listing:
    """Create or edit the listing's product on TikTok and record the outcome on the listing.

    Without TikTok credentials the listing comes back unchanged, as in the seed.
    """
    if not deps.tiktok.enabled(listing.shop_id):
        return listing
    now = later(utcnow(), listing.updated_at)
    if not listing.image_url:
        error = "A TikTok product needs at least one image: set imageUrl first"
        return await _record_push(deps, listing, error=error)
    try:
        remote = await deps.tiktok.push_product(listing.shop_id, listing)
    except Exception as exc:
        return await _record_push(deps, listing, error=describe(exc))
    pushed = listing.model_copy(
        update={
            "external_product_id": remote.external_product_id,
            "status": remote.status or "pending",
            "sync_status": "synced",
            "last_synced_at": now,
            "error": None,
            "updated_at": now,
        }
    )
    event = ProductSynced(
        event_id=new_id(), shop_id=listing.shop_id, occurred_at=now, listing=pushed
    )
    await deps.listings.replace(pushed, expected=listing.updated_at, events=[event])
    return pushed


async def _record_push(deps: Deps, listing: Listing, *, error: str) -> Listing:
    now = later(utcnow(), listing.updated_at)
    failed = listing.model_copy(update={"sync_status": "failed", "error": error, "updated_at": now})
    event = ProductFailed(
        event_id=new_id(), shop_id=listing.shop_id, occurred_at=now, listing=failed, error=error
    )
    await deps.listings.replace(failed, expected=listing.updated_at, events=[event])
    return failed
