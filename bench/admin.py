"""The admin reads at 100,000 orders: the service's way against the seed's, on the same data.

One shop with 100,000 orders and 10,000 listings, stored as the service stores them, in a
database of the run's own. Timed through the message bus as an admin command runs (the handler,
its queries and the reply model), p50 and p99 over many rounds:

- `orders.list`: a page of 20, newest first, with the total (a count and a sorted, skipped,
  limited find in the database);
- `listings.list`: the same over the listings;
- `stats.get`: two `$group` aggregations (listings by status, orders by status and currency).

The baseline is the seed's way: every order (and listing) of the shop loaded into Python as
entities, then sorted and sliced, or counted, there.
"""

import asyncio
import random
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any

from bench import data
from contracts import commands as c
from contracts.entities import ChannelOrder, Listing
from service.adapters.mongo.database import Database
from service.adapters.mongo.documents import from_document
from service.bootstrap import Worker
from service.domain.stats import ListingGroup, OrderGroup, channel_stats
from service.settings import Settings

ORDERS = 100_000
LISTINGS = 10_000
ROUNDS = 41
BASELINE_ROUNDS = 5
SHOP = "bench-shop"
PAGES = 50  # each round reads a page drawn from the first 50


@dataclass(frozen=True)
class Timing:
    name: str
    service_ms: list[float]
    baseline_ms: list[float]

    @staticmethod
    def quantile(values: Sequence[float], q: float) -> float:
        ordered = sorted(values)
        return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]

    def p(self, q: float, *, baseline: bool = False) -> float:
        return self.quantile(self.baseline_ms if baseline else self.service_ms, q)


async def _times(run: Callable[[], Awaitable[Any]], rounds: int) -> list[float]:
    await run()  # warm up
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        await run()
        times.append((time.perf_counter() - start) * 1000)
    return times


async def run(
    base: Settings,
    *,
    orders: int = ORDERS,
    listings: int = LISTINGS,
    rounds: int = ROUNDS,
    baseline_rounds: int = BASELINE_ROUNDS,
) -> list[Timing]:
    settings = data.own_settings(base)
    worker = Worker(settings)  # for its message bus; Kafka is not touched
    db: Database = worker.db
    bus = worker.bus
    rng = random.Random(3)
    pages = max(1, min(PAGES, orders // 20))
    try:
        await db.ensure_indexes()
        await data.store_orders(db, SHOP, 0, orders)
        await data.store_listings(db, SHOP, listings)

        async def orders_page() -> None:
            await bus.handle(c.ListOrders(shop_id=SHOP, page=rng.randint(1, pages), limit=20))

        async def listings_page() -> None:
            await bus.handle(c.ListListings(shop_id=SHOP, page=rng.randint(1, pages), limit=20))

        async def stats() -> None:
            await bus.handle(c.GetStats(shop_id=SHOP))

        async def all_orders() -> list[ChannelOrder]:
            # A batch size, or the local database answers with everything in one reply (over
            # its 48 MB limit at 100,000 orders).
            cursor = db.collection("orders").find({"shop_id": SHOP}, batch_size=5_000)
            return [from_document(ChannelOrder, d) async for d in cursor]

        async def all_listings() -> list[Listing]:
            cursor = db.collection("listings").find({"shop_id": SHOP}, batch_size=5_000)
            return [from_document(Listing, d) async for d in cursor]

        async def seed_orders_page() -> None:
            loaded = sorted(await all_orders(), key=lambda o: (o.created_at, o.id), reverse=True)
            page = rng.randint(1, pages)
            _ = loaded[(page - 1) * 20 : page * 20], len(loaded)

        async def seed_listings_page() -> None:
            loaded = sorted(await all_listings(), key=lambda x: (x.created_at, x.id), reverse=True)
            page = rng.randint(1, pages)
            _ = loaded[(page - 1) * 20 : page * 20], len(loaded)

        async def seed_stats() -> None:
            order_groups: dict[tuple[str, str], list[int]] = {}
            for o in await all_orders():
                entry = order_groups.setdefault((o.status, o.currency), [0, 0])
                entry[0] += 1
                entry[1] += o.total
            listing_groups: dict[tuple[str, str], int] = {}
            for x in await all_listings():
                key = (x.status, x.sync_status)
                listing_groups[key] = listing_groups.get(key, 0) + 1
            channel_stats(
                [ListingGroup(s, y, n) for (s, y), n in listing_groups.items()],
                [OrderGroup(s, cur, n, t) for (s, cur), (n, t) in order_groups.items()],
                "USD",
            )

        timings = []
        for name, service, seed in (
            ("orders page (20, newest first, with total)", orders_page, seed_orders_page),
            ("listings page (20, newest first, with total)", listings_page, seed_listings_page),
            ("stats", stats, seed_stats),
        ):
            timings.append(
                Timing(
                    name,
                    await _times(service, rounds),
                    await _times(seed, baseline_rounds),
                )
            )
        return timings
    finally:
        await db.client.drop_database(settings.mongodb_database)
        await db.close()


def report(timings: Sequence[Timing], orders: int = ORDERS, listings: int = LISTINGS) -> str:
    lines = [
        f"admin reads, one shop with {orders:,} orders and {listings:,} listings "
        "(ms; the service's way through the bus, the seed's way loading every entity)",
        "| read | p50 | p99 | seed's way p50 | seed's way p99 | p50 ratio (service / seed) |",
        "| --- | --- | --- | --- | --- | --- |",
    ]
    for t in timings:
        lines.append(
            f"| {t.name} | {t.p(0.5):,.1f} | {t.p(0.99):,.1f} | {t.p(0.5, baseline=True):,.0f} "
            f"| {t.p(0.99, baseline=True):,.0f} "
            f"| {t.p(0.5) / t.p(0.5, baseline=True):.3f} |"
        )
    return "\n".join(lines)


async def main() -> None:
    print(report(await run(Settings())))


if __name__ == "__main__":
    asyncio.run(main())
