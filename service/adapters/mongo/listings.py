"""Listings in MongoDB: unique per (shop, local product)."""

from datetime import datetime

from contracts.entities import Listing, ListingStatus, SyncStatus
from service.adapters.mongo.database import LISTINGS, Document
from service.adapters.mongo.store import EntityStore
from service.application.ports import Duplicate, PageRequest
from service.domain.ids import new_id
from service.domain.remote import RemoteProduct
from service.domain.stats import ListingGroup


class MongoListings(EntityStore[Listing]):
    model = Listing
    collection_name = LISTINGS

    async def get_by_product(self, shop_id: str, local_product_id: str) -> Listing | None:
        return await self.find_one({"shop_id": shop_id, "local_product_id": local_product_id})

    async def get_by_external(self, shop_id: str, external_id: str) -> Listing | None:
        return await self.find_one({"shop_id": shop_id, "external_product_id": external_id})

    async def page(
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
        return await self.page_where(query, page)

    async def all_ids(self, shop_id: str) -> list[str]:
        cursor = self.collection.find({"shop_id": shop_id}, {"_id": 1}).sort("_id", 1)
        return [str(d["_id"]) async for d in cursor]

    async def upsert_remote(self, shop_id: str, product: RemoteProduct, now: datetime) -> None:
        """Bring TikTok's copy of a product into its listing, creating one when none links it."""
        changes: Document = {"sync_status": "synced", "last_synced_at": now, "updated_at": now}
        if product.status is not None:
            changes["status"] = product.status
        linked = await self.collection.update_one(
            {"shop_id": shop_id, "external_product_id": product.external_product_id},
            {"$set": changes},
        )
        if linked.matched_count:
            return
        listing = Listing(
            id=new_id(),
            shop_id=shop_id,
            # A product made on TikTok has no local product yet: name it after TikTok's id.
            local_product_id=f"tiktok-{product.external_product_id}",
            external_product_id=product.external_product_id,
            title=product.title or product.external_product_id,
            price=product.price,
            currency=product.currency or "USD",
            status=product.status or "pending",
            sync_status="synced",
            last_synced_at=now,
            metadata={"source": "tiktok"},
            created_at=now,
            updated_at=now,
        )
        try:
            await self.insert(listing)
        except Duplicate:
            await self.collection.update_one(
                {"shop_id": shop_id, "local_product_id": listing.local_product_id},
                {"$set": {**changes, "external_product_id": product.external_product_id}},
            )

    async def count_groups(self, shop_id: str) -> list[ListingGroup]:
        pipeline: list[Document] = [
            {"$match": {"shop_id": shop_id}},
            {
                "$group": {
                    "_id": {"status": "$status", "sync_status": "$sync_status"},
                    "count": {"$sum": 1},
                }
            },
        ]
        cursor = await self.collection.aggregate(pipeline)
        return [
            ListingGroup(
                status=row["_id"]["status"],
                sync_status=row["_id"]["sync_status"],
                count=int(row["count"]),
            )
            async for row in cursor
        ]
