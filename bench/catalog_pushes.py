"""Stock changes from the platform to TikTok, coalesced, against one call per change.

A worker runs against the TikTok Shop simulator (over real HTTP, its rate limit at TikTok's
default 50 calls per second per shop, the service's own limiter at the same rate) with `skus`
listings already on TikTok. Then:

- subject: `events` `inventory.changed` messages, round robin over the SKUs, are published to the
  platform topic at once; measured are the TikTok calls the worker made (Update Inventory) and
  the time from the last message published until TikTok's copy of every SKU holds its last
  quantity;
- baseline: a connector that calls Update Inventory once per change, in order, with the same
  gateway, limiter and concurrency; run on `baseline_events` changes and scaled linearly to
  `events` (its time is the rate limit's: one call per change);
- a lone change on an idle worker: from publishing it to TikTok's copy changing (the pusher
  waits `STOCK_PUSH_QUIET_SECONDS` for more), against the baseline's single direct call.
"""

import asyncio
import statistics
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

import httpx

from contracts import commands as c
from contracts.platform import InventoryChanged
from service.adapters.tiktok.gateway import TikTokApiGateway
from service.bootstrap import Worker
from service.settings import Settings
from simulator.app import create_app
from simulator.config import SimulatorConfig
from tests.images import image_host
from tests.kafka_tools import publish_many
from tests.support import eventually, serve

KEY, SECRET, TOKEN = "bench-app-key", "bench-app-secret", "bench-access-token"
WAREHOUSE = "7068517275539719942"  # the simulator's default sales warehouse
INVENTORY_UPDATE = "/inventory/update"


@dataclass(frozen=True)
class CatalogFigures:
    events: int
    skus: int
    calls: int
    converge_s: float
    baseline_events: int
    baseline_calls: int
    baseline_s: float
    lone_s: list[float]
    lone_baseline_s: list[float]

    @property
    def baseline_scaled_s(self) -> float:
        return self.baseline_s * self.events / self.baseline_events


async def measure(
    settings: Settings,
    *,
    events: int = 10_000,
    skus: int = 50,
    baseline_events: int = 1_000,
    lone: int = 7,
) -> CatalogFigures:
    run = uuid.uuid4().hex[:8]
    shop = f"bench-shop-{run}"
    sim_config = SimulatorConfig(
        app_key=KEY,
        app_secret=SECRET,
        demo_shop_id=shop,
        demo_access_token=TOKEN,
        audit_delay_seconds=0,
    )
    async with serve(create_app(sim_config)) as sim_url, image_host() as images:
        worker_settings = Settings.model_validate(
            {
                **settings.model_dump(),
                "tiktok_app_key": KEY,
                "tiktok_app_secret": SECRET,
                "tiktok_access_token": TOKEN,
                "tiktok_shop_id": shop,
                "tiktok_api_base_url": sim_url,
                "tiktok_auth_base_url": sim_url,
                "tiktok_category_id": "600001",
                "tiktok_warehouse_map": f"main:{WAREHOUSE}",
                "mongodb_database": f"bench_catalog_{run}",
                "kafka_group_id": f"bench-catalog-{run}",
                "topic_admin_commands": f"bench.{run}.commands",
                "topic_webhooks": f"bench.{run}.webhooks",
                "topic_events": f"bench.{run}.events",
                "topic_dead_letter": f"bench.{run}.dead-letter",
                "topic_platform_catalog": f"bench.{run}.platform-catalog",
                "log_level": "WARNING",
            }
        )
        worker = Worker(worker_settings)
        await worker.start()
        try:
            async with httpx.AsyncClient(base_url=sim_url, timeout=30) as sim:
                products = await _listings(worker, images.url, skus)
                figures = await _burst(worker, sim, products, events)
                baseline = await _baseline(worker, sim, products, baseline_events)
                lone_s = [await _lone(worker, sim, products, n) for n in range(lone)]
                lone_baseline = [await _lone_direct(worker, sim, products, n) for n in range(lone)]
        finally:
            await worker.db.client.drop_database(worker_settings.mongodb_database)
            await worker.stop()
    return CatalogFigures(
        events,
        skus,
        figures[0],
        figures[1],
        baseline_events,
        baseline[0],
        baseline[1],
        lone_s,
        lone_baseline,
    )


async def _listings(worker: Worker, image: Any, skus: int) -> dict[str, str]:
    """`skus` listings on TikTok, stocked in the mapped warehouse: product id -> TikTok's id."""
    products: dict[str, str] = {}
    for n in range(skus):
        product = f"bench-{n}"
        created = await worker.bus.handle(
            c.CreateListing(
                local_product_id=product,
                title=f"Item {n}",
                price=1000 + n,
                image_url=image(f"i{n}"),
            )
        )
        listing_id = created.listing.id  # type: ignore[attr-defined]
        await worker.bus.handle(c.SetStock(id=listing_id, warehouse_id="main", quantity=1))
        pushed = await worker.bus.handle(c.PushListing(id=listing_id))
        external = pushed.listing.external_product_id  # type: ignore[attr-defined]
        assert external, pushed
        products[product] = external
    return products


def _change(product: str, quantity: int, version: int) -> tuple[bytes, bytes]:
    event = InventoryChanged(
        event_id=uuid.uuid4().hex,
        local_product_id=product,
        warehouse_id="main",
        quantity=quantity,
        version=version,
        occurred_at=datetime.now(UTC),
    )
    return product.encode(), event.to_json()


async def _calls(sim: httpx.AsyncClient) -> int:
    counts = (await sim.get("/_sim/requests/counts", params={"path_prefix": "/product/"})).json()
    return sum(n for call, n in counts["counts"].items() if call.endswith(INVENTORY_UPDATE))


async def _quantities(sim: httpx.AsyncClient, externals: list[str]) -> dict[str, int]:
    views = await asyncio.gather(*(sim.get(f"/_sim/products/{p}/stock") for p in externals))
    return {
        p: v.json()["skus"][0]["inventory"][0]["quantity"]
        for p, v in zip(externals, views, strict=True)
    }


async def _burst(
    worker: Worker, sim: httpx.AsyncClient, products: dict[str, str], events: int
) -> tuple[int, float]:
    names = list(products)
    version0 = 1_000_000
    messages = [
        _change(names[n % len(names)], 10 + n % 90_000, version0 + n) for n in range(events)
    ]
    last = {products[names[n % len(names)]]: 10 + n % 90_000 for n in range(events)}
    await sim.delete("/_sim/requests")
    settings = worker.settings
    await publish_many(settings.kafka_bootstrap_servers, settings.topic_platform_catalog, messages)
    published = time.perf_counter()
    await eventually(
        lambda: _quantities(sim, list(last)),
        until=lambda got: got == last,
        timeout=600,
        interval=0.2,
    )
    converged = time.perf_counter() - published
    return await _calls(sim), converged


async def _baseline(
    worker: Worker, sim: httpx.AsyncClient, products: dict[str, str], events: int
) -> tuple[int, float]:
    """One Update Inventory per change, in order, 8 in flight (the pusher's concurrency)."""
    gateway = worker.tiktok
    assert isinstance(gateway, TikTokApiGateway)
    names = list(products)
    shop = worker.settings.default_shop_id
    uow = worker.bus.context().uow
    listings = {name: await uow.listings.get_by_product(shop, name) for name in names}
    await sim.delete("/_sim/requests")
    slots = asyncio.Semaphore(8)

    async def one(n: int) -> None:
        name = names[n % len(names)]
        listing = listings[name]
        assert listing is not None
        changed = listing.model_copy(
            update={"stock": [listing.stock[0].model_copy(update={"quantity": 500 + n})]}
        )
        async with slots:
            await gateway.update_stock(shop, changed)

    start = time.perf_counter()
    await asyncio.gather(*(one(n) for n in range(events)))
    return await _calls(sim), time.perf_counter() - start


async def _lone(worker: Worker, sim: httpx.AsyncClient, products: dict[str, str], n: int) -> float:
    name = list(products)[n % len(products)]
    external = products[name]
    quantity = 70_000 + n
    settings = worker.settings
    start = time.perf_counter()
    await publish_many(
        settings.kafka_bootstrap_servers,
        settings.topic_platform_catalog,
        [_change(name, quantity, 5_000_000 + n)],
    )
    await eventually(
        lambda: _quantities(sim, [external]),
        until=lambda got: got == {external: quantity},
        interval=0.02,
    )
    return time.perf_counter() - start


async def _lone_direct(
    worker: Worker, sim: httpx.AsyncClient, products: dict[str, str], n: int
) -> float:
    gateway = worker.tiktok
    assert isinstance(gateway, TikTokApiGateway)
    name = list(products)[n % len(products)]
    listing = await worker.bus.context().uow.listings.get_by_product(
        worker.settings.default_shop_id, name
    )
    assert listing is not None
    changed = listing.model_copy(
        update={"stock": [listing.stock[0].model_copy(update={"quantity": 80_000 + n})]}
    )
    start = time.perf_counter()
    await gateway.update_stock(worker.settings.default_shop_id, changed)
    return time.perf_counter() - start


async def run(settings: Settings) -> str:
    f = await measure(settings)
    per_call = f.baseline_calls / f.baseline_events
    return (
        f"catalog pushes, {f.events:,} stock changes over {f.skus} SKUs: {f.calls} TikTok calls, "
        f"baseline one per change {round(per_call * f.events):,} "
        f"(measured on {f.baseline_events:,}: {f.baseline_calls:,}); "
        f"calls ratio {f.calls / (per_call * f.events):.4f}x\n"
        f"catalog pushes, last change published to TikTok's copy of every SKU: "
        f"{f.converge_s:.1f} s, baseline {f.baseline_scaled_s:.1f} s (measured "
        f"{f.baseline_s:.1f} s for {f.baseline_events:,}, scaled); time ratio "
        f"{f.converge_s / f.baseline_scaled_s:.3f}x\n"
        f"catalog pushes, a lone change to TikTok's copy on an idle worker: median "
        f"{statistics.median(f.lone_s) * 1000:.0f} ms (of which the quiet wait "
        f"{settings.stock_push_quiet_seconds * 1000:.0f} ms), a direct call "
        f"{statistics.median(f.lone_baseline_s) * 1000:.0f} ms"
    )
