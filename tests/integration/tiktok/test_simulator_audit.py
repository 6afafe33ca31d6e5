"""Audits the simulator's clock resolves, and the catalog webhooks TikTok pushes."""

import json
from typing import Any

import pytest
from tiktok_shop_api import Webhooks
from tiktok_shop_api.generated.models import (
    InventoryStatusChangeWebhook,
    ProductAuditStatusChangeWebhook,
    ProductStatusChangeWebhook,
    SKUStatusChangeWebhook,
)

from service.adapters.tiktok import ShopRef
from tests.integration.tiktok.catalog_support import Api, create, detail, product, sku
from tests.integration.tiktok.sim_support import (
    APP_KEY,
    APP_SECRET,
    SeededShop,
    SimControl,
    WebhookReceiver,
    poll,
)


@pytest.fixture
async def api(sim: SimControl, webhook_receiver: WebhookReceiver) -> Api:
    """A shop whose notifications go to the test's receiver."""
    seeded = await sim.shop(name="Hooked shop", webhook_url=webhook_receiver.url)
    tokens = await sim.tokens(seeded["id"])
    shop = SeededShop(
        ShopRef(seeded["id"], seeded["cipher"]), tokens["access_token"], tokens["refresh_token"]
    )
    return Api(sim, shop)


def _received(receiver: WebhookReceiver, api: Api, kind: int) -> list[dict[str, Any]]:
    """The shop's notifications of that type, each checked for TikTok's signature."""
    found = []
    for delivery in receiver.deliveries:
        assert Webhooks.verify(
            app_key=APP_KEY,
            app_secret=APP_SECRET,
            raw_body=delivery.body,
            signature=delivery.headers["authorization"],
        )
        event = json.loads(delivery.body)
        if event["shop_id"] == api.shop.ref.shop_id and event["type"] == kind:
            found.append(event)
    return found


async def _advance(sim: SimControl, seconds: int) -> dict[str, Any]:
    moved: dict[str, Any] = await sim.call("POST", "/clock", {"advance": seconds})
    return moved


async def test_a_new_product_passes_audit_when_its_time_comes(
    api: Api, sim: SimControl, webhook_receiver: WebhookReceiver
) -> None:
    made = await create(api)
    product_id = made["product_id"]
    waiting = await detail(api, product_id)
    assert (waiting["status"], waiting["audit"]["status"]) == ("PENDING", "AUDITING")

    assert (await _advance(sim, 299))["webhooks"] == []
    assert (await detail(api, product_id))["status"] == "PENDING"

    moved = await _advance(sim, 1)
    assert [w["delivered"] for w in moved["webhooks"]] == [True, True]
    passed = await detail(api, product_id)
    assert (passed["status"], passed["audit"]["status"]) == ("ACTIVATE", "APPROVED")
    assert passed["audit_failed_reasons"] == []
    assert passed["update_time"] > waiting["update_time"]

    [audit_note] = _received(webhook_receiver, api, 37)
    parsed = Webhooks.parse(json.dumps(audit_note))
    assert isinstance(parsed, ProductAuditStatusChangeWebhook)
    assert audit_note["data"] == {
        "product_id": int(product_id),  # a number in TikTok's model
        "audit": {"status": "APPROVED", "pre_approved_reasons": []},
        "update_time": passed["update_time"],
    }
    [status_note] = _received(webhook_receiver, api, 5)
    assert isinstance(Webhooks.parse(json.dumps(status_note)), ProductStatusChangeWebhook)
    assert status_note["data"]["status"] == "PRODUCT_FIRST_PASS_REVIEW"
    assert status_note["data"]["product_id"] == int(product_id)


async def test_failing_audits_carry_their_reasons(
    api: Api, sim: SimControl, webhook_receiver: WebhookReceiver
) -> None:
    reason = {
        "position": "Title",
        "reasons": ["Misleading title"],
        "suggestions": ["Describe the product as it is."],
    }
    await sim.call("POST", "/catalog/rules", {"audit_fail_next": 1, "audit_fail_reasons": [reason]})
    failed_id = (await create(api))["product_id"]
    passed_id = (await create(api))["product_id"]  # only the next one was to fail
    await _advance(sim, 300)

    failed = await detail(api, failed_id)
    assert (failed["status"], failed["audit"]["status"]) == ("FAILED", "FAILED")
    assert failed["audit_failed_reasons"] == [{**reason, "listing_platform": "TIKTOK_SHOP"}]
    assert (await detail(api, passed_id))["status"] == "ACTIVATE"
    failures = [
        n["data"]
        for n in _received(webhook_receiver, api, 5)
        if n["data"]["product_id"] == int(failed_id)
    ]
    assert failures == [
        {
            "product_id": int(failed_id),
            "status": "PRODUCT_AUDIT_FAILURE",
            "suspended_reason": "Misleading title",
            "update_time": failed["update_time"],
        }
    ]


async def test_a_verdict_can_be_given_at_once(
    api: Api, sim: SimControl, webhook_receiver: WebhookReceiver
) -> None:
    product_id = (await create(api))["product_id"]
    given = await sim.call(
        "POST",
        f"/products/{product_id}/audit",
        {"outcome": "FAILED", "reasons": [{"position": "Image", "reasons": ["Blurry"]}]},
    )
    assert given["product"]["status"] == "FAILED"
    assert given["product"]["audit_failed_reasons"][0]["reasons"] == ["Blurry"]
    assert [w["notification"]["type"] for w in given["webhooks"]] == [37, 5]
    assert len(_received(webhook_receiver, api, 37)) == 1

    answer = await sim.http.post(f"/_sim/products/{product_id}/audit", json={"outcome": "APPROVED"})
    assert answer.status_code == 409  # no audit is running any more


async def test_restricted_and_prohibited_categories(api: Api, sim: SimControl) -> None:
    restricted = (await create(api, product(category_id="800001")))["product_id"]
    prohibited = (await create(api, product(category_id="910001")))["product_id"]
    await _advance(sim, 300)
    waiting = await detail(api, restricted)
    assert (waiting["status"], waiting["audit"]) == (
        "PENDING",
        {"status": "PRE_APPROVED", "pre_approved_reasons": ["RESTRICTED_CATEGORY_PENDING"]},
    )
    refused = await detail(api, prohibited)
    assert refused["status"] == "FAILED"
    assert refused["audit_failed_reasons"][0]["reasons"] == ["Prohibited product"]


async def test_drafts_are_not_audited(api: Api, sim: SimControl) -> None:
    product_id = (await create(api, product(save_mode="AS_DRAFT")))["product_id"]
    await _advance(sim, 3600)
    draft = await detail(api, product_id)
    assert (draft["status"], draft["audit"]["status"]) == ("DRAFT", "NONE")
    path = f"/product/202509/products/{product_id}/partial_edit"
    assert (await api.ok("POST", path, {"title": "Listed now"}))["audit"] == {"status": "AUDITING"}


async def test_an_edited_live_product_is_audited_again_without_a_first_pass_note(
    api: Api, sim: SimControl, webhook_receiver: WebhookReceiver
) -> None:
    product_id = (await create(api))["product_id"]
    await _advance(sim, 300)
    edited = await api.ok(
        "PUT", f"/product/202509/products/{product_id}", product(description="<p>New.</p>")
    )
    assert edited["audit"] == {"status": "AUDITING"}
    assert (await detail(api, product_id))["status"] == "PENDING"
    await _advance(sim, 300)
    assert (await detail(api, product_id))["status"] == "ACTIVATE"
    assert len(_received(webhook_receiver, api, 37)) == 2
    assert [n["data"]["status"] for n in _received(webhook_receiver, api, 5)] == [
        "PRODUCT_FIRST_PASS_REVIEW"
    ]

    repriced = product(description="<p>New.</p>", skus=[sku(price="25.00")])
    same = await api.ok("PUT", f"/product/202509/products/{product_id}", repriced)
    assert same["audit"] == {"status": "APPROVED"}  # a price edit goes live at once


async def test_reading_a_product_settles_an_audit_that_is_due(
    api: Api, sim: SimControl, webhook_receiver: WebhookReceiver
) -> None:
    await sim.call("POST", "/catalog/rules", {"audit_delay_seconds": 0})
    product_id = (await create(api))["product_id"]
    assert (await detail(api, product_id))["status"] == "ACTIVATE"
    await poll(lambda: len(_received(webhook_receiver, api, 37)) == 1, what="the audit webhook")


# --- stock and SKU status -----------------------------------------------------------------------


async def test_stock_changed_on_tiktok_s_side_pushes_inventory_status(
    api: Api, sim: SimControl, webhook_receiver: WebhookReceiver
) -> None:
    made = await create(api, product(skus=[sku(inventory=[{"quantity": 10}])]))
    product_id, sku_id = made["product_id"], made["skus"][0]["id"]
    bought = await sim.call(
        "POST", f"/products/{product_id}/stock", {"sku_id": sku_id, "delta": -6}
    )
    assert bought["stock"]["skus"][0]["inventory_status"] == "LOW_STOCK"
    [low] = [w["notification"] for w in bought["webhooks"]]
    assert isinstance(Webhooks.parse(json.dumps(low)), InventoryStatusChangeWebhook)
    assert low["type"] == 27
    assert low["data"] == {
        "product_id": product_id,
        "sku_id": sku_id,
        "current_inventory_status": "LOW_STOCK",
        "trigger_reason": {"alert_type": "REALTIME", "low_stock_threshold": 5},
        "inventory_distribution": {
            "total_quantity": 4,
            "available_quantity": 4,
            "creator_reserved_quantity": 0,
            "campaign_reserved_quantity": 0,
            "committed_quantity": 0,
        },
        "update_time": bought["stock"]["update_time"],
    }
    same_level = await sim.call(
        "POST", f"/products/{product_id}/stock", {"sku_id": sku_id, "delta": -1}
    )
    assert same_level["webhooks"] == []
    emptied = await sim.call(
        "POST",
        f"/products/{product_id}/stock",
        {"sku_id": sku_id, "quantity": 0, "reason": "SELLER_CENTER_EDIT"},
    )
    assert emptied["webhooks"][0]["notification"]["data"]["current_inventory_status"] == (
        "OUT_OF_STOCK"
    )
    assert (await detail(api, product_id))["skus"][0]["inventory"][0]["quantity"] == 0

    # The seller restocking through the API is announced too (after the answer).
    body = {"skus": [{"id": sku_id, "inventory": [{"quantity": 50}]}]}
    await api.ok("POST", f"/product/202309/products/{product_id}/inventory/update", body)

    def levels() -> list[str]:
        found = _received(webhook_receiver, api, 27)
        return [n["data"]["current_inventory_status"] for n in found]

    await poll(lambda: levels() == ["LOW_STOCK", "OUT_OF_STOCK", "SUFFICIENT_STOCK"])
    restocked = _received(webhook_receiver, api, 27)[-1]["data"]
    assert "trigger_reason" not in restocked


async def test_stock_control_refuses_what_cannot_be(api: Api, sim: SimControl) -> None:
    made = await create(api)
    path = f"/_sim/products/{made['product_id']}/stock"
    sku_id = made["skus"][0]["id"]
    for body, status in (
        ({"sku_id": sku_id, "delta": -13}, 400),  # below zero
        ({"sku_id": sku_id}, 400),  # neither quantity nor delta
        ({"sku_id": "1", "delta": 1}, 404),
        ({"sku_id": sku_id, "warehouse_id": "1", "delta": 1}, 404),
    ):
        assert (await sim.http.post(path, json=body)).status_code == status
    assert (await sim.http.get("/_sim/products/1/stock")).status_code == 404


async def test_sku_status_changes_push_type_50(
    api: Api, sim: SimControl, webhook_receiver: WebhookReceiver
) -> None:
    made = await create(
        api,
        product(
            skus=[
                sku("A", sales_attributes=[{"name": "Size", "value_name": "S"}]),
                sku("B", sales_attributes=[{"name": "Size", "value_name": "M"}]),
            ]
        ),
    )
    product_id, first, second = made["product_id"], made["skus"][0]["id"], made["skus"][1]["id"]
    changed = await sim.call(
        "POST", f"/products/{product_id}/skus/{first}/status", {"status": "DEACTIVATED"}
    )
    [note] = [w["notification"] for w in changed["webhooks"]]
    assert isinstance(Webhooks.parse(json.dumps(note)), SKUStatusChangeWebhook)
    assert note["data"]["skus"] == [
        {"sku_id": first, "status": "DEACTIVATED", "deactivation_source": "PLATFORM"}
    ]
    shown = await detail(api, product_id)
    assert shown["skus"][0]["status_info"] == {
        "status": "DEACTIVATED",
        "deactivation_source": "PLATFORM",
    }
    stock = await sim.call("GET", f"/products/{product_id}/stock")
    assert [line["status"] for line in stock["skus"]] == ["DEACTIVATED", "NORMAL"]

    # A partial edit that drops a SKU and adds one announces both.
    change = {"skus": [sku("C", sales_attributes=[{"name": "Size", "value_name": "L"}])]}
    await api.ok("POST", f"/product/202509/products/{product_id}/partial_edit", change)

    def sku_notes() -> list[list[dict[str, Any]]]:
        return [n["data"]["skus"] for n in _received(webhook_receiver, api, 50)]

    await poll(lambda: len(sku_notes()) == 2, what="the SKU status webhook")
    created, *deleted = sku_notes()[1]
    assert created["status"] == "CREATED"
    assert sorted((d["sku_id"], d["status"]) for d in deleted) == sorted(
        [(first, "DELETED"), (second, "DELETED")]
    )
