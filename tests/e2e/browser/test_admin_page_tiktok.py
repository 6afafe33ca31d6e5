"""The operators' page driving what needs TikTok, in headless Chromium: a worker with TikTok
credentials on the simulator over real HTTP, with its own webhook ingress (so TikTok's webhooks
reach the worker as in production), Kafka and the database.

Each test acts through the page and then checks what the admin API (and, where TikTok was
called, the simulator) holds. The default shop of that worker is the simulator's shop, so the
page, which names no shop, works on it.
"""

import asyncio
import os
import re
import shutil
import uuid
from collections.abc import AsyncIterator, Awaitable
from typing import Any

import httpx
import pytest
from playwright.async_api import Locator, expect

from service.domain.orders import order_id_for
from tests.e2e.browser.conftest import SCREENSHOTS, AdminPage, TabOpener
from tests.sim_worker import TOKEN, SimWorker, sim_worker
from tests.support import ROOT, eventually

pytestmark = [pytest.mark.integration, pytest.mark.browser]

MAIN = "7068517275539719942"  # the simulator's default sales warehouse; wh-main maps to it
README_IMAGE = ROOT / "docs" / "admin-page.png"


@pytest.fixture(scope="module")
async def sw(services: dict[str, str]) -> AsyncIterator[SimWorker]:
    async with sim_worker(services, webhooks=True) as running:
        yield running


@pytest.fixture
async def tab(open_tab: TabOpener, sw: SimWorker) -> AdminPage:
    base = str(sw.admin.base_url.copy_with(path="/")).rstrip("/")
    return await open_tab(base, sw.settings.admin_api_token.get_secret_value())


async def ok(answer: Awaitable[httpx.Response]) -> dict[str, Any]:
    response = await answer
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def seed(sw: SimWorker, **fields: Any) -> str:
    """An order on TikTok's side only; answers TikTok's order id."""
    order = {"shop_id": sw.shop, "items": [{"sale_price": "12.50"}, {"sale_price": "7.50"}]}
    seeded = await sw.sim_post("/_sim/seed", {"orders": [{**order, **fields}]})
    first = seeded["orders"][0]
    return first if isinstance(first, str) else str(first["id"])


async def pull(sw: SimWorker) -> None:
    """What TikTok changed, read by a reconciliation through the API."""
    run = (await ok(sw.admin.post("/orders/reconcile")))["reconciliation"]
    assert run["status"] == "completed", run


async def order_of(sw: SimWorker, external: str) -> dict[str, Any]:
    body = await ok(sw.admin.get(f"/orders/{order_id_for(sw.shop, external)}"))
    order: dict[str, Any] = body["order"]
    return order


async def awaiting(sw: SimWorker, external: str, kind: str) -> dict[str, Any]:
    """The order's open request of `kind` once TikTok's webhook brought it."""

    async def probe() -> dict[str, Any] | None:
        order = await order_of(sw, external)
        return next(
            (r for r in order["reverseRequests"] if r["kind"] == kind and r["awaitingSeller"]),
            None,
        )

    request: dict[str, Any] = await eventually(probe, timeout=30)
    return request


async def listing_of(sw: SimWorker, listing_id: str) -> dict[str, Any]:
    listing: dict[str, Any] = (await ok(sw.admin.get(f"/listings/{listing_id}")))["listing"]
    return listing


async def new_listing(sw: SimWorker, title: str, **fields: Any) -> dict[str, Any]:
    product = f"p-{uuid.uuid4().hex[:8]}"
    body = {
        "localProductId": product,
        "title": title,
        "price": 3100,
        "imageUrl": sw.images.url(product),
        **fields,
    }
    listing: dict[str, Any] = (await ok(sw.admin.post("/listings/create", json=body)))["listing"]
    return listing


async def pushed(sw: SimWorker, listing: dict[str, Any]) -> dict[str, Any]:
    answer = (await ok(sw.admin.post(f"/listings/{listing['id']}/push")))["listing"]
    assert answer["syncStatus"] == "synced", answer["error"]
    result: dict[str, Any] = answer
    return result


async def open_order(tab: AdminPage, order_id: str) -> Locator:
    """The order's dialog, opened from the orders tab."""
    page = tab.page
    await page.locator("#tab-orders").click()
    await page.locator(f'#orders-table tr[data-id="{order_id}"] .open-detail').click()
    dialog = page.locator("#order-dialog")
    await expect(dialog.locator(".detail-facts")).to_be_visible()
    return dialog


async def open_listing(tab: AdminPage, listing_id: str) -> Locator:
    page = tab.page
    await page.locator("#tab-listings").click()
    await page.locator(f'#listings-table tr[data-id="{listing_id}"] .open-detail').click()
    dialog = page.locator("#listing-dialog")
    await expect(dialog.locator(".detail-facts")).to_be_visible()
    return dialog


def counts_text(counts: dict[str, int]) -> str:
    text = f"{counts['created']} new · {counts['changed']} changed · {counts['unchanged']} same"
    return text + (f" · {counts['failed']} failed" if counts["failed"] else "")


# ------------------------------------------------------------------------------ connection


async def test_webhook_registration_is_shown_and_made_from_the_page(
    sw: SimWorker, tab: AdminPage
) -> None:
    await sw.sim.put(f"/_sim/shops/{sw.shop}/webhook", json={"url": None})  # none registered
    try:
        before = (await ok(sw.admin.get("/webhooks")))["webhooks"]
        needed = [w["eventType"] for w in before["webhooks"]]
        assert needed
        assert before["missing"] == needed
        page = tab.page
        await tab.open_signed_in()
        await expect(page.locator("#connection-status")).to_have_text("Connected")
        await expect(page.locator("#connection-shop")).to_have_text(sw.shop)
        await expect(page.locator("#webhooks-address")).to_have_text(str(sw.ingress_url))
        missing = page.locator("#webhooks-missing")
        await expect(missing.locator("code")).to_have_text(needed)
        await expect(page.locator("#webhooks-summary")).to_have_text(
            f"0 of {len(needed)} event types registered"
        )
        rows = page.locator("#webhooks-table tbody tr")
        await expect(rows).to_have_count(len(needed))
        await expect(page.locator('#webhooks-table tr[data-registered="false"]')).to_have_count(
            len(needed)
        )
        partner = page.locator("#webhooks-partner")
        await expect(partner).to_contain_text("Set this address in Partner Center")
        await expect(partner.locator("code")).to_have_text(before["partnerCenterTypes"])

        await page.locator("#webhooks-register").click()
        await expect(page.locator("#webhooks-result")).to_have_text(
            "Registered: TikTok sends every needed event type to this address."
        )
        await expect(missing).to_be_hidden()
        await expect(page.locator('#webhooks-table tr[data-registered="true"]')).to_have_count(
            len(needed)
        )
        await expect(rows.locator("td:nth-child(3)")).to_have_text(
            [str(sw.ingress_url)] * len(needed)
        )
        after = (await ok(sw.admin.get("/webhooks")))["webhooks"]
        assert after["missing"] == []
        assert all(w["registered"] and w["address"] == sw.ingress_url for w in after["webhooks"])
    finally:
        # Partner Center's address (the after-sales types) too, as the other tests need it.
        await sw.sim.put(f"/_sim/shops/{sw.shop}/webhook", json={"url": sw.ingress_url})


async def test_warehouses_and_the_category_tree_with_a_leafs_attributes(
    sw: SimWorker, tab: AdminPage
) -> None:
    warehouses = (await ok(sw.admin.get("/warehouses")))["warehouses"]
    page = tab.page
    await tab.open_signed_in()
    await page.locator("#tab-catalog").click()

    rows = page.locator("#warehouses-table tbody tr")
    await expect(rows).to_have_count(len(warehouses))
    for warehouse in warehouses:
        row = page.locator(f'#warehouses-table tr[data-warehouse-id="{warehouse["id"]}"]')
        await expect(row.locator("td:nth-child(1)")).to_contain_text(warehouse["name"])
        await expect(row.locator("td:nth-child(3)")).to_have_text(warehouse["type"])
        mapped = warehouse["platformWarehouseIds"]
        await expect(row.locator("td:nth-child(5)")).to_have_text(
            ", ".join(mapped) if mapped else "none mapped"
        )
    await expect(page.locator(f'#warehouses-table tr[data-warehouse-id="{MAIN}"]')).to_contain_text(
        "wh-main"
    )

    # The tree: every category under its parent.
    tree = page.locator("#category-tree")
    creams = tree.locator('li[data-category-id="700101"]')
    await expect(creams.locator(".tree-name")).to_have_text("Face Creams")
    parent = tree.locator('li[data-category-id="700100"]')
    await expect(parent.locator('> ul > li[data-category-id="700101"]')).to_have_count(1)
    await expect(
        tree.locator('li[data-category-id="700000"] > ul > li[data-category-id="700100"]')
    ).to_have_count(1)
    await expect(parent.locator("> button")).to_have_count(0)  # not a leaf: no attributes

    await creams.get_by_role("button", name="Attributes of Face Creams").click()
    table = page.locator('#category-attributes table[data-category-id="700101"]')
    attributes = (await ok(sw.admin.get("/categories/700101/attributes")))["attributes"]
    await expect(table.locator("tbody tr")).to_have_count(len(attributes))
    await expect(table.locator('tr[data-attribute-id="100392"]')).to_have_attribute(
        "data-requirement", "required"
    )
    await expect(table.locator('tr[data-attribute-id="101002"]')).to_have_attribute(
        "data-requirement", "required if Contains SPF? is Yes"
    )
    await expect(table.locator('tr[data-attribute-id="101001"]')).to_have_attribute(
        "data-requirement", "optional"
    )

    # A keyword narrows the tree to what matches (and the way to it).
    await page.locator("#category-keyword").fill("sneak")
    await page.locator("#category-search button[type=submit]").click()
    matches = (await ok(sw.admin.get("/categories", params={"keyword": "sneak"})))["categories"]
    await expect(tree.locator(".tree-name")).to_have_text([c["name"] for c in matches])


# ------------------------------------------------------------------------------ listings


async def test_a_listing_gets_its_category_attributes_and_is_pushed_from_the_page(
    sw: SimWorker, tab: AdminPage
) -> None:
    listing = await new_listing(sw, "Night cream")
    page = tab.page
    await tab.open_signed_in()
    dialog = await open_listing(tab, listing["id"])

    await dialog.locator("#listing-category-keyword").fill("cream")
    await dialog.get_by_role("button", name="Find", exact=True).click()
    choice = dialog.locator("#listing-category-choice")
    await expect(choice.locator('option[value="700101"]')).to_have_text(
        "Beauty & Personal Care \u203a Skincare \u203a Face Creams (700101)"
    )
    await choice.select_option("700101")
    await expect(dialog.locator("#listing-category")).to_have_value("700101")
    fields = dialog.locator("#listing-attribute-fields")
    await expect(fields.locator('[data-attribute-id="100392"] .requirement')).to_have_text(
        "required"
    )
    await expect(fields.locator('[data-attribute-id="101002"] .requirement')).to_have_text(
        "required if Contains SPF? is Yes"
    )
    await expect(fields.locator('[data-attribute-id="101001"] .requirement')).to_have_text(
        "optional"
    )

    # "Contains SPF? Yes" makes SPF Value required too: saved, with a warning.
    await dialog.locator("#attr-101001").select_option("1010011")
    await dialog.get_by_role("button", name="Save category and attributes").click()
    await expect(dialog.locator("#listing-dialog-result")).to_have_text(
        "Saved, but TikTok requires Skin Type, SPF Value: a push fails without it."
    )
    stored = await listing_of(sw, listing["id"])
    assert stored["categoryId"] == "700101"
    assert stored["attributes"] == [{"id": "101001", "values": [{"id": "1010011", "name": None}]}]

    await dialog.locator("#attr-100392").select_option(label="Dry")
    await dialog.locator("#attr-101002").fill("30")
    await dialog.locator("#listing-brand").fill("7082427311584347905")
    await dialog.get_by_role("button", name="Save category and attributes").click()
    await expect(dialog.locator("#listing-dialog-result")).to_have_text(
        "Saved. Push the listing for TikTok to get it."
    )
    stored = await listing_of(sw, listing["id"])
    assert stored["attributes"] == [
        {"id": "100392", "values": [{"id": "1003921", "name": None}]},
        {"id": "101001", "values": [{"id": "1010011", "name": None}]},
        {"id": "101002", "values": [{"id": None, "name": "30"}]},
    ]
    assert stored["brandId"] == "7082427311584347905"
    await expect(dialog.locator(".current-category")).to_contain_text("700101")

    await dialog.locator("#listing-push").click()
    await expect(dialog.locator("#listing-dialog-result")).to_have_text(
        "Pushed to TikTok; TikTok audits it now."
    )
    await expect(dialog.locator(".detail-facts .audit")).to_have_text("audit pending")
    stored = await listing_of(sw, listing["id"])
    assert (stored["syncStatus"], stored["auditStatus"]) == ("synced", "pending")
    product = (await ok(sw.sim.get(f"/_sim/products/{stored['externalProductId']}")))["product"]
    assert [a["id"] for a in product["product_attributes"]] == ["100392", "101001", "101002"]
    await expect(
        page.locator(f'#listings-table tr[data-id="{listing["id"]}"] .col-sync')
    ).to_contain_text("synced")


async def test_stock_and_price_set_on_the_page_reach_tiktok(sw: SimWorker, tab: AdminPage) -> None:
    listing = await pushed(sw, await new_listing(sw, "Teapot"))
    external = listing["externalProductId"]
    await sw.sim_post(f"/_sim/products/{external}/audit", {"outcome": "APPROVED"})
    await eventually(
        lambda: listing_of(sw, listing["id"]), until=lambda got: got["status"] == "active"
    )
    page = tab.page
    await tab.open_signed_in()
    dialog = await open_listing(tab, listing["id"])

    # The platform's warehouses come from TikTok's list and the map.
    warehouse = dialog.locator("select#stock-warehouse")
    await expect(warehouse.locator("option")).to_have_text(["wh-main → Main warehouse"])
    await dialog.locator("#stock-quantity").fill("7")
    await dialog.locator("#stock-form button[type=submit]").click()
    await expect(dialog.locator("#listing-dialog-result")).to_have_text(
        "Stock set: 7 in wh-main; it goes to TikTok shortly."
    )

    async def on_tiktok() -> dict[str, Any]:
        view = (await ok(sw.sim.get(f"/_sim/products/{external}/stock")))["skus"][0]
        return {
            "stock": {i["warehouse_id"]: i["quantity"] for i in view["inventory"]},
            "price": view["price"]["amount"],
        }

    await eventually(on_tiktok, until=lambda got: got["stock"] == {MAIN: 7})
    stored = await eventually(
        lambda: listing_of(sw, listing["id"]),
        until=lambda got: got["stockPushedRevision"] == got["stockRevision"] > 0,
    )
    assert stored["tiktokStock"] == [{"warehouseId": MAIN, "quantity": 7}]

    await dialog.locator("#price-amount").fill("14.5")
    await dialog.locator("#price-form button[type=submit]").click()
    await expect(dialog.locator("#listing-dialog-result")).to_contain_text("Price set to $14.50")
    await eventually(on_tiktok, until=lambda got: got["price"] == "14.50")
    stored = await eventually(
        lambda: listing_of(sw, listing["id"]),
        until=lambda got: got["pricePushedRevision"] == got["priceRevision"] > 0,
    )
    assert stored["price"] == 1450

    # Opened again, the listing says TikTok has both, and TikTok's own copy of the stock.
    await dialog.locator(".dialog-close").click()
    dialog = await open_listing(tab, listing["id"])
    row = dialog.locator(f'.stock-table tr[data-warehouse-id="{MAIN}"]')
    await expect(row.locator("td").first).to_contain_text("Main warehouse")
    await expect(row.locator(".col-quantity")).to_have_text("7")
    await expect(row.locator(".col-tiktok")).to_have_text("7")
    for what in ("stock", "price"):
        await expect(dialog.locator(f'.push-state [data-push="{what}"]')).to_have_attribute(
            "data-pending", "false"
        )
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    await page.screenshot(
        path=SCREENSHOTS / "admin-connected-listing.png", animations="disabled", caret="hide"
    )
    await expect(
        page.locator(f'#listings-table tr[data-id="{listing["id"]}"] .col-price')
    ).to_have_text("$14.50")


async def test_tiktoks_audit_reasons_and_a_frozen_products_reason_are_shown(
    sw: SimWorker, tab: AdminPage
) -> None:
    audited = await pushed(sw, await new_listing(sw, "Sun hat"))
    reasons = [{"position": "Title", "reasons": ["Misleading"], "suggestions": ["Say what it is"]}]
    await sw.sim_post(
        f"/_sim/products/{audited['externalProductId']}/audit",
        {"outcome": "FAILED", "reasons": reasons},
    )
    frozen = await pushed(sw, await new_listing(sw, "Designer bag"))
    reason = "Counterfeit goods suspected"
    await sw.sim_post(
        f"/_sim/products/{frozen['externalProductId']}/platform_status",
        {"status": "FREEZE", "reason": reason},
    )
    await eventually(
        lambda: listing_of(sw, audited["id"]), until=lambda got: got["auditStatus"] == "failed"
    )
    await eventually(
        lambda: listing_of(sw, frozen["id"]), until=lambda got: got["status"] == "suspended"
    )
    page = tab.page
    await tab.open_signed_in()

    row = page.locator(f'#listings-table tr[data-id="{audited["id"]}"]')
    await expect(row.locator(".col-status .status")).to_have_text("rejected")
    await expect(row.locator(".col-status .audit")).to_have_text("audit failed")
    dialog = await open_listing(tab, audited["id"])
    await expect(dialog.locator(".audit-reasons li")).to_have_text(
        ["Title: Misleading Suggestion: Say what it is"]
    )
    await dialog.locator(".dialog-close").click()

    row = page.locator(f'#listings-table tr[data-id="{frozen["id"]}"]')
    await expect(row.locator(".col-status .status")).to_have_text("suspended")
    await expect(row.locator(".col-error .cell-label")).to_have_text("TikTok's reason")
    await expect(row.locator(".col-error .error-text")).to_have_text(reason)


# ------------------------------------------------------------------------------ orders


async def test_reconcile_now_is_followed_while_in_progress_and_kept_in_the_history(
    sw: SimWorker, tab: AdminPage
) -> None:
    external = await seed(sw, status="AWAITING_SHIPMENT")
    page = tab.page
    await tab.open_signed_in()
    box = page.locator("#reconcile-status")
    await page.locator("#reconcile").click()
    await expect(box).to_have_attribute("data-status", re.compile("^(completed|failed)$"))
    history = await ok(sw.admin.get("/reconciliations"))
    newest = history["reconciliations"][0]
    await expect(box).to_have_attribute("data-run-id", newest["id"])
    await expect(box).to_have_attribute("data-status", newest["status"])
    assert (await order_of(sw, external))["externalOrderId"] == external  # pulled

    await page.locator("#tab-reconciliations").click()
    rows = tab.rows("reconciliations")
    await expect(rows).to_have_count(min(history["total"], 20))
    await expect(rows.first).to_have_attribute("data-run-id", newest["id"])
    for kind in ("orders", "requests", "products"):
        await expect(rows.first.locator(f".col-{kind}")).to_have_text(counts_text(newest[kind]))
    await expect(rows.first.locator(".col-drift")).to_have_text(str(newest["drift"]))
    await expect(rows.first.locator(".col-trigger")).to_have_text("by hand")

    # A run another caller started, slowed down by TikTok: the page follows it to its end.
    await sw.sim_post("/_sim/faults", {"latency_ms": 1500})
    try:
        other = asyncio.create_task(sw.admin.post("/orders/reconcile"))

        async def running() -> dict[str, Any] | None:
            runs = await ok(sw.admin.get("/reconciliations", params={"limit": 1}))
            first: dict[str, Any] = runs["reconciliations"][0]
            return first if first["status"] == "running" else None

        run = await eventually(running)
        await page.locator("#reconcile").click()
        await expect(box).to_have_attribute("data-run-id", run["id"])
        await expect(box).to_have_attribute("data-status", "running")
        await expect(box.locator("progress")).to_be_visible()
        await expect(page.locator("#reconcile")).to_be_disabled()
    finally:
        await sw.sim.delete("/_sim/faults")
    assert (await other).status_code == 200
    await expect(box).to_have_attribute("data-status", "completed")
    await expect(page.locator("#reconcile")).to_be_enabled()
    await expect(rows.first).to_have_attribute("data-run-id", run["id"])
    await expect(rows.first).to_have_attribute("data-status", "completed")


async def test_a_buyers_cancellation_is_approved_and_another_rejected_from_the_page(
    sw: SimWorker, tab: AdminPage
) -> None:
    first, second = (
        await seed(sw, status="AWAITING_SHIPMENT"),
        await seed(sw, status="AWAITING_SHIPMENT"),
    )
    await pull(sw)
    for external in (first, second):
        await sw.sim_post(f"/_sim/orders/{external}/cancellation_request", {})
    approve_request = await awaiting(sw, first, "cancellation")
    reject_request = await awaiting(sw, second, "cancellation")
    page = tab.page
    await tab.open_signed_in()

    await page.locator("#tab-orders").click()
    row = page.locator(f'#orders-table tr[data-id="{order_id_for(sw.shop, first)}"]')
    await expect(row.locator(".flag", has_text="1 awaiting you")).to_be_visible()
    await expect(row.locator(".countdown")).to_have_text(
        re.compile(r"^(1 d 0 h|23 h \d+ min) left$")
    )

    dialog = await open_order(tab, order_id_for(sw.shop, first))
    card = dialog.locator(f'.request[data-request-id="{approve_request["id"]}"]')
    await expect(card.locator(".request-reason")).to_have_text(
        f"Reason: {approve_request['reasonText']}"
    )
    await expect(card.locator(".request-next")).to_have_text(
        "TikTok waits for: SELLER_RESPOND_BUYER_CANCEL"
    )
    await expect(card.locator(".countdown")).to_have_text(re.compile(r"left$"))
    await card.get_by_role("button", name="Approve…").click()
    await card.get_by_role("button", name="Approve cancellation").click()
    await expect(dialog.locator("#order-dialog-result")).to_have_text("Cancellation approved.")
    await expect(dialog.locator(".request")).to_have_count(0)
    await expect(
        dialog.locator(f'.requests-table tr[data-request-id="{approve_request["id"]}"]')
    ).to_contain_text("CANCELLATION_REQUEST_SUCCESS")
    decided = await order_of(sw, first)
    assert [(r["id"], r["awaitingSeller"]) for r in decided["reverseRequests"]] == [
        (approve_request["id"], False)
    ]
    on_tiktok = await ok(sw.sim.get(f"/_sim/cancellations/{approve_request['id']}"))
    assert on_tiktok["cancellation"]["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"
    await page.keyboard.press("Escape")

    # The other is rejected with one of TikTok's reasons and a comment.
    order_id = order_id_for(sw.shop, second)
    reasons = (
        await ok(
            sw.admin.get(
                f"/orders/{order_id}/reject-reasons", params={"requestId": reject_request["id"]}
            )
        )
    )["reasons"]
    dialog = await open_order(tab, order_id)
    card = dialog.locator(f'.request[data-request-id="{reject_request["id"]}"]')
    await card.get_by_role("button", name="Reject…").click()
    reason = card.get_by_label("Reason")
    await expect(reason.locator("option")).to_have_text(
        ["Choose a reason…", *[r["text"] for r in reasons]]
    )
    await reason.select_option("reverse_reject_request_reason_buyer_agreed_to_keep")
    await card.get_by_label("Comment").fill("Spoke to the buyer, who keeps it")
    await card.get_by_role("button", name="Reject cancellation").click()
    await expect(dialog.locator("#order-dialog-result")).to_have_text("Cancellation rejected.")
    on_tiktok = await ok(sw.sim.get(f"/_sim/cancellations/{reject_request['id']}"))
    assert on_tiktok["cancellation"]["cancel_status"] == "CANCELLATION_REQUEST_CANCEL"
    assert not [r for r in (await order_of(sw, second))["reverseRequests"] if r["awaitingSeller"]]


async def test_a_return_is_approved_with_the_buyer_keeping_the_item(
    sw: SimWorker, tab: AdminPage
) -> None:
    external = await seed(sw, status="DELIVERED")
    await pull(sw)
    asked = await sw.sim_post(
        f"/_sim/orders/{external}/return_request", {"return_type": "RETURN_AND_REFUND"}
    )
    return_id = asked["return"]["return_id"]
    request = await awaiting(sw, external, "return")
    assert request["id"] == return_id
    page = tab.page
    await tab.open_signed_in()
    dialog = await open_order(tab, order_id_for(sw.shop, external))
    card = dialog.locator(f'.request[data-request-id="{return_id}"]')
    await expect(card.locator("h4")).to_contain_text("Return request")
    await expect(card.locator("h4")).to_contain_text("RETURN_AND_REFUND")
    await card.get_by_role("button", name="Approve…").click()
    await card.get_by_label("The buyer keeps the item").check()
    await card.get_by_role("button", name="Approve return").click()
    await expect(dialog.locator("#order-dialog-result")).to_have_text("Return approved.")
    on_tiktok = (await ok(sw.sim.get(f"/_sim/returns/{return_id}")))["return"]
    # Approved without the item coming back: a return and refund goes straight to the refund
    # (else TikTok would wait for the buyer to ship it: AWAITING_BUYER_SHIP).
    assert on_tiktok["return_status"] == "RETURN_OR_REFUND_REQUEST_SUCCESS"
    order = await order_of(sw, external)
    [entry] = [r for r in order["reverseRequests"] if r["id"] == return_id]
    assert entry["awaitingSeller"] is False
    row = page.locator(f'#orders-table tr[data-id="{order["id"]}"]')
    await expect(row.locator(".flag", has_text="awaiting")).to_have_count(0)


async def test_an_order_is_shipped_and_another_cancelled_from_the_page(
    sw: SimWorker, tab: AdminPage
) -> None:
    to_ship, to_cancel = (
        await seed(sw, status="AWAITING_SHIPMENT"),
        await seed(sw, status="AWAITING_SHIPMENT"),
    )
    await pull(sw)
    ship_id, cancel_id = order_id_for(sw.shop, to_ship), order_id_for(sw.shop, to_cancel)
    providers = (await ok(sw.admin.get(f"/orders/{ship_id}/shipping-providers")))["providers"]
    page = tab.page
    await tab.open_signed_in()

    dialog = await open_order(tab, ship_id)
    await dialog.locator("#order-ship").click()
    carrier = dialog.get_by_label("Carrier", exact=True)
    await expect(carrier.locator("option")).to_have_text(
        ["Choose a carrier…", *[p["name"] for p in providers], "Another carrier, by name…"]
    )
    await carrier.select_option(label="UPS")
    await dialog.get_by_label("Tracking number").fill("1Z999AA10123456784")
    await dialog.get_by_label("Tracking URL (optional)").fill(
        "https://tracking.example.com/1Z999AA10123456784"
    )
    await dialog.get_by_role("button", name="Ship", exact=True).click()
    await expect(dialog.locator("#order-dialog-result")).to_have_text(
        "Shipped with tracking number 1Z999AA10123456784."
    )
    await expect(dialog.locator(".detail-facts .status")).to_have_text("shipped")
    await expect(dialog.locator(".order-actions")).to_have_count(0)
    shipped = await order_of(sw, to_ship)
    assert (shipped["status"], shipped["trackingNumber"], shipped["trackingUrl"]) == (
        "shipped",
        "1Z999AA10123456784",
        "https://tracking.example.com/1Z999AA10123456784",
    )
    on_tiktok = (await ok(sw.sim.get(f"/_sim/orders/{to_ship}")))["order"]
    ups = next(p["id"] for p in providers if p["name"] == "UPS")
    assert (on_tiktok["tracking_number"], on_tiktok["shipping_provider_id"]) == (
        "1Z999AA10123456784",
        ups,
    )
    await page.keyboard.press("Escape")

    reasons = (await ok(sw.admin.get(f"/orders/{cancel_id}/cancel-reasons")))["reasons"]
    dialog = await open_order(tab, cancel_id)
    await dialog.locator("#order-cancel").click()
    reason = dialog.get_by_label("Reason")
    await expect(reason.locator("option")).to_have_text(
        ["Choose a reason…", *[r["text"] for r in reasons]]
    )
    await reason.select_option("seller_cancel_reason_out_of_stock")
    await dialog.get_by_role("button", name="Cancel the order").click()
    await expect(dialog.locator("#order-dialog-result")).to_have_text("The order is cancelled.")
    assert (await order_of(sw, to_cancel))["status"] == "cancelled"
    on_tiktok = (await ok(sw.sim.get(f"/_sim/orders/{to_cancel}")))["order"]
    assert on_tiktok["status"] == "CANCELLED"


async def test_tiktoks_refusal_is_shown_with_its_code_and_nothing_changes(
    sw: SimWorker, tab: AdminPage
) -> None:
    held = await seed(sw, status="ON_HOLD")  # the buyer's remorse hour: TikTok will not ship
    await pull(sw)
    before = await order_of(sw, held)
    await tab.open_signed_in()
    dialog = await open_order(tab, before["id"])
    await dialog.locator("#order-ship").click()
    await dialog.get_by_label("Carrier", exact=True).select_option(label="UPS")
    await dialog.get_by_label("Tracking number").fill("1Z1")
    await dialog.get_by_role("button", name="Ship", exact=True).click()
    result = dialog.locator(".ship-form .result")
    await expect(result).to_contain_text("Not shipped: TikTok refused (code 21011002):")
    await expect(result).to_have_attribute("data-tiktok-code", "21011002")
    await expect(result).to_have_attribute("data-http-status", "502")
    after = await order_of(sw, held)
    assert after["trackingNumber"] is None
    assert after == before


async def test_a_pull_is_followed_as_a_job_with_the_records_it_could_not_apply(
    sw: SimWorker, tab: AdminPage
) -> None:
    await seed(sw, status="AWAITING_SHIPMENT")
    bad = await seed(sw, items=[{"sale_price": "1.005"}], exact_amounts=True)
    page = tab.page
    await tab.open_signed_in()

    # A pull another caller started, slowed down by TikTok: the page joins and follows it.
    await sw.sim_post("/_sim/faults", {"latency_ms": 1500})
    try:
        other = asyncio.create_task(sw.admin.post("/orders/sync"))

        async def running() -> dict[str, Any] | None:
            params = {"kind": "orders.sync", "status": "running"}
            jobs = await ok(sw.admin.get("/jobs", params=params))
            return jobs["jobs"][0] if jobs["jobs"] else None

        job = await eventually(running)
        await page.locator("#sync-orders").click()
        box = page.locator("#job")
        await expect(box).to_have_attribute("data-job-id", job["id"])
        await expect(box).to_have_attribute("data-status", "running")
        await expect(box.locator(".job-state")).to_have_text("in progress")
        await expect(page.locator("#sync-orders")).to_be_disabled()
    finally:
        await sw.sim.delete("/_sim/faults")
    assert (await other).status_code == 200
    await expect(box).to_have_attribute("data-status", "completed")
    final = (await ok(sw.admin.get(f"/jobs/{job['id']}")))["job"]
    assert (final["status"], final["failed"]) == ("completed", 1)
    await expect(box.locator(".job-summary")).to_have_text(
        f"Sync Orders: {final['done']} orders applied, 1 failed"
    )
    failure = box.locator(".failures li")
    await expect(failure).to_have_count(1)
    await expect(failure).to_contain_text(bad)
    await expect(failure).to_contain_text("more precision than USD allows")
    await expect(page.locator("#sync-message")).to_have_text(
        f"Synced {final['done']} orders, 1 failed"
    )
    await expect(page.locator("#sync-orders")).to_be_enabled()


# ------------------------------------------------------------------------------ the picture


async def test_the_readme_picture_of_a_connected_shop(sw: SimWorker, tab: AdminPage) -> None:
    """Saved under test-artifacts/screenshots; copied to docs/admin-page.png (the README's
    picture) on request (UPDATE_README_SCREENSHOT=1), since fonts differ between machines."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    external = await seed(sw, status="AWAITING_SHIPMENT")
    await pull(sw)
    await sw.sim_post(f"/_sim/orders/{external}/cancellation_request", {})
    await awaiting(sw, external, "cancellation")
    page = tab.page
    await tab.open_signed_in()
    await expect(page.locator("#connection-status")).to_have_text("Connected")
    await expect(page.locator("#webhooks-summary")).to_contain_text("event types registered")
    await expect(page.locator("#money-table")).to_be_visible()
    await page.locator("#tab-orders").click()
    await tab.settled("orders")
    await expect(page.locator("#orders-table .countdown").first).to_be_visible()
    picture = SCREENSHOTS / "admin-connected-desktop.png"
    await page.screenshot(path=picture, full_page=True, animations="disabled", caret="hide")
    await open_order(tab, order_id_for(sw.shop, external))
    await page.screenshot(
        path=SCREENSHOTS / "admin-connected-order.png", animations="disabled", caret="hide"
    )
    if os.environ.get("UPDATE_README_SCREENSHOT"):
        README_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(picture, README_IMAGE)


# ------------------------------------------------------------------------------ authorization


async def test_a_shop_the_seller_must_authorize_again_is_authorized_from_the_page(
    sw: SimWorker, tab: AdminPage
) -> None:
    """Last in the module: the shop's static token expires for good (the others need it)."""
    await sw.sim_post("/_sim/tokens/expire", {"access_token": TOKEN})
    settings = await ok(sw.admin.get("/settings"))
    assert (settings["status"], settings["needsReauthorization"]) == ("error", True)
    page = tab.page
    await tab.open_signed_in()
    await expect(page.locator("#connection-status")).to_have_text("Authorization Needed")
    await expect(page.locator("#reauth")).to_be_visible()
    # The error as the settings say it (TikTok's request id differs from call to call).
    await expect(page.locator("#reauth-error")).to_contain_text(
        "the static TIKTOK_ACCESS_TOKEN cannot be refreshed, so the seller must authorize shop"
    )
    assert "the static TIKTOK_ACCESS_TOKEN cannot be refreshed" in settings["error"]
    await expect(page.locator("#webhooks")).to_be_hidden()

    # A code TikTok does not know is refused, and the shop still needs the seller.
    await page.get_by_label("Authorization code").fill("not-a-code")
    await page.get_by_role("button", name="Authorize").click()
    await expect(page.locator("#connection-result")).to_contain_text("The authorization failed")
    await expect(page.locator("#reauth")).to_be_visible()

    code = (await sw.sim_post("/_sim/auth_codes", {"shop_ids": [sw.shop]}))["auth_code"]
    await page.get_by_label("Authorization code").fill(code)
    await page.get_by_role("button", name="Authorize").click()
    await expect(page.locator("#connection-result")).to_have_text(f"Authorized: {sw.shop}.")
    await expect(page.locator("#connection-status")).to_have_text("Connected")
    await expect(page.locator("#reauth")).to_be_hidden()
    await expect(page.locator("#webhooks")).to_be_visible()
    settings = await ok(sw.admin.get("/settings"))
    assert (settings["status"], settings["needsReauthorization"]) == ("connected", False)
