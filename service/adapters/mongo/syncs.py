"""Catalog sync records in MongoDB; progress counters move with `$inc` while a sync runs."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from contracts.entities import CatalogSync, SyncFailure
from contracts.events import Event
from service.adapters.mongo.database import CATALOG_SYNCS, NEWEST_FIRST
from service.adapters.mongo.documents import from_document, outbox_entries
from service.adapters.mongo.store import EntityStore
from service.application.ports import PageRequest


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
