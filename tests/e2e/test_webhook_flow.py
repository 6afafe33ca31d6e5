"""The whole path: signed webhook over HTTP -> ingress -> Kafka -> worker -> database and events."""

import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from service.bootstrap import Worker
from service.settings import Settings
from tests.ingress import post_seed, post_tiktok, serve_ingress
from tests.kafka_tools import TopicReader
from tests.support import eventually, fresh

pytestmark = pytest.mark.integration


@pytest.fixture(scope="module")
async def ingress_url(services: dict[str, str], settings: Settings) -> AsyncIterator[str]:
    """An ingress publishing to the topic the session's worker consumes."""
    async with serve_ingress(services, settings.topic_webhooks) as url:
        yield url


def order_event(
    shop: str, order_id: str, status: str, when: int, nid: str | None = None
) -> dict[str, Any]:
    return {
        "type": 1,
        "tts_notification_id": nid or uuid.uuid4().hex,
        "shop_id": shop,
        "timestamp": when,
        "data": {
            "order_id": order_id,
            "order_status": status,
            "update_time": when,
            "is_on_hold_order": False,
        },
    }


async def test_a_signed_webhook_delivered_five_times_is_one_order_one_event_one_record(
    ingress_url: str, worker: Worker, settings: Settings, shop: str
) -> None:
    body = order_event(shop, "5001", "AWAITING_SHIPMENT", 1_700_000_000, nid="nid-" + shop)
    async with TopicReader(settings.kafka_bootstrap_servers, settings.topic_events) as events:
        for _ in range(5):
            response = await post_tiktok(ingress_url, body)
            assert response.status_code == 200, response.text
            assert response.json() == {"received": True, "id": "nid-" + shop}

        async def record() -> Any:
            return await worker.db.collection("webhook_events").find_one({"_id": "nid-" + shop})

        await eventually(record, until=lambda d: bool(d and d.get("processed_at")))
        order = await fresh(worker).orders.get_by_external(shop, "5001")
        assert order is not None
        assert order.status == "confirmed"
        await events.wait_for(
            lambda e: e["type"] == "tiktok.order.received" and e["shopId"] == shop
        )
        await events.wait_for(lambda e: e.get("notificationId") == "nid-" + shop)
        # All five deliveries were consumed before the outcome above; one more marker makes sure
        # no late duplicate event is still on its way before counting.
        marker = order_event(shop, "marker", "UNPAID", 1, nid="marker-" + shop)
        assert (await post_tiktok(ingress_url, marker)).status_code == 200
        await events.wait_for(lambda e: e.get("notificationId") == "marker-" + shop)
        received = events.json(
            lambda e: (
                e["type"] == "tiktok.order.received" and e["order"]["externalOrderId"] == "5001"
            )
        )
        hooks = events.json(lambda e: e.get("notificationId") == "nid-" + shop)
    assert (len(received), len(hooks)) == (1, 1)
    db = worker.db
    assert (
        await db.collection("orders").count_documents(
            {"shop_id": shop, "external_order_id": "5001"}
        )
        == 1
    )
    assert await db.collection("webhook_events").count_documents({"_id": "nid-" + shop}) == 1


async def test_shuffled_status_changes_end_in_the_newest(
    ingress_url: str, worker: Worker, shop: str
) -> None:
    statuses = [
        "UNPAID",
        "ON_HOLD",
        "AWAITING_SHIPMENT",
        "AWAITING_COLLECTION",
        "IN_TRANSIT",
        "DELIVERED",
    ]
    bodies = [order_event(shop, "6001", s, 1_700_000_000 + 60 * n) for n, s in enumerate(statuses)]
    random.Random(11).shuffle(bodies)
    for body in bodies:
        assert (await post_tiktok(ingress_url, body)).status_code == 200

    async def status() -> str | None:
        order = await fresh(worker).orders.get_by_external(shop, "6001")
        return None if order is None else order.external_status

    assert await eventually(status, until=lambda s: s == "DELIVERED") == "DELIVERED"
    for body in bodies:  # every delivery was applied or knowingly ignored, none lost
        doc = await eventually(
            lambda b=body: worker.db.collection("webhook_events").find_one(
                {"_id": b["tts_notification_id"], "processed_at": {"$ne": None}}
            )
        )
        assert doc is not None
    order = await fresh(worker).orders.get_by_external(shop, "6001")
    assert order is not None
    assert order.status == "delivered"


async def test_seed_order_created_twice_is_one_order(
    ingress_url: str, worker: Worker, settings: Settings
) -> None:
    external = f"seed-{uuid.uuid4().hex[:8]}"
    body = {
        "type": "order.created",
        "payload": {
            "externalOrderId": external,
            "status": "pending",
            "total": 12.5,
            "customerName": "Zoë",
        },
    }
    first = await post_seed(ingress_url, body)
    second = await post_seed(ingress_url, body)
    assert first.status_code == second.status_code == 200
    assert first.json()["id"] == second.json()["id"]
    shop = settings.default_shop_id

    async def stored() -> Any:
        return await fresh(worker).orders.get_by_external(shop, external)

    order = await eventually(stored)
    assert (order.total, order.customer_name) == (1250, "Zoë")
    await eventually(
        lambda: worker.db.collection("webhook_events").find_one(
            {"_id": first.json()["id"], "processed_at": {"$ne": None}}
        )
    )
    assert (
        await worker.db.collection("orders").count_documents({"external_order_id": external}) == 1
    )
