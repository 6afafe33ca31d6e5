"""Trouble on demand (throttling, 5xx, latency, dropped connections) and the log of what came in."""

import math
import time
from collections import deque
from dataclasses import asdict, dataclass
from typing import Any

from pydantic import BaseModel, ConfigDict, Field


class FaultPlan(BaseModel):
    """What the Open API endpoints do wrong. ``*_next`` counters apply to the next N calls."""

    model_config = ConfigDict(extra="forbid", validate_assignment=True)

    # Per shop (per app for the authorized-shops call); None: no limit.
    rate_limit_per_second: float | None = Field(default=None, gt=0)
    rate_limit_burst: int | None = Field(default=None, ge=1)
    throttle_next: int = Field(default=0, ge=0)
    # Seconds sent as Retry-After with every 429; None sends no header.
    retry_after: int | None = Field(default=1, ge=0)
    error_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    error_status: int = Field(default=503, ge=500, le=599)
    fail_next: int = Field(default=0, ge=0)
    latency_ms: int = Field(default=0, ge=0)
    slow_next: int = Field(default=0, ge=0)
    slow_ms: int = Field(default=0, ge=0)
    drop_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    drop_next: int = Field(default=0, ge=0)
    # Path prefixes answered with 105005, as if the app lacked the permission package.
    permission_denied_paths: list[str] = Field(default_factory=list)
    # Create and edit product fail (TikTok's audit refusal) when the title contains this.
    reject_titles_containing: str | None = None
    # Webhook deliveries (seeded dice): lose a share, send a share twice (the copy late), hold a
    # share back ``webhook_delay_ms`` so that later notifications overtake it.
    webhook_drop_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    webhook_duplicate_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    webhook_delay_rate: float = Field(default=0.0, ge=0.0, le=1.0)
    webhook_delay_ms: int = Field(default=300, ge=0)
    # Counters of what the three above did so far (reset with the plan).
    webhooks_dropped: int = Field(default=0, ge=0)
    webhooks_duplicated: int = Field(default=0, ge=0)
    webhooks_delayed: int = Field(default=0, ge=0)

    def take(self, counter: str) -> bool:
        """Use one of the ``counter`` (e.g. ``"fail_next"``) charges, if any is left."""
        left: int = getattr(self, counter)
        if left <= 0:
            return False
        setattr(self, counter, left - 1)
        return True


class RateGate:
    """A token bucket per key; TikTok's gateway refuses a call when the shop's bucket is empty."""

    def __init__(self, rate: float, burst: int) -> None:
        self.rate = rate
        self.burst = burst
        self._buckets: dict[str, tuple[float, float]] = {}

    def admit(self, key: str) -> float | None:
        """None if admitted, else the seconds until a token is free."""
        now = time.monotonic()
        tokens, updated = self._buckets.get(key, (float(self.burst), now))
        tokens = min(float(self.burst), tokens + (now - updated) * self.rate)
        if tokens >= 1.0:
            self._buckets[key] = (tokens - 1.0, now)
            return None
        self._buckets[key] = (tokens, now)
        return (1.0 - tokens) / self.rate


def retry_after_header(seconds: float) -> str:
    return str(max(1, math.ceil(seconds)))


@dataclass
class LoggedRequest:
    time: float
    method: str
    path: str
    shop_id: str | None = None
    status: int | None = None
    code: int | None = None


class RequestLog:
    """Every Open API and token request, newest last; tests read it to measure the client."""

    def __init__(self, limit: int = 100_000) -> None:
        self._entries: deque[LoggedRequest] = deque(maxlen=limit)

    def add(self, entry: LoggedRequest) -> LoggedRequest:
        self._entries.append(entry)
        return entry

    def clear(self) -> None:
        self._entries.clear()

    def select(
        self, path_prefix: str | None = None, shop_id: str | None = None
    ) -> list[dict[str, Any]]:
        return [
            asdict(entry)
            for entry in self._entries
            if (path_prefix is None or entry.path.startswith(path_prefix))
            and (shop_id is None or entry.shop_id == shop_id)
        ]
