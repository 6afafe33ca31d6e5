"""Rate limits, throttling storms, 5xx, timeouts and dropped connections, over real HTTP.

Retries follow `service.retries.TIKTOK_CALL`; stamina's test mode (this folder's conftest) keeps
its attempts and drops its waits, except where the wait itself is what a test is about.
"""

import asyncio
import itertools
import socket
import time
from dataclasses import replace

import httpx
import pytest
import stamina

from service.adapters.tiktok import (
    StaticTokenProvider,
    ThrottledError,
    TikTokApiError,
    TikTokConfig,
    TikTokResponseError,
    TikTokShopClient,
    TikTokTransportError,
)
from service.retries import MAX_RETRY_AFTER, TIKTOK_CALL
from tests.integration.tiktok.sim_support import ClientFactory, SeededShop, SimControl, product_body

DETAIL = "/product/202309/products/"
ATTEMPTS = TIKTOK_CALL.attempts or 0


def busiest_second(times: list[float]) -> int:
    """The most requests that started within any one-second window."""
    times = sorted(times)
    return max(
        sum(1 for later in times[i:] if later < start + 1.0) for i, start in enumerate(times)
    )


async def _product(sim: SimControl, shop: SeededShop) -> str:
    made = await sim.call("POST", "/generate", {"shop_id": shop.ref.shop_id, "products": 1})
    product_id: str = made["products"][0]
    await sim.clear_requests()
    return product_id


async def test_never_exceeds_the_configured_rate(
    config: TikTokConfig, shop: SeededShop, sim: SimControl
) -> None:
    product_id = await _product(sim, shop)
    rate, burst = 20, 2
    # When each request leaves the client: the arrival times at the server also carry the
    # scheduling noise of a loaded machine (new connections delay the first requests).
    sent: list[float] = []

    async def record(request: httpx.Request) -> None:
        sent.append(time.monotonic())

    async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
        client = TikTokShopClient(
            replace(config, rate_per_second=rate, burst=burst),
            StaticTokenProvider(shop.access_token),
            http=http,
        )
        await asyncio.gather(*(client.product_detail(shop.ref, product_id) for _ in range(60)))

    log = await sim.requests(DETAIL)
    assert len(log) == len(sent) == 60
    assert all(r["code"] == 0 for r in log)
    assert busiest_second(sent) <= rate + burst


async def test_rides_out_a_429_storm(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    """TikTok allows 5/s here; the client tries 20 at once and must finish them all.

    Real waits: TikTok's Retry-After paces the retries, so the storm takes about 3 s."""
    product_id = await _product(sim, shop)
    await sim.faults(rate_limit_per_second=5, rate_limit_burst=5)
    client = make_client(rate_per_second=100, burst=20)

    with stamina.set_testing(False):
        details = await asyncio.gather(
            *(client.product_detail(shop.ref, product_id) for _ in range(20))
        )

    assert all(d.id == product_id for d in details)
    log = await sim.requests(DETAIL)
    throttled = [r for r in log if r["status"] == 429]
    assert throttled
    assert all(r["code"] == 36009002 for r in throttled)
    assert len(log) - len(throttled) == 20
    assert len(log) <= 20 * ATTEMPTS  # within the retry budget


async def test_honours_retry_after(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    product_id = await _product(sim, shop)
    await sim.faults(throttle_next=2, retry_after=1)

    with stamina.set_testing(False):  # the wait is what is tested
        await make_client().product_detail(shop.ref, product_id)

    times = [r["time"] for r in await sim.requests(DETAIL)]
    assert len(times) == 3
    # Lower bounds only: the client waited at least what TikTok asked.
    assert all(later - earlier >= 0.99 for earlier, later in itertools.pairwise(times))


async def test_gives_up_after_the_retry_budget(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    await sim.faults(throttle_next=10, retry_after=0)
    with pytest.raises(ThrottledError) as caught:
        await make_client().product_detail(shop.ref, "1")
    assert caught.value.http_status == 429
    assert caught.value.code == 36009002
    assert len(await sim.requests(DETAIL)) == ATTEMPTS == 5


async def test_a_retry_after_beyond_the_limit_fails_fast(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    await sim.faults(throttle_next=1, retry_after=600)
    assert MAX_RETRY_AFTER < 600
    with pytest.raises(ThrottledError) as caught:
        await make_client().product_detail(shop.ref, "1")
    assert caught.value.retry_after == 600
    assert len(await sim.requests(DETAIL)) == 1


async def test_5xx_is_retried(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    product_id = await _product(sim, shop)
    await sim.faults(fail_next=2, error_status=503)

    detail = await make_client().product_detail(shop.ref, product_id)

    assert detail.id == product_id
    assert [r["status"] for r in await sim.requests(DETAIL)] == [503, 503, 200]


async def test_5xx_share_is_ridden_out(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    product_id = await _product(sim, shop)
    await sim.faults(error_rate=0.3, error_status=500)
    client = make_client()
    # Ten attempts, so that 30 calls at a 30 % failure rate are sure to get through.
    with stamina.set_testing(True, attempts=10):
        details = await asyncio.gather(
            *(client.product_detail(shop.ref, product_id) for _ in range(30))
        )
    assert len(details) == 30
    assert any(r["status"] == 500 for r in await sim.requests(DETAIL))


async def test_a_create_is_not_repeated_after_a_5xx(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    """The first attempt may have created the product; a retry could create a second one."""
    await sim.faults(fail_next=1, error_status=500)
    with pytest.raises(TikTokApiError) as caught:
        await make_client().create_product(shop.ref, product_body())
    assert caught.value.http_status == 500
    assert len(await sim.requests("/product/202309/products")) == 1


async def test_a_create_is_repeated_after_a_429(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    """A throttled call was not processed, so even a create is safe to send again."""
    await sim.faults(throttle_next=1, retry_after=0)
    created = await make_client().create_product(shop.ref, product_body())
    assert created.product_id
    assert [r["status"] for r in await sim.requests("/product/202309/products")] == [429, 200]


async def test_dropped_connection_is_retried(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    product_id = await _product(sim, shop)
    await sim.faults(drop_next=2)
    detail = await make_client().product_detail(shop.ref, product_id)
    assert detail.id == product_id
    assert [r["status"] for r in await sim.requests(DETAIL)] == [None, None, 200]


async def test_dropped_connection_on_a_create_is_reported(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    await sim.faults(drop_next=1)
    with pytest.raises(TikTokTransportError):
        await make_client().create_product(shop.ref, product_body())
    assert len(await sim.requests("/product/202309/products")) == 1


async def test_timeout_is_retried(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    product_id = await _product(sim, shop)
    await sim.faults(slow_next=1, slow_ms=1500)
    detail = await make_client(timeout=0.3).product_detail(shop.ref, product_id)
    assert detail.id == product_id
    assert len(await sim.requests(DETAIL)) == 2


async def test_unreachable_host_after_retries(config: TikTokConfig, shop: SeededShop) -> None:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    dead = TikTokConfig(
        app_key=config.app_key,
        app_secret=config.app_secret,
        api_base_url=f"http://127.0.0.1:{closed_port}",
    )
    attempts = 0

    def refuse(request: httpx.Request) -> httpx.Response:
        nonlocal attempts
        attempts += 1
        raise httpx.ConnectError("connection refused", request=request)

    async with TikTokShopClient(
        dead, StaticTokenProvider(shop.access_token), transport=httpx.MockTransport(refuse)
    ) as client:
        with pytest.raises(TikTokTransportError, match="ConnectError"):
            await client.create_product(shop.ref, product_body())  # never sent: safe to retry
    assert attempts == ATTEMPTS

    async with TikTokShopClient(dead, StaticTokenProvider(shop.access_token)) as real:
        with pytest.raises(TikTokTransportError):
            await real.authorized_shops()


# --- what counts as success: the code, not the HTTP status ----------------------------------


def _answering(queue: list[httpx.Response]) -> httpx.MockTransport:
    """Answers from ``queue``, first to last, taking each off it."""

    def handler(request: httpx.Request) -> httpx.Response:
        return queue.pop(0)

    return httpx.MockTransport(handler)


async def test_code_zero_is_success_whatever_http_says(
    config: TikTokConfig, shop: SeededShop
) -> None:
    ok_but_500 = httpx.Response(
        500, json={"code": 0, "message": "Success", "request_id": "r1", "data": {"shops": []}}
    )
    async with TikTokShopClient(
        config, StaticTokenProvider("t"), transport=_answering([ok_but_500])
    ) as client:
        assert await client.authorized_shops() == []


async def test_unreadable_5xx_is_retried_then_reported(
    config: TikTokConfig, shop: SeededShop
) -> None:
    bad_gateway = httpx.Response(502, text="<html>Bad gateway</html>")
    answers = [bad_gateway] * (ATTEMPTS + 1)
    async with TikTokShopClient(
        TikTokConfig(app_key=config.app_key, app_secret=config.app_secret),
        StaticTokenProvider("t"),
        transport=_answering(answers),
    ) as client:
        with pytest.raises(TikTokResponseError) as caught:
            await client.authorized_shops()
    assert caught.value.http_status == 502
    assert len(answers) == 1  # one answer taken per attempt, the budget's worth
