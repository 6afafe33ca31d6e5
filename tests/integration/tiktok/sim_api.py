"""Signed raw calls to the simulator's Open API, and a webhook inbox with many addresses.

Raw calls (rather than the service's client) so that each refusal can be provoked on purpose:
a wrong signature, no shop cipher, a body the client would never send.
"""

import json
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from service.adapters.tiktok.signing import sign_request
from tests.integration.tiktok.sim_support import APP_KEY, APP_SECRET, SeededShop, SimControl, poll


@dataclass
class Answer:
    status: int
    body: dict[str, Any]

    @property
    def code(self) -> int:
        code: int = self.body["code"]
        return code

    @property
    def data(self) -> Any:
        return self.body["data"]


class SignedApi:
    """One shop's signed calls: ``await api.call("POST", path, body={...}, query={...})``."""

    def __init__(self, sim: SimControl, shop: SeededShop) -> None:
        self.http = sim.http
        self.sim = sim.sim
        self.shop = shop

    async def call(
        self,
        method: str,
        path: str,
        *,
        body: Any = None,
        query: dict[str, str] | None = None,
        cipher: bool = True,
        bad_sign: bool = False,
    ) -> Answer:
        raw = b"" if body is None else json.dumps(body).encode()
        # TikTok's clock, which tests may move on.
        params = {"app_key": APP_KEY, "timestamp": str(self.sim.now()), **(query or {})}
        if cipher:
            params["shop_cipher"] = self.shop.ref.cipher
        params["sign"] = sign_request(APP_SECRET, path, params, raw)
        if bad_sign:
            params["sign"] = "0" * 64
        headers = {"x-tts-access-token": self.shop.access_token}
        if body is not None:
            headers["content-type"] = "application/json"
        answer = await self.http.request(method, path, params=params, content=raw, headers=headers)
        return Answer(answer.status_code, answer.json())

    async def ok(self, method: str, path: str, **kwargs: Any) -> Any:
        """The call's ``data``, asserting TikTok's success envelope."""
        answer = await self.call(method, path, **kwargs)
        assert (answer.status, answer.code) == (200, 0), answer.body
        assert answer.body["message"] == "Success"
        return answer.data


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes

    @property
    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Inbox:
    """Receives webhooks on any path under ``base``; paths starting ``/fail`` answer 503."""

    base: str
    received: list[Received] = field(default_factory=list)

    def url(self, name: str) -> str:
        return f"{self.base}/{name}"

    def at(self, name: str) -> list[dict[str, Any]]:
        """The notifications that reached ``/name``, oldest first."""
        return [r.json for r in self.received if r.path == f"/{name}"]

    def of_type(self, name: str, event_type: int) -> list[dict[str, Any]]:
        return [n for n in self.at(name) if n.get("type") == event_type]

    async def wait_for(
        self, check: Callable[[], bool] | Callable[[], Awaitable[bool]], what: str
    ) -> None:
        await poll(check, timeout=10, what=what)


async def settled_deliveries(sim: SimControl, shop_id: str | None = None) -> list[dict[str, Any]]:
    """The simulator's delivery log once nothing is queued any more."""
    params = {"shop_id": shop_id} if shop_id else {}
    latest: list[dict[str, Any]] = []

    async def idle() -> bool:
        nonlocal latest
        latest = (await sim.call("GET", "/webhooks/deliveries", **params))["deliveries"]
        return all(d["outcome"] != "queued" for d in latest)

    await poll(idle, what="webhook deliveries to settle")
    return latest


async def seed_order(sim: SimControl, shop: SeededShop, **fields: Any) -> str:
    """One order of the shop (default: two units of one item, awaiting shipment); its id."""
    order = {"shop_id": shop.ref.shop_id, "items": [{"sale_price": "12.50", "quantity": 2}]}
    seeded = await sim.call("POST", "/seed", {"orders": [{**order, **fields}]})
    order_id: str = seeded["orders"][0]
    return order_id


async def order_state(sim: SimControl, order_id: str) -> dict[str, Any]:
    order: dict[str, Any] = (await sim.call("GET", f"/orders/{order_id}"))["order"]
    return order


async def advance(sim: SimControl, seconds: float) -> None:
    """Move TikTok's clock on; what fell due meanwhile happens now."""
    await sim.call("POST", "/clock", {"advance": seconds})
