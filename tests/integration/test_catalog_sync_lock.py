"""One catalog sync per shop at a time, across workers, and none stuck after a worker died."""

from datetime import timedelta

import pytest

from contracts.entities import CatalogSync
from service.adapters.mongo.database import LOCKS
from service.adapters.mongo.jobs import STALE_LOCK, MongoJobs
from service.bootstrap import Worker
from service.domain.ids import new_id
from service.domain.time import utcnow

pytestmark = pytest.mark.integration


async def started(syncs: MongoJobs, shop: str) -> CatalogSync:
    now = utcnow()
    sync = CatalogSync(
        id=new_id(),
        shop_id=shop,
        status="syncing",
        total_products=10,
        started_at=now,
        created_at=now,
    )
    assert await syncs.claim(shop, sync.id)
    await syncs.insert(sync)
    await syncs.record(sync.id, failure=None)
    return sync


async def test_a_live_sync_keeps_the_slot_and_releases_it(worker: Worker, shop: str) -> None:
    syncs = MongoJobs(worker.db)
    first = await started(syncs, shop)
    assert not await syncs.claim(shop, new_id())
    await syncs.heartbeat(shop, first.id)
    assert not await syncs.claim(shop, new_id())
    await syncs.release(shop, "someone-else")  # only the holder releases
    assert not await syncs.claim(shop, new_id())
    await syncs.release(shop, first.id)
    assert await syncs.claim(shop, new_id())


async def test_a_sync_whose_worker_died_is_closed_and_its_slot_taken_over(
    worker: Worker, shop: str
) -> None:
    syncs = MongoJobs(worker.db)
    orphan = await started(syncs, shop)
    # No heartbeat for longer than the limit: as if its worker had died mid-sync.
    await worker.db.collection(LOCKS).update_one(
        {"sync_id": orphan.id},
        {"$set": {"heartbeat": utcnow() - STALE_LOCK - timedelta(seconds=1)}},
    )
    assert await syncs.claim(shop, new_id())
    closed = await syncs.get(shop, orphan.id)
    assert closed is not None
    assert closed.status == "failed"
    assert closed.error == "Interrupted: its worker stopped"
    assert closed.synced_products == 1  # the progress it made is kept
    assert closed.completed_at is not None
