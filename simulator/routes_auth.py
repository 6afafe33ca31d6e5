"""The auth host's token endpoints: exchange an authorization code, refresh an access token.

Not signed; the app proves itself with ``app_secret`` in the query, as TikTok specifies.
"""

from collections.abc import Callable
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from simulator import envelope as env
from simulator.core import Simulator
from simulator.faults import LoggedRequest
from simulator.world import Grant, IssuedToken


def _answer(sim: Simulator, access: IssuedToken, refresh: IssuedToken) -> dict[str, Any]:
    grant = access.grant
    first = sim.world.shops.get(grant.shop_ids[0]) if grant.shop_ids else None
    return {
        "access_token": access.value,
        "access_token_expire_in": access.expires_at,
        "refresh_token": refresh.value,
        "refresh_token_expire_in": refresh.expires_at,
        "open_id": grant.open_id,
        "seller_name": grant.seller_name,
        "seller_base_region": first.region if first is not None else "US",
        "user_type": 0,
        "granted_scopes": ["seller.product.basic", "seller.order.info"],
    }


def _check_app(sim: Simulator, request: Request, grant_type: str) -> None:
    query = request.query_params
    if (
        query.get("app_key") != sim.config.app_key
        or query.get("app_secret") != sim.config.app_secret
    ):
        raise env.ApiFailure(401, env.INVALID_APP_KEY, "app_key or app_secret is invalid")
    if query.get("grant_type") != grant_type:
        raise env.ApiFailure(400, env.INVALID_PARAMETER, f"grant_type must be {grant_type}")


def _exchange(sim: Simulator, request: Request) -> dict[str, Any]:
    _check_app(sim, request, "authorized_code")
    code = sim.world.auth_codes.get(request.query_params.get("auth_code", ""))
    now = sim.now()
    if code is None or code.used or now >= code.expires_at:
        raise env.ApiFailure(400, env.INVALID_AUTH_CODE, "auth_code is invalid, used or expired")
    code.used = True  # a code works once
    grant = Grant(
        shop_ids=code.shop_ids,
        open_id=sim.world.next_id("open"),
        seller_name=f"Sim seller {code.shop_ids[0][-4:] if code.shop_ids else ''}".strip(),
    )
    access, refresh = sim.world.issue_tokens(
        grant, now, sim.config.access_token_ttl, sim.config.refresh_token_ttl
    )
    return _answer(sim, access, refresh)


def _refresh(sim: Simulator, request: Request) -> dict[str, Any]:
    _check_app(sim, request, "refresh_token")
    refresh = sim.world.refresh_tokens.get(request.query_params.get("refresh_token", ""))
    if refresh is None or refresh.grant.revoked:
        raise env.ApiFailure(400, env.NO_AUTHORIZATION_RECORD, "no authorization record")
    now = sim.now()
    if now >= refresh.expires_at:
        raise env.ApiFailure(400, env.REFRESH_TOKEN_EXPIRED, "refresh token is expired")
    # A new access token; the refresh token stays the same until it nears its own expiry.
    access = sim.world.issue_access_token(refresh.grant, now, sim.config.access_token_ttl)
    return _answer(sim, access, refresh)


async def token_get(request: Request) -> Response:
    return _run(request, _exchange)


async def token_refresh(request: Request) -> Response:
    return _run(request, _refresh)


def _run(request: Request, action: Callable[[Simulator, Request], dict[str, Any]]) -> Response:
    sim: Simulator = request.app.state.sim
    entry = sim.log.add(LoggedRequest(sim.config.clock(), request.method, request.url.path))
    try:
        response = env.success(action(sim, request))
        entry.code = env.OK
    except env.ApiFailure as failure:
        response = failure.response()
        entry.code = failure.code
    entry.status = response.status_code
    return response


ROUTES = [
    Route("/api/v2/token/get", token_get, methods=["GET"]),
    Route("/api/v2/token/refresh", token_refresh, methods=["GET"]),
]
