"""The catalog: push every listing to TikTok (a catalog sync job), pull TikTok's products."""

import asyncio
import contextlib

from contracts import commands as c
from contracts import replies as r
from contracts import webhooks as w
from contracts.entities import CatalogSync, JobFailure, Listing, SyncFailure
from contracts.events import CatalogSynced
from service.application import jobs, listings
from service.application.context import Context
from service.application.errors import Conflict, GatewayError, tiktok_failed
from service.application.ports import DatabaseUnavailable, Keys, PageRequest
from service.domain.ids import new_id
from service.domain.remote import RemoteProduct
from service.domain.time import utcnow

HEARTBEAT_SECONDS = 15.0


async def start_catalog_sync(
    msg: c.StartCatalogSync | w.SeedCatalogSync, ctx: Context
) -> r.SyncReply:
    """`catalog.sync` and the seed's `catalog.sync` webhook: record a sync at once and push the
    listings in the background, one sync per shop at a time (Conflict otherwise). Without TikTok
    credentials the sync is recorded as pending, as in the seed."""
    shop_id = msg.delivery.shop_id if isinstance(msg, w.SeedCatalogSync) else ctx.shop(msg.shop_id)
    enabled = ctx.tiktok.enabled(shop_id)
    sync_id = new_id()
    if enabled and not await ctx.jobs.claim(shop_id, sync_id):
        last = await ctx.views.last_sync(shop_id)
        running = f" ({last.id})" if last is not None and last.status == "syncing" else ""
        raise Conflict(f"A catalog sync is already running for shop {shop_id}{running}")
    ids = await ctx.views.listing_ids(shop_id) if enabled else []
    now = utcnow()
    sync = CatalogSync(
        id=sync_id,
        shop_id=shop_id,
        status="syncing" if enabled else "pending",
        total_products=len(ids),
        started_at=now,
        created_at=now,
    )
    await ctx.jobs.insert(sync)
    if enabled:
        ctx.spawner.spawn(_run(ctx, sync, ids), name=f"catalog-sync-{sync.id}")
    return r.SyncReply(sync=sync)


async def _run(ctx: Context, sync: CatalogSync, ids: list[str]) -> None:
    beating = asyncio.create_task(_beat(ctx, sync))
    try:
        await _push_all(ctx, sync, ids)
    except asyncio.CancelledError:
        # The worker is stopping: say so on the record instead of leaving it "syncing".
        await ctx.jobs.interrupted(sync.id, "the worker stopped during the sync")
        raise
    finally:
        beating.cancel()
        await ctx.jobs.release(sync.shop_id, sync.id)


async def _beat(ctx: Context, sync: CatalogSync) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        # A beat lost to a database hiccup is made up by the next one.
        with contextlib.suppress(DatabaseUnavailable):
            await ctx.jobs.heartbeat(sync.shop_id, sync.id)


async def _push_all(ctx: Context, sync: CatalogSync, ids: list[str]) -> None:
    slots = asyncio.Semaphore(ctx.config.catalog_sync_concurrency)

    async def push_one(listing_id: str) -> None:
        async with slots:

            async def push(unit: Context) -> SyncFailure | None:
                listing = await unit.uow.listings.get(sync.shop_id, listing_id)
                if listing is None:
                    return SyncFailure(listing_id=listing_id, error="Listing was deleted")
                pushed = await listings.push(unit, listing)
                if pushed.sync_status == "failed":
                    return SyncFailure(listing_id=listing_id, error=pushed.error or "")
                return None

            try:
                failure = await ctx.in_own_unit(push)
            except DatabaseUnavailable as exc:
                failure = SyncFailure(listing_id=listing_id, error=f"database unavailable: {exc}")
            await ctx.jobs.record(sync.id, failure=failure)

    await asyncio.gather(*(push_one(i) for i in ids))
    done = await ctx.jobs.get(sync.shop_id, sync.id) or sync
    now = utcnow()
    finished = done.model_copy(update={"status": "synced", "error": None, "completed_at": now})
    event = CatalogSynced(event_id=new_id(), shop_id=sync.shop_id, occurred_at=now, sync=finished)
    await ctx.jobs.finish(finished, events=[event])


async def list_syncs(cmd: c.ListSyncs, ctx: Context) -> r.SyncsReply:
    syncs, total = await ctx.views.syncs(ctx.shop(cmd.shop_id), PageRequest(cmd.page, cmd.limit))
    return r.SyncsReply(syncs=syncs, total=total)


async def last_sync(cmd: c.GetLastSync, ctx: Context) -> r.MaybeSyncReply:
    return r.MaybeSyncReply(sync=await ctx.views.last_sync(ctx.shop(cmd.shop_id)))


async def sync_products(msg: c.SyncProducts | w.SeedProductSync, ctx: Context) -> r.SyncedReply:
    """`products.sync` and the seed's `product.sync` webhook: pull every product from TikTok into
    the listings as a job, by TikTok product id. The command answers once the pull is done or
    after `config.command_wait_seconds` with its progress; the webhook does not wait."""
    command = isinstance(msg, c.SyncProducts)
    shop_id = ctx.shop(msg.shop_id) if isinstance(msg, c.SyncProducts) else msg.delivery.shop_id
    if not ctx.tiktok.enabled(shop_id):
        return r.SyncedReply(synced=0)

    async def apply_page(unit: Context, batch: list[RemoteProduct]) -> list[JobFailure]:
        keys = {(shop_id, p.external_product_id) for p in batch}
        await unit.uow.load(Keys(listing_products=keys))
        results: list[tuple[str, Exception | None]] = []
        for product in batch:
            try:
                await apply_remote_product(unit, shop_id, product)
                results.append((product.external_product_id, None))
            except ValueError as exc:
                results.append((product.external_product_id, exc))
        return jobs.failures_of(results)

    return await jobs.run_pull(
        ctx,
        "products.sync",
        shop_id,
        lambda: ctx.tiktok.products(shop_id),
        apply_page,
        wait=ctx.config.command_wait_seconds if command else 0.0,
    )


async def apply_remote_product(ctx: Context, shop_id: str, product: RemoteProduct) -> None:
    """Bring TikTok's copy of a product into the listing that links it, or into a new listing
    named after TikTok's id when none does (a product made on TikTok)."""
    now = utcnow()
    listing = await ctx.uow.listings.get_by_external(shop_id, product.external_product_id)
    local_id = f"tiktok-{product.external_product_id}"
    if listing is None:
        listing = await ctx.uow.listings.get_by_product(shop_id, local_id)
    if listing is not None:
        changes: dict[str, object] = {
            "sync_status": "synced",
            "last_synced_at": now,
            "updated_at": now,
            "external_product_id": product.external_product_id,
            # TikTok's state was read: a refresh a product webhook asked for is done.
            "needs_refresh": False,
        }
        if product.status is not None:
            changes["status"] = product.status
            if product.status in ("rejected", "suspended") and product.status_reason:
                changes["error"] = product.status_reason
        ctx.uow.listings.save(listing.model_copy(update=changes))
        return
    ctx.uow.listings.add(
        Listing(
            id=new_id(),
            shop_id=shop_id,
            local_product_id=local_id,
            external_product_id=product.external_product_id,
            title=product.title or product.external_product_id,
            price=product.price,
            currency=product.currency or "USD",
            status=product.status or "pending",
            sync_status="synced",
            last_synced_at=now,
            metadata={"source": "tiktok"},
            created_at=now,
            updated_at=now,
        )
    )


# --- TikTok's catalog: warehouses, categories, attributes ------------------------------------


async def list_warehouses(cmd: c.ListWarehouses, ctx: Context) -> r.WarehousesReply:
    """`warehouses.list`: the shop's TikTok warehouses, each with the platform warehouse ids
    `TIKTOK_WAREHOUSE_MAP` maps to it."""
    shop_id = ctx.shop(cmd.shop_id)
    try:
        found = await ctx.tiktok.warehouses(shop_id)
    except GatewayError as exc:
        raise tiktok_failed("TikTok did not list the warehouses", exc) from exc
    mapped: dict[str, list[str]] = {}
    for platform_id, tiktok_id in ctx.config.warehouse_map.items():
        mapped.setdefault(tiktok_id, []).append(platform_id)
    return r.WarehousesReply(
        warehouses=[
            w.model_copy(update={"platform_warehouse_ids": sorted(mapped.get(w.id, []))})
            for w in found
        ]
    )


async def list_categories(cmd: c.ListCategories, ctx: Context) -> r.CategoriesReply:
    """`categories.list`: TikTok's category tree for the shop, flat (`keyword` narrows it)."""
    try:
        found = await ctx.tiktok.categories(ctx.shop(cmd.shop_id), cmd.keyword or None)
    except GatewayError as exc:
        raise tiktok_failed("TikTok did not list the categories", exc) from exc
    return r.CategoriesReply(categories=found)


async def category_attributes(
    cmd: c.GetCategoryAttributes, ctx: Context
) -> r.CategoryAttributesReply:
    """`categories.attributes`: a leaf category's attributes, which say what a listing in it
    must carry (`required`, `requiredIf`) and the values TikTok knows."""
    try:
        found = await ctx.tiktok.category_attributes(ctx.shop(cmd.shop_id), cmd.category_id)
    except GatewayError as exc:
        raise tiktok_failed(
            f"TikTok did not list category {cmd.category_id}'s attributes", exc
        ) from exc
    return r.CategoryAttributesReply(category_id=cmd.category_id, attributes=found)
