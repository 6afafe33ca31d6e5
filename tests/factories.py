"""Entities for tests, with sensible defaults."""

from typing import Any

from contracts.entities import ChannelOrder, OrderItem
from service.domain.ids import new_id
from service.domain.time import utcnow


def order(shop_id: str, **fields: Any) -> ChannelOrder:
    now = utcnow()
    values: dict[str, Any] = {
        "id": new_id(),
        "shop_id": shop_id,
        "external_order_id": f"tt-{new_id()[:8]}",
        "status": "pending",
        "items": [OrderItem(title="Mug", quantity=1, unit_price=1000)],
        "subtotal": 1000,
        "shipping_fee": 200,
        "platform_fee": 50,
        "total": 1200,
        "currency": "USD",
        "customer_name": "Ada",
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    return ChannelOrder.model_validate(values)
