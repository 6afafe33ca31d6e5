"""Channel orders in MongoDB: unique per (shop, TikTok order id)."""

from contracts.entities import ChannelOrder, OrderStatus
from service.adapters.mongo.database import ORDERS, Document
from service.adapters.mongo.store import EntityStore
from service.application.ports import PageRequest
from service.domain.stats import OrderGroup


class MongoOrders(EntityStore[ChannelOrder]):
    model = ChannelOrder
    collection_name = ORDERS

    async def get_by_external(self, shop_id: str, external_order_id: str) -> ChannelOrder | None:
        return await self.find_one({"shop_id": shop_id, "external_order_id": external_order_id})

    async def page(
        self, shop_id: str, page: PageRequest, status: OrderStatus | None = None
    ) -> tuple[list[ChannelOrder], int]:
        query: Document = {"shop_id": shop_id}
        if status is not None:
            query["status"] = status
        return await self.page_where(query, page)

    async def count_groups(self, shop_id: str) -> list[OrderGroup]:
        # One accumulator per $group: FerretDB 1.24 computes only the first accumulator of a
        # $group and answers 0 for the others, so counts and sums are two aggregations.
        counts = await self._group(shop_id, {"$sum": 1})
        totals = await self._group(shop_id, {"$sum": "$total"})
        return [
            OrderGroup(status=status, currency=currency, count=count, total=totals.get(key, 0))
            for key, count in counts.items()
            for status, currency in [key]
        ]

    async def _group(self, shop_id: str, accumulator: Document) -> dict[tuple[str, str], int]:
        pipeline: list[Document] = [
            {"$match": {"shop_id": shop_id}},
            {
                "$group": {
                    "_id": {"status": "$status", "currency": "$currency"},
                    "value": accumulator,
                }
            },
        ]
        cursor = await self.collection.aggregate(pipeline)
        return {
            (row["_id"]["status"], row["_id"]["currency"]): int(row["value"])
            async for row in cursor
        }
