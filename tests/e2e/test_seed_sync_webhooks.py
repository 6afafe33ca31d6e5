"""The seed's sync webhooks (`product.sync`, `order.sync`, `catalog.sync`) sent to the ingress
as the seed's callers send them (signed with the `sign` query parameter), with a worker that
has TikTok credentials (the simulator): each starts the same work as its admin command."""

from collections.abc import AsyncIterator
from typing import Any

import pytest

from service.entrypoints.ingress.app import ingress_app
from tests import senders
from tests.kafka_tools import events_on
from tests.sim_worker import APP_SECRET, SimWorker, sim_worker
from tests.support import events_published, eventually, serve

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def sw(services: dict[str, str]) -> AsyncIterator[SimWorker]:
    async with sim_worker(services) as running:
        yield running


@pytest.fixture(scope="module")
async def ingress(sw: SimWorker) -> AsyncIterator[str]:
    """An ingress publishing to the worker's topic; the seed form names no shop, so its
    webhooks are the default shop's (the worker's TIKTOK_SHOP_ID)."""
    async with serve(ingress_app(sw.settings)) as url:
        yield url


async def send(ingress: str, webhook_type: str) -> str:
    response = await senders.post_seed(ingress, APP_SECRET, {"type": webhook_type, "payload": {}})
    assert response.status_code == 200, response.text
    return str(response.json()["id"])


async def outcome(sw: SimWorker, notification_id: str) -> str:
    async def record() -> Any:
        return await sw.worker.db.collection("webhook_events").find_one({"_id": notification_id})

    return str((await eventually(record))["outcome"])


async def total(sw: SimWorker, path: str, **params: Any) -> int:
    return int((await sw.admin.get(path, params=params)).json()["total"])


async def jobs(sw: SimWorker, kind: str) -> list[tuple[str, int]]:
    found = (await sw.admin.get("/jobs", params={"kind": kind})).json()["jobs"]
    return [(j["status"], j["done"]) for j in found]


async def test_seed_product_sync_pulls_tiktoks_products_into_listings(
    sw: SimWorker, ingress: str
) -> None:
    await sw.sim_post("/_sim/generate", {"shop_id": sw.shop, "products": 12})
    nid = await send(ingress, "product.sync")
    # The webhook starts the pull as a job and does not wait for it.
    assert '"job":' in await outcome(sw, nid)
    assert await eventually(lambda: total(sw, "/listings"), until=lambda n: n == 12) == 12
    # The records are written before the job records its end: wait for that too.
    assert await eventually(
        lambda: jobs(sw, "products.sync"), until=lambda j: j == [("completed", 12)]
    )


async def test_seed_order_sync_pulls_tiktoks_orders(sw: SimWorker, ingress: str) -> None:
    await sw.sim_post("/_sim/generate", {"shop_id": sw.shop, "orders": 7})
    nid = await send(ingress, "order.sync")
    assert '"job":' in await outcome(sw, nid)
    assert await eventually(lambda: total(sw, "/orders"), until=lambda n: n == 7) == 7
    # The records are written before the job records its end: wait for that too.
    assert await eventually(
        lambda: jobs(sw, "orders.sync"), until=lambda j: j == [("completed", 7)]
    )


async def test_seed_catalog_sync_pushes_every_listing(sw: SimWorker, ingress: str) -> None:
    for n in range(3):
        created = await sw.admin.post(
            "/listings/create",
            json={
                "localProductId": f"seed-cat-{n}",
                "title": f"Catalog item {n}",
                "price": 1000 + n,
                "imageUrl": sw.images.url(f"seed-cat-{n}"),
            },
        )
        assert created.status_code == 200, created.text
    listings = await total(sw, "/listings")
    nid = await send(ingress, "catalog.sync")
    assert '"sync":' in await outcome(sw, nid)

    async def last() -> dict[str, Any]:
        sync: dict[str, Any] = (await sw.admin.get("/syncs/last")).json()["sync"]
        return sync

    done = await eventually(last, until=lambda s: s["status"] != "syncing", timeout=60)
    assert (done["status"], done["totalProducts"]) == ("synced", listings)
    assert done["syncedProducts"] + done["failedProducts"] == listings
    assert done["syncedProducts"] >= 3
    pushed = (await sw.admin.get("/listings", params={"syncStatus": "synced", "limit": 100})).json()
    assert {f"seed-cat-{n}" for n in range(3)} <= {x["localProductId"] for x in pushed["listings"]}
    await events_published(sw.worker, ("catalog_syncs", done["id"]))
    announced = await events_on(
        sw.settings,
        lambda e: e["type"] == "tiktok.catalog.synced" and e["sync"]["id"] == done["id"],
    )
    assert len(announced) == 1
