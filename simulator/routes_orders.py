"""Order search (202309) and order details (202507, up to 50 ids).

Search pages with ``page_token`` and filters by status and by ``create_time``/``update_time``
windows (``_ge`` inclusive, ``_lt`` exclusive, unix seconds), so a reconciliation can pull what
changed since a watermark: sort by ``update_time`` ASC and filter ``update_time_ge``.
"""

import base64
import binascii
import operator
from typing import Any

from starlette.routing import Route

from simulator import envelope as env
from simulator import timeline
from simulator.fulfillment import ORDER_STATUSES, set_order_status
from simulator.gate import ApiContext, api
from simulator.paging import page_size, within_time_bounds
from simulator.world import Order

MAX_IDS = 50
_TIME_FILTERS = ("create_time_ge", "create_time_lt", "update_time_ge", "update_time_lt")
_SHIPPING_TYPES = frozenset({"TIKTOK", "SELLER", "TIKTOK_DIGITAL", "IN-STORE PICKUP"})

__all__ = ["ORDER_STATUSES", "ROUTES", "set_order_status"]


def _bad(message: str) -> env.ApiFailure:
    return env.ApiFailure(400, env.INVALID_PARAMETER, message)


def _matches(order: Order, filters: dict[str, Any]) -> bool:
    status = filters.get("order_status")
    if status and order.status != status:
        return False
    for key, value in (
        ("shipping_type", order.shipping_type),
        ("buyer_user_id", order.user_id),
        ("is_buyer_request_cancel", order.is_buyer_request_cancel),
    ):
        if filters.get(key) is not None and filters[key] != value:
            return False
    warehouses = filters.get("warehouse_ids")
    if warehouses and order.warehouse_id not in warehouses:
        return False
    bounds = (
        ("create_time_ge", order.create_time, operator.ge),
        ("create_time_lt", order.create_time, operator.lt),
        ("update_time_ge", order.update_time, operator.ge),
        ("update_time_lt", order.update_time, operator.lt),
    )
    return within_time_bounds(filters, bounds)


def _keyset_page(
    found: list[Order], size: int, token: str | None, field: str, direction: str
) -> tuple[list[Order], str]:
    """A cursor page: the token names the last order answered (its sort value and id).

    An order updated while a client pages by ``update_time`` moves behind the cursor and is
    answered again later rather than skipped, so a watermark pull misses nothing.
    """
    start = 0
    if token:
        try:
            text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode()
            kind, token_field, token_direction, value, last_id = text.split(":")
            key = (int(value), last_id)
        except (ValueError, binascii.Error, UnicodeDecodeError):
            raise _bad("page_token is invalid") from None
        if (kind, token_field, token_direction) != ("order", field, direction):
            raise _bad("page_token was made for another sort")
        descending = direction == "DESC"
        start = next(
            (
                n
                for n, o in enumerate(found)
                if (
                    (getattr(o, field), o.id) < key
                    if descending
                    else (getattr(o, field), o.id) > key
                )
            ),
            len(found),
        )
    page = found[start : start + size]
    if start + size >= len(found) or not page:
        return page, ""
    last = page[-1]
    cursor = f"order:{field}:{direction}:{getattr(last, field)}:{last.id}"
    return page, base64.urlsafe_b64encode(cursor.encode()).decode().rstrip("=")


@api()
async def search_orders(ctx: ApiContext) -> dict[str, Any]:
    timeline.run_due(ctx.sim)
    size = page_size(ctx.query)
    filters = ctx.json()
    status = filters.get("order_status")
    if status is not None and status not in ORDER_STATUSES:
        raise _bad(f"unknown order_status {status!r}")
    for name in _TIME_FILTERS:
        value = filters.get(name)
        if value is not None and (not isinstance(value, int) or isinstance(value, bool)):
            raise _bad(f"{name} must be a unix time in seconds")
    shipping_type = filters.get("shipping_type")
    if shipping_type is not None and shipping_type not in _SHIPPING_TYPES:
        raise _bad(f"unknown shipping_type {shipping_type!r}")
    if not isinstance(filters.get("is_buyer_request_cancel", False), bool):
        raise _bad("is_buyer_request_cancel must be true or false")
    warehouses = filters.get("warehouse_ids")
    if warehouses is not None and (
        not isinstance(warehouses, list)
        or len(warehouses) > 100
        or not all(isinstance(w, str) for w in warehouses)
    ):
        raise _bad("warehouse_ids must be at most 100 ids")
    sort_field = ctx.query.get("sort_field", "create_time")
    if sort_field not in ("create_time", "update_time"):
        raise _bad("sort_field must be create_time or update_time")
    sort_order = ctx.query.get("sort_order", "DESC")
    if sort_order not in ("ASC", "DESC"):
        raise _bad("sort_order must be ASC or DESC")
    descending = sort_order == "DESC"
    found = sorted(
        (o for o in ctx.sim.world.orders_of(ctx.scoped_shop.id) if _matches(o, filters)),
        key=lambda o: (getattr(o, sort_field), o.id),
        reverse=descending,
    )
    items, next_token = _keyset_page(
        found, size, ctx.query.get("page_token"), sort_field, sort_order
    )
    return {
        "orders": [o.to_api() for o in items],
        "next_page_token": next_token,
        "total_count": len(found),
    }


@api()
async def order_details(ctx: ApiContext) -> dict[str, Any]:
    timeline.run_due(ctx.sim)
    ids = [i for i in ctx.query.get("ids", "").split(",") if i]
    if not ids:
        raise _bad("ids is required")
    if len(ids) > MAX_IDS:
        raise _bad(f"at most {MAX_IDS} ids per call")
    orders = ctx.sim.world.orders
    shop_id = ctx.scoped_shop.id
    found = [orders[i] for i in ids if i in orders and orders[i].shop_id == shop_id]
    return {"orders": [o.to_api() for o in found]}


ROUTES = [
    Route("/order/202309/orders/search", search_orders, methods=["POST"]),
    Route("/order/202507/orders", order_details, methods=["GET"]),
]
