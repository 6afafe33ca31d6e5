"""Shipping: providers per delivery option, package detail, ship package, mark package shipped.

Refusals, in the order checked: unknown order or package (404), malformed body (400), a market or
order the call does not serve (21008106), a cancelled order or package (ORDER_CANCELLED), the
buyer's free-cancellation hour (ON_HOLD: ORDER_IN_REMORSE_PERIOD), any other status but
AWAITING_SHIPMENT / PARTIALLY_SHIPPING (ORDER_NOT_SHIPPABLE), a shipping method that does not fit
the order (SHIPPING_METHOD_MISMATCH), a provider outside the order's delivery option
(UNKNOWN_SHIPPING_PROVIDER), line items already shipped or cancelled (LINE_ITEMS_NOT_SHIPPABLE).
Codes: ``simulator.order_codes``.
"""

from typing import Any

from starlette.routing import Route

from simulator import envelope as env
from simulator import fulfillment, timeline
from simulator import order_codes as codes
from simulator.gate import ApiContext, api
from simulator.logistics import DELIVERY_OPTIONS, MARK_SHIPPED_REGIONS, DeliveryOption
from simulator.order_books import Package
from simulator.world import Order


def _bad(message: str) -> env.ApiFailure:
    return env.ApiFailure(400, env.INVALID_PARAMETER, message)


def _refused(code: int, message: str) -> env.ApiFailure:
    return env.ApiFailure(200, code, message)


def _order(ctx: ApiContext, order_id: str) -> Order:
    order = ctx.sim.world.orders.get(order_id)
    if order is None or order.shop_id != ctx.scoped_shop.id:
        raise env.ApiFailure(404, env.NOT_FOUND, f"order {order_id} not found")
    return order


def _package(ctx: ApiContext, package_id: str) -> Package:
    package = ctx.sim.world.books.packages.get(package_id)
    if package is None or package.shop_id != ctx.scoped_shop.id:
        raise env.ApiFailure(404, env.NOT_FOUND, f"package {package_id} not found")
    return package


def _option(order: Order) -> DeliveryOption:
    return DELIVERY_OPTIONS[order.delivery_option_id]


def _check_shippable(order: Order) -> None:
    if order.status == "CANCELLED":
        raise _refused(codes.ORDER_CANCELLED, f"order {order.id} is cancelled")
    if order.status == "ON_HOLD":
        raise _refused(
            codes.ORDER_IN_REMORSE_PERIOD,
            f"order {order.id} is ON_HOLD: the buyer may cancel it freely until "
            f"{order.on_hold_until}; ship it after that",
        )
    if order.status not in fulfillment.SHIPPABLE:
        raise _refused(
            codes.ORDER_NOT_SHIPPABLE, f"order {order.id} is {order.status}, not awaiting shipment"
        )


def _provider_name(order: Order, provider_id: str) -> str:
    name = _option(order).provider_name(provider_id)
    if name is None:
        raise _refused(
            codes.UNKNOWN_SHIPPING_PROVIDER,
            f"shipping_provider_id {provider_id} is not a provider of delivery option "
            f"{order.delivery_option_id}",
        )
    return name


@api()
async def shipping_providers(ctx: ApiContext) -> dict[str, Any]:
    """``GET /logistics/202309/delivery_options/{delivery_option_id}/shipping_providers``."""
    option_id = ctx.request.path_params["delivery_option_id"]
    option = DELIVERY_OPTIONS.get(option_id)
    if option is None:
        raise env.ApiFailure(404, env.NOT_FOUND, f"delivery option {option_id} not found")
    if option.shipping_type == "TIKTOK":
        raise _refused(
            codes.DELIVERY_OPTION_SHIPPED_BY_TIKTOK,
            f"delivery option {option_id} is shipped by TikTok: no providers to choose",
        )
    return {"shipping_providers": [{"id": pid, "name": name} for pid, name in option.providers]}


@api()
async def package_detail(ctx: ApiContext) -> dict[str, Any]:
    """``GET /fulfillment/202309/packages/{package_id}``."""
    timeline.run_due(ctx.sim)
    package = _package(ctx, ctx.request.path_params["package_id"])
    order = ctx.sim.world.orders[package.order_id]
    answer: dict[str, Any] = {
        "package_id": package.id,
        "orders": [{"id": order.id}],
        "package_status": package.status,
        "split_and_combine_tag": package.split_tag,
        "shipping_type": order.shipping_type,
        "delivery_option_id": order.delivery_option_id,
        "delivery_option_name": order.delivery_option_name,
        "order_line_item_ids": list(package.line_item_ids),
        "create_time": package.create_time,
        "update_time": package.update_time,
        "warehouse_id": order.warehouse_id,
        "recipient_address": order.recipient_address,
    }
    optional = {
        "tracking_number": package.tracking_number,
        "shipping_provider_id": package.shipping_provider_id,
        "shipping_provider_name": package.shipping_provider_name,
        "handover_method": package.handover_method,
        "pickup_slot": package.pickup_slot,
    }
    answer.update({k: v for k, v in optional.items() if v is not None})
    return answer


@api()
async def ship_package(ctx: ApiContext) -> dict[str, Any]:
    """``POST /fulfillment/202309/packages/{package_id}/ship``.

    Body: ``self_shipment {tracking_number, shipping_provider_id}`` for an order the seller ships
    (the package becomes PROCESSING, the order AWAITING_COLLECTION until the carrier collects
    it), or ``handover_method`` PICKUP / DROP_OFF (and ``pickup_slot``) for one TikTok ships.
    Answers ``{}``.
    """
    sim = ctx.sim
    timeline.run_due(sim)
    package = _package(ctx, ctx.request.path_params["package_id"])
    order = sim.world.orders[package.order_id]
    body = ctx.json()
    handover = body.get("handover_method")
    self_shipment = body.get("self_shipment")
    if handover is not None and handover not in ("PICKUP", "DROP_OFF"):
        raise _bad("handover_method must be PICKUP or DROP_OFF")
    if self_shipment is not None:
        if not isinstance(self_shipment, dict):
            raise _bad("self_shipment must be an object")
        for key in ("tracking_number", "shipping_provider_id"):
            if not isinstance(self_shipment.get(key), str) or not self_shipment[key]:
                raise _bad(f"self_shipment.{key} is required")
    if handover is None and self_shipment is None:
        raise _bad("handover_method or self_shipment is required")
    slot = body.get("pickup_slot")
    if slot is not None and not (
        isinstance(slot, dict)
        and all(isinstance(slot.get(k), int) for k in ("start_time", "end_time"))
    ):
        raise _bad("pickup_slot needs start_time and end_time (unix seconds)")
    if package.status == "CANCELLED" or order.status == "CANCELLED":
        raise _refused(codes.ORDER_CANCELLED, f"package {package.id} is cancelled")
    if package.status != "TO_FULFILL":
        raise _refused(codes.PACKAGE_ALREADY_SHIPPED, f"package {package.id} is {package.status}")
    _check_shippable(order)
    if order.shipping_type == "TIKTOK":
        if self_shipment is not None:
            raise _refused(
                codes.SHIPPING_METHOD_MISMATCH,
                f"order {order.id} is shipped by TikTok: give handover_method, not self_shipment",
            )
        fulfillment.ship(
            sim,
            order,
            package,
            status="PROCESSING",
            handover_method=handover,
            pickup_slot=slot,
            tracking_number=f"TT{package.id}",
            provider_id=_option(order).providers[0][0],
            provider_name=_option(order).providers[0][1],
        )
        return {}
    if self_shipment is None:
        raise _refused(
            codes.SHIPPING_METHOD_MISMATCH,
            f"order {order.id} is shipped by the seller: give self_shipment with a tracking number",
        )
    provider = self_shipment["shipping_provider_id"]
    fulfillment.ship(
        sim,
        order,
        package,
        status="PROCESSING",
        tracking_number=self_shipment["tracking_number"],
        provider_id=provider,
        provider_name=_provider_name(order, provider),
    )
    return {}


def _mark_shipped(
    ctx: ApiContext, order: Order, tracking: str, provider: str, wanted: list[str] | None
) -> dict[str, Any]:
    """Both versions of mark package shipped: the named line items (default all unshipped) get
    a package of their own if they are not a whole package, which ships collected (IN_TRANSIT)."""
    sim = ctx.sim
    shop = ctx.scoped_shop
    if shop.region not in MARK_SHIPPED_REGIONS or order.shipping_type != "SELLER":
        raise _refused(
            codes.NOT_IN_REGION_OR_BUSINESS_TYPE,
            "This interface cannot be used in this region or this business type. "
            "Please don't use the api.",
        )
    _check_shippable(order)
    provider_name = _provider_name(order, provider)
    to_fulfill = [p for p in sim.world.books.packages_of(order.id) if p.status == "TO_FULFILL"]
    open_lines = [line for p in to_fulfill for line in p.line_item_ids]
    if wanted is None:
        wanted = open_lines
    known = {i["id"] for i in order.line_items}
    if not wanted or len(set(wanted)) != len(wanted) or not set(wanted) <= known:
        raise _bad("order_line_item_ids do not belong to the order")
    if not set(wanted) <= set(open_lines):
        refused = sorted(set(wanted) - set(open_lines))
        raise _refused(
            codes.LINE_ITEMS_NOT_SHIPPABLE,
            f"line items {refused} of order {order.id} are already shipped or cancelled",
        )
    holders = [p for p in to_fulfill if set(p.line_item_ids) & set(wanted)]
    exact = next((p for p in holders if set(p.line_item_ids) == set(wanted)), None)
    if exact is not None:
        package = exact
    else:
        package = fulfillment.split(sim, order, holders[0], wanted)
        for other in holders[1:]:
            other.line_item_ids = [i for i in other.line_item_ids if i not in wanted]
            if not other.line_item_ids:
                other.status = "CANCELLED"
    fulfillment.ship(
        sim,
        order,
        package,
        status="FULFILLING",
        tracking_number=tracking,
        provider_id=provider,
        provider_name=provider_name,
    )
    return {"package_id": package.id, "order_id": order.id, "order_line_item_ids": wanted}


@api()
async def mark_package_shipped(ctx: ApiContext) -> dict[str, Any]:
    """``POST /fulfillment/202309/orders/{order_id}/packages`` body ``{tracking_number,
    shipping_provider_id, order_line_item_ids?}``; answers ``{package_id, order_id,
    order_line_item_ids}``."""
    timeline.run_due(ctx.sim)
    order = _order(ctx, ctx.request.path_params["order_id"])
    body = ctx.json()
    tracking = body.get("tracking_number")
    provider = body.get("shipping_provider_id")
    if not isinstance(tracking, str) or not tracking:
        raise _bad("tracking_number is required")
    if not isinstance(provider, str) or not provider:
        raise _bad("shipping_provider_id is required")
    wanted = body.get("order_line_item_ids") or None
    if wanted is not None and not (
        isinstance(wanted, list) and all(isinstance(i, str) for i in wanted)
    ):
        raise _bad("order_line_item_ids must be a list of ids")
    return _mark_shipped(ctx, order, tracking, provider, wanted)


@api()
async def mark_package_shipped_202610(ctx: ApiContext) -> dict[str, Any]:
    """``POST /fulfillment/202610/orders/{order_id}/packages`` body ``{order_line_list?:
    [{order_line_id}], shipping_info_list: [{tracking_number, shipping_provider_id}]}`` (one
    tracking number); answers ``{package_id, order_id, order_line_item_ids}``."""
    timeline.run_due(ctx.sim)
    order = _order(ctx, ctx.request.path_params["order_id"])
    body = ctx.json()
    infos = body.get("shipping_info_list")
    if not isinstance(infos, list) or not infos:
        raise _bad("shipping_info_list needs one entry with tracking_number and provider")
    if len(infos) > 1:
        raise _bad("only one tracking number can be uploaded at a time")
    info = infos[0]
    if not isinstance(info, dict):
        raise _bad("shipping_info_list[0] must be an object")
    tracking, provider = info.get("tracking_number"), info.get("shipping_provider_id")
    if not isinstance(tracking, str) or not tracking:
        raise _bad("shipping_info_list[0].tracking_number is required")
    if not isinstance(provider, str) or not provider:
        raise _bad("shipping_info_list[0].shipping_provider_id is required")
    lines = body.get("order_line_list")
    wanted: list[str] | None = None
    if lines:
        if not isinstance(lines, list) or not all(
            isinstance(line, dict) and isinstance(line.get("order_line_id"), str) for line in lines
        ):
            raise _bad("order_line_list entries need an order_line_id")
        wanted = [line["order_line_id"] for line in lines]
    return _mark_shipped(ctx, order, tracking, provider, wanted)


ROUTES = [
    Route(
        "/logistics/202309/delivery_options/{delivery_option_id}/shipping_providers",
        shipping_providers,
        methods=["GET"],
    ),
    Route("/fulfillment/202309/packages/{package_id}", package_detail, methods=["GET"]),
    Route("/fulfillment/202309/packages/{package_id}/ship", ship_package, methods=["POST"]),
    Route("/fulfillment/202309/orders/{order_id}/packages", mark_package_shipped, methods=["POST"]),
    Route(
        "/fulfillment/202610/orders/{order_id}/packages",
        mark_package_shipped_202610,
        methods=["POST"],
    ),
]
