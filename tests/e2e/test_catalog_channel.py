"""The catalog as a sales channel, end to end: the platform's stock and price changes over Kafka
reach TikTok (the simulator, over real HTTP) with TikTok's light calls, coalesced; changes by
hand through the admin API; warehouses, categories and attributes; audits and stock webhooks
pushed by the simulator through the ingress; a restart pushes what was stored."""

import json
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import pytest

from contracts.platform import InventoryChanged, PriceChanged
from service.bootstrap import Worker
from tests.e2e.test_metrics import moved, scrape
from tests.kafka_tools import TopicReader, publish_many
from tests.sim_worker import SimWorker, sim_worker
from tests.support import eventually

pytestmark = pytest.mark.integration

MAIN = "7068517275539719942"  # the shop's default sales warehouse in the simulator
EAST = "7068517275539719950"
SETTINGS = {
    "tiktok_warehouse_map": f"wh-main:{MAIN},wh-east:{EAST}",
    "stock_push_quiet_seconds": 0.2,
    "stock_push_max_delay_seconds": 2.0,
}


@pytest.fixture(scope="module")
async def sw(services: dict[str, str]) -> AsyncIterator[SimWorker]:
    async with sim_worker(services, settings=SETTINGS, webhooks=True) as running:
        await running.sim.put(
            f"/_sim/shops/{running.shop}/catalog",
            json={
                "warehouses": [
                    {"id": MAIN, "name": "Main", "is_default": True},
                    {"id": EAST, "name": "East"},
                    {"id": "7068517275539719943", "type": "RETURN_WAREHOUSE", "is_default": True},
                ]
            },
        )
        yield running


DEAD_LETTERS = "tiktok_shop_dead_letters_total"


def metrics_url(sw: SimWorker) -> str:
    """The worker's admin port, where Prometheus scrapes `/metrics`."""
    return str(sw.admin.base_url).rstrip("/").removesuffix("/admin/tiktok-shop")


async def ok(answer: Any) -> dict[str, Any]:
    assert answer.status_code == 200, answer.text
    body: dict[str, Any] = answer.json()
    return body


async def listing_of(sw: SimWorker, listing_id: str) -> dict[str, Any]:
    listing: dict[str, Any] = (await ok(await sw.admin.get(f"/listings/{listing_id}")))["listing"]
    return listing


async def pushed_listing(sw: SimWorker, **fields: Any) -> dict[str, Any]:
    """A listing stocked in both warehouses, pushed, its audit passed (so it is active)."""
    product = f"p-{uuid.uuid4().hex[:8]}"
    body = {
        "localProductId": product,
        "title": "Ceramic mug",
        "price": 1299,
        "imageUrl": sw.images.url(product),
        **fields,
    }
    listing = (await ok(await sw.admin.post("/listings/create", json=body)))["listing"]
    for warehouse, quantity in (("wh-main", 10), ("wh-east", 3)):
        await ok(
            await sw.admin.post(
                f"/listings/{listing['id']}/stock",
                json={"warehouseId": warehouse, "quantity": quantity},
            )
        )
    pushed = (await ok(await sw.admin.post(f"/listings/{listing['id']}/push")))["listing"]
    assert pushed["syncStatus"] == "synced", pushed["error"]
    assert pushed["auditStatus"] == "pending"
    await sw.sim_post(
        f"/_sim/products/{pushed['externalProductId']}/audit", {"outcome": "APPROVED"}
    )
    # TikTok's verdict arrives as webhook 37 through the ingress.
    return await eventually(
        lambda: listing_of(sw, listing["id"]),
        until=lambda got: got["auditStatus"] == "approved" and got["status"] == "active",
    )


async def tiktok_stock(sw: SimWorker, product_id: str) -> dict[str, int]:
    view = (await sw.sim.get(f"/_sim/products/{product_id}/stock")).json()
    return {i["warehouse_id"]: i["quantity"] for i in view["skus"][0]["inventory"]}


async def counts(sw: SimWorker, product_id: str) -> dict[str, int]:
    answer = await sw.sim.get("/_sim/requests/counts", params={"path_prefix": "/product/"})
    return {k: v for k, v in answer.json()["counts"].items() if product_id in k}


def stock_change(
    product: str, quantity: int, version: int, warehouse: str = "wh-main", **extra: Any
) -> tuple[bytes, bytes]:
    event = InventoryChanged(
        event_id=uuid.uuid4().hex,
        local_product_id=product,
        warehouse_id=warehouse,
        quantity=quantity,
        version=version,
        occurred_at=datetime.now(UTC),
        **extra,
    )
    return product.encode(), event.to_json()


def price_change(
    product: str, amount: int, version: int, currency: str = "USD"
) -> tuple[bytes, bytes]:
    event = PriceChanged(
        event_id=uuid.uuid4().hex,
        local_product_id=product,
        amount=amount,
        currency=currency,
        version=version,
        occurred_at=datetime.now(UTC),
    )
    return product.encode(), event.to_json()


async def publish(sw: SimWorker, messages: list[tuple[bytes, bytes]]) -> None:
    settings = sw.worker.settings
    await publish_many(settings.kafka_bootstrap_servers, settings.topic_platform_catalog, messages)


async def test_platform_stock_and_price_reach_tiktok_with_light_calls_newest_version_winning(
    sw: SimWorker,
) -> None:
    listing = await pushed_listing(sw)
    product, external = listing["localProductId"], listing["externalProductId"]
    assert await tiktok_stock(sw, external) == {MAIN: 10, EAST: 3}

    changes = [stock_change(product, 100 + n, version=n) for n in range(1, 41)]
    changes.append(stock_change(product, 7, version=5))  # stale: an older version comes late
    price = PriceChanged(
        event_id="price-1",
        local_product_id=product,
        amount=1450,
        currency="USD",
        version=3,
        occurred_at=datetime.now(UTC),
    )
    changes.append((product.encode(), price.to_json()))
    await publish(sw, changes)

    async def tiktok_has_it() -> tuple[dict[str, int], str]:
        sku = (await sw.sim.get(f"/_sim/products/{external}/stock")).json()["skus"][0]
        return await tiktok_stock(sw, external), sku["price"]["amount"]

    assert await eventually(tiktok_has_it, until=lambda got: got == ({MAIN: 140, EAST: 3}, "14.50"))
    stored = await eventually(
        lambda: listing_of(sw, listing["id"]),
        until=lambda got: (
            got["stockPushedRevision"] == got["stockRevision"]
            and got["pricePushedRevision"] == got["priceRevision"]
        ),
    )
    assert [(s["warehouseId"], s["quantity"], s["version"]) for s in stored["stock"]] == [
        (MAIN, 140, 40),
        (EAST, 3, None),  # set by hand only: no version of the platform's yet
    ]
    assert (stored["price"], stored["priceVersion"], stored["pushError"]) == (1450, 3, None)
    assert {q["warehouseId"]: q["quantity"] for q in stored["tiktokStock"]} == {MAIN: 140, EAST: 3}
    made = await counts(sw, external)
    assert f"PUT /product/202509/products/{external}" not in made  # no full edit
    assert made[f"POST /product/202309/products/{external}/prices/update"] == 1
    # 40 changes, coalesced: a handful of inventory calls at most.
    assert made[f"POST /product/202309/products/{external}/inventory/update"] <= 5


async def test_the_first_platform_change_applies_even_at_version_zero(sw: SimWorker) -> None:
    # Stocked by hand in both warehouses: no version of the platform's is stored yet.
    listing = await pushed_listing(sw)
    product, external = listing["localProductId"], listing["externalProductId"]
    await publish(
        sw,
        [
            price_change(product, 1450, version=0),
            stock_change(product, 21, version=0),
            price_change(product, 1600, version=0),  # the same version again: stale
        ],
    )

    async def tiktok_has_it() -> tuple[dict[str, int], str]:
        sku = (await sw.sim.get(f"/_sim/products/{external}/stock")).json()["skus"][0]
        return await tiktok_stock(sw, external), sku["price"]["amount"]

    assert await eventually(tiktok_has_it, until=lambda got: got == ({MAIN: 21, EAST: 3}, "14.50"))
    stored = await listing_of(sw, listing["id"])
    assert (stored["price"], stored["priceVersion"]) == (1450, 0)
    assert [(s["warehouseId"], s["quantity"], s["version"]) for s in stored["stock"]] == [
        (MAIN, 21, 0),
        (EAST, 3, None),
    ]


async def test_a_burst_for_many_skus_costs_about_one_call_per_sku(sw: SimWorker) -> None:
    listings = [await pushed_listing(sw) for _ in range(4)]
    burst = [
        stock_change(listings[n % 4]["localProductId"], n, version=n + 1) for n in range(1_000)
    ]
    await publish(sw, burst)
    last = {listings[n % 4]["externalProductId"]: n for n in range(996, 1_000)}

    async def all_there() -> dict[str, int]:
        return {p: (await tiktok_stock(sw, p))[MAIN] for p in last}

    assert await eventually(all_there, until=lambda got: got == last, timeout=60)
    calls = 0
    for external in last:
        made = await counts(sw, external)
        calls += made.get(f"POST /product/202309/products/{external}/inventory/update", 0)
    assert calls <= 40  # against 1,000 with a call per change


async def test_changes_that_can_never_apply_are_set_aside_and_change_nothing(
    sw: SimWorker,
) -> None:
    listing = await pushed_listing(sw)
    product = listing["localProductId"]
    settings = sw.worker.settings
    before = await scrape(metrics_url(sw))
    async with TopicReader(settings.kafka_bootstrap_servers, settings.topic_dead_letter) as dead:
        await publish(
            sw,
            [
                stock_change(product, 50, version=1, warehouse="wh-unknown"),
                stock_change(product, 50, version=2, sku="another-sku"),
                price_change(product, 900, version=1, currency="EUR"),  # TikTok sells in USD
                (product.encode(), b'{"type": "inventory.changed", "quantity": -1}'),
                stock_change("no-listing-for-this", 5, version=1),
                stock_change(product, 9, version=3),  # the one good change, after the bad ones
            ],
        )
        await dead.wait_for(lambda _: True, count=4)
        reasons = [
            dict(r.headers)["x-failure-reason"].decode()
            for r in dead.records
            if r.key == product.encode()
        ]
    assert len(reasons) == 4
    # The unreadable one is set aside as it is read, the others once the batch is applied;
    # those are refused as they are (`rejected: `), as refused webhooks are.
    unreadable, unmapped, other_sku, other_currency = reasons
    assert unreadable.startswith("unreadable: ")
    assert unmapped.startswith("rejected: Platform warehouse 'wh-unknown' is not mapped")
    assert other_sku.startswith("rejected: ")
    assert "not 'another-sku'" in other_sku
    assert other_currency.startswith("rejected: TikTok sells this listing in USD")
    # Counted as refused, not as failures (which mean a bug or an outage).
    topic = {"topic": settings.topic_platform_catalog}
    after = await eventually(
        lambda: scrape(metrics_url(sw)),
        until=lambda now: moved(before, now, DEAD_LETTERS, **topic, reason="rejected") == 3,
    )
    assert moved(before, after, DEAD_LETTERS, **topic, reason="unreadable") == 1
    assert moved(before, after, DEAD_LETTERS, **topic, reason="failed") == 0
    stored = await eventually(
        lambda: listing_of(sw, listing["id"]),
        until=lambda got: got["stock"][0]["quantity"] == 9,
    )
    assert stored["stock"][0]["version"] == 3
    assert await eventually(
        lambda: tiktok_stock(sw, listing["externalProductId"]), until=lambda got: got[MAIN] == 9
    )


async def test_changes_with_integers_too_big_to_store_or_no_currency_are_set_aside_at_once(
    sw: SimWorker,
) -> None:
    listing = await pushed_listing(sw)
    product = listing["localProductId"]
    settings = sw.worker.settings
    now = datetime.now(UTC).isoformat()
    common = {"localProductId": product, "occurredAt": now}
    stock = {**common, "type": "inventory.changed", "warehouseId": "wh-main"}
    price = {**common, "type": "price.changed", "currency": "USD"}
    huge = [
        {**stock, "eventId": "q", "quantity": 2**63, "version": 1},
        {**stock, "eventId": "v", "quantity": 5, "version": 2**63},
        {**price, "eventId": "a", "amount": 10**30, "version": 1},
        {**price, "eventId": "c", "amount": 100, "currency": "ZZZ", "version": 1},
        {**price, "eventId": "x", "amount": 100, "currency": "XXX", "version": 1},
    ]
    async with TopicReader(settings.kafka_bootstrap_servers, settings.topic_dead_letter) as dead:
        await publish(
            sw,
            [(product.encode(), json.dumps(event).encode()) for event in huge]
            + [stock_change(product, 7, version=4)],  # the one good change, after the others
        )
        await dead.wait_for(lambda v: v.get("localProductId") == product, count=len(huge))
        reasons = [
            dict(r.headers)["x-failure-reason"].decode()
            for r in dead.records
            if r.key == product.encode()
        ]
    assert [reason.split(":")[0] for reason in reasons] == ["unreadable"] * len(huge), reasons
    stored = await eventually(
        lambda: listing_of(sw, listing["id"]),
        until=lambda got: got["stock"][0]["quantity"] == 7,
    )
    assert stored["stock"][0]["version"] == 4
    assert (stored["price"], stored["currency"]) == (1299, "USD")


async def test_stock_and_price_by_hand_and_a_price_that_waits_for_the_audit(
    sw: SimWorker,
) -> None:
    product = f"p-{uuid.uuid4().hex[:8]}"
    created = await ok(
        await sw.admin.post(
            "/listings/create",
            json={
                "localProductId": product,
                "title": "Teapot",
                "price": 2000,
                "imageUrl": sw.images.url(product),
            },
        )
    )
    listing_id = created["listing"]["id"]
    refused = await sw.admin.post(
        f"/listings/{listing_id}/stock", json={"warehouseId": "wh-nowhere", "quantity": 4}
    )
    assert refused.status_code == 400
    assert refused.json()["code"] == "validation_failed"
    assert refused.json()["fields"][0]["field"] == "warehouseId"
    assert "TIKTOK_WAREHOUSE_MAP (mapped: wh-east, wh-main)" in refused.json()["error"]
    negative = await sw.admin.post(
        f"/listings/{listing_id}/stock", json={"warehouseId": "wh-main", "quantity": -1}
    )
    assert negative.status_code == 400
    unchanged = await listing_of(sw, listing_id)
    assert (unchanged["stock"], unchanged["stockRevision"]) == ([], 0)

    set_ = await ok(
        await sw.admin.post(
            f"/listings/{listing_id}/stock", json={"warehouseId": "wh-main", "quantity": 6}
        )
    )
    assert set_["listing"]["stock"] == [{"warehouseId": MAIN, "quantity": 6, "version": None}]
    pushed = (await ok(await sw.admin.post(f"/listings/{listing_id}/push")))["listing"]
    external = pushed["externalProductId"]
    assert await tiktok_stock(sw, external) == {MAIN: 6}  # the first push carries the stock

    priced = await ok(await sw.admin.post(f"/listings/{listing_id}/price", json={"price": 2200}))
    assert priced["listing"]["priceRevision"] == 1
    other_currency = await sw.admin.post(
        f"/listings/{listing_id}/price", json={"price": 2200, "currency": "EUR"}
    )
    assert other_currency.status_code == 400
    assert "TikTok sells this listing in USD" in other_currency.json()["error"]
    # Under audit, TikTok takes no price: it waits, and goes once the product is active.
    waiting = await listing_of(sw, listing_id)
    assert waiting["pricePushedRevision"] == 0
    await sw.sim_post(f"/_sim/products/{external}/audit", {"outcome": "APPROVED"})
    done = await eventually(
        lambda: listing_of(sw, listing_id), until=lambda got: got["pricePushedRevision"] == 1
    )
    assert done["status"] == "active"
    sku = (await sw.sim.get(f"/_sim/products/{external}/stock")).json()["skus"][0]
    assert sku["price"]["amount"] == "22.00"

    await ok(
        await sw.admin.post(
            f"/listings/{listing_id}/stock", json={"warehouseId": "wh-main", "quantity": 2}
        )
    )
    assert await eventually(lambda: tiktok_stock(sw, external), until=lambda got: got == {MAIN: 2})


async def test_warehouses_categories_and_attributes_through_the_admin_api(sw: SimWorker) -> None:
    warehouses = (await ok(await sw.admin.get("/warehouses")))["warehouses"]
    assert [(w["id"], w["type"], w["platformWarehouseIds"]) for w in warehouses] == [
        (MAIN, "SALES_WAREHOUSE", ["wh-main"]),
        (EAST, "SALES_WAREHOUSE", ["wh-east"]),
        ("7068517275539719943", "RETURN_WAREHOUSE", []),
    ]
    categories = await ok(await sw.admin.get("/categories", params={"keyword": "cream"}))
    assert categories["categories"] == [
        {
            "id": "700101",
            "parentId": "700100",
            "name": "Face Creams",
            "isLeaf": True,
            "permissionStatuses": ["AVAILABLE"],
        }
    ]
    attributes = await ok(await sw.admin.get("/categories/700101/attributes"))
    skin = next(a for a in attributes["attributes"] if a["id"] == "100392")
    assert (skin["name"], skin["required"], skin["customizable"]) == ("Skin Type", True, False)
    not_leaf = await sw.admin.get("/categories/700100/attributes")
    assert not_leaf.status_code == 502
    assert "12052024" in not_leaf.json()["error"]
    bad = await sw.admin.get("/categories/no%20spaces/attributes")
    assert bad.status_code == 400


async def test_a_listing_without_a_required_attribute_is_refused_before_any_write(
    sw: SimWorker,
) -> None:
    product = f"cream-{uuid.uuid4().hex[:8]}"
    created = await ok(
        await sw.admin.post(
            "/listings/create",
            json={
                "localProductId": product,
                "title": "Night cream",
                "price": 3100,
                "imageUrl": sw.images.url(product),
                "categoryId": "700101",
            },
        )
    )
    listing_id = created["listing"]["id"]
    await sw.sim.delete("/_sim/requests")
    failed = (await ok(await sw.admin.post(f"/listings/{listing_id}/push")))["listing"]
    assert failed["syncStatus"] == "failed"
    assert "requires the product attribute 100392 (Skin Type)" in failed["error"]
    made = (await sw.sim.get("/_sim/requests/counts", params={"path_prefix": "/product/"})).json()
    assert set(made["counts"]) <= {"GET /product/202309/categories/700101/attributes"}
    assert sw.images.fetched[f"/800x800/{product}.png"] == 0

    await ok(
        await sw.admin.post(
            f"/listings/{listing_id}/update",
            json={"attributes": [{"id": "100392", "values": [{"id": "1003921"}]}]},
        )
    )
    pushed = (await ok(await sw.admin.post(f"/listings/{listing_id}/push")))["listing"]
    assert pushed["syncStatus"] == "synced", pushed["error"]
    detail = (await sw.sim.get(f"/_sim/products/{pushed['externalProductId']}")).json()["product"]
    assert [a["id"] for a in detail["product_attributes"]] == ["100392"]


async def test_a_failed_audit_shows_its_reasons_on_the_listing(sw: SimWorker) -> None:
    listing = await pushed_listing(sw)
    await ok(await sw.admin.post(f"/listings/{listing['id']}/update", json={"title": "Mug, new"}))
    again = (await ok(await sw.admin.post(f"/listings/{listing['id']}/push")))["listing"]
    assert again["auditStatus"] == "pending"
    reasons = [{"position": "Title", "reasons": ["Misleading"], "suggestions": ["Say what it is"]}]
    await sw.sim_post(
        f"/_sim/products/{listing['externalProductId']}/audit",
        {"outcome": "FAILED", "reasons": reasons},
    )
    failed = await eventually(
        lambda: listing_of(sw, listing["id"]), until=lambda got: got["auditStatus"] == "failed"
    )
    assert failed["auditReasons"] == [
        {"position": "Title", "reasons": ["Misleading"], "suggestions": ["Say what it is"]}
    ]
    assert failed["status"] == "rejected"


async def test_tiktok_s_stock_webhooks_update_our_copy(sw: SimWorker) -> None:
    listing = await pushed_listing(sw)
    external = listing["externalProductId"]
    sku = listing["externalSkuId"]
    await sw.sim_post(f"/_sim/products/{external}/stock", {"sku_id": sku, "quantity": 0})
    await sw.sim_post(
        f"/_sim/products/{external}/stock", {"sku_id": sku, "warehouse_id": EAST, "quantity": 0}
    )
    out = await eventually(
        lambda: listing_of(sw, listing["id"]),
        until=lambda got: got["inventoryStatus"] == "OUT_OF_STOCK",
    )
    assert out["tiktokStockTotal"] == 0
    await sw.sim_post(f"/_sim/products/{external}/inventory_changed", {"delta": 4})
    changed = await eventually(
        lambda: listing_of(sw, listing["id"]), until=lambda got: got["tiktokStockTotal"] == 4
    )
    assert changed["stock"][0]["quantity"] == 10  # the platform's wish is ours, not TikTok's
    await sw.sim_post(
        f"/_sim/products/{external}/skus/{sku}/status",
        {"status": "DEACTIVATED", "deactivation_source": "PLATFORM"},
    )
    await eventually(
        lambda: listing_of(sw, listing["id"]),
        until=lambda got: got["skuStatus"] == "DEACTIVATED (PLATFORM)",
    )


async def test_a_change_stored_but_not_pushed_is_pushed_by_the_next_start(
    services: dict[str, str],
) -> None:
    slow = {**SETTINGS, "stock_push_quiet_seconds": 600.0, "stock_push_max_delay_seconds": 600.0}
    async with sim_worker(services, settings=slow) as sw:
        listing = await pushed_listing_without_webhooks(sw)
        external = listing["externalProductId"]
        await publish(sw, [stock_change(listing["localProductId"], 77, version=1)])
        stored = await eventually(
            lambda: listing_of(sw, listing["id"]),
            until=lambda got: got["stock"][0]["quantity"] == 77,
        )
        assert stored["stockPushedRevision"] < stored["stockRevision"]
        assert (await tiktok_stock(sw, external))[MAIN] == 10
        # The worker stops before its push was due: the change is acknowledged and stored.
        await sw.worker.bus.pusher.close()
        settings = sw.worker.settings.model_copy(
            update={
                "stock_push_quiet_seconds": 0.1,
                "kafka_group_id": f"{sw.worker.settings.kafka_group_id}-2",
            }
        )
        restarted = Worker(settings)
        await restarted.start()
        try:
            assert await eventually(
                lambda: tiktok_stock(sw, external), until=lambda got: got[MAIN] == 77
            )
        finally:
            await restarted.stop()
        done = await listing_of(sw, listing["id"])
        assert done["stockPushedRevision"] == done["stockRevision"]


async def pushed_listing_without_webhooks(sw: SimWorker) -> dict[str, Any]:
    product = f"p-{uuid.uuid4().hex[:8]}"
    body = {
        "localProductId": product,
        "title": "Jug",
        "price": 900,
        "imageUrl": sw.images.url(product),
    }
    listing = (await ok(await sw.admin.post("/listings/create", json=body)))["listing"]
    await ok(
        await sw.admin.post(
            f"/listings/{listing['id']}/stock", json={"warehouseId": "wh-main", "quantity": 10}
        )
    )
    pushed = (await ok(await sw.admin.post(f"/listings/{listing['id']}/push")))["listing"]
    assert pushed["syncStatus"] == "synced", pushed["error"]
    return pushed


async def test_a_change_with_a_number_too_big_to_store_is_set_aside_and_stops_nothing(
    sw: SimWorker,
) -> None:
    listing = await pushed_listing(sw)
    product = listing["localProductId"]
    huge = json.loads(stock_change(product, 5, version=1)[1])
    huge["version"] = 2**70  # MongoDB stores 64-bit integers at most
    settings = sw.worker.settings
    async with TopicReader(settings.kafka_bootstrap_servers, settings.topic_dead_letter) as dead:
        await publish(
            sw, [(product.encode(), json.dumps(huge).encode()), stock_change(product, 7, 2)]
        )
        records = await eventually(
            dead.poll, until=lambda got: any(r.key == product.encode() for r in got)
        )
    reason = next(dict(r.headers)["x-failure-reason"] for r in records if r.key == product.encode())
    assert reason.decode().startswith("unreadable")
    stored = await eventually(
        lambda: listing_of(sw, listing["id"]),
        until=lambda got: got["stock"][0]["quantity"] == 7,
    )
    assert stored["stock"][0]["version"] == 2
