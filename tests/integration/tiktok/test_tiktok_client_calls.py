"""Every client call against the simulator, over real HTTP."""

from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from service.adapters.tiktok import (
    PermissionDeniedError,
    ShopRef,
    StaticTokenProvider,
    TikTokApiError,
    TikTokConfig,
    TikTokShopClient,
)
from service.adapters.tiktok.models import ProductSearchFilter
from service.domain.money import from_minor_units, to_minor_units
from service.domain.tiktok_status import map_order_status, map_product_status
from tests.integration.tiktok.sim_support import ClientFactory, SeededShop, SimControl, product_body


async def test_authorized_shops(make_client: ClientFactory, shop: SeededShop) -> None:
    shops = await make_client().authorized_shops()
    assert [(s.id, s.cipher) for s in shops] == [(shop.ref.shop_id, shop.ref.cipher)]
    assert shops[0].region == "US"


async def test_product_lifecycle(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    client = make_client()
    created = await client.create_product(shop.ref, product_body())
    assert created.product_id
    assert created.skus[0].seller_sku == "TEE-M"

    detail = await client.product_detail(shop.ref, created.product_id)
    assert detail.title == "Organic cotton tee"
    assert map_product_status(detail.status) == "pending"  # new products wait for audit
    assert detail.main_images[0].uri.startswith("tos-maliva")
    price = detail.skus[0].price
    assert price is not None
    assert price.value == "19.99"
    assert to_minor_units(price.value, price.currency) == 1999

    edited = await client.edit_product(
        shop.ref,
        created.product_id,
        product_body("Organic cotton tee, v2", from_minor_units(2450, "USD")),
    )
    assert edited.product_id == created.product_id
    assert edited.skus[0].id == created.skus[0].id  # same seller SKU, same SKU id
    again = await client.product_detail(shop.ref, created.product_id)
    assert again.title == "Organic cotton tee, v2"
    assert again.skus[0].price is not None
    assert again.skus[0].price.value == "24.50"
    assert again.update_time > detail.update_time

    result = await client.delete_products(shop.ref, [created.product_id, "1729999999999999"])
    assert [e.detail["product_id"] for e in result.errors] == ["1729999999999999"]
    gone = await client.product_detail(shop.ref, created.product_id)
    assert gone.status == "DELETED"

    seen = [(r["method"], r["path"]) for r in await sim.requests()]
    assert seen == [
        ("POST", "/product/202309/products"),
        ("GET", f"/product/202309/products/{created.product_id}"),
        ("PUT", f"/product/202509/products/{created.product_id}"),
        ("GET", f"/product/202309/products/{created.product_id}"),
        ("DELETE", "/product/202309/products"),
        ("GET", f"/product/202309/products/{created.product_id}"),
    ]


async def test_create_product_refusal_is_typed(
    make_client: ClientFactory, shop: SeededShop
) -> None:
    body = product_body().model_dump()
    body["main_images"] = []
    with pytest.raises(TikTokApiError) as caught:
        await make_client().create_product(shop.ref, body)
    assert caught.value.code != 0
    assert "main_images" in caught.value.message
    assert caught.value.request_id


async def test_search_products_pages(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    made = await sim.call("POST", "/generate", {"shop_id": shop.ref.shop_id, "products": 230})
    client = make_client()

    pages = [p async for p in client.search_product_pages(shop.ref, page_size=100)]
    assert [len(p.products) for p in pages] == [100, 100, 30]
    assert {p.total_count for p in pages} == {230}
    assert pages[-1].next_page_token == ""

    ids = [p.id async for p in client.search_products(shop.ref, page_size=100)]
    assert sorted(ids) == sorted(made["products"])
    assert len(set(ids)) == 230

    searches = [r for r in await sim.requests("/product/202502/products/search")]
    assert len(searches) == 6


async def test_search_products_filter(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    made = await sim.call("POST", "/generate", {"shop_id": shop.ref.shop_id, "products": 5})
    await sim.call("POST", f"/products/{made['products'][1]}/status", {"status": "FREEZE"})
    client = make_client()
    frozen = [
        p.id async for p in client.search_products(shop.ref, ProductSearchFilter(status="FREEZE"))
    ]
    assert frozen == [made["products"][1]]


async def test_search_orders_pages_and_filters(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    made = await sim.call("POST", "/generate", {"shop_id": shop.ref.shop_id, "orders": 120})
    client = make_client()
    pages = [p async for p in client.search_order_pages(shop.ref, page_size=50)]
    assert [len(p.orders) for p in pages] == [50, 50, 20]
    assert sorted(o.id for p in pages for o in p.orders) == sorted(made["orders"])

    awaiting = [
        o async for o in client.search_orders(shop.ref, {"order_status": "AWAITING_SHIPMENT"})
    ]
    assert awaiting
    assert all(map_order_status(o.status) == "confirmed" for o in awaiting)
    assert len(awaiting) == 30  # two in every eight generated orders


async def test_order_details_batches_of_fifty(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    made = await sim.call("POST", "/generate", {"shop_id": shop.ref.shop_id, "orders": 120})
    ids: list[str] = made["orders"]
    await sim.clear_requests()

    orders = await make_client().order_details(shop.ref, ids)

    assert sorted(o.id for o in orders) == sorted(ids)
    calls = await sim.requests("/order/202507/orders")
    assert len(calls) == 3
    assert all(c["code"] == 0 for c in calls)


async def test_order_details_sends_ids_as_one_comma_separated_param(
    config: TikTokConfig, shop: SeededShop, sim: SimControl
) -> None:
    seen: list[dict[str, list[str]]] = []

    async def record(request: httpx.Request) -> None:
        seen.append(parse_qs(urlsplit(str(request.url)).query))

    async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
        client = TikTokShopClient(config, StaticTokenProvider(shop.access_token), http=http)
        await client.order_details(shop.ref, [str(n) for n in range(120)])
    assert [len(q["ids"][0].split(",")) for q in seen] == [50, 50, 20]
    assert all(len(q["ids"]) == 1 for q in seen)


async def test_order_money_and_fields(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    seeded = await sim.call(
        "POST",
        "/seed",
        {
            "orders": [
                {
                    "shop_id": shop.ref.shop_id,
                    "status": "AWAITING_SHIPMENT",
                    "items": [{"sale_price": "0.10", "quantity": 3}, {"sale_price": "0.29"}],
                    "shipping_fee": "5.99",
                    "tax": "0.07",
                    "seller_discount": "0.50",
                    "recipient": {"name": "Zoë Łukasiewicz-東京"},
                }
            ]
        },
    )
    [order] = await make_client().order_details(shop.ref, seeded["orders"])
    payment = order.payment
    assert payment is not None
    minor = {
        name: to_minor_units(getattr(payment, name), payment.currency)
        for name in ("sub_total", "shipping_fee", "tax", "seller_discount", "total_amount")
    }
    # 0.10 * 3 + 0.29 in floats is 0.5900000000000001; in minor units it is exact.
    assert minor == {
        "sub_total": 59,
        "shipping_fee": 599,
        "tax": 7,
        "seller_discount": 50,
        "total_amount": 615,
    }
    assert len(order.line_items) == 4  # one line item per unit, as TikTok sends them
    assert order.customer_name == "Zoë Łukasiewicz-東京"
    assert map_order_status(order.status) == "confirmed"
    assert order.create_time > 1_600_000_000
    assert order.update_time >= order.create_time


async def test_mark_package_shipped(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    seeded = await sim.call(
        "POST",
        "/seed",
        {"orders": [{"shop_id": shop.ref.shop_id, "items": [{"sale_price": "9.99"}]}]},
    )
    order_id = seeded["orders"][0]
    client = make_client()
    before = (await client.order_details(shop.ref, [order_id]))[0]

    shipped = await client.mark_package_shipped(shop.ref, order_id, "1Z999AA10123456784", "6617")
    assert shipped.package_id
    assert shipped.order_id == order_id

    after = (await client.order_details(shop.ref, [order_id]))[0]
    assert map_order_status(after.status) == "shipped"
    assert after.tracking_number == "1Z999AA10123456784"
    assert [p.id for p in after.packages] == [shipped.package_id]
    assert after.update_time > before.update_time

    # TikTok answers HTTP 200 with a non-zero code: still an error.
    with pytest.raises(TikTokApiError) as caught:
        await client.mark_package_shipped(shop.ref, order_id, "1Z999AA10123456784", "6617")
    assert caught.value.http_status == 200
    assert "not awaiting shipment" in caught.value.message


async def test_a_shop_outside_the_token_is_refused(
    make_client: ClientFactory, sim: SimControl
) -> None:
    other = await sim.shop(name="Someone else's shop")
    with pytest.raises(TikTokApiError) as caught:
        await make_client().product_detail(ShopRef(other["id"], other["cipher"]), "1")
    assert "shop_cipher" in caught.value.message


async def test_permission_denied_is_typed(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    await sim.faults(permission_denied_paths=["/order/"])
    with pytest.raises(PermissionDeniedError) as caught:
        await make_client().order_details(shop.ref, ["1"])
    assert caught.value.code == 105005


async def test_requests_carry_what_tiktok_requires(
    config: TikTokConfig, shop: SeededShop, sim: SimControl
) -> None:
    captured: list[httpx.Request] = []

    async def record(request: httpx.Request) -> None:
        captured.append(request)

    async with httpx.AsyncClient(event_hooks={"request": [record]}) as http:
        client = TikTokShopClient(config, StaticTokenProvider(shop.access_token), http=http)
        await client.authorized_shops()
        await client.create_product(shop.ref, product_body())

    shops_call, create_call = captured
    for request in captured:
        query: dict[str, Any] = parse_qs(request.url.query.decode())
        assert request.headers["x-tts-access-token"] == shop.access_token
        assert "access_token" not in query
        assert query["app_key"] == [config.app_key]
        assert query["timestamp"][0].isdigit()
        assert len(query["sign"][0]) == 64
    assert "shop_cipher" not in parse_qs(shops_call.url.query.decode())
    assert parse_qs(create_call.url.query.decode())["shop_cipher"] == [shop.ref.cipher]
    assert create_call.headers["content-type"] == "application/json"
