"""Catalog sync records and the one-per-shop slot that keeps two syncs from running at once.

Progress counters move with `$inc` while a sync runs (many listings are pushed at once). The
slot is a document under a unique `_id` in `locks`: its insert is atomic on MongoDB and on the
local database alike, so two workers cannot both win. The running sync beats its heart; a slot
silent for `STALE_LOCK` belonged to a worker that died, and is taken over.
"""

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pymongo.errors import ConnectionFailure, DuplicateKeyError

from contracts.entities import CatalogSync, SyncFailure
from contracts.events import Event
from service.adapters.mongo.database import CATALOG_SYNCS, LOCKS, Database
from service.adapters.mongo.documents import from_document, outbox_documents, to_document
from service.application.ports import DatabaseUnavailable
from service.domain.time import utcnow

STALE_LOCK = timedelta(minutes=2)


def _lock_id(shop_id: str) -> str:
    return f"catalog-sync:{shop_id}"


class MongoJobs:
    def __init__(self, db: Database) -> None:
        self._syncs = db.collection(CATALOG_SYNCS)
        self._locks = db.collection(LOCKS)

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
        await self._syncs.insert_one({**to_document(sync), "version": 1})

    async def get(self, shop_id: str, sync_id: str) -> CatalogSync | None:
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
        await self._locks.delete_one({"_id": _lock_id(shop_id), "sync_id": sync_id})

    async def interrupted(self, sync_id: str, reason: str) -> None:
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
        await self._syncs.update_one({"_id": sync_id}, update)

    async def finish(self, sync: CatalogSync, events: Sequence[Event] = ()) -> None:
        update: dict[str, Any] = {
            "$set": {"status": sync.status, "error": sync.error, "completed_at": sync.completed_at},
            "$inc": {"version": 1},
        }
        if events:
            update["$push"] = {"outbox": {"$each": outbox_documents(events)}}
        await self._syncs.update_one({"_id": sync.id}, update)
