"""The TikTok gateway over real HTTP against the simulator (fixtures in this folder's
conftest), with tokens in the real database."""

import asyncio
import random
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

import pytest

from contracts.entities import Address, Listing, OrderItem
from service.adapters.mongo.database import SHOPS
from service.adapters.mongo.shops import MongoShops
from service.adapters.mongo.tokens import MongoShopDirectory, MongoTokenStore
from service.adapters.tiktok import (
    ShopNeedsReauthorizationError,
    ShopTokens,
    StaticTokenProvider,
    StoredTokenProvider,
    TikTokApiError,
    TikTokConfig,
    TikTokOAuth,
    TikTokShopClient,
    TokenProvider,
)
from service.adapters.tiktok_gateway import TikTokApiGateway
from service.application.ports import TikTokGateway
from service.domain.remote import RemoteOrder, RemoteProduct
from service.entrypoints.worker.runtime import Worker
from tests.tiktok.sim_support import APP_KEY, APP_SECRET, SimControl

pytestmark = pytest.mark.integration

PROVIDER_ID = "7117858858072016686"
IMAGE = "https://cdn.shop.invalid/images/tee.jpg"
REQUEST_ID = r"[0-9A-F]{34}"

SEARCH_PRODUCTS = "/product/202502/products/search"
SEARCH_ORDERS = "/order/202309/orders/search"
ORDER_DETAILS = "/order/202507/orders"
AUTHORIZED_SHOPS = "/authorization/202309/shops"


@dataclass
class Tiktok:
    """One test's shop: seeded in the simulator, its tokens stored, a gateway for it."""

    shop_id: str
    cipher: str
    tokens: ShopTokens
    store: MongoTokenStore
    directory: MongoShopDirectory
    gateway: TikTokApiGateway
    make: Callable[..., TikTokApiGateway]


def new_shop_id() -> str:
    return f"7494{uuid.uuid4().int % 10**14:014d}"


@pytest.fixture
async def tiktok(sim: SimControl, config: TikTokConfig, worker: Worker) -> AsyncIterator[Tiktok]:
    shop_id = new_shop_id()
    seeded = await sim.shop(id=shop_id, name="Gateway shop")
    issued = await sim.tokens(shop_id)
    tokens = ShopTokens(
        shop_id=shop_id,
        access_token=issued["access_token"],
        access_token_expires_at=issued["access_token_expire_in"],
        refresh_token=issued["refresh_token"],
        refresh_token_expires_at=issued["refresh_token_expire_in"],
        cipher=seeded["cipher"],
        seller_name="Sim seller",
    )
    store = MongoTokenStore(worker.db)
    await store.save(tokens)
    oauth = TikTokOAuth(config)
    clients: list[TikTokShopClient] = []

    def build(
        tokens: TokenProvider | None = None, **options: Any
    ) -> tuple[TikTokApiGateway, MongoShopDirectory]:
        client = TikTokShopClient(
            config, tokens or StoredTokenProvider(store, oauth), rng=random.Random(1)
        )
        clients.append(client)
        directory = MongoShopDirectory(worker.db, client)
        settings: dict[str, Any] = {
            "default_category_id": "600001",
            "shipping_provider_id": PROVIDER_ID,
            **options,
        }
        return TikTokApiGateway(client, directory, **settings), directory

    def make(tokens: TokenProvider | None = None, **options: Any) -> TikTokApiGateway:
        return build(tokens, **options)[0]

    gateway, directory = build()
    yield Tiktok(shop_id, seeded["cipher"], tokens, store, directory, gateway, make)
    for made in clients:
        await made.aclose()
    await oauth.aclose()


def listing(shop_id: str, **fields: Any) -> Listing:
    now = datetime.now(UTC)
    values: dict[str, Any] = {
        "id": uuid.uuid4().hex,
        "shop_id": shop_id,
        "local_product_id": f"prod-{uuid.uuid4().hex[:8]}",
        "title": "Organic cotton tee",
        "price": 1999,
        "currency": "USD",
        "image_url": IMAGE,
        "metadata": {"categoryId": "600002", "inventory": 7},
        "created_at": now,
        "updated_at": now,
    }
    values.update(fields)
    return Listing.model_validate(values)


async def sim_product(sim: SimControl, product_id: str) -> dict[str, Any]:
    product: dict[str, Any] = (await sim.call("GET", f"/products/{product_id}"))["product"]
    return product


async def sim_order(sim: SimControl, order_id: str) -> dict[str, Any]:
    order: dict[str, Any] = (await sim.call("GET", f"/orders/{order_id}"))["order"]
    return order


async def calls(sim: SimControl, path_prefix: str | None = None) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in await sim.requests(path_prefix)]


@pytest.fixture
async def idle_client() -> AsyncIterator[TikTokShopClient]:
    """For a directory that must not call TikTok: its address accepts no connections."""
    config = TikTokConfig(APP_KEY, APP_SECRET, api_base_url="http://127.0.0.1:9", max_attempts=1)
    async with TikTokShopClient(config, StaticTokenProvider("unused")) as client:
        yield client


def at(unix: int) -> datetime:
    return datetime.fromtimestamp(unix, UTC)


# --- products ----------------------------------------------------------------------------------


async def test_push_creates_the_product_then_edits_it(sim: SimControl, tiktok: Tiktok) -> None:
    first = listing(tiktok.shop_id)
    created = await tiktok.gateway.push_product(tiktok.shop_id, first)
    product_id = created.external_product_id
    assert created == RemoteProduct(product_id, "Organic cotton tee", "pending", 1999, "USD", None)

    detail = await sim_product(sim, product_id)
    assert detail["title"] == "Organic cotton tee"
    assert detail["description"] == "Organic cotton tee"  # no description: the title
    assert [c["id"] for c in detail["category_chains"] if c["is_leaf"]] == ["600002"]
    assert [image["uri"] for image in detail["main_images"]] == [IMAGE]
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
    assert edited == RemoteProduct(
        product_id, "Organic cotton tee, washed", "pending", 2500, "USD", None
    )
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
        with pytest.raises(ValueError, match=reason):
            await gateway.push_product(tiktok.shop_id, bad)
    assert await calls(sim, "/product/") == []


async def test_tiktok_refusing_a_product_says_code_message_and_request_id(
    sim: SimControl, tiktok: Tiktok
) -> None:
    await sim.faults(reject_titles_containing="replica")
    with pytest.raises(TikTokApiError) as refused:
        await tiktok.gateway.push_product(
            tiktok.shop_id, listing(tiktok.shop_id, title="replica watch")
        )
    assert refused.value.code == 12052001
    assert re.fullmatch(
        rf"TikTok error 12052001: product rejected by audit: replica watch "
        rf"\(request_id={REQUEST_ID}\)",
        str(refused.value),
    )


async def test_delete_product(sim: SimControl, tiktok: Tiktok) -> None:
    pushed = await tiktok.gateway.push_product(tiktok.shop_id, listing(tiktok.shop_id))
    await tiktok.gateway.delete_product(tiktok.shop_id, pushed.external_product_id)
    assert (await sim_product(sim, pushed.external_product_id))["status"] == "DELETED"

    with pytest.raises(TikTokApiError, match=f"product {pushed.external_product_id} was not"):
        await tiktok.gateway.delete_product(tiktok.shop_id, pushed.external_product_id)


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
        numeric, "Numeric status", "active", 1234, "USD", at(1700000100)
    )
    assert by_id[yen] == RemoteProduct(
        yen, "Yen, deactivated", "suspended", 1500, "JPY", at(1700000200)
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

    with pytest.raises(TikTokApiError) as refused:  # already shipped
        await tiktok.gateway.mark_shipped(tiktok.shop_id, order_id, "1Z999AA10123456784")
    assert refused.value.code == 21011001
    assert re.search(
        rf"IN_TRANSIT, not awaiting shipment \(request_id={REQUEST_ID}\)$", str(refused.value)
    )

    with pytest.raises(ValueError, match="shipping provider"):
        await tiktok.make(shipping_provider_id=None).mark_shipped(tiktok.shop_id, order_id, "1Z")


# --- connection and authorization ---------------------------------------------------------------


async def test_check_connection_ok(tiktok: Tiktok) -> None:
    port: TikTokGateway = tiktok.gateway  # the gateway is the application's port
    assert await port.check_connection(tiktok.shop_id) is None
    assert tiktok.gateway.enabled(tiktok.shop_id)
    assert not tiktok.make(configured=False).enabled(tiktok.shop_id)


async def test_check_connection_with_an_expired_static_token(
    sim: SimControl, tiktok: Tiktok
) -> None:
    await sim.call("POST", "/tokens/expire", {"access_token": tiktok.tokens.access_token})
    gateway = tiktok.make(StaticTokenProvider(tiktok.tokens.access_token))

    reason = await gateway.check_connection(tiktok.shop_id)

    assert reason is not None
    assert re.fullmatch(
        rf"TikTok refused the access token \(105002, request {REQUEST_ID}\): "
        r"Access token is expired",
        reason,
    )


async def test_a_dead_refresh_token_is_reported_and_stops_calls(
    sim: SimControl, tiktok: Tiktok
) -> None:
    await sim.call(
        "POST",
        "/tokens/expire",
        {"access_token": tiktok.tokens.access_token, "refresh_token": tiktok.tokens.refresh_token},
    )
    await tiktok.directory.refresh()
    assert tiktok.gateway.enabled(tiktok.shop_id)

    reason = await tiktok.gateway.check_connection(tiktok.shop_id)

    assert reason is not None
    assert re.fullmatch(
        rf"TikTok says the seller must re-authorize the app \(36004001, request {REQUEST_ID}\): "
        r"refresh token is expired",
        reason,
    )
    assert not tiktok.gateway.enabled(tiktok.shop_id)  # known at once, no refresh() needed
    stored = await tiktok.store.get(tiktok.shop_id)
    assert stored is not None
    assert stored.needs_reauthorization
    await sim.clear_requests()
    with pytest.raises(ShopNeedsReauthorizationError, match="36004001"):
        [p async for p in tiktok.gateway.products(tiktok.shop_id)]
    assert await calls(sim) == []


async def test_a_deauthorized_shop_is_not_called(
    sim: SimControl, tiktok: Tiktok, worker: Worker, idle_client: TikTokShopClient
) -> None:
    await tiktok.directory.refresh()
    assert tiktok.directory.callable(tiktok.shop_id)

    # The seller revokes the app; the webhook worker records it.
    await sim.call("POST", f"/shops/{tiktok.shop_id}/deauthorize")
    await MongoShops(worker.db).mark_deauthorized(
        tiktok.shop_id, datetime(2025, 3, 1, 12, 30, tzinfo=UTC)
    )
    assert tiktok.directory.callable(tiktok.shop_id)  # the cache lags until refreshed
    await tiktok.directory.refresh()
    assert not tiktok.directory.callable(tiktok.shop_id)
    assert not tiktok.gateway.enabled(tiktok.shop_id)

    await sim.clear_requests()
    reason = await tiktok.gateway.check_connection(tiktok.shop_id)
    assert reason == (
        f"Shop {tiktok.shop_id} cannot be called until the seller re-authorizes: "
        "the seller deauthorized the app on 2025-03-01 12:30 UTC"
    )
    with pytest.raises(ShopNeedsReauthorizationError, match="deauthorized"):
        await tiktok.gateway.push_product(tiktok.shop_id, listing(tiktok.shop_id))
    assert await calls(sim) == []

    # A directory that has not refreshed yet learns it from the shop's document on first use.
    fresh = MongoShopDirectory(worker.db, idle_client)
    assert fresh.callable(tiktok.shop_id)
    assert await fresh.blocked_reason(tiktok.shop_id) is not None
    assert not fresh.callable(tiktok.shop_id)


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


async def test_the_cipher_is_fetched_once_and_kept(
    sim: SimControl, tiktok: Tiktok, worker: Worker
) -> None:
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
    doc = await worker.db.collection(SHOPS).find_one({"_id": shop_id})
    assert doc == {"_id": shop_id, "cipher": seeded["cipher"]}
    assert await MongoTokenStore(worker.db).get(shop_id) is None  # a cipher is not tokens

    # Another process finds it in the database.
    await sim.clear_requests()
    again = tiktok.make(StaticTokenProvider(token))
    assert [p async for p in again.products(shop_id)] == []
    assert await calls(sim, AUTHORIZED_SHOPS) == []

    # A name of ours for the one shop a token covers (the seed's default shop) is that shop.
    alias = f"default-{uuid.uuid4().hex[:6]}"
    assert [p async for p in gateway.products(alias)] == []
    alias_doc = await worker.db.collection(SHOPS).find_one({"_id": alias})
    assert alias_doc is not None
    assert alias_doc["cipher"] == seeded["cipher"]

    # A token covering two shops names neither by another name.
    both = (await sim.tokens(shop_id, other))["access_token"]
    with pytest.raises(ShopNeedsReauthorizationError, match="does not cover this shop"):
        [p async for p in tiktok.make(StaticTokenProvider(both)).products(f"x-{alias}")]


# --- the token store ----------------------------------------------------------------------------


async def test_token_store_round_trip_keeps_the_other_fields(
    worker: Worker, idle_client: TikTokShopClient
) -> None:
    collection = worker.db.collection(SHOPS)
    store = MongoTokenStore(worker.db)
    shop_id = new_shop_id()
    deauthorized_at = datetime(2025, 1, 2, 3, 4, 5, tzinfo=UTC)
    expires_at = datetime(2025, 2, 1, tzinfo=UTC)
    others = {
        "status": "deauthorized",
        "deauthorized_at": deauthorized_at,
        "authorization_expires_at": expires_at,
        "outbox": [{"event_id": "e1", "topic": "events"}],
    }
    await collection.insert_one({"_id": shop_id, **others})
    assert await store.get(shop_id) is None
    assert await store.get(new_shop_id()) is None

    tokens = ShopTokens(
        shop_id=shop_id,
        access_token="TTP_access",
        access_token_expires_at=1800000000,
        refresh_token="TTP_refresh",
        refresh_token_expires_at=1900000000,
        cipher="ROW_cipher",
        open_id="open-1",
        seller_name="Ada's shop",
    )
    await store.save(tokens)
    assert await store.get(shop_id) == tokens
    doc = await collection.find_one({"_id": shop_id})
    assert doc is not None
    assert {key: doc[key] for key in others} == others
    assert doc["token_status"] == "active"

    # A refresh saved without a cipher keeps the known one; a lost authorization round-trips.
    marked = replace(
        tokens,
        access_token="TTP_access_2",
        cipher=None,
        status="needs_reauthorization",
        status_reason="36004001: refresh token is expired",
    )
    await store.save(marked)
    assert await store.get(shop_id) == replace(marked, cipher="ROW_cipher")
    doc = await collection.find_one({"_id": shop_id})
    assert doc is not None
    assert {key: doc[key] for key in others} == others

    directory = MongoShopDirectory(worker.db, idle_client)
    await directory.refresh()
    assert not directory.callable(shop_id)
