"""What the entity repositories share: read, page, insert and guarded replace of one entity."""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Any, Generic, TypeVar

from pydantic import BaseModel
from pymongo.errors import PyMongoError

from contracts.events import Event
from service.adapters.mongo.database import NEWEST_FIRST, Database, Document
from service.adapters.mongo.documents import from_document, outbox_entries, to_document
from service.adapters.mongo.errors import is_duplicate
from service.application.ports import Duplicate, PageRequest, StaleWrite

M = TypeVar("M", bound=BaseModel)

#: Told the collection and id of a document that gained outbox entries.
OutboxNotify = Callable[[str, str], None]


def no_outbox(collection: str, doc_id: str) -> None:
    return None


class EntityStore(Generic[M]):
    model: type[M]
    collection_name: str

    def __init__(self, db: Database, notify: OutboxNotify = no_outbox) -> None:
        self.collection = db.collection(self.collection_name)
        self.locks = db.locks
        self.notify = notify

    async def insert(self, entity: M, events: Sequence[Event] = ()) -> None:
        doc = to_document(entity)
        if events:
            doc["outbox"] = outbox_entries(events)
        try:
            async with self.locks.hold(self.collection_name, str(doc["_id"])):
                await self.collection.insert_one(doc)
        except PyMongoError as exc:
            if is_duplicate(exc):
                raise Duplicate(str(exc)) from exc
            raise
        if events:
            self.notify(self.collection_name, str(doc["_id"]))

    async def get(self, shop_id: str, entity_id: str) -> M | None:
        return await self.find_one({"_id": entity_id, "shop_id": shop_id})

    async def find_one(self, query: Document) -> M | None:
        doc = await self.collection.find_one(query)
        return None if doc is None else from_document(self.model, doc)

    async def page_where(self, query: Document, page: PageRequest) -> tuple[list[M], int]:
        total = await self.collection.count_documents(query)
        cursor = self.collection.find(query).sort(NEWEST_FIRST).skip(page.skip).limit(page.limit)
        return [from_document(self.model, d) async for d in cursor], total

    async def replace(self, entity: M, *, expected: datetime, events: Sequence[Event] = ()) -> None:
        """Store the entity unless someone else changed it since `expected` (its updated_at)."""
        doc = to_document(entity)
        doc_id = doc.pop("_id")
        update: dict[str, Any] = {"$set": doc}
        if events:
            update["$push"] = {"outbox": {"$each": outbox_entries(events)}}
        try:
            async with self.locks.hold(self.collection_name, str(doc_id)):
                result = await self.collection.update_one(
                    {"_id": doc_id, "updated_at": expected}, update
                )
        except PyMongoError as exc:
            if is_duplicate(exc):
                raise Duplicate(str(exc)) from exc
            raise
        if result.matched_count == 0:
            raise StaleWrite(f"{self.collection_name} {doc_id} changed since it was read")
        if events:
            self.notify(self.collection_name, str(doc_id))

    async def delete(self, shop_id: str, entity_id: str) -> bool:
        async with self.locks.hold(self.collection_name, entity_id):
            result = await self.collection.delete_one({"_id": entity_id, "shop_id": shop_id})
        return result.deleted_count == 1
