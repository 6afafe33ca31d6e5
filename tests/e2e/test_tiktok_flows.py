"""The admin operations that call TikTok, through the worker's HTTP API, against the simulator
over real HTTP, on the real database and broker."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.kafka_tools import TopicReader
from tests.sim_worker import SimWorker, sim_worker
from tests.support import eventually, fresh

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def sw(services: dict[str, str]) -> AsyncIterator[SimWorker]:
    async with sim_worker(services) as running:
        yield running


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


async def test_a_product_tiktok_refuses_is_failed_with_its_reason(sw: SimWorker) -> None:
    listing = await create(sw, title="Forbidden thing", price=100, imageUrl=sw.images.url("a"))
    await sw.sim_post("/_sim/faults", {"reject_titles_containing": "Forbidden"})
    try:
        failed = (await sw.admin.post(f"/listings/{listing['id']}/push")).json()["listing"]
    finally:
        await sw.sim.delete("/_sim/faults")
    assert failed["syncStatus"] == "failed"
    assert failed["error"]


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
    assert settings == {
        "status": "connected",
        "error": None,
        "configured": True,
        "shopId": sw.shop,
        "sandbox": True,
        "appKey": "flow-app...",
    }


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


async def test_a_completed_return_refunds_the_order_even_when_tiktok_says_delivered(
    sw: SimWorker,
) -> None:
    from tests.kafka_tools import publish_raw, tiktok_webhook

    seeded = await sw.sim_post(
        "/_sim/seed",
        {
            "orders": [
                {"shop_id": sw.shop, "status": "DELIVERED", "items": [{"sale_price": "9.00"}]}
            ]
        },
    )
    first = seeded["orders"][0]
    external = first if isinstance(first, str) else first["id"]
    message = tiktok_webhook(
        12,
        sw.shop,
        {
            "order_id": external,
            "return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE",
            "update_time": 2,
        },
    )
    settings = sw.worker.settings
    await publish_raw(settings, settings.topic_webhooks, message.to_json(), key=external.encode())

    async def refunded() -> Any:
        order = await fresh(sw.worker).orders.get_by_external(sw.shop, external)
        return order if order is not None and order.status == "refunded" else None

    order = await eventually(refunded)
    assert order.return_status == "RETURN_OR_REFUND_REQUEST_COMPLETE"
    assert order.total > 0  # the details came from the API


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
    assert authorized.json() == {"shopIds": [other]}
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
