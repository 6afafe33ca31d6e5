"""Helpers for the TikTok tests: serving an ASGI app in-process, driving the simulator."""

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from typing import Any

import httpx
import uvicorn
from starlette.types import ASGIApp

from service.adapters.tiktok import ShopRef, TikTokShopClient
from service.adapters.tiktok.models import ProductInput
from simulator import Simulator

APP_KEY = "test-app-key"
APP_SECRET = "test-app-secret"

ClientFactory = Callable[..., TikTokShopClient]


async def poll(
    check: Callable[[], Awaitable[bool]] | Callable[[], bool],
    *,
    timeout: float = 10.0,
    interval: float = 0.02,
    what: str = "condition",
) -> None:
    """Wait until ``check()`` is true, failing after ``timeout`` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        await asyncio.sleep(interval)


class _Server(uvicorn.Server):
    """Leaves the test runner's signal handlers alone."""

    @contextlib.contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


@contextlib.asynccontextmanager
async def serving(app: ASGIApp) -> AsyncIterator[str]:
    """Serve ``app`` with uvicorn on an ephemeral port of this event loop; yield its URL."""
    server = _Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    task = asyncio.create_task(server.serve())
    await poll(lambda: server.started or task.done(), what="uvicorn to start")
    assert server.started, "uvicorn did not start"
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@dataclass
class SimServer:
    url: str
    sim: Simulator


@dataclass
class Delivery:
    headers: dict[str, str]
    body: bytes


@dataclass
class WebhookReceiver:
    """A stand-in for our ingress: records each delivery and answers 200."""

    url: str
    deliveries: list[Delivery]


@dataclass
class SeededShop:
    ref: ShopRef
    access_token: str
    refresh_token: str


class SimControl:
    """The simulator's ``/_sim`` endpoints, over HTTP like any other user of them."""

    def __init__(self, http: httpx.AsyncClient, sim: Simulator) -> None:
        self.http = http
        self.sim = sim
        self.url = str(http.base_url).rstrip("/")

    async def call(self, method: str, path: str, body: Any = None, **params: str) -> Any:
        answer = await self.http.request(method, f"/_sim{path}", json=body, params=params)
        assert answer.status_code == 200, answer.text
        return answer.json()

    async def shop(self, **fields: Any) -> dict[str, Any]:
        shops: list[dict[str, Any]] = (await self.call("POST", "/seed", {"shops": [fields]}))[
            "shops"
        ]
        return shops[0]

    async def tokens(self, *shop_ids: str, **ttl: int) -> dict[str, Any]:
        result: dict[str, Any] = await self.call(
            "POST", "/tokens", {"shop_ids": list(shop_ids), **ttl}
        )
        return result

    async def faults(self, **plan: Any) -> dict[str, Any]:
        result: dict[str, Any] = await self.call("POST", "/faults", plan)
        return result

    async def requests(self, path_prefix: str | None = None) -> list[dict[str, Any]]:
        params = {"path_prefix": path_prefix} if path_prefix else {}
        entries: list[dict[str, Any]] = (await self.call("GET", "/requests", **params))["requests"]
        return entries

    async def clear_requests(self) -> None:
        await self.call("DELETE", "/requests")


def product_body(title: str = "Organic cotton tee", price: str = "19.99") -> ProductInput:
    return ProductInput.model_validate(
        {
            "title": title,
            "description": "<p>Soft.</p>",
            "category_id": "600001",
            "main_images": [{"uri": "tos-maliva-i-o3syd03w52-us/c668cdf70b7f483c94dbe"}],
            "skus": [
                {
                    "seller_sku": "TEE-M",
                    "price": {"amount": price, "currency": "USD"},
                    "inventory": [{"warehouse_id": "7068517275539719942", "quantity": 12}],
                }
            ],
            "package_weight": {"value": "0.3", "unit": "KILOGRAM"},  # passes through
        }
    )
