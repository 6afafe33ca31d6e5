"""The webhook consumer on the real broker and database: idempotent, order-independent, and
never stopped by a message it cannot use."""

import json
import random
from typing import Any

import pytest
from aiokafka.structs import RecordMetadata

from contracts.webhooks import WebhookMessage
from service.bootstrap import Worker
from service.settings import Settings
from tests.conftest import Outcomes
from tests.kafka_tools import TopicReader, events_on, publish_raw, tiktok_webhook
from tests.support import events_published, eventually, fresh

pytestmark = pytest.mark.integration


async def send(settings: Settings, message: WebhookMessage, key: str) -> RecordMetadata:
    return await publish_raw(settings, settings.topic_webhooks, message.to_json(), key=key.encode())


async def processed(worker: Worker, notification_id: str) -> bool:
    doc = await worker.db.collection("webhook_events").find_one({"_id": notification_id})
    return bool(doc and doc.get("processed_at"))


async def test_an_order_webhook_delivered_five_times_is_applied_once_with_one_of_each_event(
    worker: Worker, settings: Settings, shop: str, outcomes: Outcomes
) -> None:
    message = tiktok_webhook(
        1, shop, {"order_id": "576", "order_status": "AWAITING_SHIPMENT", "update_time": 1700000000}
    )
    for _ in range(5):
        await send(settings, message, key=f"{shop}:576")

    async def answered() -> list[str]:
        return outcomes.of(message.notification_id)

    # The bus's verdict on each delivery: applied once, recognised four times.
    verdicts = await eventually(answered, until=lambda got: len(got) == 5)
    assert sorted(verdicts) == ["applied", "duplicate", "duplicate", "duplicate", "duplicate"]
    order = await fresh(worker).orders.get_by_external(shop, "576")
    assert order is not None
    assert (order.status, order.external_status, order.needs_refresh) == (
        "confirmed",
        "AWAITING_SHIPMENT",
        True,
    )
    # What the deliveries wrote is published; the topic read to its end holds all of it.
    await events_published(
        worker, ("orders", order.id), ("webhook_events", message.notification_id)
    )
    events = await events_on(settings, lambda e: e["shopId"] == shop)
    assert sorted(e["type"] for e in events) == ["tiktok.order.received", "tiktok.webhook.received"]
    [received] = [e for e in events if e["type"] == "tiktok.order.received"]
    assert received["order"]["externalOrderId"] == "576"


async def test_reordered_status_changes_end_in_the_newest(
    worker: Worker, settings: Settings, shop: str
) -> None:
    history = [
        ("UNPAID", "pending"),
        ("AWAITING_SHIPMENT", "confirmed"),
        ("AWAITING_COLLECTION", "confirmed"),
        ("IN_TRANSIT", "shipped"),
        ("DELIVERED", "delivered"),
        ("COMPLETED", "delivered"),
    ]
    messages = [
        tiktok_webhook(
            1, shop, {"order_id": "777", "order_status": s, "update_time": 1700000000 + n}
        )
        for n, (s, _) in enumerate(history)
    ]
    random.Random(7).shuffle(messages)
    for message in messages:
        await send(settings, message, key=f"{shop}:777")
    for message in messages:
        await eventually(lambda m=message: processed(worker, m.notification_id))
    order = await fresh(worker).orders.get_by_external(shop, "777")
    assert order is not None
    assert (order.status, order.external_status) == ("delivered", "COMPLETED")
    assert order.external_updated_at is not None
    assert int(order.external_updated_at.timestamp()) == 1700000005


@pytest.mark.parametrize(
    ("webhook_type", "data", "status", "kind", "value"),
    [
        (
            11,
            {"cancel_status": "CANCELLATION_REQUEST_COMPLETE"},
            "cancelled",
            "cancellation",
            "CANCELLATION_REQUEST_COMPLETE",
        ),
        (
            11,
            {"cancel_status": "CANCELLATION_REQUEST_PENDING"},
            "confirmed",
            "cancellation",
            "CANCELLATION_REQUEST_PENDING",
        ),
        # A completed refund without credentials: how much was refunded is unknown, so the
        # status stays (the order is flagged needsRefresh; test_tiktok_fidelity.py).
        (
            12,
            {"return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE"},
            "confirmed",
            "return",
            "RETURN_OR_REFUND_REQUEST_COMPLETE",
        ),
        (
            12,
            {"return_status": "AWAITING_BUYER_SHIP"},
            "confirmed",
            "return",
            "AWAITING_BUYER_SHIP",
        ),
        (
            2,
            {"reverse_type": 2, "reverse_order_status": 100},
            "confirmed",
            "return",
            "REVERSE_100",
        ),
        (
            2,
            {"reverse_type": 1, "reverse_order_status": 1},
            "confirmed",
            "cancellation",
            "REVERSE_1",
        ),
    ],
)
async def test_cancellations_and_returns(
    worker: Worker,
    settings: Settings,
    shop: str,
    webhook_type: int,
    data: dict[str, Any],
    status: str,
    kind: str,
    value: str,
) -> None:
    first = tiktok_webhook(
        1, shop, {"order_id": "9", "order_status": "AWAITING_SHIPMENT", "update_time": 1700000000}
    )
    reverse = tiktok_webhook(
        webhook_type, shop, {"order_id": "9", "update_time": 1700000100, **data}
    )
    await send(settings, first, key=f"{shop}:9")
    await send(settings, reverse, key=f"{shop}:9")
    await eventually(lambda: processed(worker, reverse.notification_id))
    order = await fresh(worker).orders.get_by_external(shop, "9")
    assert order is not None
    assert order.status == status
    [request] = order.reverse_requests
    assert (request.kind, request.status) == (kind, value)


async def test_product_status_change_updates_the_listing(
    worker: Worker, settings: Settings, shop: str
) -> None:
    from contracts import commands as c

    created: Any = await worker.bus.handle(
        c.CreateListing(
            shop_id=shop, local_product_id="p", title="Mug", external_product_id="1729"
        ),
    )
    message = tiktok_webhook(
        5,
        shop,
        {
            "product_id": 1729,
            "status": "PRODUCT_AUDIT_FAILURE",
            "suspended_reason": "Blurry image",
            "update_time": 1700000000,
        },
    )
    await send(settings, message, key=f"{shop}:1729")
    await eventually(lambda: processed(worker, message.notification_id))
    listing = await fresh(worker).listings.get(shop, created.listing.id)
    assert listing is not None
    assert (listing.status, listing.error) == ("rejected", "Blurry image")


async def test_deauthorization_and_expiry_warnings_are_recorded(
    worker: Worker, settings: Settings, shop: str
) -> None:
    async with TopicReader(settings.kafka_bootstrap_servers, settings.topic_events) as events:
        expiring = tiktok_webhook(7, shop, {"message": "soon", "expiration_time": "1893456000"})
        gone = tiktok_webhook(6, shop, {"message": "bye"})
        await send(settings, expiring, key=shop)
        await send(settings, gone, key=shop)
        await eventually(lambda: processed(worker, gone.notification_id))
        state = await fresh(worker).shops.get(shop)
        assert state.deauthorized_at is not None
        assert state.authorization_expires_at is not None
        warned = await events.wait_for(
            lambda e: e["type"] == "tiktok.authorization.expiring" and e["shopId"] == shop
        )
        assert warned[0]["expiresAt"].startswith("2030-01-01")


async def test_unknown_types_are_stored_and_acknowledged(
    worker: Worker, settings: Settings, shop: str
) -> None:
    message = tiktok_webhook(4242, shop, {"anything": [1, 2]})
    await send(settings, message, key=shop)
    await eventually(lambda: processed(worker, message.notification_id))
    doc = await worker.db.collection("webhook_events").find_one({"_id": message.notification_id})
    assert doc is not None
    assert (doc["outcome"], json.loads(doc["body_json"])["data"]) == (
        "stored",
        {"anything": [1, 2]},
    )


async def test_a_poison_message_is_dead_lettered_and_the_partition_moves_on(
    worker: Worker, settings: Settings, shop: str
) -> None:
    async with TopicReader(settings.kafka_bootstrap_servers, settings.topic_dead_letter) as dead:
        poison = await publish_raw(
            settings, settings.topic_webhooks, b"{definitely not json", key=b"same"
        )
        bad_order = tiktok_webhook(1, shop, {"order_status": "UNPAID"})  # no order id
        unappliable = await send(settings, bad_order, key="same")
        good = tiktok_webhook(
            1, shop, {"order_id": "after", "order_status": "UNPAID", "update_time": 1}
        )
        await send(settings, good, key="same")
        await eventually(lambda: processed(worker, good.notification_id))

        async def reasons() -> dict[int, str]:
            """This test's dead letters (others may be on the topic): origin offset -> reason."""
            await dead.poll()
            found = {}
            for record in dead.records:
                origin = {k: bytes(v).decode() for k, v in record.headers}
                if origin["x-origin-topic"] == poison.topic and origin["x-origin-partition"] == str(
                    poison.partition
                ):
                    found[int(origin["x-origin-offset"])] = origin["x-failure-reason"]
            return {o: r for o, r in found.items() if o in (poison.offset, unappliable.offset)}

        set_aside = await eventually(reasons, until=lambda found: len(found) == 2)
        assert set_aside[poison.offset].startswith("unreadable: ")
        assert set_aside[unappliable.offset] == (
            "rejected: ORDER_STATUS_CHANGE: data.order_id: Field required"
        )
    # The log keeps why it was set aside; a redelivery of it is skipped as already handled.
    logged = await worker.db.collection("webhook_events").find_one(
        {"_id": bad_order.notification_id}
    )
    assert logged is not None
    assert logged["outcome"] == "rejected: ORDER_STATUS_CHANGE: data.order_id: Field required"
    assert await fresh(worker).orders.get_by_external(shop, "after") is not None
