"""The reconciliation lease on the real database: one run per shop at a time whatever the number
of workers, once per interval, taken over when its worker died; watermarks kept between runs."""

import asyncio
from datetime import timedelta

import pytest

from contracts.entities import Reconciliation
from contracts.events import ReconciliationFinished
from service.adapters.mongo.database import LOCKS, RECONCILIATIONS
from service.adapters.mongo.reconciliations import MongoReconciliations
from service.application.ports import OutboxEntry, PageRequest, Watermarks
from service.bootstrap import Worker
from service.domain.ids import new_id
from service.domain.time import utcnow

pytestmark = pytest.mark.integration

HOUR = timedelta(hours=1)


def running(shop: str, run_id: str) -> Reconciliation:
    return Reconciliation(
        id=run_id, shop_id=shop, trigger="schedule", status="running", started_at=utcnow()
    )


async def test_of_many_workers_claiming_at_once_exactly_one_wins(worker: Worker, shop: str) -> None:
    workers = [MongoReconciliations(worker.db) for _ in range(12)]
    leases = await asyncio.gather(
        *(w.claim(shop, new_id(), interval=HOUR, due_only=True) for w in workers)
    )
    assert sum(lease is not None for lease in leases) == 1
    again = await asyncio.gather(
        *(w.claim(shop, new_id(), interval=HOUR, due_only=False) for w in workers)
    )
    assert again == [None] * len(workers)  # held: not even on demand


async def test_a_released_shop_is_not_due_again_before_its_interval(
    worker: Worker, shop: str
) -> None:
    leases = MongoReconciliations(worker.db)
    lease = await leases.claim(shop, "run-1", interval=HOUR, due_only=True)
    assert lease is not None
    assert lease.watermarks == Watermarks()
    seen = Watermarks(orders=utcnow(), requests=utcnow(), products=None)
    await leases.release(lease, watermarks=seen, fees_cursor="order-9")
    assert await leases.claim(shop, "run-2", interval=HOUR, due_only=True) is None
    # On demand it runs at once, from where the last run left off.
    now = await leases.claim(shop, "run-3", interval=timedelta(0), due_only=False)
    assert now is not None
    assert now.watermarks == seen
    assert now.fees_cursor == "order-9"
    # A failed run leaves the watermarks where they were.
    await leases.release(now, watermarks=None, fees_cursor="order-9")
    due = await leases.claim(shop, "run-4", interval=HOUR, due_only=True)
    assert due is not None
    assert due.watermarks == seen
    # Only the holder releases.
    await leases.release(now, watermarks=Watermarks(), fees_cursor=None)
    assert await leases.claim(shop, "run-5", interval=HOUR, due_only=False) is None


async def test_a_lease_whose_worker_died_is_taken_over_and_its_run_closed(
    worker: Worker, shop: str
) -> None:
    leases = MongoReconciliations(worker.db)
    lease = await leases.claim(shop, "dead-run", interval=timedelta(0), due_only=True)
    assert lease is not None
    await leases.insert(running(shop, "dead-run"))
    await leases.renew(lease)
    assert await leases.claim(shop, "next-run", interval=HOUR, due_only=True) is None
    # The lease runs out without renewal, as when its worker died mid-run.
    await worker.db.collection(LOCKS).update_one(
        {"_id": f"reconcile:{shop}"}, {"$set": {"expires_at": utcnow() - timedelta(seconds=1)}}
    )
    taken = await leases.claim(shop, "next-run", interval=HOUR, due_only=True)
    assert taken is not None
    closed = await leases.get(shop, "dead-run")
    assert closed is not None
    assert closed.status == "failed"
    assert closed.error is not None
    assert "Interrupted" in closed.error


async def test_history_pages_newest_first_and_outcomes_carry_their_event(
    worker: Worker, shop: str
) -> None:
    handed: list[OutboxEntry] = []
    leases = MongoReconciliations(worker.db, handed.extend)
    first, second = running(shop, new_id()), running(shop, new_id())
    await leases.insert(first)
    await leases.insert(second.model_copy(update={"started_at": first.started_at + HOUR}))
    done = first.model_copy(update={"status": "completed", "drift": 3, "completed_at": utcnow()})
    event = ReconciliationFinished(
        event_id=new_id(), shop_id=shop, occurred_at=utcnow(), reconciliation=done
    )
    await leases.finish(done, [event])
    runs, total = await leases.history(shop, PageRequest(1, 10))
    assert total == 2
    assert [r.id for r in runs] == [second.id, first.id]
    assert runs[1].drift == 3
    assert [e.event_id for e in handed] == [event.event_id]
    stored = await worker.db.collection(RECONCILIATIONS).find_one({"_id": first.id})
    assert stored is not None
    assert [e["event_id"] for e in stored["outbox"]] == [event.event_id]
    assert await leases.get("another-shop", first.id) is None
