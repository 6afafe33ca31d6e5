"""``/_sim/...`` controls for the order side: what buyers and TikTok itself do, and what was sent.

Unsigned plain JSON, like every control. A move the state machine refuses answers 409 with
TikTok's ``code`` and message (the same refusal the API would give); unknown ids answer 404.
"""

import secrets
import time
from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulator import after_sales, timeline, webhooks
from simulator import envelope as env
from simulator.control import ControlError
from simulator.core import Simulator
from simulator.order_books import Package

M = TypeVar("M", bound=BaseModel)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CancellationRequest(_Body):
    """Body of ``POST /_sim/orders/{order_id}/cancellation_request``."""

    reason: str | None = None  # one of after_sales.BUYER_CANCEL_REASONS (the first by default)
    line_item_ids: list[str] | None = None  # default: every line item that can be cancelled


class ReturnRequestBody(_Body):
    """Body of ``POST /_sim/orders/{order_id}/return_request``."""

    return_type: str = "REFUND"  # REFUND or RETURN_AND_REFUND
    line_item_ids: list[str] | None = None  # default: every line item that can be returned
    reason: str | None = None  # one of after_sales.RETURN_REASONS (the first by default)


class BuyerShipment(_Body):
    """Body of ``POST /_sim/returns/{return_id}/buyer_shipped``."""

    tracking_number: str = "SIMRETURN0001"
    provider_id: str = "6617"
    # The package reaches the seller too (RMA PENDING_PACKAGE_REVIEW), else it stays in transit.
    arrived: bool = True


class PlatformStatus(_Body):
    """Body of ``POST /_sim/products/{product_id}/platform_status``."""

    status: str  # FREEZE or PLATFORM_DEACTIVATED
    reason: str = "Violation of TikTok Shop product listing policy"


class InventoryChange(_Body):
    """Body of ``POST /_sim/products/{product_id}/inventory_changed``."""

    sku_id: str | None = None  # default: the product's first SKU
    delta: int
    trigger_source: str = "SELLER_CENTER"


async def _parse(request: Request, model: type[M]) -> M:
    raw = await request.body()
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        raise ControlError(400, str(exc)) from None


Handler = Callable[[Simulator, Request], Awaitable[Any]]


def control(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    """A control endpoint: runs what fell due first; a state-machine refusal answers 409."""

    async def endpoint(request: Request) -> Response:
        sim: Simulator = request.app.state.sim
        try:
            timeline.run_due(sim)
            answer = await handler(sim, request)
        except ControlError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except env.ApiFailure as failure:
            status = 409 if failure.http_status == 200 else failure.http_status
            return JSONResponse(
                {"error": failure.message, "code": failure.code}, status_code=status
            )
        return JSONResponse(answer)

    return endpoint


def _order_id(sim: Simulator, request: Request) -> str:
    order_id: str = request.path_params["order_id"]
    if order_id not in sim.world.orders:
        raise ControlError(404, "unknown order")
    return order_id


@control
async def request_cancellation(sim: Simulator, request: Request) -> dict[str, Any]:
    """The buyer cancels (UNPAID, ON_HOLD) or asks the seller to (later, before collection)."""
    order = sim.world.orders[_order_id(sim, request)]
    body = await _parse(request, CancellationRequest)
    c = after_sales.buyer_requests_cancellation(sim, order, body.reason, body.line_item_ids)
    return {"cancellation": after_sales.cancellation_api(sim, c), "order": order.to_api()}


@control
async def request_return(sim: Simulator, request: Request) -> dict[str, Any]:
    """The buyer asks for a refund (shipped) or a return and refund (delivered)."""
    order = sim.world.orders[_order_id(sim, request)]
    body = await _parse(request, ReturnRequestBody)
    r = after_sales.buyer_requests_return(
        sim, order, body.return_type, body.line_item_ids, body.reason
    )
    return {"return": after_sales.return_api(sim, r), "aftersales_request_id": r.aftersales_id}


@control
async def buyer_shipped(sim: Simulator, request: Request) -> dict[str, Any]:
    """The buyer sends a return back (AWAITING_BUYER_SHIP -> BUYER_SHIPPED_ITEM)."""
    r = sim.world.books.returns.get(request.path_params["return_id"])
    if r is None:
        raise ControlError(404, "unknown return")
    body = await _parse(request, BuyerShipment)
    after_sales.buyer_ships_return(sim, r, body.tracking_number, body.provider_id, body.arrived)
    return {
        "return": after_sales.return_api(sim, r),
        "rma_id": r.rma_id,
        "rma_status": r.rma_status,
    }


@control
async def get_cancellation(sim: Simulator, request: Request) -> dict[str, Any]:
    """A cancellation as the search answers it."""
    c = sim.world.books.cancellations.get(request.path_params["cancel_id"])
    if c is None:
        raise ControlError(404, "unknown cancellation")
    return {"cancellation": after_sales.cancellation_api(sim, c), "shop_id": c.shop_id}


@control
async def get_return(sim: Simulator, request: Request) -> dict[str, Any]:
    """A return as the search answers it, with its after-sales request."""
    r = sim.world.books.returns.get(request.path_params["return_id"])
    if r is None:
        raise ControlError(404, "unknown return")
    return {
        "return": after_sales.return_api(sim, r),
        "aftersales_request": after_sales.aftersales_api(
            sim, r, {"LINE_ITEMS", "RETURN_MERCHANDISE_AUTHORIZATIONS"}
        ),
        "shop_id": r.shop_id,
    }


def _package_view(package: Package) -> dict[str, Any]:
    return {
        "id": package.id,
        "order_id": package.order_id,
        "status": package.status,
        "line_item_ids": package.line_item_ids,
        "tracking_number": package.tracking_number,
        "shipping_provider_id": package.shipping_provider_id,
        "handover_method": package.handover_method,
    }


@control
async def order_packages(sim: Simulator, request: Request) -> dict[str, Any]:
    """The order's packages: status, line items, tracking."""
    order_id = _order_id(sim, request)
    return {"packages": [_package_view(p) for p in sim.world.books.packages_of(order_id)]}


@control
async def webhook_deliveries(sim: Simulator, request: Request) -> dict[str, Any]:
    """What was sent where: ``?shop_id=`` and ``?type=`` narrow the list (oldest first)."""
    shop_id = request.query_params.get("shop_id")
    kind = request.query_params.get("type")
    return {
        "deliveries": [
            vars(d)
            for d in sim.world.books.deliveries
            if (shop_id is None or d.shop_id == shop_id) and (kind is None or str(d.type) == kind)
        ],
        "retries_pending": len(sim.world.books.retries),
    }


def _digits_as_number(value: str) -> int | str:
    """TikTok's newer payloads carry ids as JSON numbers; a non-numeric test id stays text."""
    return int(value) if value.isdigit() else value


@control
async def platform_status(sim: Simulator, request: Request) -> dict[str, Any]:
    """TikTok itself freezes or deactivates a product: detail shows why; type 5 is pushed with
    ``status`` PRODUCT_STATUS_CHANGED and the product id as a JSON number."""
    product = sim.world.products.get(request.path_params["product_id"])
    if product is None:
        raise ControlError(404, "unknown product")
    body = await _parse(request, PlatformStatus)
    if body.status not in ("FREEZE", "PLATFORM_DEACTIVATED"):
        raise ControlError(400, "status must be FREEZE or PLATFORM_DEACTIVATED")
    product.status = body.status
    product.update_time = sim.bump(product.update_time)
    product.audit_failed_reasons = [
        {
            "listing_platform": "TIKTOK_SHOP",
            "position": "product",
            "reasons": [body.reason],
            "suggestions": ["Edit the listing to follow the policy, then submit it again."],
        }
    ]
    queued = webhooks.publish(
        sim,
        product.shop_id,
        webhooks.PRODUCT_STATUS_CHANGE,
        {
            "product_id": _digits_as_number(product.id),
            "status": "PRODUCT_STATUS_CHANGED",
            "suspended_reason": body.reason,
            "update_time": product.update_time,
        },
    )
    return {"product": product.detail(), "queued": queued}


@control
async def inventory_changed(sim: Simulator, request: Request) -> dict[str, Any]:
    """The seller changed stock outside the API (Seller Center): the SKU's first warehouse moves
    by ``delta`` and type 71 is pushed in its own shape (``event_id``, ISO-8601 UTC
    ``occurred_at``, numeric ids, one ``change_detail`` with its ``idempotency_key``)."""
    product = sim.world.products.get(request.path_params["product_id"])
    if product is None:
        raise ControlError(404, "unknown product")
    body = await _parse(request, InventoryChange)
    sku = next(
        (s for s in product.skus if body.sku_id in (None, s["id"])),
        None,
    )
    if sku is None:
        raise ControlError(404, "unknown sku")
    stock = sku["inventory"][0]
    if stock["quantity"] + body.delta < 0:
        raise ControlError(409, "stock cannot go below zero")
    stock["quantity"] += body.delta
    total = sum(int(i["quantity"]) for i in sku["inventory"])
    product.update_time = sim.bump(product.update_time)
    event_id = str(secrets.randbelow(10**18) + 10**18)
    occurred = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(sim.now()))
    data = {
        "event_id": event_id,
        "occurred_at": occurred,
        "shop_id": _digits_as_number(product.shop_id),
        "product_id": _digits_as_number(product.id),
        "sku_id": _digits_as_number(sku["id"]),
        "quantity_snapshot_after_change": {
            "total_quantity": total,
            "total_available_quantity": total,
            "total_committed_quantity": 0,
            "in_shop_quantity": total,
            "campaign_locked_quantity": 0,
            "creator_locked_quantity": 0,
        },
        "change_detail": [
            {
                "idempotency_key": f"{event_id}-1",
                "trigger_source": body.trigger_source,
                "occurred_at": occurred,
                "total_quantity_delta": body.delta,
                "available_quantity_delta": body.delta,
                "committed_quantity_delta": 0,
                "in_shop_quantity_delta": body.delta,
                "campaign_locked_quantity_delta": 0,
                "creator_locked_quantity_delta": 0,
            }
        ],
    }
    queued = webhooks.publish(sim, product.shop_id, webhooks.INVENTORY_CHANGED_BY_SHOP, data)
    return {"queued": queued, "sku": sku}


ROUTES = [
    Route("/_sim/orders/{order_id}/cancellation_request", request_cancellation, methods=["POST"]),
    Route("/_sim/orders/{order_id}/return_request", request_return, methods=["POST"]),
    Route("/_sim/orders/{order_id}/packages", order_packages, methods=["GET"]),
    Route("/_sim/returns/{return_id}/buyer_shipped", buyer_shipped, methods=["POST"]),
    Route("/_sim/returns/{return_id}", get_return, methods=["GET"]),
    Route("/_sim/cancellations/{cancel_id}", get_cancellation, methods=["GET"]),
    Route("/_sim/webhooks/deliveries", webhook_deliveries, methods=["GET"]),
    Route("/_sim/products/{product_id}/platform_status", platform_status, methods=["POST"]),
    Route("/_sim/products/{product_id}/inventory_changed", inventory_changed, methods=["POST"]),
]
