"""The simulator's mutable heart: config, clock, world, fault plan, request log, webhook pusher."""

import asyncio
import json
import math
import random
import secrets
from collections.abc import Coroutine
from typing import Any

import httpx

from simulator.config import SimulatorConfig
from simulator.faults import FaultPlan, RateGate, RequestLog
from simulator.signature import webhook_authorization
from simulator.world import Order, World

ORDER_STATUS_CHANGE = 1


class Simulator:
    def __init__(self, config: SimulatorConfig | None = None) -> None:
        self.config = config or SimulatorConfig()
        self.log = RequestLog()
        self.clock_offset = 0.0
        self.world = World()
        self.faults = self.default_faults()
        self.rng = random.Random(self.config.random_seed)  # noqa: S311 - fault dice, not secrets
        self._gate: RateGate | None = None
        self._gate_settings: tuple[float, int] | None = None
        self.webhook_http: httpx.AsyncClient | None = None
        self._background: set[asyncio.Task[Any]] = set()

    def reset(self) -> None:
        self.world = World()
        self.faults = self.default_faults()
        self.log.clear()
        self.clock_offset = 0.0
        self._gate = None
        self._gate_settings = None
        self.rng = random.Random(self.config.random_seed)  # noqa: S311

    def default_faults(self) -> FaultPlan:
        return FaultPlan(
            rate_limit_per_second=self.config.rate_limit_per_second,
            rate_limit_burst=self.config.rate_limit_burst,
        )

    def now(self) -> int:
        """TikTok's clock, in unix seconds; tests may shift it."""
        return int(self.config.clock() + self.clock_offset)

    def bump(self, previous: int) -> int:
        """A new ``update_time``: now, but always later than the previous one."""
        return max(self.now(), previous + 1)

    def rate_gate(self) -> RateGate | None:
        rate = self.faults.rate_limit_per_second
        if rate is None:
            return None
        burst = self.faults.rate_limit_burst or max(1, math.ceil(rate))
        if self._gate is None or self._gate_settings != (rate, burst):
            self._gate = RateGate(rate, burst)
            self._gate_settings = (rate, burst)
        return self._gate

    # --- webhooks ----------------------------------------------------------------------------

    def order_status_notification(self, order: Order, status: str | None = None) -> bytes:
        """A type 1 ORDER_STATUS_CHANGE body; ``status`` overrides the spelling (``CANCEL``)."""
        return self.notification(
            ORDER_STATUS_CHANGE,
            order.shop_id,
            {
                "order_id": order.id,
                "order_status": status or order.status,
                "update_time": order.update_time,
                "is_on_hold_order": order.is_on_hold_order,
            },
        )

    def notification(self, event_type: int, shop_id: str, data: dict[str, Any]) -> bytes:
        body = {
            "type": event_type,
            "tts_notification_id": str(secrets.randbelow(10**18) + 7 * 10**18),
            "shop_id": shop_id,
            "timestamp": self.now(),
            "data": data,
        }
        return json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode("utf-8")

    async def push_webhook(
        self, url: str, raw_body: bytes, authorization: str | None = None
    ) -> dict[str, Any]:
        """POST the body signed as TikTok signs it; report what the receiver answered."""
        signature = authorization or webhook_authorization(
            self.config.app_key, self.config.app_secret, raw_body
        )
        http = self.webhook_http
        if http is None:
            http = self.webhook_http = httpx.AsyncClient(
                timeout=self.config.webhook_timeout_seconds
            )
        notification = json.loads(raw_body)
        try:
            answer = await http.post(
                url,
                content=raw_body,
                headers={"content-type": "application/json", "authorization": signature},
            )
        except httpx.HTTPError as exc:
            return {
                "url": url,
                "delivered": False,
                "error": f"{type(exc).__name__}: {exc}",
                "notification": notification,
            }
        return {
            "url": url,
            "delivered": 200 <= answer.status_code < 300,
            "status_code": answer.status_code,
            "response": answer.text[:2000],
            "notification": notification,
        }

    def spawn(self, work: Coroutine[Any, Any, Any]) -> "asyncio.Task[Any]":
        """Run ``work`` after the current answer, as TikTok pushes webhooks asynchronously."""
        task = asyncio.get_running_loop().create_task(work)
        self._background.add(task)
        task.add_done_callback(self._background.discard)
        return task

    async def aclose(self) -> None:
        for task in list(self._background):
            task.cancel()
        if self.webhook_http is not None:
            await self.webhook_http.aclose()
            self.webhook_http = None
