"""What the TikTok client counts: calls by endpoint and outcome, retries, rate-limit waits, token
refreshes (`service.metrics`), against the simulator over real HTTP."""

import asyncio
import time

import pytest
import stamina

from service import metrics
from service.adapters.tiktok import (
    StoredTokenProvider,
    ThrottledError,
    TikTokConfig,
    TikTokOAuth,
)
from service.domain.shops import ShopAuthorization
from tests.integration.tiktok.memory_directory import InMemoryShopDirectory
from tests.integration.tiktok.sim_support import ClientFactory, SeededShop, SimControl


def sample(name: str, **labels: str) -> float:
    return metrics.REGISTRY.get_sample_value(name, labels) or 0.0


class Delta:
    """How far a set of samples moved since the block began."""

    def __init__(self, *samples: tuple[str, dict[str, str]]) -> None:
        self._samples = samples
        self._before = [sample(name, **labels) for name, labels in samples]

    def __call__(self) -> list[float]:
        now = [sample(name, **labels) for name, labels in self._samples]
        return [after - before for after, before in zip(now, self._before, strict=True)]


async def _product(sim: SimControl, shop: SeededShop) -> str:
    made = await sim.call("POST", "/generate", {"shop_id": shop.ref.shop_id, "products": 1})
    product_id: str = made["products"][0]
    return product_id


async def test_a_call_that_was_throttled_twice_counts_two_retries_and_one_success(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    product_id = await _product(sim, shop)
    await sim.faults(throttle_next=2, retry_after=0)
    moved = Delta(
        ("tiktok_shop_tiktok_calls_total", {"endpoint": "product_detail", "outcome": "ok"}),
        ("tiktok_shop_tiktok_retries_total", {"endpoint": "product_detail", "reason": "throttled"}),
        ("tiktok_shop_tiktok_call_seconds_count", {"endpoint": "product_detail"}),
    )
    await make_client().product_detail(shop.ref, product_id)
    assert moved() == [1, 2, 1]


async def test_a_call_throttled_past_its_budget_counts_as_throttled(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    await sim.faults(throttle_next=10, retry_after=0)
    moved = Delta(
        ("tiktok_shop_tiktok_calls_total", {"endpoint": "product_detail", "outcome": "throttled"}),
        ("tiktok_shop_tiktok_calls_total", {"endpoint": "product_detail", "outcome": "ok"}),
    )
    with pytest.raises(ThrottledError):
        await make_client().product_detail(shop.ref, "1")
    assert moved() == [1, 0]


async def test_waits_for_the_rate_limiter_are_measured(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    product_id = await _product(sim, shop)
    client = make_client(rate_per_second=5, burst=1)
    moved = Delta(
        ("tiktok_shop_tiktok_rate_limit_wait_seconds_count", {}),
        ("tiktok_shop_tiktok_rate_limit_wait_seconds_sum", {}),
    )
    with stamina.set_testing(False):
        await asyncio.gather(*(client.product_detail(shop.ref, product_id) for _ in range(4)))
    waits, waited = moved()
    # One token at once, then one every 0.2 s: three calls waited 0.2, 0.4 and 0.6 s.
    assert waits == 3
    assert waited == pytest.approx(1.2, abs=0.15)


async def test_token_refreshes_are_counted_by_outcome(
    make_client: ClientFactory, shop: SeededShop, config: TikTokConfig
) -> None:
    directory = InMemoryShopDirectory()
    now = time.time()
    await directory.save_authorization(
        ShopAuthorization(
            shop_id=shop.ref.shop_id,
            access_token=shop.access_token,
            access_token_expires_at=int(now + 60),  # within the 300 s refresh margin
            refresh_token=shop.refresh_token,
            refresh_token_expires_at=int(now + 86400),
            cipher=shop.ref.cipher,
        )
    )
    moved = Delta(
        ("tiktok_shop_tiktok_token_refreshes_total", {"outcome": "refreshed"}),
        ("tiktok_shop_tiktok_token_refreshes_total", {"outcome": "reauthorization_required"}),
    )
    async with TikTokOAuth(config) as oauth:
        client = make_client(tokens=StoredTokenProvider(directory, oauth))
        await client.authorized_shops(shop.ref.shop_id)
    assert moved() == [1, 0]
