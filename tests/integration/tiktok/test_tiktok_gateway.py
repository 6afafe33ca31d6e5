"""The TikTok gateway over real HTTP against the simulator (fixtures in this folder's
conftest), with the shop directory in the real database."""

import asyncio
import contextlib
import re
import socket
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import HTMLResponse
from starlette.routing import Route

from contracts.entities import Address, Listing, OrderItem
from contracts.events import AuthorizationExpiring
from service.adapters.mongo.database import SHOPS, Database
from service.adapters.mongo.documents import outbox_documents, outbox_entries
from service.adapters.mongo.shop_directory import MongoShopDirectory
from service.adapters.tiktok import (
    StaticTokenProvider,
    StoredTokenProvider,
    TikTokApiGateway,
    TikTokConfig,
    TikTokOAuth,
    TikTokShopClient,
    TokenProvider,
    UnconfiguredTikTok,
    build_api_gateway,
)
from service.application.errors import AuthorizationRequired, GatewayError, NotConfigured
from service.application.ports import DatabaseUnavailable, TikTokGateway, Unreadable
from service.domain.remote import RemoteOrder, RemoteProduct
from service.domain.shops import ShopAuthorization
from tests.images import ImageHost
from tests.integration.tiktok.memory_directory import InMemoryShopDirectory
from tests.integration.tiktok.sim_support import SimControl, serving

pytestmark = pytest.mark.integration

PROVIDER_ID = "7117858858072016686"
# A listing image the gateway can fetch; set for each test by `_image`.
IMAGE = ""
REQUEST_ID = r"[0-9A-F]{34}"

SEARCH_PRODUCTS = "/product/202502/products/search"
SEARCH_ORDERS = "/order/202309/orders/search"
ORDER_DETAILS = "/order/202507/orders"
AUTHORIZED_SHOPS = "/authorization/202309/shops"
REFRESH = "/api/v2/token/refresh"


@pytest.fixture(autouse=True)
def _image(images: ImageHost) -> None:
    global IMAGE
    IMAGE = images.url("tee")


@dataclass
class Tiktok:
    """One test's shop: seeded in the simulator, its tokens stored, a gateway for it."""

    shop_id: str
    cipher: str
    tokens: ShopAuthorization
    database: Database
    directory: MongoShopDirectory
    gateway: TikTokApiGateway
    make: Callable[..., TikTokApiGateway]


def new_shop_id() -> str:
    return f"7494{uuid.uuid4().int % 10**14:014d}"


@pytest.fixture
async def tiktok(
    sim: SimControl, config: TikTokConfig, database: Database
) -> AsyncIterator[Tiktok]:
    shop_id = new_shop_id()
    seeded = await sim.shop(id=shop_id, name="Gateway shop")
    issued = await sim.tokens(shop_id)
    tokens = ShopAuthorization(
        shop_id=shop_id,
        access_token=issued["access_token"],
        access_token_expires_at=issued["access_token_expire_in"],
        refresh_token=issued["refresh_token"],
        refresh_token_expires_at=issued["refresh_token_expire_in"],
        cipher=seeded["cipher"],
        seller_name="Sim seller",
    )
    directory = MongoShopDirectory(database)
    await directory.save_authorization(tokens)
    made: list[TikTokApiGateway] = []

    def make(
        tokens: TokenProvider | None = None,
        *,
        settings: TikTokConfig = config,
        **options: Any,
    ) -> TikTokApiGateway:
        """A gateway over the stored tokens (or ``tokens``) with the fixture's options."""
        oauth = TikTokOAuth(settings)
        client = TikTokShopClient(settings, tokens or StoredTokenProvider(directory, oauth))
        gateway = TikTokApiGateway(
            client,
            oauth,
            directory,
            **{"default_category_id": "600001", "shipping_provider_id": PROVIDER_ID, **options},
        )
        made.append(gateway)
        return gateway

    yield Tiktok(shop_id, seeded["cipher"], tokens, database, directory, make(), make)
    for gateway in made:
        await gateway.aclose()


def listing(shop_id: str, **fields: Any) -> Listing:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "shop_id": shop_id,
        "local_product_id": f"prod-{uuid.uuid4().hex[:8]}",
        "title": "Organic cotton tee",
        "price": 1999,
        "currency": "USD",
        "image_url": None,
        "metadata": {"categoryId": "600002", "inventory": 7},
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    if "image_url" not in fields:
        values["image_url"] = IMAGE
    return Listing.model_validate(values)


async def sim_product(sim: SimControl, product_id: str) -> dict[str, Any]:
    product: dict[str, Any] = (await sim.call("GET", f"/products/{product_id}"))["product"]
    return product


async def sim_order(sim: SimControl, order_id: str) -> dict[str, Any]:
    order: dict[str, Any] = (await sim.call("GET", f"/orders/{order_id}"))["order"]
    return order


async def calls(sim: SimControl, path_prefix: str | None = None) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in await sim.requests(path_prefix)]


async def record_deauthorization(database: Database, shop_id: str, at: datetime) -> None:
    """What the shop's other writer does when the seller revokes the app (its own field)."""
    await database.collection(SHOPS).update_one(
        {"_id": shop_id}, {"$set": {"deauthorized_at": at}}, upsert=True
    )


def at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


# --- products ----------------------------------------------------------------------------------


async def test_push_creates_the_product_then_edits_it(
    sim: SimControl, tiktok: Tiktok, images: ImageHost
) -> None:
    name = f"tee-{uuid.uuid4().hex[:8]}"
    first = listing(tiktok.shop_id, image_url=images.url(name))
    created = await tiktok.gateway.push_product(tiktok.shop_id, first)
    product_id = created.external_product_id
    assert (created.title, created.status, created.price, created.currency) == (
        "Organic cotton tee",
        "pending",
        1999,
        "USD",
    )
    assert created.sku_id

    detail = await sim_product(sim, product_id)
    assert detail["title"] == "Organic cotton tee"
    assert detail["description"] == "Organic cotton tee"  # no description: the title
    assert [c["id"] for c in detail["category_chains"] if c["is_leaf"]] == ["600002"]
    # Uploaded through TikTok's image API first: TikTok's own URI, the image fetched once.
    [image] = detail["main_images"]
    assert image["uri"].startswith("tos-")
    assert images.fetched[f"/800x800/{name}.png"] == 1
    [sku] = detail["skus"]
    assert sku["seller_sku"] == first.local_product_id
    assert sku["price"] == {
        "currency": "USD",
        "tax_exclusive_price": "19.99",
        "sale_price": "19.99",
    }
    assert sku["inventory"][0]["quantity"] == 7

    second = first.model_copy(
        update={
            "external_product_id": product_id,
            "title": "Organic cotton tee, washed",
            "description": "<p>Soft.</p>",
            "price": 2500,
            "metadata": {},  # the configured category, no inventory
        }
    )
    edited = await tiktok.gateway.push_product(tiktok.shop_id, second)
    assert (edited.external_product_id, edited.title, edited.price, edited.sku_id) == (
        product_id,
        "Organic cotton tee, washed",
        2500,
        created.sku_id,
    )
    assert images.fetched[f"/800x800/{name}.png"] == 1  # the same image is not uploaded twice
    detail = await sim_product(sim, product_id)
    assert (detail["title"], detail["description"]) == (
        "Organic cotton tee, washed",
        "<p>Soft.</p>",
    )
    assert [c["id"] for c in detail["category_chains"] if c["is_leaf"]] == ["600001"]
    assert detail["skus"][0]["id"] == sku["id"]  # same SKU, edited
    assert detail["skus"][0]["price"]["sale_price"] == "25.00"
    assert detail["skus"][0]["inventory"][0]["quantity"] == 0
    assert await calls(sim, "/product/") == [
        ("POST", "/product/202309/images/upload"),
        ("POST", "/product/202309/products"),
        ("PUT", f"/product/202509/products/{product_id}"),
    ]


async def test_push_sends_exact_prices_in_the_currency_s_own_units(
    sim: SimControl, tiktok: Tiktok
) -> None:
    pushed = await tiktok.gateway.push_product(
        tiktok.shop_id, listing(tiktok.shop_id, price=1500, currency="JPY")
    )
    assert (pushed.price, pushed.currency) == (1500, "JPY")
    sku = (await sim_product(sim, pushed.external_product_id))["skus"][0]
    assert sku["price"]["sale_price"] == "1500"


async def test_a_listing_tiktok_cannot_take_fails_before_any_call(
    sim: SimControl, tiktok: Tiktok
) -> None:
    no_category = tiktok.make(default_category_id=None)
    cases = [
        (tiktok.gateway, listing(tiktok.shop_id, image_url=None), "has no image"),
        (tiktok.gateway, listing(tiktok.shop_id, price=None), "has no price"),
        (no_category, listing(tiktok.shop_id, metadata={}), "no TikTok category"),
        (tiktok.gateway, listing(tiktok.shop_id, metadata={"inventory": -1}), "inventory"),
    ]
    for gateway, bad, reason in cases:
        with pytest.raises(GatewayError, match=rf"Listing {bad.id}.*{reason}") as refused:
            await gateway.push_product(tiktok.shop_id, bad)
        assert not refused.value.retryable
        assert type(refused.value) is GatewayError
    assert await calls(sim, "/product/") == []


async def test_tiktok_refusing_a_product_says_code_message_and_request_id(
    sim: SimControl, tiktok: Tiktok
) -> None:
    await sim.faults(reject_titles_containing="replica")
    with pytest.raises(GatewayError) as refused:
        await tiktok.gateway.push_product(
            tiktok.shop_id, listing(tiktok.shop_id, title="replica watch")
        )
    assert refused.value.code == 12052001
    assert refused.value.request_id is not None
    assert re.fullmatch(REQUEST_ID, refused.value.request_id)
    assert not refused.value.retryable
    assert refused.value.message == (
        f"TikTok refused the call (12052001, request {refused.value.request_id}): "
        "product rejected by audit: replica watch"
    )


async def test_delete_product(sim: SimControl, tiktok: Tiktok) -> None:
    pushed = await tiktok.gateway.push_product(tiktok.shop_id, listing(tiktok.shop_id))
    await tiktok.gateway.delete_product(tiktok.shop_id, pushed.external_product_id)
    assert (await sim_product(sim, pushed.external_product_id))["status"] == "DELETED"

    with pytest.raises(
        GatewayError, match=f"TikTok did not delete product {pushed.external_product_id} "
    ) as refused:
        await tiktok.gateway.delete_product(tiktok.shop_id, pushed.external_product_id)
    assert refused.value.code  # TikTok's per-product code
    assert not refused.value.retryable


async def test_products_come_from_every_page_mapped_exactly(
    sim: SimControl, tiktok: Tiktok
) -> None:
    shop_id = tiktok.shop_id
    seeded = await sim.call(
        "POST",
        "/seed",
        {
            "products": [
                {
                    "shop_id": shop_id,
                    "title": "Numeric status",
                    "status": "4",  # the older numeric code for active
                    "skus": [{"seller_sku": "A", "price": "12.34"}],
                    "create_time": 1700000000,
                    "update_time": 1700000100,
                },
                {
                    "shop_id": shop_id,
                    "title": "Yen, deactivated",
                    "status": "SELLER_DEACTIVATED",
                    "skus": [{"seller_sku": "B", "price": "1500", "currency": "JPY"}],
                    "create_time": 1700000001,
                    "update_time": 1700000200,
                },
                {
                    "shop_id": shop_id,
                    "title": "Gone",
                    "status": "DELETED",
                    "skus": [{"seller_sku": "C", "price": "1.00"}],
                },
            ]
        },
    )
    await sim.call("POST", "/generate", {"shop_id": shop_id, "products": 228})

    products = [p async for p in tiktok.gateway.products(shop_id)]

    assert len(products) == 230  # 228 generated and 2 seeded; the deleted one is not listed
    assert len({p.external_product_id for p in products}) == 230
    numeric, yen, _ = seeded["products"]
    by_id = {p.external_product_id: p for p in products}
    assert by_id[numeric] == RemoteProduct(
        numeric, "Numeric status", "active", 1234, "USD", at(1700000100), external_status="4"
    )
    assert by_id[yen] == RemoteProduct(
        yen,
        "Yen, deactivated",
        "suspended",
        1500,
        "JPY",
        at(1700000200),
        external_status="SELLER_DEACTIVATED",
    )
    assert all(p.status == "active" and p.price and p.currency == "USD" for p in products[2:])
    assert len(await calls(sim, SEARCH_PRODUCTS)) == 3  # pages of 100


# --- orders -----------------------------------------------------------------------------------

EXACT_ORDER: dict[str, Any] = {
    "status": "111",  # the older numeric code for AWAITING_SHIPMENT
    "currency": "USD",
    "items": [
        {
            "product_id": "1729000000000042",
            "product_name": "Organic cotton tee",
            "sku_id": "1730000000000042",
            "seller_sku": "prod-42",
            "sale_price": "12.34",
            "original_price": "15.00",
            "quantity": 2,
        }
    ],
    "shipping_fee": "4.99",
    "tax": "1.00",
    "seller_discount": "0.50",
    "platform_discount": "2.00",
    "recipient": {
        "name": "Ada Lovelace",
        "phone_number": "(+1)555-0101",
        "full_address": "12 Analytical Way, New York, NY 10001, US",
        "address_detail": "12 Analytical Way",
        "postal_code": "10001",
        "region_code": "US",
    },
    "create_time": 1700000000,
    "update_time": 1700000500,
}

YEN_ORDER: dict[str, Any] = {
    "status": "COMPLETED",
    "currency": "JPY",
    "items": [{"product_name": "Tenugui", "seller_sku": "T-1", "sale_price": "1500"}],
    "shipping_fee": "300",
    "create_time": 1700000001,
    "update_time": 1700000900,
}


def exact_order(order_id: str) -> RemoteOrder:
    item = OrderItem(
        title="Organic cotton tee",
        quantity=1,
        unit_price=1234,
        external_product_id="1729000000000042",
        external_sku_id="1730000000000042",
        local_product_id="prod-42",
    )
    return RemoteOrder(
        external_order_id=order_id,
        status="confirmed",
        external_status="111",
        updated_at=at(1700000500),
        created_at=at(1700000000),
        currency="USD",
        subtotal=2468,
        shipping_fee=499,
        platform_fee=0,
        total=2817,  # 24.68 + 4.99 shipping + 1.00 tax - 0.50 - 2.00 discounts
        customer_name="Ada Lovelace",
        shipping_address=Address(
            name="Ada Lovelace",
            phone="(+1)555-0101",
            line1="12 Analytical Way",
            postal_code="10001",
            country="US",
        ),
        items=(item, item),  # two units are two line items at TikTok
    )


async def test_orders_come_from_every_page_and_details_map_alike(
    sim: SimControl, tiktok: Tiktok
) -> None:
    shop_id = tiktok.shop_id
    seeded = await sim.call(
        "POST",
        "/seed",
        {"orders": [{**EXACT_ORDER, "shop_id": shop_id}, {**YEN_ORDER, "shop_id": shop_id}]},
    )
    exact_id, yen_id = seeded["orders"]
    await sim.call("POST", "/generate", {"shop_id": shop_id, "orders": 118})
    gateway = tiktok.make(page_size=50)

    orders = [o async for o in gateway.orders(shop_id)]

    assert len(orders) == 120
    assert len(await calls(sim, SEARCH_ORDERS)) == 3
    by_id = {o.external_order_id: o for o in orders}
    assert len(by_id) == 120
    assert by_id[exact_id] == exact_order(exact_id)
    yen = by_id[yen_id]
    assert (yen.status, yen.external_status, yen.currency) == ("delivered", "COMPLETED", "JPY")
    assert (yen.subtotal, yen.shipping_fee, yen.total) == (1500, 300, 1800)
    assert [(i.title, i.unit_price) for i in yen.items] == [("Tenugui", 1500)]
    statuses = {(o.external_status, o.status) for o in orders}
    assert {
        ("UNPAID", "pending"),
        ("AWAITING_SHIPMENT", "confirmed"),
        ("AWAITING_COLLECTION", "confirmed"),
        ("IN_TRANSIT", "shipped"),
        ("DELIVERED", "delivered"),
        ("CANCELLED", "cancelled"),
    } <= statuses

    await sim.clear_requests()
    details = await gateway.order_details(shop_id, list(by_id))
    assert {o.external_order_id: o for o in details} == by_id
    assert len(await calls(sim, ORDER_DETAILS)) == 3  # 50 ids per call at most
    assert await gateway.order_details(shop_id, []) == []


async def test_order_details_reports_an_unreadable_order_by_id_and_maps_the_others(
    sim: SimControl, tiktok: Tiktok
) -> None:
    shop_id = tiktok.shop_id
    bad = {**YEN_ORDER, "shop_id": shop_id, "shipping_fee": "300.5", "exact_amounts": True}
    seeded = await sim.call("POST", "/seed", {"orders": [{**YEN_ORDER, "shop_id": shop_id}, bad]})
    good_id, bad_id = seeded["orders"]

    details = await tiktok.gateway.order_details(shop_id, [bad_id, good_id])

    by_id = {d.ref if isinstance(d, Unreadable) else d.external_order_id: d for d in details}
    assert isinstance(by_id[good_id], RemoteOrder)
    unreadable = by_id[bad_id]
    assert isinstance(unreadable, Unreadable)
    assert "more precision than JPY allows" in unreadable.reason


async def test_mark_shipped(sim: SimControl, tiktok: Tiktok) -> None:
    seeded = await sim.call(
        "POST",
        "/seed",
        {"orders": [{**EXACT_ORDER, "status": "AWAITING_SHIPMENT", "shop_id": tiktok.shop_id}]},
    )
    [order_id] = seeded["orders"]

    await tiktok.gateway.mark_shipped(tiktok.shop_id, order_id, "1Z999AA10123456784")

    order = await sim_order(sim, order_id)
    assert (order["status"], order["tracking_number"], order["shipping_provider_id"]) == (
        "IN_TRANSIT",
        "1Z999AA10123456784",
        PROVIDER_ID,
    )
    [remote] = await tiktok.gateway.order_details(tiktok.shop_id, [order_id])
    assert (remote.status, remote.tracking_number) == ("shipped", "1Z999AA10123456784")

    with pytest.raises(GatewayError) as refused:  # already shipped
        await tiktok.gateway.mark_shipped(tiktok.shop_id, order_id, "1Z999AA10123456784")
    assert refused.value.code == 21011001
    assert re.fullmatch(REQUEST_ID, refused.value.request_id or "")
    assert re.fullmatch(
        rf"TikTok refused the call \(21011001, request {REQUEST_ID}\): "
        r".*IN_TRANSIT, not awaiting shipment",
        refused.value.message,
    )

    with pytest.raises(GatewayError, match="shipping provider"):
        await tiktok.make(shipping_provider_id=None).mark_shipped(tiktok.shop_id, order_id, "1Z")


# --- connection and authorization ---------------------------------------------------------------


async def test_check_connection_ok(tiktok: Tiktok) -> None:
    port: TikTokGateway = tiktok.gateway  # the gateway is the application's port
    assert await port.check_connection(tiktok.shop_id) is None
    assert tiktok.gateway.enabled(tiktok.shop_id)


async def test_unconfigured_gateway_calls_nothing_and_says_so(tiktok: Tiktok) -> None:
    port: TikTokGateway = UnconfiguredTikTok()
    shop_id = tiktok.shop_id
    assert not port.enabled(shop_id)
    reason = await port.check_connection(shop_id)
    assert reason is not None
    assert "not configured" in reason
    attempts: list[Callable[[], Awaitable[Any]]] = [
        lambda: port.authorize("code"),
        lambda: port.push_product(shop_id, listing(shop_id)),
        lambda: port.delete_product(shop_id, "1"),
        lambda: port.order_details(shop_id, ["1"]),
        lambda: port.mark_shipped(shop_id, "1", "1Z"),
        lambda: anext(aiter(port.products(shop_id))),
        lambda: anext(aiter(port.orders(shop_id))),
    ]
    for attempt in attempts:
        with pytest.raises(NotConfigured, match="not configured"):
            await attempt()


async def test_check_connection_with_an_expired_static_token(
    sim: SimControl, tiktok: Tiktok
) -> None:
    await sim.call("POST", "/tokens/expire", {"access_token": tiktok.tokens.access_token})
    gateway = tiktok.make(StaticTokenProvider(tiktok.tokens.access_token))

    reason = await gateway.check_connection(tiktok.shop_id)

    assert reason is not None
    assert re.fullmatch(
        rf"TikTok refused the access token \(105002, request {REQUEST_ID}\): "
        r"Access token is expired; the static TIKTOK_ACCESS_TOKEN cannot be refreshed, so the "
        rf"seller must authorize shop {tiktok.shop_id} \(an authorization code through "
        r"`authorize`\)",
        reason,
    )
    with pytest.raises(AuthorizationRequired) as refused:
        await gateway.push_product(tiktok.shop_id, listing(tiktok.shop_id))
    assert refused.value.code == 105002
    assert refused.value.request_id


async def test_a_dead_refresh_token_is_reported_and_stops_calls(
    sim: SimControl, tiktok: Tiktok
) -> None:
    await sim.call(
        "POST",
        "/tokens/expire",
        {"access_token": tiktok.tokens.access_token, "refresh_token": tiktok.tokens.refresh_token},
    )
    await tiktok.gateway.refresh()
    assert tiktok.gateway.enabled(tiktok.shop_id)

    reason = await tiktok.gateway.check_connection(tiktok.shop_id)

    assert reason is not None
    assert re.fullmatch(
        rf"TikTok says the seller must re-authorize the app \(36004001, request {REQUEST_ID}\): "
        r"refresh token is expired",
        reason,
    )
    assert not tiktok.gateway.enabled(tiktok.shop_id)  # known at once, no refresh() needed
    stored = await tiktok.directory.authorization(tiktok.shop_id)
    assert stored is not None
    assert stored.needs_reauthorization
    await sim.clear_requests()
    with pytest.raises(AuthorizationRequired, match="36004001"):
        [p async for p in tiktok.gateway.products(tiktok.shop_id)]
    assert await calls(sim) == []
    assert await tiktok.directory.blocked_shops() == {
        tiktok.shop_id: "the authorization was lost (36004001: refresh token is expired)"
    }


async def test_a_deauthorized_shop_is_not_called_until_authorized_again(
    sim: SimControl, tiktok: Tiktok
) -> None:
    await tiktok.gateway.refresh()
    assert tiktok.gateway.enabled(tiktok.shop_id)

    # The seller revokes the app; the webhook worker records it.
    await sim.call("POST", f"/shops/{tiktok.shop_id}/deauthorize")
    await record_deauthorization(
        tiktok.database, tiktok.shop_id, datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    )
    assert tiktok.gateway.enabled(tiktok.shop_id)  # the cache lags until refreshed
    await tiktok.gateway.refresh()
    assert not tiktok.gateway.enabled(tiktok.shop_id)

    await sim.clear_requests()
    reason = await tiktok.gateway.check_connection(tiktok.shop_id)
    assert reason == (
        f"Shop {tiktok.shop_id} cannot be called until the seller re-authorizes: "
        "the seller deauthorized the app on 2025-03-01 12:30 UTC"
    )
    with pytest.raises(AuthorizationRequired, match="deauthorized"):
        await tiktok.gateway.push_product(tiktok.shop_id, listing(tiktok.shop_id))
    assert await calls(sim) == []

    # A gateway that has not refreshed yet learns it from the shop's document on first use.
    fresh = tiktok.make()
    assert fresh.enabled(tiktok.shop_id)
    with pytest.raises(AuthorizationRequired, match="deauthorized"):
        await fresh.order_details(tiktok.shop_id, ["1"])
    assert not fresh.enabled(tiktok.shop_id)
    assert await calls(sim) == []

    # The seller authorizes the app again: the deauthorization is lifted, calls flow.
    code = (await sim.call("POST", "/auth_codes", {"shop_ids": [tiktok.shop_id]}))["auth_code"]
    assert await tiktok.gateway.authorize(code) == [tiktok.shop_id]
    assert tiktok.gateway.enabled(tiktok.shop_id)
    assert await tiktok.directory.blocked_reason(tiktok.shop_id) is None
    assert await tiktok.gateway.check_connection(tiktok.shop_id) is None
    doc = await tiktok.database.collection(SHOPS).find_one({"_id": tiktok.shop_id})
    assert doc is not None
    assert doc["deauthorized_at"] is None


async def test_a_shop_revoked_at_tiktok_only_says_the_token_was_refused(
    sim: SimControl, tiktok: Tiktok
) -> None:
    await sim.call("POST", f"/shops/{tiktok.shop_id}/deauthorize")
    reason = await tiktok.gateway.check_connection(tiktok.shop_id)
    assert reason is not None
    assert re.fullmatch(
        rf"TikTok refused the access token \(105001, request {REQUEST_ID}\): Invalid access token",
        reason,
    )


async def test_the_cipher_is_fetched_once_and_kept(sim: SimControl, tiktok: Tiktok) -> None:
    # The seed's static token: no stored record, so the cipher comes from authorized shops.
    shop_id = new_shop_id()
    other = new_shop_id()
    seeded = await sim.shop(id=shop_id)
    await sim.shop(id=other)
    token = (await sim.tokens(shop_id))["access_token"]
    gateway = tiktok.make(StaticTokenProvider(token))

    async def count_products() -> int:
        return len([p async for p in gateway.products(shop_id)])

    # Concurrent first calls ask TikTok once.
    assert await asyncio.gather(*(count_products() for _ in range(5))) == [0] * 5
    assert [o async for o in gateway.orders(shop_id)] == []
    assert len(await calls(sim, AUTHORIZED_SHOPS)) == 1
    shops = tiktok.database.collection(SHOPS)
    assert await shops.find_one({"_id": shop_id}) == {"_id": shop_id, "cipher": seeded["cipher"]}
    assert await tiktok.directory.authorization(shop_id) is None  # a cipher is not tokens

    # Another process finds it in the database.
    await sim.clear_requests()
    again = tiktok.make(StaticTokenProvider(token))
    assert [p async for p in again.products(shop_id)] == []
    assert await calls(sim, AUTHORIZED_SHOPS) == []

    # A name of ours for the one shop a token covers (the seed's default shop) is that shop.
    alias = f"default-{uuid.uuid4().hex[:6]}"
    assert [p async for p in gateway.products(alias)] == []
    assert await tiktok.directory.cipher(alias) == seeded["cipher"]

    # A token covering two shops names neither by another name.
    both = (await sim.tokens(shop_id, other))["access_token"]
    with pytest.raises(AuthorizationRequired, match="does not cover this shop"):
        [p async for p in tiktok.make(StaticTokenProvider(both)).products(f"x-{alias}")]


async def cipher_calls(sim: SimControl) -> list[tuple[str, int | None]]:
    """Each call since the log was cleared: its path and TikTok's code."""
    return [(r["path"], r["code"]) for r in await sim.requests()]


async def test_a_cipher_tiktok_no_longer_knows_is_fetched_again_once_and_kept(
    sim: SimControl, tiktok: Tiktok
) -> None:
    shop_id = tiktok.shop_id
    warehouses = "/logistics/202309/warehouses"
    # TikTok's simulator restarted: the shop has a new cipher, the database keeps the old one.
    await tiktok.directory.save_cipher(shop_id, "ROW_from-before-the-restart")
    gateway = tiktok.make()
    await sim.clear_requests()

    # Concurrent calls meet 106014 at most once each; TikTok is asked for the cipher once.
    found = await asyncio.gather(*(gateway.warehouses(shop_id) for _ in range(3)))
    assert all(any(w.is_default for w in answer) for answer in found)
    log = await cipher_calls(sim)
    assert 1 <= log.count((warehouses, 106014)) <= 3
    assert log.count((warehouses, 0)) == 3
    assert log.count((AUTHORIZED_SHOPS, 0)) == 1
    assert await tiktok.directory.cipher(shop_id) == tiktok.cipher  # saved for other processes

    # Kept: the next call goes straight through, as do those of a new process.
    await sim.clear_requests()
    await gateway.warehouses(shop_id)
    await tiktok.make().warehouses(shop_id)
    assert await cipher_calls(sim) == [(warehouses, 0), (warehouses, 0)]

    # TikTok gives the shop another cipher while the gateway runs: a push (image upload,
    # create) and a pull (pages) go through, the new cipher saved once more.
    await sim.shop(id=shop_id, cipher="ROW_given-later")
    await sim.clear_requests()
    pushed = await gateway.push_product(shop_id, listing(shop_id))
    pulled = [p async for p in gateway.products(shop_id)]
    assert [p.external_product_id for p in pulled] == [pushed.external_product_id]
    assert await tiktok.directory.cipher(shop_id) == "ROW_given-later"
    assert (await cipher_calls(sim)).count((AUTHORIZED_SHOPS, 0)) == 1


async def test_the_connection_check_replaces_a_cipher_tiktok_no_longer_gives(
    sim: SimControl, tiktok: Tiktok
) -> None:
    await tiktok.directory.save_cipher(tiktok.shop_id, "ROW_from-before-the-restart")
    gateway = tiktok.make()
    assert await gateway.check_connection(tiktok.shop_id) is None
    assert await tiktok.directory.cipher(tiktok.shop_id) == tiktok.cipher
    await sim.clear_requests()
    await gateway.warehouses(tiktok.shop_id)
    assert await cipher_calls(sim) == [("/logistics/202309/warehouses", 0)]


class _CipherChangesAgain(httpx.AsyncBaseTransport):
    """The simulator over HTTP, where the shop gets yet another cipher right after each
    Get Authorized Shops answer: the cipher fetched again is refused again."""

    def __init__(self, sim: SimControl, shop_id: str) -> None:
        self._http = httpx.AsyncHTTPTransport()
        self._sim = sim
        self._shop_id = shop_id

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        answer = await self._http.handle_async_request(request)
        if request.url.path == AUTHORIZED_SHOPS:
            self._sim.sim.world.shops[self._shop_id].cipher = f"ROW_{uuid.uuid4().hex}"
        return answer

    async def aclose(self) -> None:
        await self._http.aclose()


async def test_a_cipher_refused_again_after_fetching_it_is_the_usual_gateway_error(
    sim: SimControl, tiktok: Tiktok, config: TikTokConfig
) -> None:
    shop_id = tiktok.shop_id
    oauth = TikTokOAuth(config)
    client = TikTokShopClient(
        config,
        StoredTokenProvider(tiktok.directory, oauth),
        transport=_CipherChangesAgain(sim, shop_id),
    )
    gateway = TikTokApiGateway(client, oauth, tiktok.directory)
    await tiktok.directory.save_cipher(shop_id, "ROW_from-before-the-restart")
    await sim.clear_requests()
    try:
        with pytest.raises(GatewayError) as caught:
            await gateway.warehouses(shop_id)
    finally:
        await gateway.aclose()
    error = caught.value
    assert type(error) is GatewayError
    assert (error.code, error.retryable, bool(error.request_id)) == (106014, False, True)
    assert re.fullmatch(
        rf"TikTok refused the shop's cipher \(106014, request {REQUEST_ID}\): "
        "shop_cipher is invalid",
        error.message,
    )
    # Tried once more with the cipher fetched, not again and again.
    assert await cipher_calls(sim) == [
        ("/logistics/202309/warehouses", 106014),
        (AUTHORIZED_SHOPS, 0),
        ("/logistics/202309/warehouses", 106014),
    ]


# --- the default shop: a stored authorization beats the static token -----------------------------


async def test_the_default_shop_prefers_a_stored_authorization_to_the_static_token(
    sim: SimControl, config: TikTokConfig, database: Database
) -> None:
    shop_id = new_shop_id()
    seeded = await sim.shop(id=shop_id)
    static = (await sim.tokens(shop_id))["access_token"]
    directory = MongoShopDirectory(database)
    gateway = build_api_gateway(
        config,
        directory,
        default_shop_id=shop_id,
        static_access_token=static,
        default_category_id="600001",
    )
    try:
        # No stored authorization: the static token works, and the cipher is looked up.
        assert await gateway.check_connection(shop_id) is None
        assert await directory.cipher(shop_id) == seeded["cipher"]

        # It expires: only the seller can help, and the settings say so.
        await sim.call("POST", "/tokens/expire", {"access_token": static})
        with pytest.raises(AuthorizationRequired, match=f"must authorize shop {shop_id}"):
            await gateway.push_product(shop_id, listing(shop_id))
        reason = await gateway.check_connection(shop_id)
        assert reason is not None
        assert "the static TIKTOK_ACCESS_TOKEN cannot be refreshed" in reason

        # The seller authorizes the default shop: its stored tokens win from now on.
        code = (await sim.call("POST", "/auth_codes", {"shop_ids": [shop_id]}))["auth_code"]
        assert await gateway.authorize(code) == [shop_id]
        assert await gateway.check_connection(shop_id) is None
        pushed = await gateway.push_product(shop_id, listing(shop_id))
        assert pushed.external_product_id

        # ... and they are refreshed when TikTok calls them expired.
        stored = await directory.authorization(shop_id)
        assert stored is not None
        await sim.call("POST", "/tokens/expire", {"access_token": stored.access_token})
        await sim.clear_requests()
        assert [p.external_product_id async for p in gateway.products(shop_id)] == [
            pushed.external_product_id
        ]
        assert [(r["path"], r["code"]) for r in await sim.requests()] == [
            (SEARCH_PRODUCTS, 105002),
            (REFRESH, 0),
            (SEARCH_PRODUCTS, 0),
        ]
        refreshed = await directory.authorization(shop_id)
        assert refreshed is not None
        assert refreshed.access_token != stored.access_token
    finally:
        await gateway.aclose()


# --- only the port's errors leave the gateway -----------------------------------------------------

Method = Callable[[TikTokApiGateway, str, str], Awaitable[Any]]


async def _drain(items: AsyncIterator[Any]) -> list[Any]:
    return [item async for item in items]


METHODS: dict[str, Method] = {
    "check_connection": lambda g, shop, code: g.check_connection(shop),
    "authorize": lambda g, shop, code: g.authorize(code),
    "create_product": lambda g, shop, code: g.push_product(shop, listing(shop)),
    "edit_product": lambda g, shop, code: g.push_product(
        shop, listing(shop, external_product_id="1729000000000001")
    ),
    "delete_product": lambda g, shop, code: g.delete_product(shop, "1729000000000001"),
    "products": lambda g, shop, code: _drain(g.products(shop)),
    "orders": lambda g, shop, code: _drain(g.orders(shop)),
    "order_details": lambda g, shop, code: g.order_details(shop, ["576461413038785752"]),
    "mark_shipped": lambda g, shop, code: g.mark_shipped(shop, "576461413038785752", "1Z9"),
}


@dataclass(frozen=True)
class Trouble:
    """How a shop's calls go wrong, and what every call (but authorize) must then raise."""

    error: type[GatewayError]
    retryable: bool
    code: int | None
    calls_tiktok: bool = True


def _closed_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


@pytest.fixture(scope="session")
async def html_server() -> AsyncIterator[str]:
    """A host that answers everything with a proxy's HTML error page, not TikTok's envelope."""

    async def bad_gateway(request: Request) -> HTMLResponse:
        return HTMLResponse("<html>Bad gateway</html>", status_code=502)

    methods = ["GET", "POST", "PUT", "DELETE"]
    app = Starlette(routes=[Route("/{path:path}", bad_gateway, methods=methods)])
    async with serving(app) as url:
        yield url


TROUBLES: dict[str, Trouble] = {
    "throttled": Trouble(GatewayError, True, 36009002),
    "retry_after_too_long": Trouble(GatewayError, True, 36009002),
    "server_error": Trouble(GatewayError, True, 50000),
    "dropped_connection": Trouble(GatewayError, True, None),
    "permission_denied": Trouble(GatewayError, False, 105005),
    "refresh_token_dead": Trouble(AuthorizationRequired, False, 36004001),
    "revoked_at_tiktok": Trouble(GatewayError, False, 105001),
    "invalid_signature": Trouble(GatewayError, False, 106001),
    "token_covers_other_shops": Trouble(AuthorizationRequired, False, None),
    "unreachable": Trouble(GatewayError, True, None),
    "unreadable_answer": Trouble(GatewayError, True, None),
    "deauthorized": Trouble(AuthorizationRequired, False, None, calls_tiktok=False),
}


async def _troubled(
    trouble: str, sim: SimControl, tiktok: Tiktok, config: TikTokConfig, html_server: str
) -> tuple[TikTokApiGateway, str]:
    """A gateway and shop id in that trouble."""
    shop_id = tiktok.shop_id
    match trouble:
        case "throttled":
            await sim.faults(throttle_next=1000, retry_after=0)
        case "retry_after_too_long":
            await sim.faults(throttle_next=1000, retry_after=600)
        case "server_error":
            await sim.faults(fail_next=1000, error_status=503)
        case "dropped_connection":
            await sim.faults(drop_next=1000)
        case "permission_denied":
            await sim.faults(permission_denied_paths=["/"])
        case "refresh_token_dead":
            tokens = tiktok.tokens
            await sim.call(
                "POST",
                "/tokens/expire",
                {"access_token": tokens.access_token, "refresh_token": tokens.refresh_token},
            )
        case "revoked_at_tiktok":
            await sim.call("POST", f"/shops/{shop_id}/deauthorize")
        case "invalid_signature":
            return tiktok.make(settings=replace(config, app_secret="not-the-secret")), shop_id
        case "token_covers_other_shops":
            first, second = await sim.shop(), await sim.shop()
            token = (await sim.tokens(first["id"], second["id"]))["access_token"]
            return tiktok.make(StaticTokenProvider(token)), new_shop_id()
        case "unreachable":
            closed = f"http://127.0.0.1:{_closed_port()}"
            settings = replace(config, api_base_url=closed, auth_base_url=closed)
            return tiktok.make(settings=settings), shop_id
        case "unreadable_answer":
            settings = replace(config, api_base_url=html_server, auth_base_url=html_server)
            return tiktok.make(settings=settings), shop_id
        case "deauthorized":
            await record_deauthorization(tiktok.database, shop_id, datetime.now(UTC))
    return tiktok.gateway, shop_id


@pytest.mark.parametrize("method", list(METHODS))
@pytest.mark.parametrize("trouble", list(TROUBLES))
async def test_only_gateway_errors_leave_the_gateway(
    trouble: str,
    method: str,
    sim: SimControl,
    tiktok: Tiktok,
    config: TikTokConfig,
    html_server: str,
) -> None:
    code = (await sim.call("POST", "/auth_codes", {"shop_ids": [tiktok.shop_id]}))["auth_code"]
    gateway, shop_id = await _troubled(trouble, sim, tiktok, config, html_server)
    expected = TROUBLES[trouble]
    await sim.clear_requests()
    call = METHODS[method]

    if method == "check_connection":
        reason = await call(gateway, shop_id, code)  # answers why; never raises
        assert isinstance(reason, str)
        assert reason
        return
    if method == "authorize":
        # The code exchange meets other troubles than the shop's, and may get through; any
        # exception but a GatewayError fails the test.
        with contextlib.suppress(GatewayError):
            await call(gateway, shop_id, code)
        return
    with pytest.raises(GatewayError) as caught:
        await call(gateway, shop_id, code)
    error = caught.value
    assert error.message
    assert str(error) == error.message
    assert type(error) is expected.error, error.message
    assert error.retryable is expected.retryable, error.message
    assert error.code == expected.code, error.message
    assert (error.request_id is not None) == (error.code is not None), error.message
    if not expected.calls_tiktok:
        assert await sim.requests() == []


class _FailingDirectory(InMemoryShopDirectory):
    """A directory whose database is down (or broken) for every read."""

    def __init__(self, failure: Exception) -> None:
        super().__init__()
        self.failure = failure

    async def blocked_reason(self, shop_id: str) -> str | None:
        raise self.failure

    async def blocked_shops(self) -> dict[str, str]:
        raise self.failure


@pytest.mark.parametrize(
    ("failure", "retryable", "says"),
    [
        (DatabaseUnavailable("the database did not answer"), True, "did not answer"),
        (RuntimeError("a defect"), False, "RuntimeError: a defect"),
    ],
)
async def test_a_failing_directory_is_a_gateway_error(
    failure: Exception,
    retryable: bool,
    says: str,
    config: TikTokConfig,
    sim: SimControl,
) -> None:
    directory = _FailingDirectory(failure)
    gateway = build_api_gateway(config, directory, default_shop_id="shop", default_category_id="1")
    try:
        with pytest.raises(GatewayError, match=says) as caught:
            await gateway.refresh()
        assert caught.value.retryable is retryable
        with pytest.raises(GatewayError, match=says) as caught:
            await gateway.push_product("shop", listing("shop"))
        assert caught.value.retryable is retryable
        reason = await gateway.check_connection("shop")
        assert reason is not None
        assert says in reason
    finally:
        await gateway.aclose()
    assert await sim.requests() == []


async def test_a_database_that_does_not_answer_is_a_retryable_gateway_error(
    config: TikTokConfig, sim: SimControl
) -> None:
    down = Database(f"mongodb://127.0.0.1:{_closed_port()}/", "nowhere", timeout_ms=200)
    directory = MongoShopDirectory(down)
    with pytest.raises(DatabaseUnavailable):
        await directory.blocked_reason("shop")
    gateway = build_api_gateway(config, directory, default_shop_id="shop", default_category_id="1")
    try:
        with pytest.raises(GatewayError, match="did not answer") as caught:
            await gateway.push_product("shop", listing("shop"))
        assert caught.value.retryable
    finally:
        await gateway.aclose()
        await down.close()
    assert await sim.requests() == []


# --- the shop directory ---------------------------------------------------------------------------


async def test_shop_directory_round_trip_keeps_the_other_fields(database: Database) -> None:
    collection = database.collection(SHOPS)
    directory = MongoShopDirectory(database)
    shop_id = new_shop_id()
    deauthorized_at = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    expires_at = datetime(2025, 2, 1, tzinfo=UTC)
    # Fields the unit of work keeps beside the tokens, an outbox entry among them in the very
    # shape it writes one (a malformed entry would stop a relay's sweep over this database).
    waiting = AuthorizationExpiring(
        event_id="e1", shop_id=shop_id, occurred_at=deauthorized_at, expires_at=expires_at
    )
    others = {
        "authorization_expires_at": expires_at,
        "outbox": outbox_documents([waiting]),
        "version": 3,
    }
    await collection.insert_one({"_id": shop_id, "deauthorized_at": deauthorized_at, **others})
    assert await directory.authorization(shop_id) is None
    assert await directory.authorization(new_shop_id()) is None
    assert await directory.cipher(shop_id) is None
    assert await directory.blocked_reason(shop_id) == (
        "the seller deauthorized the app on 2025-01-02 03:04 UTC"
    )
    assert (await directory.blocked_shops()).get(shop_id) == (
        "the seller deauthorized the app on 2025-01-02 03:04 UTC"
    )

    tokens = ShopAuthorization(
        shop_id=shop_id,
        access_token="TTP_access",
        access_token_expires_at=1800000000,
        refresh_token="TTP_refresh",
        refresh_token_expires_at=1900000000,
        cipher="ROW_cipher",
        open_id="open-1",
        seller_name="Ada's shop",
    )
    await directory.save_authorization(tokens)
    assert await directory.authorization(shop_id) == tokens
    assert await directory.cipher(shop_id) == "ROW_cipher"
    doc = await collection.find_one({"_id": shop_id})
    assert doc is not None
    assert {key: doc[key] for key in others} == others
    assert doc["deauthorized_at"] == deauthorized_at  # tokens do not lift a deauthorization
    [entry] = outbox_entries(SHOPS, shop_id, doc["outbox"])
    assert (entry.event_id, entry.type) == ("e1", "tiktok.authorization.expiring")
    assert doc["token_status"] == "active"

    # The seller authorized again: the deauthorization is lifted, nothing else changes.
    await directory.lift_deauthorization(shop_id)
    assert await directory.blocked_reason(shop_id) is None
    assert shop_id not in await directory.blocked_shops()
    doc = await collection.find_one({"_id": shop_id})
    assert doc is not None
    assert doc["deauthorized_at"] is None
    assert {key: doc[key] for key in others} == others

    # A refresh saved without a cipher keeps the known one; a lost authorization round-trips.
    marked = replace(
        tokens,
        access_token="TTP_access_2",
        cipher=None,
        status="needs_reauthorization",
        status_reason="36004001: refresh token is expired",
    )
    await directory.save_authorization(marked)
    assert await directory.authorization(shop_id) == replace(marked, cipher="ROW_cipher")
    reason = "the authorization was lost (36004001: refresh token is expired)"
    assert await directory.blocked_reason(shop_id) == reason
    assert (await directory.blocked_shops()).get(shop_id) == reason
    doc = await collection.find_one({"_id": shop_id})
    assert doc is not None
    assert {key: doc[key] for key in others} == others

    # A cipher alone: a document of its own, no tokens, not blocked; lifting creates nothing.
    alone = new_shop_id()
    await directory.save_cipher(alone, "ROW_alone")
    assert await directory.cipher(alone) == "ROW_alone"
    assert await directory.authorization(alone) is None
    assert await directory.blocked_reason(alone) is None
    nobody = new_shop_id()
    await directory.lift_deauthorization(nobody)
    assert await collection.find_one({"_id": nobody}) is None
    await collection.delete_many({"_id": {"$in": [shop_id, alone]}})


# --- catalog: images, warehouses, categories, stock and price ---------------------------------

SALES_WAREHOUSE = "7068517275539719942"


async def test_images_are_uploaded_once_per_shop_and_bad_ones_refused_before_any_product_call(
    sim: SimControl, tiktok: Tiktok, images: ImageHost
) -> None:
    missing = listing(tiktok.shop_id, image_url=images.base_url + "/nothing-here.png")
    with pytest.raises(GatewayError, match="could not be fetched: HTTP 404"):
        await tiktok.gateway.push_product(tiktok.shop_id, missing)
    tiny = listing(tiktok.shop_id, image_url=images.url(f"tiny-{uuid.uuid4().hex[:6]}", 120, 120))
    with pytest.raises(GatewayError) as refused:
        await tiktok.gateway.push_product(tiktok.shop_id, tiny)
    assert refused.value.code == 12038014  # TikTok's size rule for a main image
    assert await calls(sim, "/product/") == [("POST", "/product/202309/images/upload")]

    name = f"mug-{uuid.uuid4().hex[:6]}"
    for _ in range(2):
        await tiktok.gateway.push_product(
            tiktok.shop_id, listing(tiktok.shop_id, image_url=images.url(name))
        )
    uploads = [c for c in await calls(sim, "/product/") if c[1].endswith("/images/upload")]
    assert len(uploads) == 2  # the tiny one, then this one once for both products
    assert images.fetched[f"/800x800/{name}.png"] == 1


async def test_warehouses_categories_and_attributes_come_from_tiktok(
    sim: SimControl, tiktok: Tiktok
) -> None:
    warehouses = await tiktok.gateway.warehouses(tiktok.shop_id)
    assert [(w.id, w.type, w.is_default) for w in warehouses] == [
        (SALES_WAREHOUSE, "SALES_WAREHOUSE", True),
        ("7068517275539719943", "RETURN_WAREHOUSE", True),
    ]
    found = await tiktok.gateway.categories(tiktok.shop_id, "cream")
    assert [(c.id, c.parent_id, c.name, c.is_leaf) for c in found] == [
        ("700101", "700100", "Face Creams", True)
    ]
    attributes = {
        a.id: a for a in await tiktok.gateway.category_attributes(tiktok.shop_id, "700101")
    }
    assert attributes["100392"].required
    assert attributes["100392"].name == "Skin Type"
    assert [(c.attribute_id, c.value_id) for c in attributes["101002"].required_if] == [
        ("101001", "1010011")
    ]
    before = len(await calls(sim, "/product/202309/categories/700101"))
    await tiktok.gateway.category_attributes(tiktok.shop_id, "700101")
    assert len(await calls(sim, "/product/202309/categories/700101")) == before  # kept
    with pytest.raises(GatewayError) as refused:
        await tiktok.gateway.category_attributes(tiktok.shop_id, "700100")
    assert refused.value.code == 12052024  # not a leaf


async def test_stock_is_updated_per_warehouse_and_refusals_name_the_warehouse(
    sim: SimControl, tiktok: Tiktok
) -> None:
    stocked = listing(
        tiktok.shop_id,
        stock=[{"warehouse_id": SALES_WAREHOUSE, "quantity": 4, "version": 1}],
    )
    pushed = await tiktok.gateway.push_product(tiktok.shop_id, stocked)
    assert [(q.warehouse_id, q.quantity) for q in pushed.stock] == [(SALES_WAREHOUSE, 4)]
    linked = stocked.model_copy(
        update={
            "external_product_id": pushed.external_product_id,
            "external_sku_id": pushed.sku_id,
            "stock": [stocked.stock[0].model_copy(update={"quantity": 150_000})],
        }
    )
    copy = await tiktok.gateway.update_stock(tiktok.shop_id, linked)
    assert [(q.warehouse_id, q.quantity) for q in copy] == [(SALES_WAREHOUSE, 99_999)]  # capped
    view = await sim.call("GET", f"/products/{pushed.external_product_id}/stock")
    assert view["skus"][0]["inventory"] == [{"quantity": 99_999, "warehouse_id": SALES_WAREHOUSE}]

    elsewhere = linked.model_copy(
        update={"stock": [stocked.stock[0].model_copy(update={"warehouse_id": "123"})]}
    )
    with pytest.raises(GatewayError, match=r"warehouse 123: The warehouse does not exist") as no:
        await tiktok.gateway.update_stock(tiktok.shop_id, elsewhere)
    assert no.value.code == 12052990
    with pytest.raises(GatewayError, match="not on TikTok yet"):
        await tiktok.gateway.update_stock(tiktok.shop_id, stocked)


async def test_price_updates_wait_for_an_active_product_and_audits_tell_their_reasons(
    sim: SimControl, tiktok: Tiktok
) -> None:
    pushed = await tiktok.gateway.push_product(tiktok.shop_id, listing(tiktok.shop_id))
    linked = listing(
        tiktok.shop_id,
        external_product_id=pushed.external_product_id,
        external_sku_id=pushed.sku_id,
        price=2450,
    )
    with pytest.raises(GatewayError) as pending:
        await tiktok.gateway.update_price(tiktok.shop_id, linked)
    assert pending.value.code == 12019113  # only ACTIVATE products take a price
    assert (
        await tiktok.gateway.product_audit(tiktok.shop_id, pushed.external_product_id)
    ).status == ("pending")

    await sim.call("POST", f"/products/{pushed.external_product_id}/audit", {"outcome": "APPROVED"})
    await tiktok.gateway.update_price(tiktok.shop_id, linked)
    sku = (await sim_product(sim, pushed.external_product_id))["skus"][0]
    assert sku["price"]["sale_price"] == "24.50"

    second = await tiktok.gateway.push_product(tiktok.shop_id, listing(tiktok.shop_id))
    reasons = [{"position": "Title", "reasons": ["Misleading"], "suggestions": ["Say what it is"]}]
    await sim.call(
        "POST",
        f"/products/{second.external_product_id}/audit",
        {"outcome": "FAILED", "reasons": reasons},
    )
    audit = await tiktok.gateway.product_audit(tiktok.shop_id, second.external_product_id)
    assert (audit.status, audit.listing_status) == ("failed", "rejected")
    assert [(r.position, r.reasons, r.suggestions) for r in audit.reasons] == [
        ("Title", ["Misleading"], ["Say what it is"])
    ]
