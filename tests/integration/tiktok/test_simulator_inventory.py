"""Stock per warehouse, prices and partial edit on the simulator, and TikTok's copy of them."""

from typing import Any

import pytest
from tiktok_shop_api import AsyncTikTokShop
from tiktok_shop_api.generated.models import UpdateInventoryRequest

from tests.integration.tiktok.catalog_support import Api, create, detail, product, sku
from tests.integration.tiktok.sim_support import APP_KEY, APP_SECRET, SeededShop, SimControl

EAST, WEST, RETURNS = "7100000000000000001", "7100000000000000002", "7100000000000000009"


@pytest.fixture
def api(sim: SimControl, shop: SeededShop) -> Api:
    return Api(sim, shop)


@pytest.fixture
async def two_warehouses(sim: SimControl, shop: SeededShop) -> None:
    await sim.call(
        "PUT",
        f"/shops/{shop.ref.shop_id}/catalog",
        {
            "warehouses": [
                {"id": EAST, "name": "East", "is_default": True},
                {"id": WEST, "name": "West"},
                {"id": RETURNS, "name": "Returns", "type": "RETURN_WAREHOUSE"},
            ]
        },
    )


async def _listed(api: Api, sim: SimControl, body: dict[str, Any] | None = None) -> dict[str, Any]:
    """A product past its audit: ACTIVATE."""
    made = await create(api, body)
    await sim.call("POST", f"/products/{made['product_id']}/audit", {"outcome": "APPROVED"})
    return made


async def _stock(sim: SimControl, product_id: str) -> dict[str, Any]:
    view: dict[str, Any] = await sim.call("GET", f"/products/{product_id}/stock")
    return view


def _inventory_path(product_id: str) -> str:
    return f"/product/202309/products/{product_id}/inventory/update"


def _price_path(product_id: str) -> str:
    return f"/product/202309/products/{product_id}/prices/update"


# --- inventory ----------------------------------------------------------------------------------


@pytest.mark.usefixtures("two_warehouses")
async def test_inventory_update_sets_each_warehouse(api: Api, sim: SimControl) -> None:
    stocked = [{"warehouse_id": EAST, "quantity": 4}, {"warehouse_id": WEST, "quantity": 6}]
    made = await create(api, product(skus=[sku(inventory=stocked)]))
    before = await detail(api, made["product_id"])
    sku_id = made["skus"][0]["id"]

    answer = await api.ok(
        "POST",
        _inventory_path(made["product_id"]),
        {
            "skus": [
                {
                    "id": sku_id,
                    "inventory": [
                        {"warehouse_id": WEST, "quantity": 0},
                        {"warehouse_id": EAST, "quantity": 99_999},
                    ],
                }
            ]
        },
    )
    assert answer == {"errors": []}
    view = await _stock(sim, made["product_id"])
    [line] = view["skus"]
    assert line["inventory"] == [
        {"quantity": 99_999, "warehouse_id": EAST},
        {"quantity": 0, "warehouse_id": WEST},
    ]
    assert (line["total_quantity"], line["inventory_status"]) == (99_999, "SUFFICIENT_STOCK")
    assert view["update_time"] > before["update_time"]


async def test_the_warehouse_may_be_left_out_when_the_sku_has_one(
    api: Api, sim: SimControl
) -> None:
    made = await create(api)
    sku_id = made["skus"][0]["id"]
    body = {"skus": [{"id": sku_id, "inventory": [{"quantity": 2}]}]}
    assert await api.ok("POST", _inventory_path(made["product_id"]), body) == {"errors": []}
    assert (await _stock(sim, made["product_id"]))["skus"][0]["total_quantity"] == 2


@pytest.mark.usefixtures("two_warehouses")
async def test_inventory_errors_come_per_sku_beside_code_0(api: Api, sim: SimControl) -> None:
    both = [{"warehouse_id": EAST, "quantity": 1}, {"warehouse_id": WEST, "quantity": 1}]
    made = await create(
        api,
        product(
            skus=[
                sku(f"S{n}", inventory=both, sales_attributes=[{"name": "N", "value_name": str(n)}])
                for n in range(6)
            ]
        ),
    )
    ids = [s["id"] for s in made["skus"]]
    body = {
        "skus": [
            {"id": ids[0], "inventory": [{"warehouse_id": EAST, "quantity": 7}]},  # West missing
            {
                "id": ids[1],
                "inventory": [
                    {"warehouse_id": EAST, "quantity": 1},
                    {"warehouse_id": "7999999999999999999", "quantity": 1},
                    {"warehouse_id": WEST, "quantity": 1},
                ],
            },
            {
                "id": ids[2],
                "inventory": [
                    {"warehouse_id": EAST, "quantity": 100_000},
                    {"warehouse_id": WEST, "quantity": 1},
                ],
            },
            {"id": ids[3], "inventory": [{"quantity": 5}]},  # two warehouses: the id is needed
            {"id": "1730999999999999", "inventory": [{"quantity": 5}]},
            {
                "id": ids[5],
                "inventory": [
                    {"warehouse_id": EAST, "quantity": 8},
                    {"warehouse_id": WEST, "quantity": 9},
                ],
            },
        ]
    }
    answer = await api.call("POST", _inventory_path(made["product_id"]), body)
    envelope = answer.json()
    assert (answer.status_code, envelope["code"]) == (200, 0)
    errors = {e["detail"]["sku_id"]: e for e in envelope["data"]["errors"]}
    assert set(errors) == {ids[0], ids[1], ids[2], ids[3], "1730999999999999"}

    def extra(sku_id: str) -> list[tuple[str, int]]:
        assert errors[sku_id]["code"] == 12052990
        return [(x["warehouse_id"], x["code"]) for x in errors[sku_id]["detail"]["extra_errors"]]

    assert extra(ids[0]) == [(WEST, 12052516)]
    assert extra(ids[1]) == [("7999999999999999999", 12052097)]
    assert extra(ids[2]) == [(EAST, 12019024)]
    assert extra(ids[3]) == [("", 12052516), (EAST, 12052516), (WEST, 12052516)]
    assert errors["1730999999999999"]["code"] == 12052557

    view = {line["sku_id"]: line for line in (await _stock(sim, made["product_id"]))["skus"]}
    assert view[ids[5]]["total_quantity"] == 17  # the good SKU was updated
    assert view[ids[0]]["total_quantity"] == 2  # the refused ones were not


async def test_inventory_update_refuses_whole_calls(
    api: Api, sim: SimControl, shop: SeededShop
) -> None:
    made = await create(api)
    sku_id = made["skus"][0]["id"]
    good = {"skus": [{"id": sku_id, "inventory": [{"quantity": 1}]}]}
    assert await api.refused("POST", _inventory_path("1729000000000000"), good) == 12052032
    twice = {"skus": [good["skus"][0], good["skus"][0]]}
    assert await api.refused("POST", _inventory_path(made["product_id"]), twice) == 12052553
    malformed = {"skus": [{"id": sku_id, "inventory": [{"quantity": "1"}]}]}
    assert await api.refused("POST", _inventory_path(made["product_id"]), malformed) == 40006
    assert await api.refused("POST", _inventory_path(made["product_id"]), {"skus": []}) == 40006

    await sim.call("POST", f"/products/{made['product_id']}/status", {"status": "FREEZE"})
    assert await api.refused("POST", _inventory_path(made["product_id"]), good) == 12052901

    missing_cipher = await api.call("POST", _inventory_path(made["product_id"]), good, cipher=False)
    assert missing_cipher.json()["code"] == 106013


async def test_an_independent_client_updates_inventory(
    api: Api, sim: SimControl, shop: SeededShop
) -> None:
    made = await create(api)
    sku_id = made["skus"][0]["id"]
    async with AsyncTikTokShop(
        APP_KEY, APP_SECRET, shop.access_token, shop.ref.cipher, base_url=sim.url
    ) as other:
        answer = await other.products.update_inventory(
            made["product_id"],
            body=UpdateInventoryRequest.from_dict(
                {"skus": [{"id": sku_id, "inventory": [{"quantity": 40}]}]}
            ),
        )
    assert answer is not None
    assert answer.to_dict()["code"] == 0
    assert (await _stock(sim, made["product_id"]))["skus"][0]["total_quantity"] == 40


# --- prices -------------------------------------------------------------------------------------


async def test_price_update_changes_active_products(api: Api, sim: SimControl) -> None:
    made = await _listed(api, sim)
    sku_id = made["skus"][0]["id"]
    body = {"skus": [{"id": sku_id, "price": {"amount": "24.5", "currency": "USD"}}]}
    assert await api.ok("POST", _price_path(made["product_id"]), body) == {}
    assert (await _stock(sim, made["product_id"]))["skus"][0]["price"] == {
        "amount": "24.5",
        "currency": "USD",
    }
    shown = await detail(api, made["product_id"])
    assert shown["skus"][0]["price"]["sale_price"] == "24.5"
    assert shown["status"] == "ACTIVATE"  # a price change needs no audit


@pytest.mark.parametrize(
    ("sold_in", "currency", "amount", "code"),
    [
        ("USD", "USD", "1.005", 12052073),  # more decimals than USD has
        ("USD", "USD", "0", 12052073),
        ("USD", "USD", "-1", 12052073),
        ("USD", "USD", "ten", 12052073),
        ("JPY", "JPY", "1500.5", 12052073),  # yen have no decimals
        ("JPY", "JPY", "1500", 0),
        ("JPY", "EUR", "10.00", 12052084),  # not the SKU's currency
    ],
)
async def test_price_update_checks_the_amount_against_the_currency(
    api: Api, sim: SimControl, sold_in: str, currency: str, amount: str, code: int
) -> None:
    made = await _listed(api, sim, product(skus=[sku(price="2000", currency=sold_in)]))
    price = {"amount": amount, "currency": currency}
    body = {"skus": [{"id": made["skus"][0]["id"], "price": price}]}
    answer = (await api.call("POST", _price_path(made["product_id"]), body)).json()
    assert answer["code"] == code, answer


async def test_price_update_refuses_other_states_and_unknown_skus(
    api: Api, sim: SimControl
) -> None:
    pending = await create(api)
    body = {"skus": [{"id": pending["skus"][0]["id"], "price": {"amount": "5", "currency": "USD"}}]}
    assert await api.refused("POST", _price_path(pending["product_id"]), body) == 12019113

    listed = await _listed(api, sim)
    unknown = {"skus": [{"id": "1730999999999999", "price": {"amount": "5", "currency": "USD"}}]}
    assert await api.refused("POST", _price_path(listed["product_id"]), unknown) == 12052557
    no_price = {"skus": [{"id": listed["skus"][0]["id"]}]}
    assert await api.refused("POST", _price_path(listed["product_id"]), no_price) == 40006
    # Nothing was half done: the price is the one the product was created with.
    assert (await _stock(sim, listed["product_id"]))["skus"][0]["price"]["amount"] == "19.99"


# --- partial edit -------------------------------------------------------------------------------


def _partial_path(product_id: str) -> str:
    return f"/product/202509/products/{product_id}/partial_edit"


async def test_partial_edit_of_price_and_stock_keeps_a_live_product_live(
    api: Api, sim: SimControl
) -> None:
    made = await _listed(api, sim)
    sku_id = made["skus"][0]["id"]
    change = {
        "skus": [
            {
                "id": sku_id,
                "price": {"amount": "9.99", "currency": "USD"},
                "inventory": [{"quantity": 3}],
            }
        ]
    }
    answer = await api.ok("POST", _partial_path(made["product_id"]), change)
    assert answer == {
        "product_id": made["product_id"],
        "skus": [{"id": sku_id, "seller_sku": "TEE-M"}],
        "audit": {"status": "APPROVED"},
    }
    shown = await detail(api, made["product_id"])
    assert (shown["status"], shown["title"]) == ("ACTIVATE", "Organic cotton tee")
    assert shown["skus"][0]["inventory"][0]["quantity"] == 3


async def test_partial_edit_of_content_goes_back_to_audit(api: Api, sim: SimControl) -> None:
    made = await _listed(api, sim)
    answer = await api.ok("POST", _partial_path(made["product_id"]), {"title": "Tee, v2"})
    assert answer["audit"] == {"status": "AUDITING"}
    shown = await detail(api, made["product_id"])
    assert (shown["status"], shown["title"], shown["description"]) == (
        "PENDING",
        "Tee, v2",
        "<p>Soft.</p>",  # fields not sent stay as they were
    )


async def test_partial_edit_adds_and_removes_skus(api: Api, sim: SimControl) -> None:
    made = await create(
        api,
        product(
            skus=[
                sku("A", sales_attributes=[{"name": "Size", "value_name": "S"}]),
                sku("B", sales_attributes=[{"name": "Size", "value_name": "M"}]),
            ]
        ),
    )
    keep = made["skus"][0]["id"]
    change = {
        "skus": [
            sku("A", id=keep, sales_attributes=[{"name": "Size", "value_name": "S"}]),
            sku("C", sales_attributes=[{"name": "Size", "value_name": "L"}]),
        ]
    }
    answer = await api.ok("POST", _partial_path(made["product_id"]), change)
    assert [s["seller_sku"] for s in answer["skus"]] == ["A", "C"]
    assert answer["skus"][0]["id"] == keep
    assert answer["skus"][1]["id"] not in {s["id"] for s in made["skus"]}


@pytest.mark.parametrize(
    ("change", "code"),
    [
        ({"skus": [sku(id="1730999999999999")]}, 12052557),
        ({"skus": [{"id": "", "seller_sku": "N", "inventory": [{"quantity": 1}]}]}, 12052571),
        ({"skus": [{"seller_sku": "N", "price": {"amount": "1", "currency": "USD"}}]}, 12052516),
        ({"main_images": [{"uri": "tos-sim/main-image"}] * 10}, 12052306),
        ({"title": ""}, 40006),
    ],
)
async def test_partial_edit_checks_what_it_is_sent(
    api: Api, change: dict[str, Any], code: int
) -> None:
    made = await create(api)
    assert await api.refused("POST", _partial_path(made["product_id"]), change) == code


async def test_partial_edit_refuses_frozen_products_and_drafts_of_live_ones(
    api: Api, sim: SimControl
) -> None:
    made = await _listed(api, sim)
    draft = {"title": "x", "save_mode": "AS_DRAFT"}
    assert await api.refused("POST", _partial_path(made["product_id"]), draft) == 12052901
    await sim.call("POST", f"/products/{made['product_id']}/status", {"status": "FREEZE"})
    assert await api.refused("POST", _partial_path(made["product_id"]), {"title": "x"}) == (
        12052901
    )


# --- counting calls, throttling -----------------------------------------------------------------


async def test_calls_are_counted_by_path_and_throttled_like_the_others(
    api: Api, sim: SimControl
) -> None:
    made = await create(api)
    await sim.clear_requests()
    path = _inventory_path(made["product_id"])
    body = {"skus": [{"id": made["skus"][0]["id"], "inventory": [{"quantity": 1}]}]}
    await api.ok("POST", path, body)
    await api.ok("POST", path, body)
    await api.ok("GET", "/logistics/202309/warehouses")
    counts = await sim.call("GET", "/requests/counts")
    assert counts["counts"] == {f"POST {path}": 2, "GET /logistics/202309/warehouses": 1}
    narrowed = await sim.call("GET", "/requests/counts", path_prefix="/logistics/")
    assert narrowed["counts"] == {"GET /logistics/202309/warehouses": 1}

    await sim.faults(rate_limit_per_second=1, rate_limit_burst=1)
    codes = [(await api.call("POST", path, body)).json()["code"] for _ in range(2)]
    assert codes == [0, 36009002]
