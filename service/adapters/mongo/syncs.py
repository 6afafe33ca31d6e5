"""Catalog sync records in MongoDB; progress counters move with `$inc` while a sync runs."""

from collections.abc import Sequence
from datetime import datetime, timedelta
from typing import Any

from pymongo.errors import PyMongoError

from contracts.entities import CatalogSync, SyncFailure
from contracts.events import Event
from service.adapters.mongo.database import CATALOG_SYNCS, LOCKS, NEWEST_FIRST
from service.adapters.mongo.documents import from_document, outbox_entries
from service.adapters.mongo.errors import is_duplicate
from service.adapters.mongo.store import EntityStore
from service.application.ports import PageRequest
from service.domain.time import utcnow

# A running sync beats its lock's heart every few seconds (application.catalog); a lock silent
# for STALE_LOCK lost its worker.
STALE_LOCK = timedelta(minutes=2)


def _lock_id(shop_id: str) -> str:
    return f"catalog-sync:{shop_id}"


class MongoSyncs(EntityStore[CatalogSync]):
    model = CatalogSync
    collection_name = CATALOG_SYNCS

    async def page(self, shop_id: str, page: PageRequest) -> tuple[list[CatalogSync], int]:
        return await self.page_where({"shop_id": shop_id}, page)

    async def last(self, shop_id: str) -> CatalogSync | None:
        cursor = self.collection.find({"shop_id": shop_id}).sort(NEWEST_FIRST).limit(1)
        async for doc in cursor:
            return from_document(CatalogSync, doc)
        return None

    async def claim(self, shop_id: str, sync_id: str) -> bool:
        # An insert under a unique _id is atomic on MongoDB and on FerretDB alike, so two
        # workers cannot both win. The running sync beats the lock's heart; a lock whose heart
        # stopped belongs to a worker that died, and is taken over.
        locks = self.collection.database[LOCKS]
        lock_id = _lock_id(shop_id)
        for _ in range(3):
            now = utcnow()
            try:
                await locks.insert_one({"_id": lock_id, "sync_id": sync_id, "heartbeat": now})
            except PyMongoError as exc:
                if not is_duplicate(exc):
                    raise
                held = await locks.find_one({"_id": lock_id})
                if held is None:
                    continue  # released meanwhile
                if held["heartbeat"] >= now - STALE_LOCK:
                    return False
                gone = await locks.delete_one({"_id": lock_id, "heartbeat": held["heartbeat"]})
                if gone.deleted_count:
                    await self.interrupted(str(held["sync_id"]), "its worker stopped")
                continue
            return True
        return False

    async def heartbeat(self, shop_id: str, sync_id: str) -> None:
        locks = self.collection.database[LOCKS]
        await locks.update_one(
            {"_id": _lock_id(shop_id), "sync_id": sync_id}, {"$set": {"heartbeat": utcnow()}}
        )

    async def release(self, shop_id: str, sync_id: str) -> None:
        locks = self.collection.database[LOCKS]
        await locks.delete_one({"_id": _lock_id(shop_id), "sync_id": sync_id})

    async def interrupted(self, sync_id: str, reason: str) -> None:
        """Close a sync that will never finish, keeping the progress it recorded."""
        async with self.locks.hold(self.collection_name, sync_id):
            await self.collection.update_one(
                {"_id": sync_id, "status": "syncing"},
                {
                    "$set": {
                        "status": "failed",
                        "error": f"Interrupted: {reason}",
                        "completed_at": utcnow(),
                    }
                },
            )

    async def record(self, sync_id: str, *, failure: SyncFailure | None) -> None:
        update: dict[str, Any]
        if failure is None:
            update = {"$inc": {"synced_products": 1}}
        else:
            update = {
                "$inc": {"failed_products": 1},
                "$push": {"failures": failure.model_dump(by_alias=False)},
            }
        async with self.locks.hold(self.collection_name, sync_id):
            await self.collection.update_one({"_id": sync_id}, update)

    async def finish(
        self, sync: CatalogSync, now: datetime, events: Sequence[Event] = ()
    ) -> CatalogSync:
        update: dict[str, Any] = {
            "$set": {"status": sync.status, "error": sync.error, "completed_at": now}
        }
        if events:
            update["$push"] = {"outbox": {"$each": outbox_entries(events)}}
        async with self.locks.hold(self.collection_name, sync.id):
            await self.collection.update_one({"_id": sync.id}, update)
        if events:
            self.notify(self.collection_name, sync.id)
        return sync
