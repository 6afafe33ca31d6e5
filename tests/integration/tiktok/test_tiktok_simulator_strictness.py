"""The simulator refuses what TikTok refuses, so that it cannot drift into accepting bad clients."""

import hashlib
import hmac
import json
import time

import pytest
from tiktok_shop_api import AsyncTikTokShop
from tiktok_shop_api.generated.models import SearchProductsRequest

from service.adapters.tiktok import (
    AccessTokenExpiredError,
    InvalidSignatureError,
    ShopCipherInvalidError,
    ShopCipherMissingError,
    ShopRef,
    StaticTokenProvider,
    TikTokApiError,
    TikTokConfig,
    TikTokShopClient,
)
from service.adapters.tiktok.signing import sign_request
from tests.integration.tiktok.sim_support import (
    APP_KEY,
    APP_SECRET,
    ClientFactory,
    SeededShop,
    SimControl,
)


def _seed_style_sign(path: str, params: dict[str, str], body: bytes) -> str:
    """How the seed signed: the secret keys the HMAC but is not wrapped around the string."""
    text = path + "".join(
        f"{k}{params[k]}" for k in sorted(params) if k not in ("sign", "access_token")
    )
    return hmac.new(APP_SECRET.encode(), text.encode() + body, hashlib.sha256).hexdigest()


async def _product(sim: SimControl, shop: SeededShop) -> str:
    made = await sim.call("POST", "/generate", {"shop_id": shop.ref.shop_id, "products": 1})
    product_id: str = made["products"][0]
    return product_id


async def test_refuses_a_request_signed_the_way_the_seed_signs(
    sim: SimControl, shop: SeededShop
) -> None:
    product_id = await _product(sim, shop)
    path = f"/product/202309/products/{product_id}"
    params = {
        "app_key": APP_KEY,
        "timestamp": str(int(time.time())),
        "shop_cipher": shop.ref.cipher,
    }
    http = sim.http

    # The seed: secret not wrapped around, access token in the query, no header.
    seed_params = {**params, "access_token": shop.access_token}
    seed_params["sign"] = _seed_style_sign(path, seed_params, b"")
    refused = await http.get(path, params=seed_params)
    assert refused.status_code == 401
    assert refused.json()["code"] == 106001
    assert set(refused.json()) == {"code", "message", "request_id", "data"}

    # A right signature does not rescue a token sent in the query instead of the header.
    query_token = {**params, "access_token": shop.access_token}
    query_token["sign"] = sign_request(APP_SECRET, path, query_token)
    refused_token = await http.get(path, params=query_token)
    assert refused_token.json()["code"] == 105001

    # The same call done right is accepted: the refusals above are about the signing alone.
    accepted = await http.get(
        path,
        params={**params, "sign": sign_request(APP_SECRET, path, params)},
        headers={"x-tts-access-token": shop.access_token},
    )
    assert accepted.json()["code"] == 0, accepted.text
    assert accepted.json()["data"]["id"] == product_id


async def test_refuses_a_body_changed_after_signing(sim: SimControl, shop: SeededShop) -> None:
    path = "/product/202502/products/search"
    params = {
        "app_key": APP_KEY,
        "timestamp": str(int(time.time())),
        "shop_cipher": shop.ref.cipher,
        "page_size": "10",
    }
    params["sign"] = sign_request(APP_SECRET, path, params, b'{"status":"ACTIVATE"}')
    answer = await sim.http.post(
        path,
        params=params,
        content=b'{"status":"DRAFT"}',
        headers={"x-tts-access-token": shop.access_token, "content-type": "application/json"},
    )
    assert answer.json()["code"] == 106001


@pytest.mark.parametrize(
    ("skew", "accepted"), [(-290, True), (25, True), (-310, False), (40, False)]
)
async def test_timestamp_window(
    skew: int, accepted: bool, config: TikTokConfig, shop: SeededShop
) -> None:
    """TikTok takes a timestamp from 5 minutes before to 30 seconds after its clock."""
    async with TikTokShopClient(
        config, StaticTokenProvider(shop.access_token), wall_clock=lambda: time.time() + skew
    ) as client:
        if accepted:
            assert await client.authorized_shops()
        else:
            with pytest.raises(TikTokApiError, match="timestamp"):
                await client.authorized_shops()


async def test_wrong_secret_is_an_invalid_signature(
    make_client: ClientFactory, shop: SeededShop
) -> None:
    with pytest.raises(InvalidSignatureError) as caught:
        await make_client(app_secret="not-the-secret").authorized_shops()
    assert caught.value.code == 106001
    assert caught.value.request_id


async def test_missing_shop_cipher(make_client: ClientFactory, shop: SeededShop) -> None:
    with pytest.raises(ShopCipherMissingError) as caught:
        await make_client().product_detail(ShopRef(shop.ref.shop_id, ""), "1")
    assert caught.value.code == 106013


async def test_a_cipher_tiktok_does_not_know_for_the_token_is_invalid(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    # A cipher TikTok never gave (one from before a restart), and another shop's real cipher
    # that the token does not cover: both are TikTok's 106014, HTTP 400.
    other = await sim.shop(name="Another seller's shop")
    for cipher in ("ROW_stale-cipher-from-before", other["cipher"]):
        with pytest.raises(ShopCipherInvalidError) as caught:
            await make_client().product_detail(ShopRef(shop.ref.shop_id, cipher), "1")
        assert (caught.value.code, caught.value.http_status) == (106014, 400)
        assert caught.value.message == "shop_cipher is invalid"


async def test_unknown_and_expired_tokens(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    with pytest.raises(TikTokApiError) as unknown:
        await make_client(tokens=StaticTokenProvider("TTP_forged")).authorized_shops()
    assert unknown.value.code == 105001

    await sim.call("POST", "/tokens/expire", {"access_token": shop.access_token})
    with pytest.raises(AccessTokenExpiredError):
        await make_client().authorized_shops()


async def test_outdated_versions_are_not_served(sim: SimControl, shop: SeededShop) -> None:
    """The seed's versions of search products and order detail do not exist here."""
    for method, path in (
        ("POST", "/product/202309/products/search"),
        ("GET", "/order/202309/orders/576461413038785752"),
    ):
        answer = await sim.http.request(method, path)
        assert answer.status_code == 404
        assert answer.json()["code"] != 0


async def test_throttles_beyond_the_shop_rate(sim: SimControl, shop: SeededShop) -> None:
    await sim.faults(rate_limit_per_second=2, rate_limit_burst=2)
    path = "/authorization/202309/shops"
    codes = []
    for _ in range(4):
        params = {"app_key": APP_KEY, "timestamp": str(int(time.time()))}
        params["sign"] = sign_request(APP_SECRET, path, params)
        answer = await sim.http.get(
            path, params=params, headers={"x-tts-access-token": shop.access_token}
        )
        codes.append((answer.status_code, answer.json()["code"], answer.headers.get("retry-after")))
    assert codes[:2] == [(200, 0, None), (200, 0, None)]
    assert (429, 36009002, "1") in codes[2:]


async def test_an_independent_client_is_accepted(sim: SimControl, shop: SeededShop) -> None:
    """tiktok_shop_api signs on its own: the simulator's checks agree with it, not just with us."""
    product_id = await _product(sim, shop)
    async with AsyncTikTokShop(
        APP_KEY, APP_SECRET, shop.access_token, shop.ref.cipher, base_url=sim.url
    ) as other:
        shops = await other.authorization.get_authorized_shops()
        assert shops is not None
        assert shops.to_dict()["data"]["shops"][0]["cipher"] == shop.ref.cipher
        product = await other.products.get_product(product_id)
        assert product is not None
        assert product.to_dict()["data"]["id"] == product_id
        found = await other.products.search_products(  # a signed POST body
            page_size=5, body=SearchProductsRequest.from_dict({"status": "ACTIVATE"})
        )
        assert found is not None
        assert found.to_dict()["data"]["products"][0]["id"] == product_id


def test_seed_style_differs_from_tiktok_style() -> None:
    """A guard for the helper above: it really is a different signature."""
    params = {"app_key": APP_KEY, "timestamp": "1"}
    body = json.dumps({"a": 1}).encode()
    assert _seed_style_sign("/p", params, body) != sign_request(APP_SECRET, "/p", params, body)


async def test_control_refuses_bad_input(sim: SimControl) -> None:
    answer = await sim.http.post("/_sim/faults", json={"error_rate": 2})
    assert answer.status_code == 400
    answer = await sim.http.post("/_sim/faults", json={"no_such_fault": 1})
    assert answer.status_code == 400
    answer = await sim.http.post(
        "/_sim/seed", json={"orders": [{"shop_id": "x", "items": [{"sale_price": "1.005"}]}]}
    )
    assert answer.status_code == 400
    assert (await sim.http.get("/_sim/faults")).json()["error_rate"] == 0.0
