"""The loose shapes TikTok really sends, on demand, and the strict gate every new call keeps."""

import json

import pytest
from tiktok_shop_api import Webhooks

from tests.integration.tiktok.sim_api import Inbox, SignedApi, order_state, seed_order
from tests.integration.tiktok.sim_support import SeededShop, SimControl

# Every call this simulator added, with a path that reaches its handler.
NEW_CALLS = [
    ("GET", "/event/202309/webhooks"),
    ("PUT", "/event/202309/webhooks"),
    ("DELETE", "/event/202309/webhooks"),
    ("GET", "/logistics/202309/delivery_options/7091146663229654785/shipping_providers"),
    ("GET", "/fulfillment/202309/packages/1"),
    ("POST", "/fulfillment/202309/packages/1/ship"),
    ("POST", "/fulfillment/202610/orders/1/packages"),
    ("POST", "/return_refund/202602/cancellations/search"),
    ("POST", "/return_refund/202602/cancellations"),
    ("POST", "/return_refund/202309/cancellations/1/approve"),
    ("POST", "/return_refund/202309/cancellations/1/reject"),
    ("GET", "/return_refund/202309/reject_reasons"),
    ("GET", "/return_refund/202602/orders/1/aftersale_eligibility"),
    ("POST", "/return_refund/202602/returns/search"),
    ("POST", "/return_refund/202309/returns/1/approve"),
    ("POST", "/return_refund/202606/returns/1/reject"),
    ("POST", "/return_refund/202603/aftersales/search"),
    ("POST", "/return_refund/202604/rma/search"),
    ("POST", "/return_refund/202609/aftersales/review"),
    ("GET", "/finance/202309/statements"),
    ("GET", "/finance/202501/orders/1/statement_transactions"),
    ("GET", "/finance/202501/statements/1/statement_transactions"),
    ("GET", "/finance/202507/orders/unsettled"),
]


@pytest.mark.parametrize(("method", "path"), NEW_CALLS)
async def test_every_new_call_is_signed_and_shop_scoped(
    api: SignedApi, method: str, path: str
) -> None:
    body = None if method == "GET" else {}
    forged = await api.call(method, path, body=body, bad_sign=True)
    assert (forged.status, forged.code) == (401, 106001)
    assert set(forged.body) == {"code", "message", "request_id", "data"}
    no_cipher = await api.call(method, path, body=body, cipher=False)
    assert (no_cipher.status, no_cipher.code) == (400, 106013)


async def test_older_and_unpublished_versions_are_not_served(api: SignedApi) -> None:
    for method, path in (
        ("POST", "/return_refund/202309/cancellations/search"),
        ("POST", "/return_refund/202309/returns/1/reject"),
        ("GET", "/finance/202309/orders/1/statement_transactions"),
        ("POST", "/fulfillment/202309/packages/1/ship/now"),
    ):
        answer = await api.call(method, path, body={})
        assert (answer.status, answer.code) == (404, 40004), path


async def test_a_webhook_without_notification_id_and_with_numeric_ids(
    sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    await sim.call(
        "POST",
        "/webhooks",
        {
            "url": inbox.url("loose"),
            "type": 1,
            "shop_id": shop.ref.shop_id,
            "data": {"order_id": "576461413038785752", "order_status": "AWAITING_SHIPMENT"},
            "omit_notification_id": True,
            "numeric_ids": True,
        },
    )
    [notification] = inbox.at("loose")
    assert "tts_notification_id" not in notification
    assert notification["data"]["order_id"] == 576461413038785752
    assert notification["data"]["order_status"] == "AWAITING_SHIPMENT"


async def test_keys_with_dots_and_dollars_and_unknown_types(
    sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    odd = {"a.b": 1, "$where": "x", "nested": {"$gt": {"c.d": [1, 2]}}}
    await sim.call(
        "POST",
        "/webhooks",
        {"url": inbox.url("odd"), "type": 1234, "shop_id": shop.ref.shop_id, "data": odd},
    )
    [notification] = inbox.at("odd")
    assert notification["data"] == odd
    assert notification["type"] == 1234
    assert type(Webhooks.parse(json.dumps(notification))).__name__ == "UnknownWebhookEvent"


async def test_an_order_with_amounts_finer_than_its_currency_on_demand(
    api: SignedApi, sim: SimControl, shop: SeededShop
) -> None:
    fine = {"sale_price": "1.005"}
    refused = await sim.http.post(
        "/_sim/seed", json={"orders": [{"shop_id": shop.ref.shop_id, "items": [fine]}]}
    )
    assert refused.status_code == 400  # by default amounts are at the currency's precision
    exact = await seed_order(sim, shop, items=[fine], shipping_fee="0.5", exact_amounts=True)
    idr = await seed_order(sim, shop, currency="IDR", items=[{"sale_price": "0.01"}])
    found = await api.ok("GET", "/order/202507/orders", query={"ids": f"{exact},{idr}"})
    by_id = {o["id"]: o for o in found["orders"]}
    assert by_id[exact]["line_items"][0]["sale_price"] == "1.005"  # as given, not rounded
    assert by_id[exact]["payment"]["shipping_fee"] == "0.5"
    # IDR has two decimals (ISO 4217), as TikTok's own Indonesian examples show.
    assert by_id[idr]["line_items"][0]["sale_price"] == "0.01"
    assert by_id[idr]["payment"]["currency"] == "IDR"


async def test_tiktok_freezes_a_product_itself(
    api: SignedApi, sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    await sim.call("PUT", f"/shops/{shop.ref.shop_id}/webhook", {"url": inbox.url("hooks")})
    product_id = (
        await sim.call("POST", "/generate", {"shop_id": shop.ref.shop_id, "products": 1})
    )["products"][0]
    reason = "Counterfeit goods suspected"
    await sim.call(
        "POST", f"/products/{product_id}/platform_status", {"status": "FREEZE", "reason": reason}
    )
    detail = await api.ok("GET", f"/product/202309/products/{product_id}")
    assert detail["status"] == "FREEZE"
    assert detail["audit_failed_reasons"][0]["reasons"] == [reason]

    await inbox.wait_for(lambda: bool(inbox.of_type("hooks", 5)), "the product webhook")
    [notification] = inbox.of_type("hooks", 5)
    assert notification["data"]["status"] == "PRODUCT_STATUS_CHANGED"
    assert notification["data"]["product_id"] == int(product_id)  # a JSON number, as specified
    assert notification["data"]["suspended_reason"] == reason
    assert type(Webhooks.parse(json.dumps(notification))).__name__ == "ProductStatusChangeWebhook"

    refused = await sim.http.post(
        f"/_sim/products/{product_id}/platform_status", json={"status": "ACTIVATE"}
    )
    assert refused.status_code == 400


async def test_inventory_changed_by_shop_has_its_own_envelope(
    sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    await sim.call("PUT", f"/shops/{shop.ref.shop_id}/webhook", {"url": inbox.url("hooks")})
    product_id = (
        await sim.call("POST", "/generate", {"shop_id": shop.ref.shop_id, "products": 1})
    )["products"][0]
    changed = await sim.call("POST", f"/products/{product_id}/inventory_changed", {"delta": -3})
    assert changed["sku"]["inventory"][0]["quantity"] == 97

    await inbox.wait_for(lambda: bool(inbox.of_type("hooks", 71)), "the inventory webhook")
    [notification] = inbox.of_type("hooks", 71)
    data = notification["data"]
    assert data["event_id"]
    assert data["occurred_at"].endswith("Z")
    assert (data["product_id"], data["sku_id"]) == (int(product_id), int(changed["sku"]["id"]))
    assert data["quantity_snapshot_after_change"]["total_quantity"] == 97
    [change] = data["change_detail"]
    assert change["idempotency_key"]
    assert change["total_quantity_delta"] == -3
    parsed = Webhooks.parse(json.dumps(notification))
    assert type(parsed).__name__ == "InventoryChangedByShopWebhook"


async def test_order_search_pulls_what_changed_since_a_watermark(
    api: SignedApi, sim: SimControl, shop: SeededShop
) -> None:
    ids = [await seed_order(sim, shop, create_time=1_700_000_000 + n) for n in range(5)]
    watermark = max([(await order_state(sim, i))["update_time"] for i in ids]) + 1
    search = "/order/202309/orders/search"
    by_update = {"page_size": "2", "sort_field": "update_time", "sort_order": "ASC"}

    assert (await api.ok("POST", search, query=by_update, body={"update_time_ge": watermark}))[
        "orders"
    ] == []
    # Changes after the watermark: the next pull gets exactly those, oldest change first.
    await sim.call("POST", "/clock", {"advance": 2})
    await sim.call("POST", f"/orders/{ids[3]}/status", {"status": "IN_TRANSIT"})
    await sim.call("POST", "/clock", {"advance": 1})
    await sim.call("POST", f"/orders/{ids[1]}/status", {"status": "IN_TRANSIT"})
    changed = await api.ok("POST", search, query=by_update, body={"update_time_ge": watermark})
    assert [o["id"] for o in changed["orders"]] == [ids[3], ids[1]]
    assert changed["next_page_token"] == ""

    # Paging by update time never skips an order updated mid-pull: it comes again later.
    first = await api.ok("POST", search, query=by_update, body={})
    seen = [o["id"] for o in first["orders"]]
    await sim.call("POST", "/clock", {"advance": 1})
    await sim.call("POST", f"/orders/{seen[0]}/status", {"status": "IN_TRANSIT"})
    token = first["next_page_token"]
    while token:
        page = await api.ok("POST", search, query={**by_update, "page_token": token}, body={})
        seen += [o["id"] for o in page["orders"]]
        token = page["next_page_token"]
    assert set(seen) == set(ids)
    assert seen[-1] == seen[0]  # the updated one, again at the end

    windowed = await api.ok(
        "POST",
        search,
        query={"page_size": "10", "sort_order": "ASC"},
        body={"create_time_ge": 1_700_000_001, "create_time_lt": 1_700_000_003},
    )
    assert [o["id"] for o in windowed["orders"]] == ids[1:3]
    for bad_query, bad_body in (
        ({**by_update, "sort_order": "UP"}, {}),
        ({**by_update, "page_token": "bm9wZQ"}, {}),
        (by_update, {"update_time_ge": "yesterday"}),
        (by_update, {"shipping_type": "DRONE"}),
    ):
        answer = await api.call("POST", search, query=bad_query, body=bad_body)
        assert (answer.status, answer.code) == (400, 40006), (bad_query, bad_body)
    other_sort = await api.call(
        "POST", search, query={"page_size": "2", "page_token": first["next_page_token"]}, body={}
    )
    assert other_sort.code == 40006  # a token only continues the sort it was made for
