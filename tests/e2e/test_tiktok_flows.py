"""The admin operations that call TikTok, through the worker's HTTP API and over Kafka, and
TikTok's webhooks pushed by the simulator to the ingress, against the simulator over real
HTTP, on the real database and broker."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from contracts import commands as c
from contracts import replies as r
from contracts.client import AdminClient, CommandError
from service.entrypoints.ingress.app import ingress_app
from service.entrypoints.ingress.webhook import PATH
from tests.kafka_tools import TopicReader, events_on
from tests.sim_worker import SimWorker, sim_worker
from tests.support import events_published, eventually, fresh, serve

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def sw(services: dict[str, str]) -> AsyncIterator[SimWorker]:
    async with sim_worker(services) as running:
        yield running


@pytest.fixture(scope="module")
async def ingress(sw: SimWorker) -> AsyncIterator[str]:
    """The webhook address of an ingress publishing to the worker's topic (the app's key and
    secret are the simulator's, so TikTok's pushes verify)."""
    async with serve(ingress_app(sw.settings)) as url:
        yield url + PATH


@pytest.fixture
async def kafka_admin(sw: SimWorker) -> AsyncIterator[AdminClient]:
    async with AdminClient(
        sw.settings.kafka_bootstrap_servers,
        command_topic=sw.settings.topic_admin_commands,
        timeout=30,
    ) as client:
        yield client


async def push(sw: SimWorker, ingress: str, webhook_type: int, data: dict[str, Any]) -> str:
    """TikTok (the simulator) signs and pushes a notification to the ingress; answers its id."""
    answer = await sw.sim_post(
        "/_sim/webhooks", {"type": webhook_type, "shop_id": sw.shop, "data": data, "url": ingress}
    )
    assert answer["delivered"], answer
    return str(answer["notification"]["tts_notification_id"])


async def handled(sw: SimWorker, notification_id: str) -> str:
    """The outcome the worker recorded for the notification, once it has handled it."""

    async def record() -> Any:
        return await sw.worker.db.collection("webhook_events").find_one({"_id": notification_id})

    done = await eventually(record)
    return str(done["outcome"])


async def details_calls(sw: SimWorker) -> int:
    """How often TikTok answered a call for order details of the shop (the log leaves out
    the query that names the orders; the tests here run one at a time)."""
    log = await sw.sim.get("/_sim/requests", params={"path_prefix": "/order/202507/orders"})
    return sum(1 for e in log.json()["requests"] if e["shop_id"] == sw.shop and e["status"] == 200)


async def create(sw: SimWorker, **fields: Any) -> dict[str, Any]:
    body = {"localProductId": f"sku-{uuid.uuid4().hex[:8]}", "title": "Ceramic mug", **fields}
    answer = await sw.admin.post("/listings/create", json=body)
    assert answer.status_code == 200, answer.text
    listing: dict[str, Any] = answer.json()["listing"]
    return listing


async def test_push_creates_then_edits_the_product_and_emits_events(sw: SimWorker) -> None:
    listing = await create(sw, price=1299, imageUrl=sw.images.url("mug"))
    async with TopicReader(
        sw.worker.settings.kafka_bootstrap_servers, sw.worker.settings.topic_events
    ) as events:
        pushed = (await sw.admin.post(f"/listings/{listing['id']}/push")).json()["listing"]
        assert (pushed["syncStatus"], pushed["status"], pushed["error"]) == (
            "synced",
            "pending",
            None,
        )
        assert pushed["externalProductId"]
        assert pushed["lastSyncedAt"]
        product = (await sw.sim.get(f"/_sim/products/{pushed['externalProductId']}")).json()
        assert product["product"]["title"] == "Ceramic mug"

        await sw.admin.post(
            f"/listings/{listing['id']}/update", json={"title": "Big mug", "price": 1499}
        )
        again = (await sw.admin.post(f"/listings/{listing['id']}/push")).json()["listing"]
        assert again["externalProductId"] == pushed["externalProductId"]  # edited, not recreated
        product = (await sw.sim.get(f"/_sim/products/{pushed['externalProductId']}")).json()
        assert product["product"]["title"] == "Big mug"
        synced = await events.wait_for(
            lambda e: e["type"] == "tiktok.product.synced" and e["listing"]["id"] == listing["id"],
            count=2,
        )
    assert len(synced) == 2


async def test_push_without_an_image_fails_clearly_without_calling_tiktok(sw: SimWorker) -> None:
    listing = await create(sw, price=500)
    await sw.sim.delete("/_sim/requests")
    failed = (await sw.admin.post(f"/listings/{listing['id']}/push")).json()["listing"]
    assert failed["syncStatus"] == "failed"
    assert "image" in failed["error"]
    calls = (await sw.sim.get("/_sim/requests", params={"path_prefix": "/product"})).json()
    assert calls["requests"] == []
    await product_failed_once(sw, listing["id"], failed["error"])


async def product_failed_once(sw: SimWorker, listing_id: str, error: str) -> None:
    """One `tiktok.product.failed` event for the listing, carrying the listing's error."""
    await events_published(sw.worker, ("listings", listing_id))
    events = await events_on(
        sw.settings,
        lambda e: e["type"].startswith("tiktok.product.") and e["listing"]["id"] == listing_id,
    )
    assert [(e["type"], e["error"], e["listing"]["syncStatus"]) for e in events] == [
        ("tiktok.product.failed", error, "failed")
    ]


async def test_a_product_tiktok_refuses_is_failed_with_its_reason(sw: SimWorker) -> None:
    listing = await create(sw, title="Forbidden thing", price=100, imageUrl=sw.images.url("a"))
    await sw.sim_post("/_sim/faults", {"reject_titles_containing": "Forbidden"})
    try:
        failed = (await sw.admin.post(f"/listings/{listing['id']}/push")).json()["listing"]
    finally:
        await sw.sim.delete("/_sim/faults")
    assert failed["syncStatus"] == "failed"
    assert failed["error"]
    await product_failed_once(sw, listing["id"], failed["error"])


async def test_deleting_a_pushed_listing_deletes_the_product_and_reports_failures(
    sw: SimWorker,
) -> None:
    listing = await create(sw, price=100, imageUrl=sw.images.url("a"))
    pushed = (await sw.admin.post(f"/listings/{listing['id']}/push")).json()["listing"]
    external = pushed["externalProductId"]

    await sw.sim_post("/_sim/faults", {"fail_next": 10})
    try:
        refused = await sw.admin.post(f"/listings/{listing['id']}/delete")
    finally:
        await sw.sim.delete("/_sim/faults")
    assert refused.status_code == 502
    assert "TikTok did not delete" in refused.json()["error"]
    assert (await sw.admin.get(f"/listings/{listing['id']}")).status_code == 200  # kept

    deleted = await sw.admin.post(f"/listings/{listing['id']}/delete")
    assert deleted.json() == {"deleted": True}
    gone = await sw.sim.get(f"/_sim/products/{external}")
    assert gone.status_code == 404 or gone.json()["product"]["status"] == "DELETED"


async def test_products_and_orders_sync_page_through_tiktok_without_duplicates(
    sw: SimWorker,
) -> None:
    await sw.sim_post("/_sim/generate", {"shop_id": sw.shop, "products": 230, "orders": 130})
    first = (await sw.admin.post("/products/sync")).json()
    second = (await sw.admin.post("/products/sync")).json()
    assert first["synced"] == second["synced"] >= 230
    db = sw.worker.db
    externals = await db.collection("listings").distinct(
        "external_product_id", {"shop_id": sw.shop}
    )
    linked = await db.collection("listings").count_documents(
        {"shop_id": sw.shop, "external_product_id": {"$ne": None}}
    )
    assert linked == len([e for e in externals if e])

    orders_first = (await sw.admin.post("/orders/sync")).json()
    orders_second = (await sw.admin.post("/orders/sync")).json()
    assert orders_first["synced"] == orders_second["synced"] >= 130
    count = await db.collection("orders").count_documents({"shop_id": sw.shop})
    assert count == orders_first["synced"]
    some = (await sw.admin.get("/orders", params={"limit": 1})).json()["orders"][0]
    assert some["total"] > 0
    assert some["currency"] == "USD"
    assert some["items"]


async def test_shipping_marks_the_package_on_tiktok_first(sw: SimWorker) -> None:
    seeded = await sw.sim_post(
        "/_sim/seed",
        {
            "orders": [
                {
                    "shop_id": sw.shop,
                    "status": "AWAITING_SHIPMENT",
                    "items": [{"sale_price": "12.50"}],
                }
            ]
        },
    )
    external = (
        seeded["orders"][0] if isinstance(seeded["orders"][0], str) else seeded["orders"][0]["id"]
    )
    await sw.admin.post("/orders/sync")
    order = await fresh(sw.worker).orders.get_by_external(sw.shop, external)
    assert order is not None
    assert order.status == "confirmed"

    await sw.sim_post("/_sim/faults", {"fail_next": 10})
    try:
        refused = await sw.admin.post(
            f"/orders/{order.id}/status", json={"status": "shipped", "trackingNumber": "1Z1"}
        )
    finally:
        await sw.sim.delete("/_sim/faults")
    assert refused.status_code == 502
    assert "did not mark the order shipped" in refused.json()["error"]
    unchanged = await fresh(sw.worker).orders.get(sw.shop, order.id)
    assert unchanged is not None
    assert unchanged.status == "confirmed"

    shipped = await sw.admin.post(
        f"/orders/{order.id}/status", json={"status": "shipped", "trackingNumber": "1Z1"}
    )
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["order"]["status"] == "shipped"
    on_tiktok = (await sw.sim.get(f"/_sim/orders/{external}")).json()
    assert "1Z1" in str(on_tiktok)


async def test_settings_check_the_connection(sw: SimWorker) -> None:
    settings = (await sw.admin.get("/settings")).json()
    webhooks = settings.pop("webhooks")
    assert settings == {
        "status": "connected",
        "error": None,
        "needsReauthorization": False,
        "configured": True,
        "shopId": sw.shop,
        "sandbox": True,
        "appKey": "flow-app...",
    }
    # No PUBLIC_WEBHOOK_URL here: every needed type is reported missing, and why.
    assert webhooks["address"] is None
    assert "ORDER_STATUS_CHANGE" in webhooks["missing"]
    assert "PUBLIC_WEBHOOK_URL" in webhooks["error"]


async def test_an_order_webhook_fetches_the_details_from_the_api(sw: SimWorker) -> None:
    from tests.kafka_tools import publish_raw, tiktok_webhook

    seeded = await sw.sim_post(
        "/_sim/seed",
        {
            "orders": [
                {
                    "shop_id": sw.shop,
                    "status": "AWAITING_SHIPMENT",
                    "items": [{"sale_price": "7.25"}],
                }
            ]
        },
    )
    external = (
        seeded["orders"][0] if isinstance(seeded["orders"][0], str) else seeded["orders"][0]["id"]
    )
    message = tiktok_webhook(
        1, sw.shop, {"order_id": external, "order_status": "AWAITING_SHIPMENT", "update_time": 1}
    )
    settings = sw.worker.settings
    await publish_raw(settings, settings.topic_webhooks, message.to_json(), key=external.encode())

    async def stored() -> Any:
        return await fresh(sw.worker).orders.get_by_external(sw.shop, external)

    order = await eventually(stored)
    assert order.needs_refresh is False
    assert order.total > 0
    assert order.items


async def test_a_seller_authorizes_a_second_shop_and_it_is_called_with_its_own_tokens(
    sw: SimWorker,
) -> None:
    from tests.kafka_tools import publish_raw, tiktok_webhook

    other = f"other-{uuid.uuid4().hex[:6]}"
    await sw.sim_post("/_sim/seed", {"shops": [{"id": other, "name": "Second shop"}]})
    await sw.sim_post("/_sim/generate", {"shop_id": other, "products": 3})
    code = (await sw.sim_post("/_sim/auth_codes", {"shop_ids": [other]}))["auth_code"]

    refused = await sw.admin.post("/shops/authorize", json={"authCode": "not-a-code"})
    assert refused.status_code == 502
    authorized = await sw.admin.post("/shops/authorize", json={"authCode": code})
    assert authorized.status_code == 200, authorized.text
    # No PUBLIC_WEBHOOK_URL here, so no webhooks were registered.
    assert authorized.json() == {"shopIds": [other], "webhooks": []}
    stored = await sw.worker.db.collection("shops").find_one({"_id": other})
    assert stored is not None
    assert stored["access_token"]  # kept per shop in the database

    synced = await sw.admin.post("/products/sync", json={"shopId": other})
    assert synced.json()["synced"] == 3
    assert synced.json()["job"]["status"] == "completed"

    # The seller revokes the app: the shop is no longer called...
    revoked = tiktok_webhook(6, other, {"message": "deauthorized"})
    settings = sw.worker.settings
    await publish_raw(settings, settings.topic_webhooks, revoked.to_json(), key=other.encode())

    async def sync_count() -> Any:
        return (await sw.admin.post("/products/sync", json={"shopId": other})).json()

    blocked = await eventually(sync_count, until=lambda r: r["synced"] == 0 and r["job"] is None)
    assert blocked == {"synced": 0, "failed": 0, "job": None}
    status = (await sw.admin.get("/settings", params={"shopId": other})).json()
    assert status["status"] == "error"
    assert "re-authorizes" in status["error"]

    # ...until the seller authorizes it again.
    again = (await sw.sim_post("/_sim/auth_codes", {"shop_ids": [other]}))["auth_code"]
    assert (await sw.admin.post("/shops/authorize", json={"authCode": again})).status_code == 200
    assert (await sync_count())["synced"] == 3


async def test_package_and_address_updates_fetch_the_order_again(
    sw: SimWorker, ingress: str
) -> None:
    """Types 4 (PACKAGE_UPDATE) and 3 (RECIPIENT_ADDRESS_UPDATE) carry no order details: the
    worker asks TikTok for the order again and stores what TikTok says now."""
    external = await sw.seed_order("AWAITING_SHIPMENT", "4.50")
    # TikTok reports the order (type 1) to the ingress: the order is created from its details.
    told = await sw.sim_post(
        f"/_sim/orders/{external}/status", {"status": "AWAITING_SHIPMENT", "webhook_url": ingress}
    )
    [delivery] = told["webhooks"]
    assert delivery["delivered"], delivery
    created = await handled(sw, delivery["notification"]["tts_notification_id"])
    assert created.endswith("created")

    # TikTok's copy moves on without a status webhook reaching us; a package update follows.
    await sw.sim_post(f"/_sim/orders/{external}/status", {"status": "IN_TRANSIT"})
    before = await details_calls(sw)
    package = await push(
        sw,
        ingress,
        4,
        {
            "order_id": external,
            "package_list": [{"package_id": f"pk-{external}", "order_id_list": [external]}],
            "update_time": 1,
        },
    )
    assert await handled(sw, package) == "refreshed 1 of 1 orders"
    assert await details_calls(sw) == before + 1
    order = await fresh(sw.worker).orders.get_by_external(sw.shop, external)
    assert order is not None
    assert (order.status, order.external_status) == ("shipped", "IN_TRANSIT")

    await sw.sim_post(f"/_sim/orders/{external}/status", {"status": "DELIVERED"})
    address = await push(sw, ingress, 3, {"order_id": external, "update_time": 2})
    assert await handled(sw, address) == "refreshed 1 of 1 orders"
    assert await details_calls(sw) == before + 2
    order = await fresh(sw.worker).orders.get_by_external(sw.shop, external)
    assert order is not None
    assert (order.status, order.external_status) == ("delivered", "DELIVERED")


async def test_shops_authorize_over_kafka_then_a_refreshed_token_is_stored(
    sw: SimWorker, kafka_admin: AdminClient
) -> None:
    other = f"kafka-{uuid.uuid4().hex[:6]}"
    await sw.sim_post("/_sim/seed", {"shops": [{"id": other, "name": "Shop over Kafka"}]})
    await sw.sim_post("/_sim/generate", {"shop_id": other, "products": 2})

    with pytest.raises(CommandError) as refused:
        await kafka_admin.ask(c.AuthorizeShops(auth_code="not-a-code"), r.AuthorizedReply)
    assert refused.value.code == "tiktok_error"
    code = (await sw.sim_post("/_sim/auth_codes", {"shop_ids": [other]}))["auth_code"]
    authorized = await kafka_admin.ask(c.AuthorizeShops(auth_code=code), r.AuthorizedReply)
    assert authorized.shop_ids == [other]

    shops = sw.worker.db.collection("shops")
    first = await shops.find_one({"_id": other})
    assert first is not None
    # TikTok expires the access token early: the next call is refused with 105002, the worker
    # refreshes with the refresh token, stores the new pair, and the call goes through.
    await sw.sim_post("/_sim/tokens/expire", {"access_token": first["access_token"]})
    await sw.sim.delete("/_sim/requests")
    synced = await kafka_admin.ask(c.SyncProducts(shop_id=other), r.SyncedReply)
    assert synced.synced == 2
    after = await shops.find_one({"_id": other})
    assert after is not None
    assert after["access_token"] != first["access_token"]
    assert after["access_token_expires_at"] >= first["access_token_expires_at"]
    assert after["token_status"] == "active"
    refreshes = await sw.sim.get("/_sim/requests", params={"path_prefix": "/api/v2/token/refresh"})
    assert [e["status"] for e in refreshes.json()["requests"]] == [200]
    # The stored token is the one TikTok now accepts: another call needs no refresh.
    await sw.sim.delete("/_sim/requests")
    again = await kafka_admin.ask(c.SyncProducts(shop_id=other), r.SyncedReply)
    assert again.synced == 2
    refreshes = await sw.sim.get("/_sim/requests", params={"path_prefix": "/api/v2/token/refresh"})
    assert refreshes.json()["requests"] == []


async def test_a_simulator_restart_gives_the_shop_a_new_cipher_and_calls_go_on(
    services: dict[str, str],
) -> None:
    async with sim_worker(services) as fresh_sw:
        before = await fresh_sw.admin.get("/warehouses")
        assert before.status_code == 200, before.text
        shops = fresh_sw.worker.db.collection("shops")
        stored = await shops.find_one({"_id": fresh_sw.shop})
        assert stored is not None
        old_cipher = stored["cipher"]

        # As a second `make run` does: the simulator starts over and gives the demo shop a
        # new cipher; the database keeps the old one.
        assert (await fresh_sw.sim.post("/_sim/reset")).status_code == 200

        after = await fresh_sw.admin.get("/warehouses")
        assert after.status_code == 200, after.text
        assert any(w["isDefault"] for w in after.json()["warehouses"])
        settings = (await fresh_sw.admin.get("/settings")).json()
        assert (settings["status"], settings["error"]) == ("connected", None)
        renewed = await shops.find_one({"_id": fresh_sw.shop})
        assert renewed is not None
        assert renewed["cipher"] != old_cipher
        # The simulator's log: refused once with TikTok's 106014, then never again.
        log = (await fresh_sw.sim.get("/_sim/requests")).json()["requests"]
        assert [e["code"] for e in log if e["code"] == 106014] == [106014]
