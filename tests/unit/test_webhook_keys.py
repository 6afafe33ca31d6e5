"""Partition keys: one order's (or one product's) webhooks share a key, whatever else differs."""

from typing import Any

import pytest

from contracts.webhooks import SeedWebhook, TikTokEnvelope
from service.domain.webhook_keys import seed_webhook_key
from service.domain.webhook_keys import tiktok_webhook_key as key_of


def tiktok(data: dict[str, Any], *, type_: int = 1, notification: str = "n-1") -> TikTokEnvelope:
    return TikTokEnvelope(
        type=type_, tts_notification_id=notification, shop_id="shop-9", timestamp=1, data=data
    )


def tiktok_webhook_key(webhook: TikTokEnvelope) -> str:
    return key_of(
        webhook, default_shop_id="default", notification_id=webhook.tts_notification_id or ""
    )


def seed(payload: dict[str, Any], type_: str = "order.created") -> SeedWebhook:
    return SeedWebhook(type=type_, payload=payload)


def test_a_tiktok_order_event_is_keyed_by_shop_and_order() -> None:
    assert tiktok_webhook_key(tiktok({"order_id": "576461"})) == "shop-9:576461"


def test_every_event_of_one_order_gets_the_same_key() -> None:
    events = [
        tiktok({"order_id": "576461", "order_status": "UNPAID"}, notification="a"),
        tiktok({"order_id": "576461", "order_status": "IN_TRANSIT"}, notification="b"),
        tiktok({"order_id": "576461", "cancel_id": "c1"}, type_=11, notification="c"),
        tiktok({"order_id": "576461", "return_id": "r1"}, type_=12, notification="d"),
    ]
    assert {tiktok_webhook_key(event) for event in events} == {"shop-9:576461"}


def test_a_product_event_is_keyed_by_shop_and_product() -> None:
    event = tiktok({"product_id": "1729", "status": "ACTIVATE"}, type_=5)
    assert tiktok_webhook_key(event) == "shop-9:1729"


def test_the_order_wins_when_both_are_named() -> None:
    assert tiktok_webhook_key(tiktok({"product_id": "p", "order_id": "o"})) == "shop-9:o"


def test_numeric_ids_are_keyed_as_text() -> None:
    assert tiktok_webhook_key(tiktok({"order_id": 576461})) == "shop-9:576461"


@pytest.mark.parametrize(
    "data",
    [
        {},
        {"order_id": ""},
        {"order_id": "  "},
        {"order_id": None},
        {"order_id": True},
        {"order_id": {"id": "x"}},
        {"seller_id": "s"},
    ],
)
def test_an_event_naming_neither_is_keyed_by_its_notification_id(data: dict[str, Any]) -> None:
    event = tiktok(data, type_=6, notification="7310000000000000001")
    assert tiktok_webhook_key(event) == "7310000000000000001"


def test_the_seed_forms_are_keyed_by_the_default_shop_and_the_order() -> None:
    created = seed({"externalOrderId": "EXT-1", "status": "pending"})
    shipped = seed({"orderId": "EXT-1", "trackingNumber": "1Z"}, "order.shipped")
    cancelled = seed({"orderId": "EXT-1"}, "order.cancelled")
    keys = {
        seed_webhook_key(w, shop_id="default", notification_id="h")
        for w in (created, shipped, cancelled)
    }
    assert keys == {"default:EXT-1"}


def test_a_seed_product_is_keyed_by_it_and_a_sync_by_the_notification_id() -> None:
    product = seed({"productId": "P-7"}, "product.sync")
    sync = seed({}, "catalog.sync")
    assert seed_webhook_key(product, shop_id="s1", notification_id="h1") == "s1:P-7"
    assert seed_webhook_key(sync, shop_id="s1", notification_id="h2") == "h2"
