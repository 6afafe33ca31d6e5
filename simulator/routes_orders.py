"""Order search, order details (up to 50 ids) and marking a seller-shipped package shipped."""

import operator
from typing import Any

from starlette.routing import Route

from simulator import envelope as env
from simulator.core import Simulator
from simulator.gate import ApiContext, api
from simulator.paging import page_of, page_size, within_time_bounds
from simulator.world import Order

ORDER_STATUSES = frozenset(
    {
        "UNPAID",
        "ON_HOLD",
        "AWAITING_SHIPMENT",
        "PARTIALLY_SHIPPING",
        "AWAITING_COLLECTION",
        "IN_TRANSIT",
        "DELIVERED",
        "COMPLETED",
        "CANCELLED",
    }
)
SHIPPABLE = frozenset({"AWAITING_SHIPMENT", "PARTIALLY_SHIPPING"})
MAX_IDS = 50


def _bad(message: str) -> env.ApiFailure:
    return env.ApiFailure(400, env.INVALID_PARAMETER, message)


def _matches(order: Order, filters: dict[str, Any]) -> bool:
    status = filters.get("order_status")
    if status and order.status != status:
        return False
    bounds = (
        ("create_time_ge", order.create_time, operator.ge),
        ("create_time_lt", order.create_time, operator.lt),
        ("update_time_ge", order.update_time, operator.ge),
        ("update_time_lt", order.update_time, operator.lt),
    )
    return within_time_bounds(filters, bounds)


@api()
async def search_orders(ctx: ApiContext) -> dict[str, Any]:
    size = page_size(ctx.query)
    filters = ctx.json()
    status = filters.get("order_status")
    if status is not None and status not in ORDER_STATUSES:
        raise _bad(f"unknown order_status {status!r}")
    sort_field = ctx.query.get("sort_field", "create_time")
    if sort_field not in ("create_time", "update_time"):
        raise _bad("sort_field must be create_time or update_time")
    descending = ctx.query.get("sort_order", "DESC") == "DESC"
    found = sorted(
        (o for o in ctx.sim.world.orders_of(ctx.scoped_shop.id) if _matches(o, filters)),
        key=lambda o: (getattr(o, sort_field), o.id),
        reverse=descending,
    )
    items, next_token = page_of(found, size, ctx.query.get("page_token"))
    return {
        "orders": [o.to_api() for o in items],
        "next_page_token": next_token,
        "total_count": len(found),
    }


@api()
async def order_details(ctx: ApiContext) -> dict[str, Any]:
    ids = [i for i in ctx.query.get("ids", "").split(",") if i]
    if not ids:
        raise _bad("ids is required")
    if len(ids) > MAX_IDS:
        raise _bad(f"at most {MAX_IDS} ids per call")
    orders = ctx.sim.world.orders
    shop_id = ctx.scoped_shop.id
    found = [orders[i] for i in ids if i in orders and orders[i].shop_id == shop_id]
    return {"orders": [o.to_api() for o in found]}


@api()
async def mark_package_shipped(ctx: ApiContext) -> dict[str, Any]:
    sim = ctx.sim
    order_id = ctx.request.path_params["order_id"]
    order = sim.world.orders.get(order_id)
    if order is None or order.shop_id != ctx.scoped_shop.id:
        raise env.ApiFailure(404, env.NOT_FOUND, f"order {order_id} not found")
    body = ctx.json()
    tracking = body.get("tracking_number")
    provider = body.get("shipping_provider_id")
    if not isinstance(tracking, str) or not tracking:
        raise _bad("tracking_number is required")
    if not isinstance(provider, str) or not provider:
        raise _bad("shipping_provider_id is required")
    if order.status not in SHIPPABLE:
        raise env.ApiFailure(
            200,
            env.ORDER_NOT_SHIPPABLE,
            f"order {order_id} is {order.status}, not awaiting shipment",
        )
    wanted = body.get("order_line_item_ids") or [item["id"] for item in order.line_items]
    items = [item for item in order.line_items if item["id"] in wanted]
    if not items or len(items) != len(set(wanted)):
        raise _bad("order_line_item_ids do not belong to the order")
    package_id = sim.world.next_id("1153")
    for item in items:
        item["package_id"] = package_id
        item["tracking_number"] = tracking
        item["shipping_provider_id"] = provider
    order.packages.append({"id": package_id})
    order.tracking_number = tracking
    order.shipping_provider_id = provider
    order.shipping_provider = f"Carrier {provider}"
    shipped_all = all(item.get("package_id") for item in order.line_items)
    set_order_status(sim, order, "IN_TRANSIT" if shipped_all else "PARTIALLY_SHIPPING")
    shop = sim.world.shops.get(order.shop_id)
    if shop is not None and shop.webhook_url:
        # TikTok notifies after answering, not within the call.
        sim.spawn(sim.push_webhook(shop.webhook_url, sim.order_status_notification(order)))
    return {
        "package_id": package_id,
        "order_id": order.id,
        "order_line_item_ids": [item["id"] for item in items],
    }


def set_order_status(sim: Simulator, order: Order, status: str) -> None:
    """Change the status and move ``update_time`` forward (it orders an order's versions)."""
    order.status = status
    order.is_on_hold_order = status == "ON_HOLD"
    order.update_time = sim.bump(order.update_time)
    for item in order.line_items:
        item["display_status"] = status


ROUTES = [
    Route("/order/202309/orders/search", search_orders, methods=["POST"]),
    Route("/order/202507/orders", order_details, methods=["GET"]),
    Route("/fulfillment/202309/orders/{order_id}/packages", mark_package_shipped, methods=["POST"]),
]
