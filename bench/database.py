"""The database's cost per operation as its collection grows: `python -m bench.database`.

Fills one orders-like collection (the service's order indexes) to 1,000, then 20,000, then
100,000 documents and times, at each size, the operations the service's hot paths use. A
median over many runs of one operation, in milliseconds. The database is whatever MONGODB_URI
names (the local one by default, see README "Local services"); a database of its own is made
and dropped.

The local database (mongo-java-server) uses an index only for a find, update or delete whose
filter's fields are exactly a unique index's fields, and never in an aggregation (so never for
count_documents either); the last column says which rows do. Absolute figures depend on the machine:
compare how a row grows with the collection.
"""

import argparse
import asyncio
import logging
import random
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo import ASCENDING, DESCENDING, AsyncMongoClient, IndexModel, UpdateOne
from pymongo.asynchronous.collection import AsyncCollection

from bench.timing import median_seconds
from service.settings import Settings

Doc = dict[str, Any]
SIZES = (1_000, 20_000, 100_000)
SHOPS = 10
STATUSES = ("pending", "confirmed", "shipped", "delivered", "cancelled", "refunded")
NEWEST_FIRST = [("created_at", DESCENDING), ("_id", DESCENDING)]
# The orders collection's indexes, as the service declares them.
INDEXES = [
    IndexModel([("shop_id", ASCENDING), ("external_order_id", ASCENDING)], unique=True),
    IndexModel([("shop_id", ASCENDING), ("created_at", DESCENDING), ("_id", DESCENDING)]),
    IndexModel([("outbox.0", ASCENDING)]),
]
T0 = datetime(2025, 1, 1, tzinfo=UTC)


def order(n: int) -> Doc:
    """An order document of about 600 bytes, like the service's; `n` makes its keys."""
    return {
        "_id": f"order-{n:07d}",
        "shop_id": f"shop-{n % SHOPS}",
        "external_order_id": f"tt-{n:09d}",
        "status": STATUSES[n % len(STATUSES)],
        "currency": "USD" if n % 4 else "EUR",
        "items": [{"title": "Ceramic mug", "quantity": 1 + n % 3, "unit_price": 1299}],
        "subtotal": 1299,
        "shipping_fee": 200,
        "platform_fee": 0,
        "total": 1499 + n % 100,
        "customer_name": "Ada Lovelace",
        "shipping_address": {"line1": "1 Example Road", "city": "Springfield", "country": "US"},
        "needs_refresh": False,
        "created_at": T0 + timedelta(seconds=n),
        "updated_at": T0 + timedelta(seconds=n),
    }


@dataclass(frozen=True)
class Operation:
    name: str
    uses_index: str  # what the local database does with it, from its source
    run: Callable[[AsyncCollection[Doc], int], Awaitable[None]]
    rounds: int = 101


async def find_by_id(c: AsyncCollection[Doc], size: int) -> None:
    await c.find_one({"_id": order(random.randrange(size))["_id"]})


async def find_by_unique_key(c: AsyncCollection[Doc], size: int) -> None:
    o = order(random.randrange(size))
    await c.find_one({"shop_id": o["shop_id"], "external_order_id": o["external_order_id"]})


async def update_by_unique_key(c: AsyncCollection[Doc], size: int) -> None:
    o = order(random.randrange(size))
    await c.update_one(
        {"shop_id": o["shop_id"], "external_order_id": o["external_order_id"]},
        {"$set": {"status": "shipped", "updated_at": datetime.now(UTC)}},
    )


async def find_by_id_and_shop(c: AsyncCollection[Doc], size: int) -> None:
    o = order(random.randrange(size))
    await c.find_one({"_id": o["_id"], "shop_id": o["shop_id"]})


async def find_hundred_ids(c: AsyncCollection[Doc], size: int) -> None:
    wanted = [order(n)["_id"] for n in random.sample(range(size), 100)]
    async for _ in c.find({"_id": {"$in": wanted}}):
        pass


async def bulk_upsert_hundred(c: AsyncCollection[Doc], size: int) -> None:
    now = datetime.now(UTC)
    await c.bulk_write(
        [
            UpdateOne({"_id": order(n)["_id"]}, {"$set": {"updated_at": now}}, upsert=True)
            for n in random.sample(range(size), 100)
        ],
        ordered=False,
    )


async def page_and_count(c: AsyncCollection[Doc], size: int) -> None:
    query = {"shop_id": f"shop-{random.randrange(SHOPS)}"}
    await c.count_documents(query)
    async for _ in c.find(query).sort(NEWEST_FIRST).skip(40).limit(20):
        pass


async def group_by_status(c: AsyncCollection[Doc], size: int) -> None:
    pipeline: list[Doc] = [
        {"$match": {"shop_id": f"shop-{random.randrange(SHOPS)}"}},
        {
            "$group": {
                "_id": {"status": "$status", "currency": "$currency"},
                "count": {"$sum": 1},
                "total": {"$sum": "$total"},
            }
        },
    ]
    async for _ in await c.aggregate(pipeline):
        pass


async def pending_outbox(c: AsyncCollection[Doc], size: int) -> None:
    async for _ in c.find({"outbox.0": {"$exists": True}}):
        pass


OPERATIONS = [
    Operation("find_one by `_id`", "`_id` index", find_by_id),
    Operation(
        "find_one by the unique (shop_id, external_order_id)", "unique index", find_by_unique_key
    ),
    Operation("update_one (`$set`) by that key", "unique index", update_by_unique_key),
    Operation(
        "find_one by `{_id, shop_id}`",
        "none: more fields than any unique index",
        find_by_id_and_shop,
    ),
    Operation(
        "find `{_id: {$in: [100 ids]}}`", "`_id` index, a lookup per id", find_hundred_ids, 51
    ),
    Operation(
        "unordered bulk_write of 100 upserts by `_id`", "`_id` index", bulk_upsert_hundred, 51
    ),
    Operation(
        "page of 20 (newest first) + count_documents, one shop",
        "none: scan, sort in memory; the count is an aggregation",
        page_and_count,
        21,
    ),
    Operation(
        "`$match` shop + `$group` (status, currency), 2 accumulators",
        "none: an aggregation always scans",
        group_by_status,
        21,
    ),
    Operation('`{"outbox.0": {$exists: true}}`, none match', "none: scan", pending_outbox, 21),
]


async def fill(c: AsyncCollection[Doc], start: int, stop: int) -> None:
    for first in range(start, stop, 1000):
        await c.insert_many([order(n) for n in range(first, min(first + 1000, stop))])


async def measure(uri: str, sizes: tuple[int, ...]) -> dict[str, list[float]]:
    client: AsyncMongoClient[Doc] = AsyncMongoClient(uri, tz_aware=True)
    name = f"bench_db_{uuid.uuid4().hex[:8]}"
    orders = client[name]["orders"]
    figures: dict[str, list[float]] = {op.name: [] for op in OPERATIONS}
    try:
        await orders.create_indexes(INDEXES)
        filled = 0
        for size in sizes:
            await fill(orders, filled, size)
            filled = size
            for op in OPERATIONS:
                await op.run(orders, size)  # warm up
                seconds = await median_seconds(
                    lambda op=op, size=size: op.run(orders, size), rounds=op.rounds
                )
                figures[op.name].append(seconds * 1000)
                print(f"{size:>7,} documents  {seconds * 1000:9.2f} ms  {op.name}", flush=True)
    finally:
        await client.drop_database(name)
        await client.close()
    return figures


def table(figures: dict[str, list[float]], sizes: tuple[int, ...]) -> str:
    head = " | ".join(f"{s:,}" for s in sizes)
    lines = [
        f"| operation (median ms) | {head} | index used by the local database |",
        "| --- |" + " --- |" * len(sizes) + " --- |",
    ]
    for op in OPERATIONS:
        cells = " | ".join(f"{ms:,.1f}" for ms in figures[op.name])
        lines.append(f"| {op.name} | {cells} | {op.uses_index} |")
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=list(SIZES))
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    sizes = tuple(args.sizes)
    random.seed(7)
    uri = Settings().mongodb_uri.get_secret_value()
    print(table(asyncio.run(measure(uri, sizes)), sizes))


if __name__ == "__main__":
    main()
