"""Tokens: authorization, refresh before expiry, refresh after 105002, dead authorizations, and
which token the default shop uses."""

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from dataclasses import replace

import httpx
import pytest

from service.adapters.tiktok import (
    AccessTokenExpiredError,
    AccessTokenNotRefreshableError,
    DefaultShopTokenProvider,
    ReauthorizationRequiredError,
    ShopNeedsReauthorizationError,
    StaticTokenProvider,
    StoredTokenProvider,
    TikTokApiError,
    TikTokConfig,
    TikTokOAuth,
    TikTokShopClient,
    authorize_shops,
)
from service.domain.shops import ShopAuthorization
from tests.integration.tiktok.memory_directory import InMemoryShopDirectory
from tests.integration.tiktok.sim_support import APP_SECRET, ClientFactory, SeededShop, SimControl

REFRESH = "/api/v2/token/refresh"


def _record(
    shop: SeededShop, *, access_expires_in: int, refresh_expires_in: int
) -> ShopAuthorization:
    now = int(time.time())
    return ShopAuthorization(
        shop_id=shop.ref.shop_id,
        access_token=shop.access_token,
        access_token_expires_at=now + access_expires_in,
        refresh_token=shop.refresh_token,
        refresh_token_expires_at=now + refresh_expires_in,
        cipher=shop.ref.cipher,
    )


@pytest.fixture
async def oauth(config: TikTokConfig) -> AsyncIterator[TikTokOAuth]:
    async with TikTokOAuth(config) as client:
        yield client


async def _paths(sim: SimControl) -> list[str]:
    return [r["path"] for r in await sim.requests()]


async def test_authorize_with_a_code(
    sim: SimControl, config: TikTokConfig, oauth: TikTokOAuth
) -> None:
    first, second = await sim.shop(name="EU shop", region="GB"), await sim.shop()
    code = (await sim.call("POST", "/auth_codes", {"shop_ids": [first["id"], second["id"]]}))[
        "auth_code"
    ]
    directory = InMemoryShopDirectory()
    async with TikTokShopClient(config, StoredTokenProvider(directory, oauth)) as client:
        records = await authorize_shops(code, oauth, client, directory)
        assert {(r.shop_id, r.cipher) for r in records} == {
            (first["id"], first["cipher"]),
            (second["id"], second["cipher"]),
        }
        stored = await directory.authorization(first["id"])
        assert stored is not None
        assert not stored.needs_reauthorization
        # access_token_expire_in is an absolute time, about 7 days ahead
        assert stored.access_token_expires_at - time.time() == pytest.approx(7 * 86400, abs=60)

        # The stored authorization works for calls.
        shops = await client.authorized_shops(first["id"])
        assert len(shops) == 2

    with pytest.raises(TikTokApiError):
        await oauth.exchange_code(code)  # a code works once


async def test_static_token_for_the_default_shop(
    make_client: ClientFactory, shop: SeededShop
) -> None:
    client = make_client(tokens=StaticTokenProvider(shop.access_token))
    assert [s.id for s in await client.authorized_shops()] == [shop.ref.shop_id]


async def test_refreshes_before_expiry(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl, oauth: TikTokOAuth
) -> None:
    directory = InMemoryShopDirectory()
    await directory.save_authorization(
        _record(shop, access_expires_in=60, refresh_expires_in=86400)
    )
    client = make_client(tokens=StoredTokenProvider(directory, oauth))  # refreshes 300 s early

    await client.authorized_shops(shop.ref.shop_id)

    assert await _paths(sim) == [REFRESH, "/authorization/202309/shops"]
    record = await directory.authorization(shop.ref.shop_id)
    assert record is not None
    assert record.access_token != shop.access_token
    assert record.access_token_expires_at > time.time() + 86400
    assert record.cipher == shop.ref.cipher  # kept across the refresh

    await client.authorized_shops(shop.ref.shop_id)
    assert (await _paths(sim)).count(REFRESH) == 1  # fresh now: no second refresh


async def test_expired_token_is_refreshed_once_and_retried(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl, oauth: TikTokOAuth
) -> None:
    directory = InMemoryShopDirectory()
    await directory.save_authorization(
        _record(shop, access_expires_in=86400, refresh_expires_in=86400)
    )
    await sim.call("POST", "/tokens/expire", {"access_token": shop.access_token})
    client = make_client(tokens=StoredTokenProvider(directory, oauth))

    shops = await client.authorized_shops(shop.ref.shop_id)

    assert [s.id for s in shops] == [shop.ref.shop_id]
    log = await sim.requests()
    assert [(r["path"], r["code"]) for r in log] == [
        ("/authorization/202309/shops", 105002),
        (REFRESH, 0),
        ("/authorization/202309/shops", 0),
    ]


async def test_concurrent_expiries_share_one_refresh(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl, oauth: TikTokOAuth
) -> None:
    directory = InMemoryShopDirectory()
    await directory.save_authorization(
        _record(shop, access_expires_in=86400, refresh_expires_in=86400)
    )
    await sim.call("POST", "/tokens/expire", {"access_token": shop.access_token})
    client = make_client(tokens=StoredTokenProvider(directory, oauth))

    await asyncio.gather(*(client.authorized_shops(shop.ref.shop_id) for _ in range(10)))

    assert (await _paths(sim)).count(REFRESH) == 1


class _StubbornProvider:
    """Hands out a token TikTok will also call expired: the client must not loop."""

    def __init__(self, first: str, second: str) -> None:
        self.tokens = [first, second]
        self.rejections = 0

    async def access_token(self, shop_id: str | None) -> str:
        return self.tokens[0]

    async def token_rejected(self, shop_id: str | None, rejected: str) -> str | None:
        self.rejections += 1
        return self.tokens[1]

    async def authorization_lost(self, shop_id: str | None, error: TikTokApiError) -> None:
        return None


async def test_105002_retries_only_once(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    second = await sim.tokens(shop.ref.shop_id)
    for token in (shop.access_token, second["access_token"]):
        await sim.call("POST", "/tokens/expire", {"access_token": token})
    provider = _StubbornProvider(shop.access_token, second["access_token"])

    with pytest.raises(AccessTokenExpiredError) as caught:
        await make_client(tokens=provider).product_detail(shop.ref, "1")

    assert caught.value.code == 105002
    assert caught.value.request_id
    assert provider.rejections == 1
    assert len(await sim.requests()) == 2


async def test_static_token_cannot_refresh(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    await sim.call("POST", "/tokens/expire", {"access_token": shop.access_token})
    with pytest.raises(AccessTokenNotRefreshableError) as caught:
        await make_client().product_detail(shop.ref, "1")
    assert caught.value.code == 105002
    assert caught.value.request_id
    assert len(await sim.requests()) == 1


@pytest.mark.parametrize(
    ("kill", "code"),
    [("expire_refresh_token", 36004001), ("deauthorize", 36004005)],
)
async def test_dead_refresh_token_marks_the_shop(
    kill: str,
    code: int,
    make_client: ClientFactory,
    shop: SeededShop,
    sim: SimControl,
    oauth: TikTokOAuth,
) -> None:
    directory = InMemoryShopDirectory()
    await directory.save_authorization(
        _record(shop, access_expires_in=10, refresh_expires_in=86400)
    )
    if kill == "deauthorize":
        await sim.call("POST", f"/shops/{shop.ref.shop_id}/deauthorize")
    else:
        await sim.call("POST", "/tokens/expire", {"refresh_token": shop.refresh_token})
    client = make_client(tokens=StoredTokenProvider(directory, oauth))

    with pytest.raises(ReauthorizationRequiredError) as caught:
        await client.product_detail(shop.ref, "1")
    assert caught.value.code == code

    record = await directory.authorization(shop.ref.shop_id)
    assert record is not None
    assert record.needs_reauthorization
    assert record.status_reason is not None
    assert str(code) in record.status_reason
    calls_so_far = len(await sim.requests())
    assert calls_so_far == 1  # the refresh; the API call was never made

    for _ in range(3):
        with pytest.raises(ShopNeedsReauthorizationError):
            await client.product_detail(shop.ref, "1")
    assert len(await sim.requests()) == calls_so_far  # TikTok not called again

    # The seller authorizes again: the shop is callable again.
    code_value = (await sim.call("POST", "/auth_codes", {"shop_ids": [shop.ref.shop_id]}))[
        "auth_code"
    ]
    await authorize_shops(code_value, oauth, client, directory)
    shops = await client.authorized_shops(shop.ref.shop_id)
    assert [s.id for s in shops] == [shop.ref.shop_id]


async def test_known_dead_refresh_token_is_not_sent(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl, oauth: TikTokOAuth
) -> None:
    directory = InMemoryShopDirectory()
    record = _record(shop, access_expires_in=-5, refresh_expires_in=-1)
    await directory.save_authorization(record)
    client = make_client(tokens=StoredTokenProvider(directory, oauth))
    with pytest.raises(ShopNeedsReauthorizationError):
        await client.product_detail(shop.ref, "1")
    assert await sim.requests() == []
    marked = await directory.authorization(shop.ref.shop_id)
    assert marked == replace(
        record, status="needs_reauthorization", status_reason="refresh token expired"
    )


async def test_never_authorized_shop(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl, oauth: TikTokOAuth
) -> None:
    client = make_client(tokens=StoredTokenProvider(InMemoryShopDirectory(), oauth))
    with pytest.raises(ShopNeedsReauthorizationError):
        await client.product_detail(shop.ref, "1")
    assert await sim.requests() == []


async def test_reauthorization_error_from_an_api_call_marks_the_shop(
    shop: SeededShop, oauth: TikTokOAuth
) -> None:
    """TikTok may answer 36004005 to a call, not only to a refresh."""
    directory = InMemoryShopDirectory()
    await directory.save_authorization(
        _record(shop, access_expires_in=86400, refresh_expires_in=86400)
    )
    provider = StoredTokenProvider(directory, oauth)
    await provider.authorization_lost(
        shop.ref.shop_id, ReauthorizationRequiredError(36004005, "no authorization record")
    )
    with pytest.raises(ShopNeedsReauthorizationError, match="36004005"):
        await provider.access_token(shop.ref.shop_id)


async def test_token_calls_keep_secrets_out_of_logs(
    shop: SeededShop, oauth: TikTokOAuth, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO, logger="httpx"):
        await oauth.refresh(shop.refresh_token)
    lines = [record.getMessage() for record in caplog.records if record.name == "httpx"]
    assert any("/api/v2/token/refresh" in line for line in lines)
    assert not any(APP_SECRET in line or shop.refresh_token in line for line in lines)


# --- the default shop: a stored authorization beats the static token ---------------------------


async def test_default_shop_uses_its_stored_authorization_over_the_static_token(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl, oauth: TikTokOAuth
) -> None:
    directory = InMemoryShopDirectory()
    shop_id = shop.ref.shop_id
    provider = DefaultShopTokenProvider(
        shop_id,
        StaticTokenProvider("static-token-tiktok-never-issued"),
        StoredTokenProvider(directory, oauth),
    )
    client = make_client(tokens=provider)

    # No stored authorization: the static token is the one sent (and TikTok refuses it).
    with pytest.raises(TikTokApiError) as refused:
        await client.authorized_shops(shop_id)
    assert refused.value.code == 105001

    # The seller authorized the shop: its stored, refreshable tokens are used from now on.
    await directory.save_authorization(
        _record(shop, access_expires_in=60, refresh_expires_in=86400)
    )
    await sim.clear_requests()
    assert [s.id for s in await client.authorized_shops()] == [shop_id]  # None: the default
    assert await _paths(sim) == [REFRESH, "/authorization/202309/shops"]

    # A 105002 on the stored token is refreshed and retried, as for any stored shop.
    stored = await directory.authorization(shop_id)
    assert stored is not None
    await sim.call("POST", "/tokens/expire", {"access_token": stored.access_token})
    await sim.clear_requests()
    assert [s.id for s in await client.authorized_shops(shop_id)] == [shop_id]
    assert [(r["path"], r["code"]) for r in await sim.requests()] == [
        ("/authorization/202309/shops", 105002),
        (REFRESH, 0),
        ("/authorization/202309/shops", 0),
    ]


async def test_default_shop_static_token_expired_without_a_stored_authorization(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl, oauth: TikTokOAuth
) -> None:
    provider = DefaultShopTokenProvider(
        shop.ref.shop_id,
        StaticTokenProvider(shop.access_token),
        StoredTokenProvider(InMemoryShopDirectory(), oauth),
    )
    client = make_client(tokens=provider)
    assert [s.id for s in await client.authorized_shops()] == [shop.ref.shop_id]

    await sim.call("POST", "/tokens/expire", {"access_token": shop.access_token})
    await sim.clear_requests()
    with pytest.raises(AccessTokenNotRefreshableError) as caught:
        await client.product_detail(shop.ref, "1")
    assert caught.value.code == 105002
    assert await _paths(sim) == ["/product/202309/products/1"]  # no refresh was attempted


async def test_other_shops_never_use_the_static_token(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl, oauth: TikTokOAuth
) -> None:
    other = await sim.shop(name="Not the default")
    provider = DefaultShopTokenProvider(
        shop.ref.shop_id,
        StaticTokenProvider(shop.access_token),
        StoredTokenProvider(InMemoryShopDirectory(), oauth),
    )
    with pytest.raises(ShopNeedsReauthorizationError, match="never authorized"):
        await make_client(tokens=provider).authorized_shops(other["id"])
    assert await sim.requests() == []


# --- the auth host follows the same retry policy ------------------------------------------------


def _auth_answers(queue: list[httpx.Response]) -> httpx.MockTransport:
    """The auth host answering from ``queue`` (the simulator injects no faults there)."""

    def handler(request: httpx.Request) -> httpx.Response:
        return queue.pop(0)

    return httpx.MockTransport(handler)


def _failure(status: int, code: int, **headers: str) -> httpx.Response:
    body = {"code": code, "message": "try later", "request_id": "r-1"}
    return httpx.Response(status, json=body, headers=headers)


TOKENS_ANSWER = httpx.Response(
    200,
    json={
        "code": 0,
        "message": "success",
        "request_id": "r-2",
        "data": {
            "access_token": "TTP_a",
            "access_token_expire_in": 1900000000,
            "refresh_token": "TTP_r",
            "refresh_token_expire_in": 1990000000,
        },
    },
)


async def test_token_calls_are_retried_like_api_calls(config: TikTokConfig) -> None:
    # A refresh may be sent again: throttled and 5xx answers are retried.
    answers = [_failure(503, 50000), _failure(429, 36009002, **{"retry-after": "0"})]
    answers.append(TOKENS_ANSWER)
    async with TikTokOAuth(config, transport=_auth_answers(answers)) as oauth:
        assert (await oauth.refresh("TTP_r")).access_token == "TTP_a"
    assert answers == []

    # An authorization code works once: after a 5xx it may have been used, so no retry.
    answers = [_failure(503, 50000), TOKENS_ANSWER]
    async with TikTokOAuth(config, transport=_auth_answers(answers)) as oauth:
        with pytest.raises(TikTokApiError) as caught:
            await oauth.exchange_code("ROW_code")
    assert caught.value.http_status == 503
    assert answers == [TOKENS_ANSWER]
