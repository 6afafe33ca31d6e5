"""Listings: create, read, page, update, delete, push to TikTok; and what TikTok's product
webhooks change on them."""

from contracts import commands as c
from contracts import replies as r
from contracts import webhooks as w
from contracts.entities import AuditReason, Listing
from contracts.events import ProductFailed, ProductSynced
from service.application import budget
from service.application.context import Context
from service.application.errors import Conflict, GatewayError, NotFound, TikTokFailed
from service.application.ports import Keys, PageRequest
from service.domain import webhooks as rules
from service.domain.ids import new_id
from service.domain.listings import (
    apply_update,
    flag_listing_for_refresh,
    follow_product,
    follow_status,
    new_listing,
)
from service.domain.stock import missing_attributes
from service.domain.tiktok_status import audit_status
from service.domain.time import later, utcnow

# What a push changes on the listing: written as a patch, so that a retry never pushes twice.
PUSH_FIELDS = (
    "external_product_id",
    "external_sku_id",
    "status",
    "sync_status",
    "last_synced_at",
    "error",
    "updated_at",
    "stock_pushed_revision",
    "price_pushed_revision",
    "tiktok_stock",
    "tiktok_stock_total",
    "tiktok_stock_updated_at",
    "push_error",
    "audit_status",
    "audit_reasons",
    "audit_updated_at",
)


async def load(ctx: Context, shop_id: str, listing_id: str) -> Listing:
    listing = await ctx.uow.listings.get(shop_id, listing_id)
    if listing is None:
        raise NotFound("Listing not found")
    return listing


async def create_listing(cmd: c.CreateListing, ctx: Context) -> r.ListingReply:
    """`listings.create`: a draft listing, unique per (shop, local product); repeating the same
    request answers the listing it made. Conflict when the product (or the TikTok product id)
    already has another listing."""
    shop_id = ctx.shop(cmd.shop_id)
    listing = new_listing(cmd, shop_id, utcnow())
    existing = await ctx.uow.listings.get_by_product(shop_id, cmd.local_product_id)
    if existing is not None:
        if _same_request(existing, listing):
            return r.ListingReply(listing=existing)  # a redelivered command
        raise Conflict(f"A listing for local product {cmd.local_product_id!r} already exists")
    await _refuse_taken_product(ctx, listing)
    ctx.uow.listings.add(listing)
    return r.ListingReply(listing=listing)


def _same_request(existing: Listing, new: Listing) -> bool:
    fields = {"id", "created_at", "updated_at"}
    return existing.model_dump(exclude=fields) == new.model_dump(exclude=fields)


async def _refuse_taken_product(ctx: Context, listing: Listing) -> None:
    if not listing.external_product_id:
        return
    other = await ctx.uow.listings.get_by_external(listing.shop_id, listing.external_product_id)
    if other is not None and other.id != listing.id:
        raise Conflict("Another listing already uses that TikTok product id")


async def list_listings(cmd: c.ListListings, ctx: Context) -> r.ListingsReply:
    listings, total = await ctx.views.listings(
        ctx.shop(cmd.shop_id),
        PageRequest(cmd.page, cmd.limit),
        status=cmd.status,
        sync_status=cmd.sync_status,
    )
    return r.ListingsReply(listings=listings, total=total)


async def get_listing(cmd: c.GetListing, ctx: Context) -> r.ListingReply:
    return r.ListingReply(listing=await load(ctx, ctx.shop(cmd.shop_id), cmd.id))


async def get_listing_by_product(cmd: c.GetListingByProduct, ctx: Context) -> r.ListingReply:
    listing = await ctx.uow.listings.get_by_product(ctx.shop(cmd.shop_id), cmd.local_product_id)
    if listing is None:
        raise NotFound("Listing not found")
    return r.ListingReply(listing=listing)


async def update_listing(cmd: c.UpdateListing, ctx: Context) -> r.ListingReply:
    """`listings.update`: only the fields present change; a pushed listing whose content
    changed becomes `outdated`."""
    listing = await load(ctx, ctx.shop(cmd.shop_id), cmd.id)
    updated = apply_update(listing, cmd.changes(), utcnow())
    await _refuse_taken_product(ctx, updated)
    ctx.uow.listings.save(updated)
    return r.ListingReply(listing=updated)


async def delete_listing(cmd: c.DeleteListing, ctx: Context) -> r.DeletedReply:
    """`listings.delete`: TikTok first (a local delete that left the product selling would be
    worse), then ours."""
    shop_id = ctx.shop(cmd.shop_id)
    listing = await load(ctx, shop_id, cmd.id)
    if listing.external_product_id and ctx.tiktok.enabled(shop_id):
        try:
            await ctx.tiktok.delete_product(shop_id, listing.external_product_id)
        except GatewayError as exc:
            raise TikTokFailed(f"TikTok did not delete the product: {exc.message}") from exc
    ctx.uow.listings.delete(listing)
    return r.DeletedReply(deleted=True)


async def push_listing(cmd: c.PushListing, ctx: Context) -> r.ListingReply:
    listing = await load(ctx, ctx.shop(cmd.shop_id), cmd.id)
    return r.ListingReply(listing=await push(ctx, listing))


async def push(ctx: Context, listing: Listing) -> Listing:
    """Create or edit the listing's product on TikTok and record the outcome on the listing
    (`tiktok.product.synced` or `tiktok.product.failed`). Without TikTok credentials the listing
    comes back unchanged, as in the seed.

    Before anything is written or uploaded, the listing is checked against its category's
    attributes (Get Category Attributes, kept by the gateway): one that lacks a required
    attribute fails, the attribute named. The push carries the listing's stock and price, so
    both count as pushed; TikTok audits the product again (`auditStatus` pending).
    """
    if not ctx.tiktok.enabled(listing.shop_id):
        return listing
    now = later(utcnow(), listing.updated_at)
    if not listing.image_url:
        return _record_failure(
            ctx, listing, "A TikTok product needs at least one image: set imageUrl first"
        )
    try:
        missing = await _missing_attribute(ctx, listing)
        if missing is not None:
            return _record_failure(ctx, listing, missing)
        remote = await ctx.tiktok.push_product(listing.shop_id, listing)
    except GatewayError as exc:
        return _record_failure(ctx, listing, exc.message)
    pushed = listing.model_copy(
        update={
            "external_product_id": remote.external_product_id,
            "external_sku_id": remote.sku_id or listing.external_sku_id,
            "status": remote.status or "pending",
            "sync_status": "synced",
            "last_synced_at": now,
            "error": None,
            "updated_at": now,
            "stock_pushed_revision": listing.stock_revision,
            "price_pushed_revision": listing.price_revision,
            "tiktok_stock": list(remote.stock) or listing.tiktok_stock,
            "tiktok_stock_total": sum(q.quantity for q in remote.stock)
            if remote.stock
            else listing.tiktok_stock_total,
            "tiktok_stock_updated_at": None if remote.stock else listing.tiktok_stock_updated_at,
            "push_error": None,
            "audit_status": "pending",
            "audit_reasons": [],
            # TikTok's clock stamps its verdicts; ours must not make the next one look old.
            "audit_updated_at": None,
        }
    )
    event = ProductSynced(
        event_id=new_id(), shop_id=listing.shop_id, occurred_at=now, listing=pushed
    )
    ctx.uow.listings.patch(pushed, PUSH_FIELDS, [event])
    return pushed


async def _missing_attribute(ctx: Context, listing: Listing) -> str | None:
    """Why TikTok would refuse the listing's attributes, or None (no category: the gateway
    says so)."""
    category = (
        listing.category_id or listing.metadata.get("categoryId") or ctx.config.default_category_id
    )
    if not category:
        return None
    attributes = await ctx.tiktok.category_attributes(listing.shop_id, str(category))
    missing = missing_attributes(listing, attributes)
    if not missing:
        return None
    named = ", ".join(f"{a.id} ({a.name})" for a in missing)
    return (
        f"TikTok category {category} requires the product attribute {named}: "
        "set it in the listing's attributes (see categories.attributes)"
    )


def _record_failure(ctx: Context, listing: Listing, error: str) -> Listing:
    now = later(utcnow(), listing.updated_at)
    failed = listing.model_copy(update={"sync_status": "failed", "error": error, "updated_at": now})
    event = ProductFailed(
        event_id=new_id(), shop_id=listing.shop_id, occurred_at=now, listing=failed, error=error
    )
    ctx.uow.listings.patch(failed, ("sync_status", "error", "updated_at"), [event])
    return failed


# --- TikTok's product webhooks ------------------------------------------------------------


def product_keys(webhook: w.ProductStatusChange) -> Keys:
    return Keys(listing_products={(webhook.delivery.shop_id, webhook.data.product_id)})


async def on_product_status_change(webhook: w.ProductStatusChange, ctx: Context) -> str:
    """Type 5: the listing linked to the product follows TikTok's state of it.

    With credentials the state is read from TikTok's product detail (202309): the webhook's
    PRODUCT_STATUS_CHANGED says only that TikTok changed the product itself (froze or
    deactivated it), and detail says what it is now and why. Without (or when that call fails),
    the status the webhook states is taken (an audit passed or failed); one it does not state
    leaves the listing flagged `needsRefresh`, and the outcome says so.
    """
    shop_id = webhook.delivery.shop_id
    data = webhook.data
    product_id = data.product_id
    listing = await ctx.uow.listings.get_by_external(shop_id, product_id)
    if listing is None:
        return f"no listing links product {product_id}"
    now = utcnow()
    why_not = "there are no TikTok credentials to read it"
    if ctx.tiktok.enabled(shop_id):
        try:
            product = await budget.call(ctx.tiktok.product(shop_id, product_id))
        except GatewayError as exc:
            why_not = f"TikTok's product detail failed ({exc.message})"
        else:
            followed = follow_product(listing, product, now)
            if followed is not None:
                ctx.uow.listings.save(followed)
            current = followed or listing
            if product.status is None:
                return (
                    f"listing {listing.id} marked for refresh: TikTok's product status "
                    f"{product.external_status!r} has no listing status"
                )
            reason = (
                f": {product.status_reason}" if current.status in ("rejected", "suspended") else ""
            )
            return f"listing {listing.id} {current.status} as TikTok says{reason}"
    status = rules.product_status(data)
    if status is not None:
        updated = follow_status(listing, status, data.suspended_reason or None, now)
        if updated is None:
            return f"listing {listing.id} unchanged"
        ctx.uow.listings.save(updated)
        return f"listing {listing.id} {status}"
    flagged = flag_listing_for_refresh(listing, now)
    if flagged is not None:
        ctx.uow.listings.save(flagged)
    said = f" ({data.suspended_reason})" if data.suspended_reason else ""
    return (
        f"listing {listing.id} marked for refresh: TikTok reports {data.status!r}{said} and "
        f"{why_not}"
    )


def _push_once_active(ctx: Context, listing: Listing) -> None:
    # TikTok takes a price only from an active product: one that waited goes out now.
    if listing.status == "active" and (listing.price_pending or listing.stock_pending):
        pushes = ctx.pushes
        ctx.uow.after_commit(lambda: pushes.wake(listing.shop_id, listing.id, at_once=True))


def audit_keys(webhook: w.ProductAuditStatusChange) -> Keys:
    return Keys(listing_products={(webhook.delivery.shop_id, webhook.data.product_id)})


async def on_audit_status_change(webhook: w.ProductAuditStatusChange, ctx: Context) -> str:
    """Type 37: TikTok's verdict on the product's audit shows on the listing (`auditStatus`,
    `auditReasons`). A failure's reasons come from product detail (the webhook carries none);
    approved makes the listing active. A verdict older than the one shown changes nothing."""
    shop_id = webhook.delivery.shop_id
    data = webhook.data
    listing = await ctx.uow.listings.get_by_external(shop_id, data.product_id)
    if listing is None:
        return f"no listing links product {data.product_id}"
    at = rules.event_time(data.update_time, webhook.delivery.received_at)
    if listing.audit_updated_at is not None and at < listing.audit_updated_at:
        return f"listing {listing.id} unchanged (older verdict)"
    status = audit_status(data.audit.status)
    changes: dict[str, object] = {
        "audit_status": status,
        "audit_reasons": [],
        "audit_updated_at": at,
        "updated_at": later(utcnow(), listing.updated_at),
    }
    if status == "approved":
        changes["status"] = "active"
    elif status == "failed":
        changes["status"] = "rejected"
        changes["audit_reasons"] = await _audit_reasons(ctx, shop_id, data.product_id)
    changed = listing.model_copy(update=changes)
    ctx.uow.listings.save(changed)
    _push_once_active(ctx, changed)
    return f"listing {listing.id} audit {status}"


async def _audit_reasons(ctx: Context, shop_id: str, product_id: str) -> list[AuditReason]:
    if not ctx.tiktok.enabled(shop_id):
        return []
    try:
        audit = await ctx.tiktok.product_audit(shop_id, product_id)
    except GatewayError as exc:
        # The verdict stands without its reasons; the page shows why they are missing.
        return [AuditReason(position="unknown", reasons=[f"not read from TikTok: {exc.message}"])]
    return list(audit.reasons)
