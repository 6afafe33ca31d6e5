"""Catalog syncs (push every listing to TikTok) and products sync (pull TikTok's products)."""

import asyncio
import contextlib

from contracts import commands as c
from contracts import replies as r
from contracts.entities import CatalogSync, SyncFailure
from contracts.events import CatalogSynced
from service.application import listings
from service.application.deps import Deps
from service.application.errors import Conflict
from service.application.ports import PageRequest
from service.application.pull import pull
from service.application.tiktok_errors import describe
from service.domain.ids import new_id
from service.domain.remote import RemoteProduct
from service.domain.time import utcnow


async def start_catalog_sync(deps: Deps, cmd: c.StartCatalogSync) -> r.SyncReply:
    """Record a sync at once and push the listings in the background.

    Without TikTok credentials the sync is recorded as pending, as in the seed.
    """
    shop_id = deps.shop(cmd.shop_id)
    enabled = deps.tiktok.enabled(shop_id)
    sync_id = new_id()
    if enabled and not await deps.syncs.claim(shop_id, sync_id):
        last = await deps.syncs.last(shop_id)
        running = f" ({last.id})" if last is not None and last.status == "syncing" else ""
        raise Conflict(f"A catalog sync is already running for shop {shop_id}{running}")
    ids = await deps.listings.all_ids(shop_id) if enabled else []
    now = utcnow()
    sync = CatalogSync(
        id=sync_id,
        shop_id=shop_id,
        status="syncing" if enabled else "pending",
        total_products=len(ids),
        started_at=now,
        created_at=now,
    )
    await deps.syncs.insert(sync)
    if enabled:
        deps.spawner.spawn(_run(deps, sync, ids), name=f"catalog-sync-{sync.id}")
    return r.SyncReply(sync=sync)


HEARTBEAT_SECONDS = 15.0


async def _run(deps: Deps, sync: CatalogSync, ids: list[str]) -> None:
    beating = asyncio.create_task(_beat(deps, sync))
    try:
        await _push_all(deps, sync, ids)
    except asyncio.CancelledError:
        # The worker is stopping: say so on the record instead of leaving it "syncing".
        await deps.syncs.interrupted(sync.id, "the worker stopped during the sync")
        raise
    finally:
        beating.cancel()
        await deps.syncs.release(sync.shop_id, sync.id)


async def _beat(deps: Deps, sync: CatalogSync) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        # A beat lost to a database hiccup is made up by the next one.
        with contextlib.suppress(Exception):
            await deps.syncs.heartbeat(sync.shop_id, sync.id)


async def _push_all(deps: Deps, sync: CatalogSync, ids: list[str]) -> None:
    slots = asyncio.Semaphore(deps.config.catalog_sync_concurrency)

    async def push_one(listing_id: str) -> None:
        async with slots:
            failure: SyncFailure | None = None
            try:
                listing = await deps.listings.get(sync.shop_id, listing_id)
                if listing is None:
                    failure = SyncFailure(listing_id=listing_id, error="Listing was deleted")
                else:
                    pushed = await listings.push(deps, listing)
                    if pushed.sync_status == "failed":
                        failure = SyncFailure(listing_id=listing_id, error=pushed.error or "")
            except Exception as exc:
                failure = SyncFailure(listing_id=listing_id, error=describe(exc))
            await deps.syncs.record(sync.id, failure=failure)

    error: str | None = None
    try:
        await asyncio.gather(*(push_one(i) for i in ids))
    except Exception as exc:
        error = describe(exc)
    done = await deps.syncs.get(sync.shop_id, sync.id) or sync
    now = utcnow()
    finished = done.model_copy(
        update={
            "status": "failed" if error else "synced",
            "error": error,
            "completed_at": now,
        }
    )
    event = CatalogSynced(event_id=new_id(), shop_id=sync.shop_id, occurred_at=now, sync=finished)
    await deps.syncs.finish(finished, now, events=[event])


async def list_syncs(deps: Deps, cmd: c.ListSyncs) -> r.SyncsReply:
    syncs, total = await deps.syncs.page(deps.shop(cmd.shop_id), PageRequest(cmd.page, cmd.limit))
    return r.SyncsReply(syncs=syncs, total=total)


async def last_sync(deps: Deps, cmd: c.GetLastSync) -> r.MaybeSyncReply:
    return r.MaybeSyncReply(sync=await deps.syncs.last(deps.shop(cmd.shop_id)))


async def sync_products(deps: Deps, cmd: c.SyncProducts) -> r.SyncedReply:
    """Pull every product from TikTok into the listings, by TikTok product id."""
    shop_id = deps.shop(cmd.shop_id)
    if not deps.tiktok.enabled(shop_id):
        return r.SyncedReply(synced=0)

    async def apply(product: RemoteProduct) -> None:
        await deps.listings.upsert_remote(shop_id, product, utcnow())

    return await pull(deps.tiktok.products(shop_id), apply, "products")
