"""Per-shop token buckets, so that the client stays under TikTok's per-app-and-shop rate.

Each ``acquire`` reserves the next free slot at once and then waits for it, so concurrent callers
are served in arrival order without a lock, and in any window of ``t`` seconds at most
``burst + rate * t`` calls start.
"""

import asyncio
import time
from typing import Protocol


class Clock(Protocol):
    def monotonic(self) -> float: ...

    async def sleep(self, seconds: float) -> None: ...


class SystemClock:
    def monotonic(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class TokenBucket:
    def __init__(self, rate_per_second: float, burst: int, clock: Clock) -> None:
        if rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        if burst < 1:
            raise ValueError("burst must be at least 1")
        self.rate = rate_per_second
        self.burst = burst
        self._clock = clock
        self._tokens = float(burst)
        self._updated = clock.monotonic()

    def reserve(self) -> float:
        """Take one token, going into debt if none is left; the seconds to wait before using it."""
        now = self._clock.monotonic()
        self._tokens = min(float(self.burst), self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        self._tokens -= 1.0
        return 0.0 if self._tokens >= 0 else -self._tokens / self.rate

    async def acquire(self) -> float:
        """Wait for a token; the seconds waited (0 when one was free)."""
        wait = self.reserve()
        if wait > 0:
            await self._clock.sleep(wait)
        return wait


def default_burst(rate_per_second: float) -> int:
    """A tenth of a second's worth: smooth enough for TikTok's per-second windows, yet not 1."""
    return max(1, int(rate_per_second / 10))


class ShopRateLimiter:
    """One bucket per shop (TikTok limits per app and shop), created on first use."""

    def __init__(
        self, rate_per_second: float = 50.0, burst: int | None = None, clock: Clock | None = None
    ) -> None:
        self.rate = rate_per_second
        self.burst = burst if burst is not None else default_burst(rate_per_second)
        self._clock = clock or SystemClock()
        self._buckets: dict[str, TokenBucket] = {}
        # Validate now rather than at the first call.
        TokenBucket(self.rate, self.burst, self._clock)

    def bucket(self, shop_key: str) -> TokenBucket:
        bucket = self._buckets.get(shop_key)
        if bucket is None:
            bucket = self._buckets[shop_key] = TokenBucket(self.rate, self.burst, self._clock)
        return bucket

    async def acquire(self, shop_key: str) -> float:
        """Wait for the shop's next slot; the seconds waited."""
        return await self.bucket(shop_key).acquire()
