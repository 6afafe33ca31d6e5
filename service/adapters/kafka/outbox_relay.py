"""Publishes the events that writes left in their documents' outbox, then clears them.

An event is written in the same single-document update as the change it reports, so a crash
between the write and the publish loses nothing: the relay finds it on its next sweep. A crash
between the publish and the clear publishes it again with the same `eventId`, which subscribers
use to drop the duplicate (at-least-once, never lost).
"""

import asyncio
import contextlib
import logging

from faststream.kafka import KafkaBroker

from service.adapters.kafka import headers
from service.adapters.mongo.database import (
    CATALOG_SYNCS,
    LISTINGS,
    ORDERS,
    SHOPS,
    WEBHOOK_EVENTS,
    Database,
    Document,
)

log = logging.getLogger(__name__)

COLLECTIONS = (LISTINGS, ORDERS, CATALOG_SYNCS, WEBHOOK_EVENTS, SHOPS)


class OutboxRelay:
    def __init__(
        self, db: Database, broker: KafkaBroker, topic: str, *, sweep_seconds: float = 5.0
    ) -> None:
        self.db = db
        self.broker = broker
        self.topic = topic
        self.sweep_seconds = sweep_seconds
        self._pending: set[tuple[str, str]] = set()
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def notify(self, collection: str, doc_id: str) -> None:
        """Called after a write that left events in a document's outbox."""
        self._pending.add((collection, doc_id))
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        # Whatever is still pending stays in the documents for the next start.

    async def _run(self) -> None:
        await self.sweep()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), self.sweep_seconds)
            self._wake.clear()
            try:
                if self._pending:
                    pending, self._pending = self._pending, set()
                    for collection, doc_id in sorted(pending):
                        await self.flush(collection, doc_id)
                else:
                    await self.sweep()
            except Exception:
                log.exception("outbox relay failed; retrying on the next sweep")

    async def sweep(self) -> None:
        """Publish every outbox entry left behind (by a crash, or by another process)."""
        for collection in COLLECTIONS:
            cursor = self.db.collection(collection).find({"outbox.0": {"$exists": True}})
            async for doc in cursor:
                await self._publish(collection, doc)

    async def flush(self, collection: str, doc_id: str) -> None:
        doc = await self.db.collection(collection).find_one({"_id": doc_id})
        if doc is not None:
            await self._publish(collection, doc)

    async def _publish(self, collection: str, doc: Document) -> None:
        for entry in doc.get("outbox") or []:
            await self.broker.publish(
                entry["payload"].encode(),
                self.topic,
                key=str(entry["key"]).encode(),
                headers={
                    headers.EVENT_ID: entry["event_id"],
                    headers.EVENT_TYPE: entry["type"],
                    headers.SHOP_ID: str(doc.get("shop_id", "")),
                    "content-type": "application/json",
                },
            )
            async with self.db.locks.hold(collection, str(doc["_id"])):
                await self.db.collection(collection).update_one(
                    {"_id": doc["_id"]}, {"$pull": {"outbox": entry}}
                )
