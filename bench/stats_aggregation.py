"""Channel stats computed by the database (the service's way) against loading every order and
listing into Python and counting there (the seed's way), on the same data and database."""

import uuid

from service.adapters.mongo.listings import MongoListings
from service.adapters.mongo.orders import MongoOrders

from bench.timing import median_seconds, peak_bytes, report
from service.adapters.mongo.database import Database
from service.domain.stats import ListingGroup, OrderGroup, channel_stats
from tests import factories

ORDERS = 3000
STATUSES = ["pending", "confirmed", "shipped", "delivered", "cancelled", "refunded"]


async def run(db: Database) -> str:
    shop = f"bench-{uuid.uuid4().hex[:8]}"
    orders, listings = MongoOrders(db), MongoListings(db)
    docs = []
    for n in range(ORDERS):
        order = factories.order(shop, status=STATUSES[n % len(STATUSES)], total=100 + n)
        doc = order.model_dump(mode="python", by_alias=False)
        doc["_id"] = doc.pop("id")
        docs.append(doc)
    await db.collection("orders").insert_many(docs)

    async def in_database() -> None:
        channel_stats(await listings.count_groups(shop), await orders.count_groups(shop), "USD")

    async def in_python() -> None:
        groups: dict[tuple[str, str], list[int]] = {}
        async for doc in db.collection("orders").find({"shop_id": shop}):
            entry = groups.setdefault((doc["status"], doc["currency"]), [0, 0])
            entry[0] += 1
            entry[1] += doc["total"]
        order_groups = [OrderGroup(s, c, n, t) for (s, c), (n, t) in groups.items()]
        listing_groups: list[ListingGroup] = []
        channel_stats(listing_groups, order_groups, "USD")

    try:
        subject = await median_seconds(in_database, rounds=7)
        baseline = await median_seconds(in_python, rounds=7)
        subject_mem = await peak_bytes(in_database)
        baseline_mem = await peak_bytes(in_python)
    finally:
        await db.collection("orders").delete_many({"shop_id": shop})
    speed = report(
        f"stats over {ORDERS} orders", "aggregation", subject, "load-and-count", baseline
    )
    memory = (
        f"stats memory: aggregation peak {subject_mem / 1024:,.0f} KiB, load-and-count peak "
        f"{baseline_mem / 1024:,.0f} KiB, ratio {subject_mem / baseline_mem:.2f}x"
    )
    return speed + "\n" + memory
