"""Where outbox entries wait: inside the documents of the changes they report.

The sweep asks each collection for documents whose outbox holds entries, through a sparse
index on `outbox.event_id` on MongoDB (the local database scans; the sweep runs at start-up
and on a slow timer only). Clearing pulls the published entries by event id, addressed by
`_id`.
"""

from collections.abc import AsyncIterator, Sequence
from itertools import groupby
from typing import Any

import structlog
from pymongo import UpdateOne
from pymongo.errors import ConnectionFailure

from service.adapters.mongo.database import OUTBOX_COLLECTIONS, Database
from service.adapters.mongo.documents import outbox_entries
from service.application.ports import DatabaseUnavailable, OutboxEntry

log = structlog.get_logger(__name__)


def _readable(entry: object) -> bool:
    return (
        isinstance(entry, dict)
        and isinstance(entry.get("event_id"), str)
        and isinstance(entry.get("payload"), str)
    )


class MongoOutbox:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def pending(self) -> AsyncIterator[OutboxEntry]:
        try:
            for collection in OUTBOX_COLLECTIONS:
                cursor = self._db.collection(collection).find(
                    {"outbox.event_id": {"$exists": True}}, {"outbox": True}
                )
                async for doc in cursor:
                    readable = [e for e in doc["outbox"] if _readable(e)]
                    if len(readable) < len(doc["outbox"]):
                        await self._set_aside(collection, doc)
                    for entry in outbox_entries(collection, str(doc["_id"]), readable):
                        yield entry
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    async def _set_aside(self, collection: str, doc: dict[str, Any]) -> None:
        """An entry that cannot be published (no event id or payload: a hand edit, an old
        version) moves to `outbox_unreadable`, so that it stops no other event."""
        unreadable = [e for e in doc["outbox"] if not _readable(e)]
        log.warning(
            "outbox entry cannot be published; set aside in outbox_unreadable",
            collection=collection,
            doc_id=str(doc["_id"]),
            count=len(unreadable),
        )
        await self._db.collection(collection).update_one(
            {"_id": doc["_id"]},
            {
                "$pull": {"outbox": {"$in": unreadable}},
                "$push": {"outbox_unreadable": {"$each": unreadable}},
            },
        )

    async def clear(self, entries: Sequence[OutboxEntry]) -> None:
        by_collection = sorted(entries, key=lambda e: (e.collection, e.doc_id))
        try:
            for collection, group in groupby(by_collection, key=lambda e: e.collection):
                ops = [
                    UpdateOne(
                        {"_id": doc_id},
                        {"$pull": {"outbox": {"event_id": {"$in": [e.event_id for e in items]}}}},
                    )
                    for doc_id, items in (
                        (d, list(g)) for d, g in groupby(group, key=lambda e: e.doc_id)
                    )
                ]
                await self._db.collection(collection).bulk_write(ops, ordered=False)
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc
