"""The one place that owns the MongoDB client, the database name and the indexes.

Writes stay within what MongoDB and FerretDB share: single-document atomic updates, unique
indexes and upserts; no transactions (FerretDB ignores them silently).
"""

import asyncio
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import AutoReconnect, OperationFailure

Document = dict[str, Any]

LISTINGS = "listings"
ORDERS = "orders"
CATALOG_SYNCS = "catalog_syncs"
WEBHOOK_EVENTS = "webhook_events"
SHOPS = "shops"
LOCKS = "locks"

# Newest first, id as the tie-breaker: the stable order every list pages in.
NEWEST_FIRST = [("created_at", DESCENDING), ("_id", DESCENDING)]

INDEXES: Mapping[str, list[IndexModel]] = {
    LISTINGS: [
        IndexModel([("shop_id", ASCENDING), ("local_product_id", ASCENDING)], unique=True),
        IndexModel([("shop_id", ASCENDING), ("external_product_id", ASCENDING)]),
        IndexModel([("shop_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]),
    ],
    ORDERS: [
        IndexModel([("shop_id", ASCENDING), ("external_order_id", ASCENDING)], unique=True),
        IndexModel([("shop_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]),
        IndexModel([("outbox.0", ASCENDING)]),
    ],
    CATALOG_SYNCS: [
        IndexModel([("shop_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]),
    ],
    WEBHOOK_EVENTS: [IndexModel([("notification_id", ASCENDING)], unique=True)],
    SHOPS: [],
    LOCKS: [],
}


class DocumentLocks:
    """One lock per document for this process's writes.

    FerretDB 1.x applies an update as a read followed by a write, outside any transaction, so
    two concurrent updates of one document can lose one of them (MongoDB itself does not).
    Serialising this process's writes per document closes that window for a single worker;
    the Kafka keys already send one order's or product's messages to one worker.
    """

    def __init__(self) -> None:
        self._locks: dict[tuple[str, str], asyncio.Lock] = {}
        self._users: dict[tuple[str, str], int] = {}

    @asynccontextmanager
    async def hold(self, collection: str, doc_id: str) -> AsyncIterator[None]:
        key = (collection, doc_id)
        lock = self._locks.setdefault(key, asyncio.Lock())
        self._users[key] = self._users.get(key, 0) + 1
        try:
            async with lock:
                yield
        finally:
            self._users[key] -= 1
            if not self._users[key]:
                del self._users[key], self._locks[key]


class Database:
    """A connected database with the service's collections and indexes."""

    def __init__(self, uri: str, name: str, *, timeout_ms: int = 5000) -> None:
        self.client: AsyncMongoClient[Document] = AsyncMongoClient(
            uri,
            tz_aware=True,
            serverSelectionTimeoutMS=timeout_ms,
            connectTimeoutMS=timeout_ms,
            appname="tiktok-shop",
        )
        self.db: AsyncDatabase[Document] = self.client[name]
        self.locks = DocumentLocks()

    def collection(self, name: str) -> AsyncCollection[Document]:
        return self.db[name]

    async def ensure_indexes(self, *, attempts: int = 5) -> None:
        """Create the indexes that are missing; safe to run at every start, from many processes.

        FerretDB 1.24 can drop the connection when two processes create the same indexes at
        once, so a failed round is retried and skips what the other process already made.
        """
        for attempt in range(1, attempts + 1):
            try:
                for collection, indexes in INDEXES.items():
                    await self._create_missing(collection, indexes)
                return
            except (AutoReconnect, OperationFailure):
                if attempt == attempts:
                    raise
                await asyncio.sleep(0.2 * attempt)

    async def _create_missing(self, collection: str, indexes: list[IndexModel]) -> None:
        existing = {ix["name"] async for ix in await self.db[collection].list_indexes()}
        missing = [ix for ix in indexes if ix.document["name"] not in existing]
        if missing:
            await self.db[collection].create_indexes(missing)

    async def ping(self) -> bool:
        try:
            await self.client.admin.command("ping")
        except Exception:
            return False
        return True

    async def close(self) -> None:
        await self.client.close()
