"""The one place that owns the MongoDB client, the database name and the indexes.

Writes stay within what MongoDB and the local database (mongo-java-server) share: unique
indexes, single-document atomic updates and unordered bulk writes; no transactions. Every
hot-path filter names exactly the keys of one unique index (`_id`, or one of the unique
indexes below), because the local database uses an index only then; the other indexes serve
MongoDB's admin pages and sweeps.
"""

from collections.abc import Mapping
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel
from pymongo.asynchronous.collection import AsyncCollection
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import AutoReconnect, OperationFailure, PyMongoError

from service import retries

Document = dict[str, Any]

LISTINGS = "listings"
ORDERS = "orders"
CATALOG_SYNCS = "catalog_syncs"
WEBHOOK_EVENTS = "webhook_events"
SHOPS = "shops"
LOCKS = "locks"
JOBS = "jobs"
#: One small document per order or listing flagged `needs_refresh` (`_id` "<collection>/<id>"),
#: kept with each write of it: what a reconciliation refreshes first, found without a scan of
#: the big collections.
REFRESH_MARKS = "refresh_marks"
RECONCILIATIONS = "reconciliations"
#: TikTok's URIs of the images uploaded per (shop, URL); `_id` a hash of both.
UPLOADED_IMAGES = "tiktok_images"

#: Collections whose documents carry an outbox of events still to publish.
OUTBOX_COLLECTIONS = (LISTINGS, ORDERS, CATALOG_SYNCS, WEBHOOK_EVENTS, SHOPS, RECONCILIATIONS)

# Newest first, id as the tie-breaker: the stable order every list pages in.
NEWEST_FIRST = [("created_at", DESCENDING), ("_id", DESCENDING)]

# A guarded write's filter is exactly {_id, version}: unique on MongoDB trivially, and the only
# way the local database looks such a filter up instead of scanning.
_VERSIONED = IndexModel([("_id", ASCENDING), ("version", ASCENDING)], unique=True)
# The outbox sweep: a sparse index holds only documents with events still to publish.
_OUTBOX = IndexModel([("outbox.event_id", ASCENDING)], sparse=True)
_PAGES = IndexModel([("shop_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)])

INDEXES: Mapping[str, list[IndexModel]] = {
    LISTINGS: [
        IndexModel([("shop_id", ASCENDING), ("local_product_id", ASCENDING)], unique=True),
        # "<shop>/<TikTok product id>", set only while linked: product webhooks find the listing
        # (and a batch finds all of its listings with one `$in`) through it.
        IndexModel([("external_key", ASCENDING)], unique=True, sparse=True),
        _VERSIONED,
        _OUTBOX,
        _PAGES,
    ],
    ORDERS: [
        IndexModel([("shop_id", ASCENDING), ("external_order_id", ASCENDING)], unique=True),
        _VERSIONED,
        _OUTBOX,
        _PAGES,
        IndexModel([("shop_id", ASCENDING), ("status", ASCENDING), ("currency", ASCENDING)]),
    ],
    CATALOG_SYNCS: [_VERSIONED, _OUTBOX, _PAGES],
    WEBHOOK_EVENTS: [_OUTBOX],
    SHOPS: [_VERSIONED, _OUTBOX],
    LOCKS: [],
    JOBS: [_PAGES],
    REFRESH_MARKS: [
        IndexModel([("kind", ASCENDING), ("shop_id", ASCENDING), ("since", ASCENDING)])
    ],
    RECONCILIATIONS: [
        IndexModel([("shop_id", ASCENDING), ("started_at", DESCENDING), ("_id", DESCENDING)]),
        _OUTBOX,
    ],
    UPLOADED_IMAGES: [],
}


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

    def collection(self, name: str) -> AsyncCollection[Document]:
        return self.db[name]

    async def ensure_indexes(self) -> None:
        """Create the indexes that are missing; safe at every start, from many processes."""
        async for attempt in retries.DATABASE.context(on=(AutoReconnect, OperationFailure)):
            with attempt:
                for collection, indexes in INDEXES.items():
                    await self._create_missing(collection, indexes)

    async def _create_missing(self, collection: str, indexes: list[IndexModel]) -> None:
        existing = {ix["name"] async for ix in await self.db[collection].list_indexes()}
        missing = [ix for ix in indexes if ix.document["name"] not in existing]
        if missing:
            await self.db[collection].create_indexes(missing)

    async def ping(self) -> bool:
        try:
            await self.client.admin.command("ping")
        except PyMongoError:
            return False
        return True

    async def close(self) -> None:
        await self.client.close()
