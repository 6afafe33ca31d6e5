"""The admin pages' read-only queries: pages with totals, and the statistics' grouped counts.

Each pages in the database (newest first, id as tie-breaker) and counts there; statistics are
`$group` aggregations, never every document loaded into Python. On MongoDB the `$match` on
`shop_id` uses the `(shop_id, created_at, _id)` index; the local database scans.
"""

from collections.abc import Sequence

from pymongo.errors import ConnectionFailure

from contracts.entities import (
    CatalogSync,
    ChannelOrder,
    Listing,
    ListingStatus,
    OrderStatus,
    SyncStatus,
)
from service.adapters.mongo.database import (
    CATALOG_SYNCS,
    LISTINGS,
    NEWEST_FIRST,
    ORDERS,
    REFRESH_MARKS,
    WEBHOOK_EVENTS,
    Database,
    Document,
)
from service.adapters.mongo.documents import M, from_document
from service.application.ports import DatabaseUnavailable, PageRequest
from service.domain.stats import ListingGroup, OrderGroup


class MongoViews:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def webhook_outcomes(self, notification_ids: Sequence[str]) -> dict[str, str]:
        if not notification_ids:
            return {}
        wanted = {"_id": {"$in": sorted(set(notification_ids))}}  # by _id: a lookup
        try:
            found = await (
                self._db.collection(WEBHOOK_EVENTS).find(wanted, {"outcome": True}).to_list()
            )
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        return {str(doc["_id"]): str(doc.get("outcome", "")) for doc in found}

    async def listings(
        self,
        shop_id: str,
        page: PageRequest,
        status: ListingStatus | None = None,
        sync_status: SyncStatus | None = None,
    ) -> tuple[list[Listing], int]:
        query: Document = {"shop_id": shop_id}
        if status is not None:
            query["status"] = status
        if sync_status is not None:
            query["sync_status"] = sync_status
        return await self._page(LISTINGS, Listing, query, page)

    async def orders(
        self, shop_id: str, page: PageRequest, status: OrderStatus | None = None
    ) -> tuple[list[ChannelOrder], int]:
        query: Document = {"shop_id": shop_id}
        if status is not None:
            query["status"] = status
        return await self._page(ORDERS, ChannelOrder, query, page)

    async def syncs(self, shop_id: str, page: PageRequest) -> tuple[list[CatalogSync], int]:
        return await self._page(CATALOG_SYNCS, CatalogSync, {"shop_id": shop_id}, page)

    async def last_sync(self, shop_id: str) -> CatalogSync | None:
        syncs, _ = await self._page(
            CATALOG_SYNCS, CatalogSync, {"shop_id": shop_id}, PageRequest(1, 1), count=False
        )
        return syncs[0] if syncs else None

    async def listing_ids(self, shop_id: str) -> list[str]:
        try:
            cursor = self._db.collection(LISTINGS).find({"shop_id": shop_id}, {"_id": 1})
            return sorted([str(d["_id"]) async for d in cursor])
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    async def pending_pushes(self) -> list[tuple[str, str]]:
        """Listings marked `push_pending` (stored beside the entity by the unit of work). A
        scan: it runs once, when a worker starts."""
        try:
            cursor = self._db.collection(LISTINGS).find(
                {"push_pending": True}, {"_id": 1, "shop_id": 1}
            )
            return [(str(d["shop_id"]), str(d["_id"])) async for d in cursor]
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    async def listing_groups(self, shop_id: str) -> list[ListingGroup]:
        rows = await self._group(
            LISTINGS,
            shop_id,
            {"status": "$status", "sync_status": "$sync_status"},
            {"count": {"$sum": 1}},
        )
        return [
            ListingGroup(
                status=row["_id"]["status"],
                sync_status=row["_id"]["sync_status"],
                count=int(row["count"]),
            )
            for row in rows
        ]

    async def order_groups(self, shop_id: str) -> list[OrderGroup]:
        # Orders stored before refunds were kept have none.
        refunded = {"$ifNull": ["$refunded_amount", 0]}
        # What stayed with the seller: each total less what was refunded of it.
        kept = {"$subtract": ["$total", refunded]}
        rows = await self._group(
            ORDERS,
            shop_id,
            {"status": "$status", "currency": "$currency"},
            {
                "count": {"$sum": 1},
                "total": {"$sum": "$total"},
                "refunded": {"$sum": refunded},
                "fees": {"$sum": "$platform_fee"},
                # TikTok's settlement once settled; until then what was kept less the fee.
                "net": {
                    "$sum": {"$ifNull": ["$net_amount", {"$subtract": [kept, "$platform_fee"]}]}
                },
            },
        )
        return [
            OrderGroup(
                status=row["_id"]["status"],
                currency=row["_id"]["currency"],
                count=int(row["count"]),
                total=int(row["total"]),
                fees=int(row.get("fees") or 0),
                net=int(row.get("net") or 0),
                refunded=int(row.get("refunded") or 0),
            )
            for row in rows
        ]

    async def orders_needing_refresh(self, shop_id: str, limit: int) -> list[ChannelOrder]:
        return await self._flagged(ORDERS, ChannelOrder, shop_id, limit)

    async def listings_needing_refresh(self, shop_id: str, limit: int) -> list[Listing]:
        return await self._flagged(LISTINGS, Listing, shop_id, limit)

    async def _flagged(self, collection: str, model: type[M], shop_id: str, limit: int) -> list[M]:
        try:
            marks = (
                self._db.collection(REFRESH_MARKS)
                .find({"kind": collection, "shop_id": shop_id}, {"doc_id": True})
                .sort([("since", 1), ("_id", 1)])
                .limit(limit)
            )
            ids = [str(m["doc_id"]) async for m in marks]
            if not ids:
                return []
            found = {
                str(d["_id"]): d
                async for d in self._db.collection(collection).find({"_id": {"$in": ids}})
            }
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        # A mark outliving its flag (a crash between the two writes) is passed over.
        return [
            from_document(model, found[i])
            for i in ids
            if i in found and found[i].get("needs_refresh")
        ]

    async def _page(
        self,
        collection: str,
        model: type[M],
        query: Document,
        page: PageRequest,
        *,
        count: bool = True,
    ) -> tuple[list[M], int]:
        coll = self._db.collection(collection)
        try:
            total = await coll.count_documents(query) if count else 0
            cursor = coll.find(query).sort(NEWEST_FIRST).skip(page.skip).limit(page.limit)
            return [from_document(model, d) async for d in cursor], total
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    async def _group(
        self, collection: str, shop_id: str, by: Document, accumulators: Document
    ) -> list[Document]:
        pipeline: list[Document] = [
            {"$match": {"shop_id": shop_id}},
            {"$group": {"_id": by, **accumulators}},
        ]
        try:
            cursor = await self._db.collection(collection).aggregate(pipeline)
            return [row async for row in cursor]
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc
