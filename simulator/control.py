"""``/_sim/...``: JSON endpoints with which tests and demos drive the simulator.

Not part of TikTok's API: unsigned, and answering plain JSON rather than TikTok's envelope.
"""

from collections.abc import Awaitable, Callable
from typing import Any, TypeVar

from pydantic import BaseModel, ConfigDict, Field, ValidationError
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from simulator import audit, seeding, timeline, webhooks
from simulator.core import Simulator
from simulator.demo import seed_demo
from simulator.faults import FaultPlan
from simulator.fulfillment import ORDER_STATUSES, order_status_data, set_order_status
from simulator.routes_products import PRODUCT_STATUSES
from simulator.world import AuthCode, Grant

M = TypeVar("M", bound=BaseModel)


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class IssueTokens(_Body):
    shop_ids: list[str] = Field(min_length=1)
    access_ttl: int | None = None
    refresh_ttl: int | None = None
    seller_name: str = "Sim seller"


class IssueAuthCode(_Body):
    shop_ids: list[str] = Field(min_length=1)
    ttl: int | None = None


class ExpireTokens(_Body):
    access_token: str | None = None
    refresh_token: str | None = None


class WebhookTarget(_Body):
    url: str | None


class OrderStatusChange(_Body):
    status: str
    # Push to this URL at once (else, after the answer, to the shop's ORDER_STATUS_CHANGE one).
    webhook_url: str | None = None
    # Spell the status differently in the notification, as webhooks do (``CANCEL``).
    webhook_status: str | None = None
    # Deliver the same notification more than once, as TikTok's retries do.
    deliveries: int = Field(default=1, ge=1, le=5)


class ProductStatusChange(_Body):
    status: str


class PushWebhook(_Body):
    # Push to this URL at once; without it, queue it to the shop's address for the type.
    url: str | None = None
    type: int
    shop_id: str
    # Anything goes, as in TikTok's pushes (keys with "." or starting with "$" included).
    data: dict[str, Any]
    # Send this Authorization value instead of the right one (to test refusals).
    authorization: str | None = None
    # Loose shapes TikTok really sends: no tts_notification_id; ids as JSON numbers.
    omit_notification_id: bool = False
    numeric_ids: bool = False
    deliveries: int = Field(default=1, ge=1, le=5)


class ClockChange(_Body):
    advance: float | None = None
    offset: float | None = None


class ControlError(Exception):
    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


async def _parse(request: Request, model: type[M]) -> M:
    raw = await request.body()
    try:
        return model.model_validate_json(raw or b"{}")
    except ValidationError as exc:
        raise ControlError(400, str(exc)) from None


Handler = Callable[[Simulator, Request], Awaitable[Any]]


def control(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        try:
            answer = await handler(request.app.state.sim, request)
        except ControlError as exc:
            return JSONResponse({"error": str(exc)}, status_code=exc.status)
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse(answer)

    return endpoint


@control
async def reset(sim: Simulator, request: Request) -> dict[str, Any]:
    webhooks.discard_pending(sim)
    sim.reset()
    seed_demo(sim)
    return {"reset": True}


@control
async def seed(sim: Simulator, request: Request) -> dict[str, Any]:
    body = await _parse(request, seeding.Seed)
    shops = [seeding.add_shop(sim, s) for s in body.shops]
    products = [seeding.add_product(sim, p) for p in body.products]
    orders = [seeding.add_order(sim, o) for o in body.orders]
    return {
        "shops": [{**s.to_api(), "webhook_url": s.webhook_url} for s in shops],
        "products": [p.id for p in products],
        "orders": [o.id for o in orders],
    }


@control
async def generate(sim: Simulator, request: Request) -> dict[str, Any]:
    return seeding.generate(sim, await _parse(request, seeding.Generate))


def _known_shops(sim: Simulator, shop_ids: list[str]) -> tuple[str, ...]:
    unknown = [s for s in shop_ids if s not in sim.world.shops]
    if unknown:
        raise ControlError(404, f"unknown shops: {', '.join(unknown)}")
    return tuple(shop_ids)


@control
async def issue_tokens(sim: Simulator, request: Request) -> dict[str, Any]:
    body = await _parse(request, IssueTokens)
    grant = Grant(_known_shops(sim, body.shop_ids), sim.world.next_id("open"), body.seller_name)
    access, refresh = sim.world.issue_tokens(
        grant,
        sim.now(),
        sim.config.access_token_ttl if body.access_ttl is None else body.access_ttl,
        sim.config.refresh_token_ttl if body.refresh_ttl is None else body.refresh_ttl,
    )
    return {
        "access_token": access.value,
        "access_token_expire_in": access.expires_at,
        "refresh_token": refresh.value,
        "refresh_token_expire_in": refresh.expires_at,
    }


@control
async def issue_auth_code(sim: Simulator, request: Request) -> dict[str, Any]:
    body = await _parse(request, IssueAuthCode)
    code = AuthCode(
        value=f"ROW_{sim.world.next_id('code')}",
        shop_ids=_known_shops(sim, body.shop_ids),
        expires_at=sim.now() + (sim.config.auth_code_ttl if body.ttl is None else body.ttl),
    )
    sim.world.auth_codes[code.value] = code
    return {"auth_code": code.value, "expires_at": code.expires_at}


@control
async def expire_tokens(sim: Simulator, request: Request) -> dict[str, Any]:
    body = await _parse(request, ExpireTokens)
    past = sim.now() - 1
    expired: list[str] = []
    for value, table in (
        (body.access_token, sim.world.access_tokens),
        (body.refresh_token, sim.world.refresh_tokens),
    ):
        if value is None:
            continue
        token = table.get(value)
        if token is None:
            raise ControlError(404, "unknown token")
        token.expires_at = past
        expired.append("access_token" if table is sim.world.access_tokens else "refresh_token")
    return {"expired": expired}


@control
async def deauthorize(sim: Simulator, request: Request) -> dict[str, Any]:
    shop_id = request.path_params["shop_id"]
    grants = {
        id(t.grant): t.grant
        for t in [*sim.world.access_tokens.values(), *sim.world.refresh_tokens.values()]
        if shop_id in t.grant.shop_ids
    }
    for grant in grants.values():
        grant.revoked = True
    return {"revoked": len(grants)}


@control
async def set_webhook(sim: Simulator, request: Request) -> dict[str, Any]:
    shop = sim.world.shops.get(request.path_params["shop_id"])
    if shop is None:
        raise ControlError(404, "unknown shop")
    # Every type: each Event API name is registered, and the rest go to the same address.
    webhooks.subscribe_all(sim, shop.id, (await _parse(request, WebhookTarget)).url)
    return {"shop_id": shop.id, "webhook_url": shop.webhook_url}


@control
async def change_order_status(sim: Simulator, request: Request) -> dict[str, Any]:
    order = sim.world.orders.get(request.path_params["order_id"])
    if order is None:
        raise ControlError(404, "unknown order")
    body = await _parse(request, OrderStatusChange)
    if body.status not in ORDER_STATUSES:
        raise ControlError(400, f"unknown status {body.status!r}")
    timeline.run_due(sim)
    set_order_status(sim, order, body.status)
    deliveries: list[dict[str, Any]] = []
    if body.webhook_url:
        raw = sim.order_status_notification(order, body.webhook_status)
        for _ in range(body.deliveries):
            deliveries.append(await sim.push_webhook(body.webhook_url, raw))
        return {"order": order.to_api(), "webhooks": deliveries}
    queued = webhooks.publish(
        sim,
        order.shop_id,
        webhooks.ORDER_STATUS_CHANGE,
        order_status_data(order, body.webhook_status),
        copies=body.deliveries,
    )
    return {"order": order.to_api(), "webhooks": deliveries, "queued": queued}


@control
async def change_product_status(sim: Simulator, request: Request) -> dict[str, Any]:
    product = sim.world.products.get(request.path_params["product_id"])
    if product is None:
        raise ControlError(404, "unknown product")
    body = await _parse(request, ProductStatusChange)
    if body.status not in PRODUCT_STATUSES:
        raise ControlError(400, f"unknown status {body.status!r}")
    product.status = body.status
    product.update_time = sim.bump(product.update_time)
    return {"product": product.detail()}


@control
async def get_order(sim: Simulator, request: Request) -> dict[str, Any]:
    timeline.run_due(sim)
    order = sim.world.orders.get(request.path_params["order_id"])
    if order is None:
        raise ControlError(404, "unknown order")
    return {"order": order.to_api(), "shop_id": order.shop_id}


@control
async def get_product(sim: Simulator, request: Request) -> dict[str, Any]:
    product = sim.world.products.get(request.path_params["product_id"])
    if product is None:
        raise ControlError(404, "unknown product")
    return {"product": product.detail(), "shop_id": product.shop_id}


@control
async def push_webhook(sim: Simulator, request: Request) -> dict[str, Any]:
    body = await _parse(request, PushWebhook)
    data = webhooks.numeric_ids(body.data) if body.numeric_ids else body.data
    if body.url is None:
        return {
            "queued": webhooks.publish(
                sim,
                body.shop_id,
                body.type,
                data,
                with_notification_id=not body.omit_notification_id,
                copies=body.deliveries,
            )
        }
    raw = webhooks.envelope(
        sim, body.type, body.shop_id, data, with_notification_id=not body.omit_notification_id
    )
    results = [
        await sim.push_webhook(body.url, raw, body.authorization) for _ in range(body.deliveries)
    ]
    return results[0] if len(results) == 1 else {"deliveries": results}


@control
async def faults(sim: Simulator, request: Request) -> dict[str, Any]:
    if request.method == "DELETE":
        sim.faults = sim.default_faults()
    elif request.method == "POST":
        changes = await request.json() if await request.body() else {}
        if not isinstance(changes, dict):
            raise ControlError(400, "expected a JSON object")
        try:
            sim.faults = FaultPlan.model_validate({**sim.faults.model_dump(), **changes})
        except ValidationError as exc:
            raise ControlError(400, str(exc)) from None
    return sim.faults.model_dump()


@control
async def requests_log(sim: Simulator, request: Request) -> dict[str, Any]:
    if request.method == "DELETE":
        sim.log.clear()
        return {"requests": []}
    query = request.query_params
    return {"requests": sim.log.select(query.get("path_prefix"), query.get("shop_id"))}


@control
async def clock(sim: Simulator, request: Request) -> dict[str, Any]:
    verdicts: list[dict[str, Any]] = []
    if request.method == "POST":
        body = await _parse(request, ClockChange)
        if body.offset is not None:
            sim.clock_offset = body.offset
        if body.advance is not None:
            sim.clock_offset += body.advance
        # What fell due meanwhile happens now, in order (webhooks follow the answer), and
        # audits that came due in the skipped time give their verdicts.
        timeline.run_due(sim)
        verdicts = await audit.settle(sim)
    return {"now": sim.now(), "offset": sim.clock_offset, "webhooks": verdicts}


ROUTES = [
    Route("/_sim/reset", reset, methods=["POST"]),
    Route("/_sim/seed", seed, methods=["POST"]),
    Route("/_sim/generate", generate, methods=["POST"]),
    Route("/_sim/tokens", issue_tokens, methods=["POST"]),
    Route("/_sim/tokens/expire", expire_tokens, methods=["POST"]),
    Route("/_sim/auth_codes", issue_auth_code, methods=["POST"]),
    Route("/_sim/shops/{shop_id}/deauthorize", deauthorize, methods=["POST"]),
    Route("/_sim/shops/{shop_id}/webhook", set_webhook, methods=["PUT"]),
    Route("/_sim/orders/{order_id}", get_order, methods=["GET"]),
    Route("/_sim/orders/{order_id}/status", change_order_status, methods=["POST"]),
    Route("/_sim/products/{product_id}", get_product, methods=["GET"]),
    Route("/_sim/products/{product_id}/status", change_product_status, methods=["POST"]),
    Route("/_sim/webhooks", push_webhook, methods=["POST"]),
    Route("/_sim/faults", faults, methods=["GET", "POST", "DELETE"]),
    Route("/_sim/requests", requests_log, methods=["GET", "DELETE"]),
    Route("/_sim/clock", clock, methods=["GET", "POST"]),
]
