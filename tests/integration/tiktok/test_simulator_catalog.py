"""Categories, attributes, rules, brands and warehouses, and the checks create and edit make."""

from typing import Any

import pytest
from tiktok_shop_api import AsyncTikTokShop

from simulator import Simulator, SimulatorConfig
from simulator.listing_rules import daily_limit
from tests.integration.tiktok.catalog_support import Api, create, detail, product, sku
from tests.integration.tiktok.sim_support import APP_KEY, APP_SECRET, SeededShop, SimControl

CREATE = "/product/202309/products"


@pytest.fixture
def api(sim: SimControl, shop: SeededShop) -> Api:
    return Api(sim, shop)


# --- categories, attributes, rules, brands ------------------------------------------------------


async def test_categories_form_a_tree_with_leaves_and_permissions(
    sim: SimControl, shop: SeededShop
) -> None:
    async with AsyncTikTokShop(
        APP_KEY, APP_SECRET, shop.access_token, shop.ref.cipher, base_url=sim.url
    ) as other:
        answer = await other.products.get_categories()
    assert answer is not None
    categories = {c["id"]: c for c in answer.to_dict()["data"]["categories"]}
    assert categories["600000"] == {
        "id": "600000",
        "parent_id": "0",
        "local_name": "Apparel",
        "is_leaf": False,
        "permission_statuses": ["AVAILABLE"],
    }
    assert categories["600001"]["parent_id"] == "600000"
    assert categories["600001"]["is_leaf"] is True
    assert categories["800001"]["permission_statuses"] == ["INVITE_ONLY"]
    assert "910001" not in categories  # prohibited ones only when asked for


async def test_categories_filter_by_keyword_and_show_prohibited_on_request(api: Api) -> None:
    found = await api.ok("GET", "/product/202309/categories", keyword="SKIN")
    assert [c["id"] for c in found["categories"]] == ["700100"]
    everything = await api.ok(
        "GET", "/product/202309/categories", include_prohibited_categories="true"
    )
    prohibited = [c for c in everything["categories"] if c["id"] == "910001"]
    assert prohibited[0]["permission_statuses"] == ["PROHIBITED"]
    assert await api.refused("GET", "/product/202309/categories", category_version="v9") == 40006


async def test_attributes_list_product_and_sales_attributes_with_tiktok_s_spelling(
    api: Api,
) -> None:
    attributes = {
        a["id"]: a
        for a in (await api.ok("GET", "/product/202309/categories/700101/attributes"))["attributes"]
    }
    skin = attributes["100392"]
    assert skin["type"] == "PRODUCT_PROPERTY"
    assert skin["is_requried"] is True
    assert {"id": "1003921", "name": "Dry"} in skin["values"]
    assert attributes["101002"]["requirement_conditions"] == [
        {
            "condition_type": "VALUE_ID_MATCH",
            "attribute_id": "101001",
            "attribute_value_id": "1010011",
        }
    ]
    sales = (await api.ok("GET", "/product/202309/categories/600001/attributes"))["attributes"]
    color = next(a for a in sales if a["name"] == "Color")
    assert color["type"] == "SALES_PROPERTY"
    assert "is_requried" not in color


@pytest.mark.parametrize(("category", "code"), [("700100", 12052024), ("123", 12052023)])
@pytest.mark.parametrize("what", ["attributes", "rules"])
async def test_attributes_and_rules_need_a_known_leaf(
    api: Api, category: str, code: int, what: str
) -> None:
    assert await api.refused("GET", f"/product/202309/categories/{category}/{what}") == code


async def test_rules_say_what_a_category_requires(api: Api) -> None:
    sneakers = await api.ok("GET", "/product/202309/categories/600011/rules")
    assert sneakers["size_chart"] == {"is_supported": True, "is_required": True}
    assert sneakers["product_certifications"] == []
    sunscreen = await api.ok("GET", "/product/202309/categories/700102/rules")
    [certification] = sunscreen["product_certifications"]
    assert (certification["id"], certification["is_required"]) == ("7001021", True)


async def test_brands_page_and_filter(api: Api) -> None:
    assert await api.refused("GET", "/product/202309/brands") == 40006  # page_size is required
    first = await api.ok("GET", "/product/202309/brands", page_size="2")
    assert (len(first["brands"]), first["total_count"]) == (2, 3)
    rest = await api.ok(
        "GET", "/product/202309/brands", page_size="2", page_token=first["next_page_token"]
    )
    assert (len(rest["brands"]), rest["next_page_token"]) == (1, "")
    basics = await api.ok(
        "GET", "/product/202309/brands", page_size="10", brand_name="basics", category_id="600001"
    )
    assert basics["brands"] == [
        {
            "id": "7082427311584347905",
            "name": "Sim Basics",
            "authorized_status": "AUTHORIZED",
            "is_t1_brand": False,
            "brand_status": "AVAILABLE",
        }
    ]
    unauthorized = await api.ok(
        "GET", "/product/202309/brands", page_size="10", is_authorized="false"
    )
    assert {b["authorized_status"] for b in unauthorized["brands"]} == {"UNAUTHORIEZD"}


@pytest.mark.parametrize(
    "path",
    [
        "/product/202309/categories",
        "/product/202309/categories/600001/attributes",
        "/product/202309/categories/600001/rules",
        "/logistics/202309/warehouses",
    ],
)
async def test_catalog_reads_need_the_shop_cipher_and_a_good_signature(api: Api, path: str) -> None:
    missing = await api.call("GET", path, cipher=False)
    assert missing.json()["code"] == 106013
    params = {
        "app_key": APP_KEY,
        "timestamp": str(api.sim.sim.now()),
        "shop_cipher": api.shop.ref.cipher,
        "sign": "0" * 64,
    }
    bad = await api.sim.http.get(
        path, params=params, headers={"x-tts-access-token": api.shop.access_token}
    )
    assert bad.json()["code"] == 106001
    assert (await api.call("GET", path)).json()["code"] == 0


# --- warehouses ---------------------------------------------------------------------------------


async def test_a_shop_has_a_default_sales_and_a_return_warehouse(api: Api) -> None:
    warehouses = (await api.ok("GET", "/logistics/202309/warehouses"))["warehouses"]
    assert [(w["type"], w["is_default"]) for w in warehouses] == [
        ("SALES_WAREHOUSE", True),
        ("RETURN_WAREHOUSE", True),
    ]
    assert warehouses[0]["id"] == "7068517275539719942"
    assert warehouses[0]["address"]["region_code"] == "US"
    assert warehouses[0]["effect_status"] == "ENABLED"


async def test_stock_goes_to_the_default_sales_warehouse_unless_named(api: Api) -> None:
    made = await create(api, product(skus=[sku(inventory=[{"quantity": 3}])]))
    [stocked] = (await detail(api, made["product_id"]))["skus"]
    assert stocked["inventory"] == [{"quantity": 3, "warehouse_id": "7068517275539719942"}]


async def _two_warehouses(sim: SimControl, shop: SeededShop) -> None:
    await sim.call(
        "PUT",
        f"/shops/{shop.ref.shop_id}/catalog",
        {
            "warehouses": [
                {"id": "7100000000000000001", "name": "East", "is_default": True},
                {"id": "7100000000000000002", "name": "West"},
                {"id": "7100000000000000009", "name": "Returns", "type": "RETURN_WAREHOUSE"},
            ]
        },
    )


@pytest.mark.parametrize(
    ("inventory", "code"),
    [
        ([{"warehouse_id": "7068517275539719942", "quantity": 1}], 12052097),  # not this shop's
        ([{"warehouse_id": "7100000000000000009", "quantity": 1}], 12052532),  # returns only
        (
            [
                {"warehouse_id": "7100000000000000001", "quantity": 1},
                {"warehouse_id": "7100000000000000001", "quantity": 2},
            ],
            12052555,
        ),
        ([{"warehouse_id": "7100000000000000001", "quantity": 100_000}], 12052055),
    ],
)
async def test_create_refuses_stock_outside_the_shop_s_sales_warehouses(
    api: Api, sim: SimControl, shop: SeededShop, inventory: list[dict[str, Any]], code: int
) -> None:
    await _two_warehouses(sim, shop)
    assert await api.refused("POST", CREATE, product(skus=[sku(inventory=inventory)])) == code


async def test_create_takes_stock_in_several_warehouses(
    api: Api, sim: SimControl, shop: SeededShop
) -> None:
    await _two_warehouses(sim, shop)
    inventory = [
        {"warehouse_id": "7100000000000000001", "quantity": 0},
        {"warehouse_id": "7100000000000000002", "quantity": 99_999},
    ]
    made = await create(api, product(skus=[sku(inventory=inventory)]))
    assert (await detail(api, made["product_id"]))["skus"][0]["inventory"] == inventory


# --- what create and edit check -----------------------------------------------------------------

SKIN = {"id": "100392", "values": [{"id": "1003922"}]}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (product(category_id="999999"), 12052023),
        (product(category_id="600000"), 12052024),  # a parent, not a leaf
        (product(category_id="900001"), 12052225),  # not one of the shop's main categories
        (product(category_id="700101"), 12052104),  # Skin Type is required
        (
            product(
                category_id="700101",
                product_attributes=[SKIN, {"id": "101001", "values": [{"id": "1010011"}]}],
            ),
            12052104,  # "Contains SPF? Yes" makes SPF Value required
        ),
        (
            product(category_id="700101", product_attributes=[{**SKIN, "values": [{"id": "1"}]}]),
            12052529,
        ),
        (
            product(category_id="700101", product_attributes=[SKIN, {"id": "555", "values": []}]),
            12052529,
        ),
        (
            product(
                category_id="700101",
                product_attributes=[{"id": "100392", "values": [{"name": "Greasy"}]}],
            ),
            12052247,  # Skin Type takes only its listed values
        ),
        (
            product(
                category_id="700101",
                product_attributes=[
                    {"id": "100392", "values": [{"id": "1003921"}, SKIN["values"][0]]}
                ],
            ),
            12052246,  # a single-value attribute
        ),
        (product(category_id="600011"), 12052673),  # sneakers need a size chart
        (product(category_id="700102"), 12052105),  # sunscreen needs its SPF test report
        (product(skus=[sku("X" * 51)]), 12052054),
        (product(skus=[sku("A"), sku("B")]), 12052550),  # two SKUs, no sales attributes
        (
            product(
                skus=[
                    sku("A", sales_attributes=[{"id": "100000", "value_id": "1000001"}]),
                    sku("B", sales_attributes=[{"id": "100007", "value_id": "1000071"}]),
                ]
            ),
            12052550,  # not the same kinds of sales attribute
        ),
        (product(skus=[sku(sales_attributes=[{"id": "100392", "value_name": "x"}])]), 12052529),
    ],
)
async def test_create_refuses_with_tiktok_s_codes(
    api: Api, body: dict[str, Any], code: int
) -> None:
    assert await api.refused("POST", CREATE, body) == code


async def test_create_keeps_attributes_chain_and_sales_attributes(api: Api) -> None:
    body = product(
        category_id="700101",
        product_attributes=[
            SKIN,
            {"id": "101001", "values": [{"id": "1010011"}]},
            {"id": "101002", "values": [{"name": "SPF 30"}]},
        ],
        skus=[
            sku("A", sales_attributes=[{"name": "Volume", "value_name": "50 ml"}]),
            sku("B", sales_attributes=[{"name": "Volume", "value_name": "100 ml"}]),
        ],
        brand_id="7082427311584347905",
    )
    shown = await detail(api, (await create(api, body))["product_id"])
    assert [c["id"] for c in shown["category_chains"]] == ["700000", "700100", "700101"]
    assert shown["category_chains"][-1]["is_leaf"] is True
    assert shown["product_attributes"][0] == {
        "id": "100392",
        "name": "Skin Type",
        "values": [{"id": "1003922", "name": "Oily"}],
    }
    assert shown["product_attributes"][2]["values"] == [{"id": "", "name": "SPF 30"}]
    assert shown["skus"][1]["sales_attributes"] == [{"name": "Volume", "value_name": "100 ml"}]
    assert shown["brand"] == {"id": "7082427311584347905"}


async def test_create_with_size_chart_and_certification_passes(api: Api) -> None:
    await create(
        api, product(category_id="600011", size_chart={"template": {"id": "7267563252536723205"}})
    )
    report = {"id": "7001021", "images": [{"uri": "tos-sim/main-image"}]}
    await create(api, product(category_id="700102", certifications=[report]))


async def test_edit_makes_the_same_checks(api: Api) -> None:
    made = await create(api)
    path = f"/product/202509/products/{made['product_id']}"
    assert await api.refused("PUT", path, product(category_id="600000")) == 12052024
    assert await api.refused("PUT", path, product(category_id="700101")) == 12052104
    assert await api.refused("PUT", "/product/202509/products/1729000000000000", product()) == (
        12052032
    )


# --- the daily limit ----------------------------------------------------------------------------


async def test_a_shop_lists_at_most_its_daily_limit(
    api: Api, sim: SimControl, shop: SeededShop
) -> None:
    limits = await sim.call("GET", f"/shops/{shop.ref.shop_id}/catalog")
    assert limits["daily_product_limit"] == 100  # a new shop
    await sim.call("PUT", f"/shops/{shop.ref.shop_id}/catalog", {"daily_product_limit": 2})
    await create(api)
    await create(api)
    assert await api.refused("POST", CREATE, product()) == 12019068
    # A new UTC day brings a new allowance.
    await sim.call("POST", "/clock", {"advance": 24 * 3600})
    await create(api)


def test_the_demo_shop_is_past_its_probation() -> None:
    sim = Simulator(SimulatorConfig(demo_shop_id="7494000000000001"))
    assert daily_limit(sim, "7494000000000001") == 1000
    assert daily_limit(sim, "7494000000000002") == 100
