"""Shipping as TikTok allows it: the buyer's remorse hour, known providers, packages that split."""

import json

import pytest
from tiktok_shop_api import AsyncTikTokShop, Webhooks
from tiktok_shop_api.generated.models import ShipPackageRequest

from service.adapters.tiktok import ShopRef
from tests.integration.tiktok.sim_api import Inbox, SignedApi, advance, order_state, seed_order
from tests.integration.tiktok.sim_support import APP_KEY, APP_SECRET, SeededShop, SimControl

STANDARD = "7091146663229654785"
TIKTOK_SHIPPED = "7091146663229654787"
USPS, UPS = "6617", "7117858858072016686"


def ship_path(package_id: str) -> str:
    return f"/fulfillment/202309/packages/{package_id}/ship"


def mark_path(order_id: str, version: str = "202309") -> str:
    return f"/fulfillment/{version}/orders/{order_id}/packages"


async def test_providers_of_a_delivery_option(api: SignedApi) -> None:
    path = f"/logistics/202309/delivery_options/{STANDARD}/shipping_providers"
    providers = (await api.ok("GET", path))["shipping_providers"]
    assert {"id": USPS, "name": "USPS"} in providers

    unknown = await api.call("GET", "/logistics/202309/delivery_options/1/shipping_providers")
    assert (unknown.status, unknown.code) == (404, 40004)
    by_tiktok = await api.call(
        "GET", f"/logistics/202309/delivery_options/{TIKTOK_SHIPPED}/shipping_providers"
    )
    assert (by_tiktok.status, by_tiktok.code) == (200, 21011008)


async def test_an_order_names_its_delivery_option_and_package(
    api: SignedApi, sim: SimControl, shop: SeededShop
) -> None:
    order_id = await seed_order(sim, shop)
    [order] = (await api.ok("GET", "/order/202507/orders", query={"ids": order_id}))["orders"]
    assert order["delivery_option_id"] == STANDARD
    assert order["shipping_type"] == "SELLER"
    [package] = order["packages"]
    # Before shipping, line items do not name their package (as for US sellers).
    assert all("package_id" not in item for item in order["line_items"])

    detail = await api.ok("GET", f"/fulfillment/202309/packages/{package['id']}")
    assert detail["package_status"] == "TO_FULFILL"
    assert detail["orders"] == [{"id": order_id}]
    assert sorted(detail["order_line_item_ids"]) == sorted(i["id"] for i in order["line_items"])
    missing = await api.call("GET", "/fulfillment/202309/packages/999")
    assert (missing.status, missing.code) == (404, 40004)


async def test_ship_package_with_the_sellers_carrier(
    api: SignedApi, sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    await sim.call("PUT", f"/shops/{shop.ref.shop_id}/webhook", {"url": inbox.url("hooks")})
    order_id = await seed_order(sim, shop)
    before = await order_state(sim, order_id)
    package_id = before["packages"][0]["id"]

    shipment = {"self_shipment": {"tracking_number": "9400TRACK", "shipping_provider_id": USPS}}
    assert await api.ok("POST", ship_path(package_id), body=shipment) == {}
    order = await order_state(sim, order_id)
    assert order["status"] == "AWAITING_COLLECTION"
    assert order["tracking_number"] == "9400TRACK"
    assert order["shipping_provider"] == "USPS"
    assert order["rts_time"] >= before["create_time"]
    assert order["update_time"] > before["update_time"]
    assert {i["package_status"] for i in order["line_items"]} == {"PROCESSING"}
    assert {i["package_id"] for i in order["line_items"]} == {package_id}

    again = await api.call("POST", ship_path(package_id), body=shipment)
    assert (again.status, again.code) == (200, 21011004)

    # The carrier collects it.
    await sim.call("POST", f"/orders/{order_id}/status", {"status": "IN_TRANSIT"})
    await inbox.wait_for(lambda: len(inbox.of_type("hooks", 1)) == 2, "two status webhooks")
    statuses = [n["data"]["order_status"] for n in inbox.of_type("hooks", 1)]
    assert statuses == ["AWAITING_COLLECTION", "IN_TRANSIT"]
    detail = await api.ok("GET", f"/fulfillment/202309/packages/{package_id}")
    assert detail["package_status"] == "FULFILLING"
    for notification in inbox.of_type("hooks", 1):
        assert type(Webhooks.parse(_raw(notification))).__name__ == "OrderStatusChangeWebhook"


def _raw(notification: dict[str, object]) -> bytes:
    return json.dumps(notification).encode()


async def test_ship_package_handed_to_tiktoks_carrier(
    api: SignedApi, sim: SimControl, shop: SeededShop
) -> None:
    order_id = await seed_order(sim, shop, delivery_option_id=TIKTOK_SHIPPED)
    package_id = (await order_state(sim, order_id))["packages"][0]["id"]
    wrong = await api.call(
        "POST",
        ship_path(package_id),
        body={"self_shipment": {"tracking_number": "X", "shipping_provider_id": USPS}},
    )
    assert (wrong.status, wrong.code) == (200, 21011006)

    async with AsyncTikTokShop(
        APP_KEY, APP_SECRET, shop.access_token, shop.ref.cipher, base_url=sim.url
    ) as other:
        await other.fulfillment.ship_package(
            package_id,
            body=ShipPackageRequest.from_dict(
                {
                    "handover_method": "PICKUP",
                    "pickup_slot": {"start_time": 1_900_000_000, "end_time": 1_900_003_600},
                }
            ),
        )
    detail = await api.ok("GET", f"/fulfillment/202309/packages/{package_id}")
    assert (detail["package_status"], detail["handover_method"]) == ("PROCESSING", "PICKUP")
    assert detail["shipping_type"] == "TIKTOK"
    assert (await order_state(sim, order_id))["status"] == "AWAITING_COLLECTION"


async def test_the_buyers_remorse_hour(api: SignedApi, sim: SimControl, shop: SeededShop) -> None:
    order_id = await seed_order(sim, shop, status="ON_HOLD")
    package_id = (await order_state(sim, order_id))["packages"][0]["id"]
    shipment = {"self_shipment": {"tracking_number": "9400TRACK", "shipping_provider_id": USPS}}

    early = await api.call("POST", ship_path(package_id), body=shipment)
    assert (early.status, early.code) == (200, 21011002)
    marked = await api.call(
        "POST", mark_path(order_id), body={"tracking_number": "T", "shipping_provider_id": USPS}
    )
    assert marked.code == 21011002

    await advance(sim, 59 * 60)
    assert (await order_state(sim, order_id))["status"] == "ON_HOLD"
    await advance(sim, 61)
    released = await order_state(sim, order_id)
    assert released["status"] == "AWAITING_SHIPMENT"
    assert released["is_on_hold_order"] is True  # it was held
    await api.ok("POST", ship_path(package_id), body=shipment)


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({}, 40006),
        ({"handover_method": "TELEPORT"}, 40006),
        ({"self_shipment": {"tracking_number": "T"}}, 40006),
        ({"self_shipment": {"tracking_number": "T", "shipping_provider_id": "42"}}, 21011005),
        ({"handover_method": "DROP_OFF"}, 21011006),
    ],
)
async def test_ship_package_refusals(
    api: SignedApi, sim: SimControl, shop: SeededShop, body: dict[str, object], code: int
) -> None:
    order_id = await seed_order(sim, shop)
    package_id = (await order_state(sim, order_id))["packages"][0]["id"]
    answer = await api.call("POST", ship_path(package_id), body=body)
    assert answer.code == code
    assert answer.status == (400 if code == 40006 else 200)
    assert (await order_state(sim, order_id))["status"] == "AWAITING_SHIPMENT"


async def test_cancelled_and_unknown_orders_do_not_ship(
    api: SignedApi, sim: SimControl, shop: SeededShop
) -> None:
    order_id = await seed_order(sim, shop)
    package_id = (await order_state(sim, order_id))["packages"][0]["id"]
    await api.ok(
        "POST",
        "/return_refund/202602/cancellations",
        body={"order_id": order_id, "cancel_reason": "seller_cancel_reason_out_of_stock"},
    )
    shipment = {"self_shipment": {"tracking_number": "T", "shipping_provider_id": USPS}}
    answer = await api.call("POST", ship_path(package_id), body=shipment)
    assert (answer.status, answer.code) == (200, 21011003)
    marked = await api.call(
        "POST", mark_path(order_id), body={"tracking_number": "T", "shipping_provider_id": USPS}
    )
    assert marked.code == 21011003
    unknown = await api.call("POST", ship_path("123"), body=shipment)
    assert (unknown.status, unknown.code) == (404, 40004)
    nobody = await api.call(
        "POST", mark_path("123"), body={"tracking_number": "T", "shipping_provider_id": USPS}
    )
    assert (nobody.status, nobody.code) == (404, 40004)


async def test_marking_part_of_an_order_shipped_splits_its_package(
    api: SignedApi, sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    await sim.call("PUT", f"/shops/{shop.ref.shop_id}/webhook", {"url": inbox.url("hooks")})
    order_id = await seed_order(sim, shop)
    order = await order_state(sim, order_id)
    first, second = (i["id"] for i in order["line_items"])
    original = order["packages"][0]["id"]

    shipped = await api.ok(
        "POST",
        mark_path(order_id),
        body={
            "tracking_number": "1Z1",
            "shipping_provider_id": UPS,
            "order_line_item_ids": [first],
        },
    )
    assert shipped["order_line_item_ids"] == [first]
    assert shipped["package_id"] != original
    after = await order_state(sim, order_id)
    assert after["status"] == "PARTIALLY_SHIPPING"
    assert [p["id"] for p in after["packages"]] == [original, shipped["package_id"]]

    again = await api.call(
        "POST",
        mark_path(order_id),
        body={
            "tracking_number": "1Z1",
            "shipping_provider_id": UPS,
            "order_line_item_ids": [first],
        },
    )
    assert again.code == 21011007

    # The 202610 version ships the rest with its own body shape.
    rest = await api.ok(
        "POST",
        mark_path(order_id, "202610"),
        body={
            "order_line_list": [{"order_line_id": second}],
            "shipping_info_list": [{"tracking_number": "1Z2", "shipping_provider_id": UPS}],
        },
    )
    assert rest["package_id"] == original  # the whole remaining package ships
    assert (await order_state(sim, order_id))["status"] == "IN_TRANSIT"

    await inbox.wait_for(lambda: len(inbox.of_type("hooks", 1)) == 2, "two status webhooks")
    [split] = inbox.of_type("hooks", 4)
    assert split["data"]["sc_type"] == "SPLIT"
    assert {p["package_id"] for p in split["data"]["package_list"]} == {
        original,
        shipped["package_id"],
    }
    assert [n["data"]["order_status"] for n in inbox.of_type("hooks", 1)] == [
        "PARTIALLY_SHIPPING",
        "IN_TRANSIT",
    ]
    assert type(Webhooks.parse(_raw(split))).__name__ == "PackageUpdateWebhook"


@pytest.mark.parametrize(
    ("body", "code"),
    [
        ({"shipping_info_list": []}, 40006),
        (
            {
                "shipping_info_list": [
                    {"tracking_number": "A", "shipping_provider_id": UPS},
                    {"tracking_number": "B", "shipping_provider_id": UPS},
                ]
            },
            40006,
        ),
        ({"shipping_info_list": [{"tracking_number": "A"}]}, 40006),
        ({"shipping_info_list": [{"tracking_number": "A", "shipping_provider_id": "1"}]}, 21011005),
        (
            {
                "order_line_list": [{"order_line_id": "not-a-line"}],
                "shipping_info_list": [{"tracking_number": "A", "shipping_provider_id": UPS}],
            },
            40006,
        ),
    ],
)
async def test_mark_shipped_202610_refusals(
    api: SignedApi, sim: SimControl, shop: SeededShop, body: dict[str, object], code: int
) -> None:
    order_id = await seed_order(sim, shop)
    answer = await api.call("POST", mark_path(order_id, "202610"), body=body)
    assert answer.code == code


async def test_mark_shipped_serves_its_markets_and_seller_shipping_only(
    sim: SimControl, shop: SeededShop
) -> None:
    other = await sim.shop(name="Jakarta shop", region="ID")
    tokens = await sim.tokens(other["id"])
    indonesian = SignedApi(
        sim, SeededShop(ShopRef(other["id"], other["cipher"]), tokens["access_token"], "")
    )
    order_id = await seed_order(sim, indonesian.shop, currency="IDR")
    body = {"tracking_number": "T", "shipping_provider_id": USPS}
    answer = await indonesian.call("POST", mark_path(order_id), body=body)
    assert (answer.status, answer.code) == (200, 21008106)

    by_tiktok = await seed_order(sim, shop, delivery_option_id=TIKTOK_SHIPPED)
    answer = await SignedApi(sim, shop).call("POST", mark_path(by_tiktok), body=body)
    assert answer.code == 21008106
