"""Everything TikTok checks before an Open API handler runs, in one decorator.

Order: injected faults (latency, dropped connection, 5xx, forced 429), then ``app_key``,
timestamp window, ``sign``, ``x-tts-access-token``, ``shop_cipher``, permission, the shop's rate
limit; only then the handler. Each refusal is TikTok's error envelope.
"""

import asyncio
import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.types import Receive, Scope, Send

from simulator import envelope as env
from simulator.core import Simulator
from simulator.faults import LoggedRequest, retry_after_header
from simulator.signature import sign_matches
from simulator.world import Grant, Shop


@dataclass
class ApiContext:
    sim: Simulator
    request: Request
    grant: Grant
    shop: Shop | None
    query: dict[str, str]
    body: bytes

    @property
    def scoped_shop(self) -> Shop:
        assert self.shop is not None, "only shop-scoped handlers ask for the shop"
        return self.shop

    def json(self) -> dict[str, Any]:
        """The JSON object body; an empty body is ``{}``."""
        if not self.body:
            return {}
        try:
            payload = json.loads(self.body)
        except ValueError:
            raise env.ApiFailure(400, env.INVALID_PARAMETER, "body is not valid JSON") from None
        if not isinstance(payload, dict):
            raise env.ApiFailure(400, env.INVALID_PARAMETER, "body must be a JSON object")
        return payload


Handler = Callable[[ApiContext], Awaitable[Any]]


class DroppedConnection(Response):
    """Starts an answer and abandons it: the server closes the connection mid-response."""

    def __init__(self) -> None:
        super().__init__(status_code=200)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await send(
            {
                "type": "http.response.start",
                "status": 200,
                "headers": [(b"content-length", b"64"), (b"content-type", b"application/json")],
            }
        )
        # Returning without the body makes the server log it and close the connection.


def api(shop_scoped: bool = True) -> Callable[[Handler], Callable[[Request], Awaitable[Response]]]:
    def wrap(handler: Handler) -> Callable[[Request], Awaitable[Response]]:
        async def endpoint(request: Request) -> Response:
            sim: Simulator = request.app.state.sim
            cipher = request.query_params.get("shop_cipher")
            known = sim.world.shop_by_cipher(cipher) if cipher else None
            entry = sim.log.add(
                LoggedRequest(
                    sim.config.clock(),
                    request.method,
                    request.url.path,
                    known.id if known is not None else None,
                )
            )
            try:
                response = await _injected_fault(sim)
                if response is None:
                    context = await _admit(sim, request, entry, shop_scoped)
                    response = env.success(await handler(context))
            except env.ApiFailure as failure:
                response = failure.response()
            if not isinstance(response, DroppedConnection):
                entry.status = response.status_code
                entry.code = _code_of(response)
            return response

        return endpoint

    return wrap


def _code_of(response: Response) -> int | None:
    if isinstance(response, JSONResponse):
        try:
            code = json.loads(bytes(response.body)).get("code")
        except (ValueError, AttributeError):
            return None
        return code if isinstance(code, int) else None
    return None


async def _injected_fault(sim: Simulator) -> Response | None:
    faults = sim.faults
    delay_ms = faults.latency_ms + (faults.slow_ms if faults.take("slow_next") else 0)
    if delay_ms:
        await asyncio.sleep(delay_ms / 1000)
    if faults.take("drop_next") or (faults.drop_rate and sim.rng.random() < faults.drop_rate):
        return DroppedConnection()
    if faults.take("fail_next") or (faults.error_rate and sim.rng.random() < faults.error_rate):
        return env.failure(faults.error_status, env.SERVER_ERROR, "internal error (simulated)")
    if faults.take("throttle_next"):
        return _throttled(faults.retry_after)
    return None


def _throttled(retry_after: int | None) -> Response:
    headers = {} if retry_after is None else {"retry-after": str(retry_after)}
    return env.failure(429, env.THROTTLED, "Too many requests", headers)


async def _admit(
    sim: Simulator, request: Request, entry: LoggedRequest, shop_scoped: bool
) -> ApiContext:
    config = sim.config
    pairs = list(request.query_params.multi_items())
    query = dict(pairs)
    body = await request.body()

    if query.get("app_key") != config.app_key:
        raise env.ApiFailure(401, env.INVALID_APP_KEY, "app_key is missing or unknown")
    try:
        timestamp = int(query.get("timestamp", ""))
    except ValueError:
        raise env.ApiFailure(401, env.INVALID_TIMESTAMP, "timestamp is missing") from None
    now = sim.now()
    if (
        not now - config.timestamp_past_seconds
        <= timestamp
        <= now + config.timestamp_future_seconds
    ):
        raise env.ApiFailure(401, env.INVALID_TIMESTAMP, "timestamp is outside the window")
    sign = query.get("sign", "")
    content_type = request.headers.get("content-type", "")
    if not sign or not sign_matches(
        config.app_secret, request.url.path, pairs, body, content_type, sign
    ):
        raise env.ApiFailure(401, env.INVALID_SIGNATURE, "Invalid signature")

    token_value = request.headers.get("x-tts-access-token")
    if not token_value:
        raise env.ApiFailure(
            401, env.ACCESS_TOKEN_INVALID, "access token missing from the x-tts-access-token header"
        )
    token = sim.world.access_tokens.get(token_value)
    if token is None or token.grant.revoked:
        raise env.ApiFailure(401, env.ACCESS_TOKEN_INVALID, "Invalid access token")
    if now >= token.expires_at:
        raise env.ApiFailure(401, env.ACCESS_TOKEN_EXPIRED, "Access token is expired")

    shop: Shop | None = None
    if shop_scoped:
        cipher = query.get("shop_cipher")
        if not cipher:
            raise env.ApiFailure(400, env.SHOP_CIPHER_MISSING, "shop_cipher is required")
        shop = sim.world.shop_by_cipher(cipher)
        if shop is None or shop.id not in token.grant.shop_ids:
            raise env.ApiFailure(400, env.SHOP_CIPHER_INVALID, "shop_cipher is invalid")
        entry.shop_id = shop.id

    path = request.url.path
    if any(path.startswith(prefix) for prefix in sim.faults.permission_denied_paths):
        raise env.ApiFailure(
            403, env.PERMISSION_DENIED, "The app lacks the permission for this API"
        )

    gate = sim.rate_gate()
    if gate is not None:
        wait = gate.admit(shop.id if shop is not None else f"app:{config.app_key}")
        if wait is not None:
            headers = (
                {} if sim.faults.retry_after is None else {"retry-after": retry_after_header(wait)}
            )
            raise _ThrottledFailure(headers)

    return ApiContext(sim, request, token.grant, shop, query, body)


class _ThrottledFailure(env.ApiFailure):
    def __init__(self, headers: dict[str, str]) -> None:
        super().__init__(429, env.THROTTLED, "Too many requests")
        self.headers = headers

    def response(self) -> JSONResponse:
        return env.failure(429, env.THROTTLED, "Too many requests", self.headers)
