"""Jobs: catalog sync records, pull jobs, and the one-per-shop slot that keeps two of a kind
from running at once.

Progress counters move with `$inc` while a sync runs (many listings are pushed at once). The
slot is a document under a unique `_id` in `locks`: its insert is atomic on MongoDB and on the
local database alike, so two workers cannot both win. The running sync beats its heart; a slot
silent for `STALE_LOCK` belonged to a worker that died, and is taken over.
"""

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pymongo.errors import ConnectionFailure, DuplicateKeyError

from contracts.entities import CatalogSync, Job, JobFailure, JobKind, JobStatus, SyncFailure
from contracts.events import Event
from service.adapters.mongo.database import CATALOG_SYNCS, JOBS, LOCKS, NEWEST_FIRST, Database
from service.adapters.mongo.documents import (
    from_document,
    outbox_documents,
    outbox_entries,
    to_document,
)
from service.adapters.mongo.errors import unavailable_as_port_error
from service.adapters.mongo.unit_of_work import Handoff, no_handoff
from service.application.ports import DatabaseUnavailable, PageRequest
from service.domain.time import utcnow

STALE_LOCK = timedelta(minutes=2)
#: A job keeps the first reasons of its failures; the counters count them all.
MAX_FAILURES = 100
_INTERRUPTED = "Interrupted: its worker stopped"


def _lock_id(shop_id: str) -> str:
    return f"catalog-sync:{shop_id}"


class MongoJobs:
    def __init__(self, db: Database, handoff: Handoff = no_handoff) -> None:
        self._handoff = handoff
        self._syncs = db.collection(CATALOG_SYNCS)
        self._locks = db.collection(LOCKS)
        self._jobs = db.collection(JOBS)

    async def claim(self, shop_id: str, sync_id: str) -> bool:
        lock_id = _lock_id(shop_id)
        try:
            for _ in range(3):
                now = utcnow()
                try:
                    await self._locks.insert_one(
                        {"_id": lock_id, "sync_id": sync_id, "heartbeat": now}
                    )
                except DuplicateKeyError:
                    held = await self._locks.find_one({"_id": lock_id})
                    if held is None:
                        continue  # released meanwhile
                    if held["heartbeat"] >= now - STALE_LOCK:
                        return False
                    gone = await self._locks.delete_one(
                        {"_id": lock_id, "heartbeat": held["heartbeat"]}
                    )
                    if gone.deleted_count:
                        await self.interrupted(str(held["sync_id"]), "its worker stopped")
                    continue
                return True
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        return False

    async def insert(self, sync: CatalogSync) -> None:
        with unavailable_as_port_error():
            await self._syncs.insert_one({**to_document(sync), "version": 1})

    async def get(self, shop_id: str, sync_id: str) -> CatalogSync | None:
        with unavailable_as_port_error():
            doc = await self._syncs.find_one({"_id": sync_id})
        if doc is None or doc.get("shop_id") != shop_id:
            return None
        return from_document(CatalogSync, doc)

    async def heartbeat(self, shop_id: str, sync_id: str) -> None:
        try:
            # `locks` holds one small document per shop: a filter beyond `_id` costs nothing.
            await self._locks.update_one(
                {"_id": _lock_id(shop_id), "sync_id": sync_id}, {"$set": {"heartbeat": utcnow()}}
            )
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    async def release(self, shop_id: str, sync_id: str) -> None:
        with unavailable_as_port_error():
            await self._locks.delete_one({"_id": _lock_id(shop_id), "sync_id": sync_id})

    async def interrupted(self, sync_id: str, reason: str) -> None:
        with unavailable_as_port_error():
            doc = await self._syncs.find_one({"_id": sync_id})
            if doc is None or doc.get("status") != "syncing":
                return
            await self._syncs.update_one(
                {"_id": sync_id},
                {
                    "$set": {
                        "status": "failed",
                        "error": f"Interrupted: {reason}",
                        "completed_at": utcnow(),
                    },
                    "$inc": {"version": 1},
                },
            )

    async def record(self, sync_id: str, *, failure: SyncFailure | None) -> None:
        update: dict[str, Any]
        if failure is None:
            update = {"$inc": {"synced_products": 1, "version": 1}}
        else:
            update = {
                "$inc": {"failed_products": 1, "version": 1},
                "$push": {"failures": failure.model_dump(by_alias=False)},
            }
        with unavailable_as_port_error():
            await self._syncs.update_one({"_id": sync_id}, update)

    async def finish(self, sync: CatalogSync, events: Sequence[Event] = ()) -> None:
        update: dict[str, Any] = {
            "$set": {"status": sync.status, "error": sync.error, "completed_at": sync.completed_at},
            "$inc": {"version": 1},
        }
        outbox = outbox_documents(events)
        if outbox:
            update["$push"] = {"outbox": {"$each": outbox}}
        with unavailable_as_port_error():
            await self._syncs.update_one({"_id": sync.id}, update)
        if outbox:
            self._handoff(outbox_entries(CATALOG_SYNCS, sync.id, outbox))

    # --- pull jobs -----------------------------------------------------------------------

    async def start(self, job: Job) -> Job | None:
        slot = f"{job.kind}:{job.shop_id}"
        try:
            for _ in range(3):
                now = utcnow()
                try:
                    await self._locks.insert_one({"_id": slot, "job_id": job.id, "heartbeat": now})
                except DuplicateKeyError:
                    held = await self._locks.find_one({"_id": slot})
                    if held is None:
                        continue
                    running = await self.job(job.shop_id, str(held["job_id"]))
                    if held["heartbeat"] >= now - STALE_LOCK and running is not None:
                        return running
                    await self._close(slot, held)
                    continue
                await self._jobs.insert_one(to_document(job))
                return None
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        raise DatabaseUnavailable(f"could not take the {job.kind} slot of shop {job.shop_id}")

    async def _close(self, slot: str, held: dict[str, Any]) -> None:
        """A slot whose worker stopped: its job failed, the slot free."""
        gone = await self._locks.delete_one({"_id": slot, "heartbeat": held["heartbeat"]})
        if gone.deleted_count:
            await self._jobs.update_one(
                {"_id": held["job_id"]},
                {"$set": {"status": "failed", "error": _INTERRUPTED, "completed_at": utcnow()}},
            )

    async def job(self, shop_id: str, job_id: str) -> Job | None:
        try:
            doc = await self._jobs.find_one({"_id": job_id})
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        if doc is None or doc.get("shop_id") != shop_id:
            return None
        return from_document(Job, doc)

    async def jobs(
        self,
        shop_id: str,
        page: PageRequest,
        kind: JobKind | None = None,
        status: JobStatus | None = None,
    ) -> tuple[list[Job], int]:
        query: dict[str, Any] = {"shop_id": shop_id}
        if kind is not None:
            query["kind"] = kind
        if status is not None:
            query["status"] = status
        try:
            total = await self._jobs.count_documents(query)
            cursor = self._jobs.find(query).sort(NEWEST_FIRST).skip(page.skip).limit(page.limit)
            return [from_document(Job, d) async for d in cursor], total
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    async def progress(self, job: Job, done: int, failures: Sequence[JobFailure]) -> None:
        update: dict[str, Any] = {"$inc": {"done": done, "failed": len(failures)}}
        if failures:
            update["$push"] = {
                "failures": {
                    "$each": [f.model_dump(by_alias=False) for f in failures],
                    "$slice": MAX_FAILURES,
                }
            }
        try:
            await self._jobs.update_one({"_id": job.id}, update)
            await self._locks.update_one(
                {"_id": f"{job.kind}:{job.shop_id}", "job_id": job.id},
                {"$set": {"heartbeat": utcnow()}},
            )
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    async def end(self, job: Job) -> None:
        fields = {
            "status": job.status,
            "error": job.error,
            "completed_at": job.completed_at,
            "done": job.done,
            "failed": job.failed,
        }
        with unavailable_as_port_error():
            await self._jobs.update_one({"_id": job.id}, {"$set": fields})
            await self._locks.delete_one({"_id": f"{job.kind}:{job.shop_id}", "job_id": job.id})

    async def reap(self) -> int:
        closed = 0
        stale = utcnow() - STALE_LOCK
        with unavailable_as_port_error():
            async for held in self._locks.find({"job_id": {"$exists": True}}):
                if held["heartbeat"] < stale:
                    await self._close(str(held["_id"]), held)
                    closed += 1
        return closed
