"""The token bucket, on a clock the test controls."""

import asyncio
import itertools

import pytest

from service.adapters.tiktok.ratelimit import ShopRateLimiter, TokenBucket, default_burst


class FakeClock:
    """Time moves only when someone sleeps; every start time is recorded."""

    def __init__(self) -> None:
        self.now = 0.0

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        # Waiters wake in order of their deadlines, as with a real clock.
        deadline = self.now + seconds
        await asyncio.sleep(0)
        self.now = max(self.now, deadline)


async def _start_times(bucket: TokenBucket, clock: FakeClock, calls: int) -> list[float]:
    times = []
    for _ in range(calls):
        await bucket.acquire()
        times.append(clock.now)
    return times


async def test_burst_then_steady_rate() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_second=10, burst=3, clock=clock)
    times = await _start_times(bucket, clock, 8)
    assert times[:3] == [0.0, 0.0, 0.0]
    gaps = [round(b - a, 9) for a, b in itertools.pairwise(times[2:])]
    assert gaps == [0.1] * 5


async def test_idle_time_refills_up_to_burst_only() -> None:
    clock = FakeClock()
    bucket = TokenBucket(rate_per_second=10, burst=2, clock=clock)
    await _start_times(bucket, clock, 2)
    clock.now += 60  # a long pause earns no more than the burst
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == 0.0
    assert bucket.reserve() == pytest.approx(0.1)


@pytest.mark.parametrize(("rate", "burst"), [(20, 2), (50, 5), (5, 1)])
def test_no_window_exceeds_rate_plus_burst(rate: float, burst: int) -> None:
    """Concurrent reservations: every 1-second window holds at most rate + burst starts."""
    clock = FakeClock()
    bucket = TokenBucket(rate, burst, clock)
    starts = sorted(clock.now + bucket.reserve() for _ in range(int(rate * 4)))
    for i, start in enumerate(starts):
        in_window = sum(1 for t in starts[i:] if t < start + 1.0)
        assert in_window <= rate + burst


def test_limits_are_per_shop() -> None:
    clock = FakeClock()
    limiter = ShopRateLimiter(rate_per_second=1, burst=1, clock=clock)
    assert limiter.bucket("shop-a").reserve() == 0.0
    assert limiter.bucket("shop-b").reserve() == 0.0
    assert limiter.bucket("shop-a").reserve() == pytest.approx(1.0)


def test_defaults_and_validation() -> None:
    assert default_burst(50) == 5
    assert default_burst(3) == 1
    assert ShopRateLimiter().rate == 50
    with pytest.raises(ValueError, match="positive"):
        ShopRateLimiter(rate_per_second=0)
    with pytest.raises(ValueError, match="burst"):
        ShopRateLimiter(rate_per_second=5, burst=0)
