"""Each shop's authorization state (one document per shop id)."""

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from contracts.events import Event
from service.adapters.mongo.database import SHOPS, Database
from service.adapters.mongo.documents import outbox_entries
from service.adapters.mongo.store import OutboxNotify, no_outbox


class MongoShops:
    def __init__(self, db: Database, notify: OutboxNotify = no_outbox) -> None:
        self.collection = db.collection(SHOPS)
        self.locks = db.locks
        self.notify = notify

    async def mark_deauthorized(self, shop_id: str, at: datetime) -> None:
        async with self.locks.hold(SHOPS, shop_id):
            await self.collection.update_one(
                {"_id": shop_id},
                {"$set": {"status": "deauthorized", "deauthorized_at": at}},
                upsert=True,
            )

    async def record_expiry_warning(
        self, shop_id: str, expires_at: datetime | None, events: Sequence[Event]
    ) -> None:
        update: dict[str, Any] = {"$set": {"authorization_expires_at": expires_at}}
        if events:
            update["$push"] = {"outbox": {"$each": outbox_entries(events)}}
        async with self.locks.hold(SHOPS, shop_id):
            await self.collection.update_one({"_id": shop_id}, update, upsert=True)
        if events:
            self.notify(SHOPS, shop_id)

    async def status(self, shop_id: str) -> str | None:
        doc = await self.collection.find_one({"_id": shop_id})
        return None if doc is None else doc.get("status")
