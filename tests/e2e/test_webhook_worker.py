"""The webhook consumer on the real broker and database: idempotent, order-independent, and
never stopped by a message it cannot use."""

import json
import random
from typing import Any

import pytest

from contracts.webhooks import WebhookMessage
from service.bootstrap import Worker
from service.settings import Settings
from tests.kafka_tools import TopicReader, publish_raw, seed_webhook, tiktok_webhook
from tests.support import eventually, fresh

pytestmark = pytest.mark.integration


async def send(settings: Settings, message: WebhookMessage, key: str) -> None:
    await publish_raw(settings, settings.topic_webhooks, message.to_json(), key=key.encode())


async def processed(worker: Worker, notification_id: str) -> bool:
    doc = await worker.db.collection("webhook_events").find_one({"_id": notification_id})
    return bool(doc and doc.get("processed_at"))


async def test_an_order_webhook_delivered_five_times_gives_one_order_and_one_event(
    worker: Worker, settings: Settings, shop: str
) -> None:
    message = tiktok_webhook(
        1, shop, {"order_id": "576", "order_status": "AWAITING_SHIPMENT", "update_time": 1700000000}
    )
    async with TopicReader(settings.kafka_bootstrap_servers, settings.topic_events) as events:
        for _ in range(5):
            await send(settings, message, key=f"{shop}:576")
        await eventually(lambda: processed(worker, message.notification_id))
        order = await fresh(worker).orders.get_by_external(shop, "576")
        assert order is not None
        assert (order.status, order.external_status, order.needs_refresh) == (
            "confirmed",
            "AWAITING_SHIPMENT",
            True,
        )
        received = await events.wait_for(
            lambda e: (
                e["type"] == "tiktok.order.received"
                and e["order"]["externalOrderId"] == "576"
                and e["shopId"] == shop
            )
        )
        webhook_events = await events.wait_for(
            lambda e: (
                e["type"] == "tiktok.webhook.received"
                and e["notificationId"] == message.notification_id
            )
        )
        # Let any duplicate that was going to come arrive before counting.
        marker = tiktok_webhook(99, shop, {})
        await send(settings, marker, key="marker")
        await events.wait_for(lambda e: e.get("notificationId") == marker.notification_id)
        await events.poll()
        assert (
            len(
                events.json(
                    lambda e: (
                        e == received[0]
                        or (e["type"] == "tiktok.order.received" and e["shopId"] == shop)
                    )
                )
            )
            == 1
        )
        assert len(webhook_events) == 1
    assert await worker.db.collection("orders").count_documents({"shop_id": shop}) == 1
    assert (
        await worker.db.collection("webhook_events").count_documents(
            {"_id": message.notification_id}
        )
        == 1
    )


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
    ("webhook_type", "data", "status", "field", "value"),
    [
        (
            11,
            {"cancel_status": "CANCELLATION_REQUEST_COMPLETE"},
            "cancelled",
            "cancellation_status",
            "CANCELLATION_REQUEST_COMPLETE",
        ),
        (
            11,
            {"cancel_status": "CANCELLATION_REQUEST_PENDING"},
            "confirmed",
            "cancellation_status",
            "CANCELLATION_REQUEST_PENDING",
        ),
        # A completed refund without credentials: how much was refunded is unknown, so the
        # status stays (the order is flagged needsRefresh; test_tiktok_fidelity.py).
        (
            12,
            {"return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE"},
            "confirmed",
            "return_status",
            "RETURN_OR_REFUND_REQUEST_COMPLETE",
        ),
        (
            12,
            {"return_status": "AWAITING_BUYER_SHIP"},
            "confirmed",
            "return_status",
            "AWAITING_BUYER_SHIP",
        ),
        (
            2,
            {"reverse_type": 2, "reverse_order_status": 100},
            "confirmed",
            "return_status",
            "REVERSE_100",
        ),
        (
            2,
            {"reverse_type": 1, "reverse_order_status": 1},
            "confirmed",
            "cancellation_status",
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
    field: str,
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
    assert getattr(order, field) == value


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
        await publish_raw(settings, settings.topic_webhooks, b"{definitely not json", key=b"same")
        bad_order = tiktok_webhook(1, shop, {"order_status": "UNPAID"})  # no order id
        await send(settings, bad_order, key="same")
        good = tiktok_webhook(
            1, shop, {"order_id": "after", "order_status": "UNPAID", "update_time": 1}
        )
        await send(settings, good, key="same")
        await eventually(lambda: processed(worker, good.notification_id))

        async def dead_lettered() -> list[Any]:
            return await dead.poll()

        records = await eventually(dead_lettered, until=lambda r: len(r) >= 2)
        reasons = [dict(r.headers)["x-failure-reason"].decode() for r in records]
        assert any("unreadable" in r or "rejected" in r for r in reasons)
        assert any("order_id" in r for r in reasons)
        assert {dict(r.headers)["x-origin-topic"].decode() for r in records} == {
            settings.topic_webhooks
        }
    # The log keeps why it was set aside; a redelivery of it is skipped as already handled.
    logged = await worker.db.collection("webhook_events").find_one(
        {"_id": bad_order.notification_id}
    )
    assert logged is not None
    assert logged["outcome"] == "rejected: ORDER_STATUS_CHANGE: data.order_id: Field required"
    assert await fresh(worker).orders.get_by_external(shop, "after") is not None


async def test_seed_order_created_twice_gives_one_order_then_ships(
    worker: Worker, settings: Settings, shop: str
) -> None:
    payload = {
        "externalOrderId": "86d-1",
        "status": "confirmed",
        "items": [{"title": "Mug", "quantity": 2, "unitPrice": 999}],
        "subtotal": 19.98,
        "shippingFee": 4.5,
        "platformFee": 1,
        "total": 24.48,
        "customerName": "Grace",
        "shippingAddress": {"line1": "1 Main St", "city": "Springfield"},
    }
    created = seed_webhook("order.created", shop, payload)
    again = seed_webhook("order.created", shop, {**payload, "customerName": "Grace"})
    assert again.notification_id == created.notification_id
    redelivered = seed_webhook("order.created", shop, {**payload, "note": "another body"})
    for message in (created, again, redelivered):
        await send(settings, message, key=f"{shop}:86d-1")
    await eventually(lambda: processed(worker, redelivered.notification_id))
    assert await worker.db.collection("orders").count_documents({"shop_id": shop}) == 1
    order = await fresh(worker).orders.get_by_external(shop, "86d-1")
    assert order is not None
    assert (order.subtotal, order.shipping_fee, order.platform_fee, order.total) == (
        1998,
        450,
        100,
        2448,
    )
    assert order.shipping_address.city == "Springfield"

    shipped = seed_webhook(
        "order.shipped",
        shop,
        {"orderId": order.id, "trackingNumber": "TRK1", "trackingUrl": "https://t.example/TRK1"},
    )
    await send(settings, shipped, key=f"{shop}:86d-1")
    await eventually(lambda: processed(worker, shipped.notification_id))
    after = await fresh(worker).orders.get(shop, order.id)
    assert after is not None
    assert (after.status, after.tracking_number, after.tracking_url) == (
        "shipped",
        "TRK1",
        "https://t.example/TRK1",
    )
