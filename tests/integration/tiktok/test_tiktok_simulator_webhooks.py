"""The simulator pushes ORDER_STATUS_CHANGE webhooks signed as TikTok signs them."""

import json

from tiktok_shop_api import Webhooks

from service.adapters.tiktok.signing import verify_webhook_signature
from service.domain.tiktok_status import map_order_status
from tests.integration.tiktok.sim_support import (
    APP_KEY,
    APP_SECRET,
    ClientFactory,
    SeededShop,
    SimControl,
    WebhookReceiver,
    poll,
)


async def _order(sim: SimControl, shop: SeededShop) -> dict[str, object]:
    seeded = await sim.call(
        "POST",
        "/seed",
        {
            "orders": [
                {
                    "shop_id": shop.ref.shop_id,
                    "items": [{"sale_price": "12.00"}],
                    "recipient": {"name": "Ünal Çelik"},
                }
            ]
        },
    )
    order: dict[str, object] = (await sim.call("GET", f"/orders/{seeded['orders'][0]}"))["order"]
    return order


async def test_status_change_pushes_a_signed_webhook(
    sim: SimControl, shop: SeededShop, webhook_receiver: WebhookReceiver
) -> None:
    order = await _order(sim, shop)
    changed = await sim.call(
        "POST",
        f"/orders/{order['id']}/status",
        {"status": "IN_TRANSIT", "webhook_url": webhook_receiver.url},
    )
    assert changed["webhooks"][0]["delivered"] is True
    assert changed["order"]["update_time"] > order["update_time"]

    [delivery] = webhook_receiver.deliveries
    signature = delivery.headers["authorization"]
    assert not signature.startswith("Bearer")
    assert verify_webhook_signature(APP_KEY, APP_SECRET, delivery.body, signature)
    assert Webhooks.verify(
        app_key=APP_KEY, app_secret=APP_SECRET, raw_body=delivery.body, signature=signature
    )
    event = json.loads(delivery.body)
    assert event["type"] == 1
    assert event["shop_id"] == shop.ref.shop_id
    assert event["tts_notification_id"]
    assert isinstance(event["timestamp"], int)
    assert event["data"] == {
        "order_id": order["id"],
        "order_status": "IN_TRANSIT",
        "update_time": changed["order"]["update_time"],
        "is_on_hold_order": False,
    }
    # The independent parser knows the type and finds every required field.
    parsed = Webhooks.parse(delivery.body)
    assert type(parsed).__name__ != "UnknownWebhookEvent"


async def test_loose_spelling_and_redelivery(
    sim: SimControl, shop: SeededShop, webhook_receiver: WebhookReceiver
) -> None:
    order = await _order(sim, shop)
    await sim.call(
        "POST",
        f"/orders/{order['id']}/status",
        {
            "status": "CANCELLED",
            "webhook_url": webhook_receiver.url,
            "webhook_status": "CANCEL",
            "deliveries": 2,
        },
    )
    first, second = (json.loads(d.body) for d in webhook_receiver.deliveries)
    assert first == second  # the same notification id twice: the receiver must dedupe
    assert first["data"]["order_status"] == "CANCEL"
    assert map_order_status(first["data"]["order_status"]) == "cancelled"


async def test_marking_shipped_notifies_the_registered_url(
    make_client: ClientFactory,
    sim: SimControl,
    shop: SeededShop,
    webhook_receiver: WebhookReceiver,
) -> None:
    order = await _order(sim, shop)
    await sim.call("PUT", f"/shops/{shop.ref.shop_id}/webhook", {"url": webhook_receiver.url})

    await make_client().mark_package_shipped(shop.ref, str(order["id"]), "TRK123", "6617")

    await poll(lambda: bool(webhook_receiver.deliveries), what="the shipped webhook")
    event = json.loads(webhook_receiver.deliveries[0].body)
    assert event["data"]["order_id"] == order["id"]
    assert event["data"]["order_status"] == "IN_TRANSIT"


async def test_arbitrary_and_forged_webhooks(
    sim: SimControl, shop: SeededShop, webhook_receiver: WebhookReceiver
) -> None:
    await sim.call(
        "POST",
        "/webhooks",
        {
            "url": webhook_receiver.url,
            "type": 99,
            "shop_id": shop.ref.shop_id,
            "data": {"note": "a type TikTok added later"},
        },
    )
    await sim.call(
        "POST",
        "/webhooks",
        {
            "url": webhook_receiver.url,
            "type": 1,
            "shop_id": shop.ref.shop_id,
            "data": {"order_id": "1"},
            "authorization": "0" * 64,
        },
    )
    genuine, forged = webhook_receiver.deliveries
    assert verify_webhook_signature(
        APP_KEY, APP_SECRET, genuine.body, genuine.headers["authorization"]
    )
    assert not verify_webhook_signature(
        APP_KEY, APP_SECRET, forged.body, forged.headers["authorization"]
    )
