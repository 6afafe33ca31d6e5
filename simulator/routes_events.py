"""The Event API (202309): list, set and delete a shop's webhook address per event type."""

from typing import Any
from urllib.parse import urlsplit

from starlette.routing import Route

from simulator import envelope as env
from simulator import order_codes as codes
from simulator import webhooks
from simulator.gate import ApiContext, api

MAX_ADDRESS = 255


def _bad(message: str) -> env.ApiFailure:
    return env.ApiFailure(400, env.INVALID_PARAMETER, message)


def _event_type(body: dict[str, Any]) -> int:
    name = body.get("event_type")
    if not isinstance(name, str) or not name:
        raise _bad("event_type is required")
    if name not in webhooks.EVENT_API_TYPES:
        raise _bad(f"unknown event_type {name!r}")
    return webhooks.EVENT_API_TYPES[name]


@api()
async def list_webhooks(ctx: ApiContext) -> dict[str, Any]:
    """``GET /event/202309/webhooks``: ``webhooks`` [{event_type, address, create_time,
    update_time (ms)}], ``total_count``."""
    shop_id = ctx.scoped_shop.id
    found = sorted(
        (
            s
            for (owner, number), s in ctx.sim.world.books.subscriptions.items()
            if owner == shop_id and number in webhooks.EVENT_API_NAMES
        ),
        key=lambda s: s.event_type,
    )
    return {
        "webhooks": [
            {
                "event_type": webhooks.EVENT_API_NAMES[s.event_type],
                "address": s.address,
                "create_time": s.create_time_ms,
                "update_time": s.update_time_ms,
            }
            for s in found
        ],
        "total_count": len(found),
    }


@api()
async def update_webhook(ctx: ApiContext) -> dict[str, Any]:
    """``PUT /event/202309/webhooks`` body ``{address, event_type}``: set (or move) one type."""
    body = ctx.json()
    address = body.get("address")
    if not isinstance(address, str) or not address:
        raise _bad("address is required")
    if len(address) > MAX_ADDRESS:
        raise _bad(f"address is longer than {MAX_ADDRESS} characters")
    parts = urlsplit(address)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise _bad("address must be an http or https URL")
    webhooks.subscribe(ctx.sim, ctx.scoped_shop.id, _event_type(body), address)
    return {}


@api()
async def delete_webhook(ctx: ApiContext) -> dict[str, Any]:
    """``DELETE /event/202309/webhooks`` body ``{event_type}``."""
    number = _event_type(ctx.json())
    removed = ctx.sim.world.books.subscriptions.pop((ctx.scoped_shop.id, number), None)
    if removed is None:
        raise env.ApiFailure(
            200,
            codes.WEBHOOK_NOT_REGISTERED,
            f"no webhook is registered for {webhooks.EVENT_API_NAMES[number]}",
        )
    return {}


ROUTES = [
    Route("/event/202309/webhooks", list_webhooks, methods=["GET"]),
    Route("/event/202309/webhooks", update_webhook, methods=["PUT"]),
    Route("/event/202309/webhooks", delete_webhook, methods=["DELETE"]),
]
