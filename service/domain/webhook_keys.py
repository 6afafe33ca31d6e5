"""Kafka keys for webhooks: all events of one order (or one product) share a partition.

Kafka keeps order only within a partition, so the worker sees one order's events in the order
they were accepted only if they all carry the same key: the shop id plus the order (or product)
id. An event that names neither is keyed by its notification id, which spreads such events.
"""

from collections.abc import Mapping, Sequence
from typing import Any

from contracts.webhooks import SeedWebhook, TikTokEnvelope

# TikTok names the order in `data.order_id` (order, address, package, cancellation and return
# events) and the product in `data.product_id` (product events); the after-sales types (64, 65,
# 67) name no order, but their request, which keeps one request's events in one partition.
TIKTOK_ID_FIELDS = ("order_id", "product_id", "aftersales_request_id")
# The seed's order.created says externalOrderId; order.shipped and order.cancelled say orderId.
SEED_ID_FIELDS = ("externalOrderId", "orderId", "productId")


def tiktok_webhook_key(
    webhook: TikTokEnvelope, *, default_shop_id: str, notification_id: str
) -> str:
    """A webhook that names no shop is about the deployment's default shop."""
    data = webhook.data if isinstance(webhook.data, Mapping) else {}
    shop_id = webhook.shop_id or default_shop_id
    return _key(shop_id, data, TIKTOK_ID_FIELDS, notification_id)


def seed_webhook_key(webhook: SeedWebhook, *, shop_id: str, notification_id: str) -> str:
    """The seed form names no shop: `shop_id` is the deployment's default shop."""
    return _key(shop_id, webhook.payload, SEED_ID_FIELDS, notification_id)


def _key(
    shop_id: str, fields: Mapping[str, Any], names: Sequence[str], notification_id: str
) -> str:
    for name in names:
        entity_id = _id_text(fields.get(name))
        if entity_id:
            return f"{shop_id}:{entity_id}"
    return notification_id


def _id_text(value: object) -> str:
    # Ids are strings, now and then numbers; anything else (a bool, an object) names nothing.
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        return str(value)
    if isinstance(value, str):
        return value.strip()
    return ""
