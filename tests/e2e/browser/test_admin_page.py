"""The operators' page in headless Chromium, against the session's worker on real Kafka + database.

The session's worker has no TikTok credentials. The page calls the admin API without `shopId`,
i.e. for the deployment's default shop; every other test uses a shop of its own, so this module
fills the default shop once (see `seeded`) and compares what the page shows with what the API
answers at the same time. What needs TikTok (the simulator) is in `test_admin_page_tiktok.py`.
"""

import re
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from contracts.entities import (
    AuditReason,
    Listing,
    ReverseRequest,
    WarehouseQuantity,
    WarehouseStock,
)
from service.adapters.mongo.database import Database
from service.bootstrap import Worker
from service.domain.time import utcnow
from service.entrypoints.worker.asgi import worker_app
from service.settings import Settings
from tests import factories
from tests.conftest import make_settings
from tests.e2e.browser.conftest import PHONE, SCREENSHOTS, AdminPage, TabOpener
from tests.support import fresh, serve, store

pytestmark = [pytest.mark.integration, pytest.mark.browser]

API = "/admin/tiktok-shop"
PAGE_SIZE = 20
HOSTILE = "<img src=x onerror=alert(1)>"
MAIN_WAREHOUSE = "7068517275539719942"  # what the session's TIKTOK_WAREHOUSE_MAP maps wh-main to

#: (local product id, title, price in cents, status), oldest first: the page shows newest first.
LISTINGS: list[tuple[str, str, int, str]] = [
    ("gift-card-holder", "Gift card holder", 499, "suspended"),  # carries the hostile error
    ("cheese-knives", "Cheese knife trio", 3400, "active"),
    ("spice-jars", "Spice jar set of 6", 2100, "draft"),
    ("herb-scissors", "Herb scissors", 1450, "pending"),
    ("baking-mats", "Silicone baking mats", 1899, "active"),
    ("proofing-basket", "Bread proofing basket", 2250, "draft"),
    ("pepper-mills", "Salt and pepper mills", 3900, "active"),
    ("olive-spoons", "Olive wood spoons", 1600, "pending"),
    ("butter-dish", "Butter dish with lid", 2400, "draft"),
    ("tea-infuser", "Tea infuser bottle", 1999, "active"),
    ("dripper", "Pour-over coffee dripper", 2800, "rejected"),
    ("french-press", "French press 600 ml", 3499, "active"),
    ("pot-holders", "Wool pot holders", 1299, "draft"),
    ("mortar", "Marble pestle and mortar", 4200, "pending"),
    ("measuring-cups", "Copper measuring cups", 3100, "active"),
    ("apron", "Cotton apron", 2500, "draft"),
    ("skillet", "Cast iron skillet 26 cm", 5900, "active"),
    ("utensils", "Bamboo utensil set", 1700, "pending"),
    ("carafe", "Glass carafe 1 l", 2300, "active"),
    ("bowls", "Stoneware bowl set", 4800, "draft"),
    ("camping-mug", "Enamel camping mug", 1500, "active"),
    ("serving-board", "Oak serving board", 3900, "active"),
    ("tea-towel", "Linen tea towel", 1200, "pending"),
    ("mug", "Ceramic mug, 350 ml", 1800, "active"),
]
HOSTILE_LISTING = "gift-card-holder"
REJECTED_LISTING = ("dripper", "Main image is smaller than 600 x 600 px")
AUDIT_REASON = AuditReason(
    position="Main image", reasons=["Image too small"], suggestions=["Use 600 x 600 px or more"]
)

#: (external order id, customer, status, total in minor units, currency), oldest first.
ORDERS: list[tuple[str, str, str, int, str]] = [
    ("576000000000000001", HOSTILE, "refunded", 999, "USD"),
    ("576000000000000002", "Emma Schmidt", "cancelled", 1200, "USD"),
    ("576000000000000003", "Lucas Martin", "delivered", 7420, "USD"),
    ("576000000000000004", "Sofia Rossi", "delivered", 1899, "USD"),
    ("576000000000000005", "Noah Williams", "shipped", 4850, "USD"),
    ("576000000000000006", "Mia Chen", "pending", 2599, "USD"),
    ("576000000000000007", "Liam Dubois", "delivered", 5000, "USD"),  # part refunded, settled
    ("576000000000000008", "Olivia Brown", "pending", 3200, "USD"),  # asks to cancel
    ("576000000000000009", "Budi Santoso", "shipped", 9950, "IDR"),  # IDR 99.50: 2 decimals
    ("576000000000000010", "Yui Tanaka", "delivered", 1500, "JPY"),  # ¥1,500: no decimals
]
REFUNDED_ORDER = "576000000000000007"
ASKING_ORDER = "576000000000000008"
#: What the refunded, settled order carries (minor units of USD).
REFUND, SETTLED_FEE, SETTLED_NET = 1500, 445, 3055
COUNT_STATS = [
    "totalListings",
    "activeListings",
    "pendingListings",
    "failedListings",
    "totalOrders",
    "pendingOrders",
    "shippedOrders",
    "deliveredOrders",
    "cancelledOrders",
]


@dataclass(frozen=True)
class Seeded:
    shop_id: str
    listing_titles: list[str]
    listing_ids: dict[str, str]
    order_ids: dict[str, str]


@pytest.fixture(scope="module")
async def seeded(worker: Worker, admin_http: httpx.AsyncClient, settings: Settings) -> Seeded:
    """The default shop's data for the whole module, made once: listings through the admin API,
    orders and what TikTok says of listings straight in the store (they come from TikTok)."""
    shop_id = settings.default_shop_id
    ids: dict[str, str] = {}
    for product_id, title, price, status in LISTINGS:
        created = await admin_http.post(
            f"{API}/listings/create",
            json={"localProductId": product_id, "title": title, "price": price, "currency": "USD"},
        )
        assert created.status_code == 200, created.text
        ids[product_id] = created.json()["listing"]["id"]
        if status != "draft":
            updated = await admin_http.post(
                f"{API}/listings/{ids[product_id]}/update", json={"status": status}
            )
            assert updated.status_code == 200, updated.text

    async def patch(product_id: str, **fields: Any) -> None:
        uow = fresh(worker)
        listing: Listing | None = await uow.listings.get(shop_id, ids[product_id])
        assert listing is not None
        uow.listings.save(listing.model_copy(update={**fields, "updated_at": utcnow()}))
        await uow.commit()

    await patch(HOSTILE_LISTING, error=HOSTILE, sync_status="failed", needs_refresh=True)
    await patch(
        REJECTED_LISTING[0],
        error=REJECTED_LISTING[1],
        sync_status="failed",
        audit_status="failed",
        audit_reasons=[AUDIT_REASON],
    )
    # Stocked by the platform, one change not on TikTok yet; TikTok's copy says low stock.
    await patch(
        "mug",
        stock=[WarehouseStock(warehouse_id=MAIN_WAREHOUSE, quantity=12, version=1801)],
        stock_revision=2,
        stock_pushed_revision=1,
        tiktok_stock=[WarehouseQuantity(warehouse_id=MAIN_WAREHOUSE, quantity=10)],
        tiktok_stock_total=10,
        inventory_status="LOW_STOCK",
        sku_status="ACTIVATED",
        audit_status="approved",
    )
    await patch(
        "serving-board",
        price_revision=2,
        price_pushed_revision=1,
        push_error="TikTok refused the price: the product is under review",
    )

    order_ids: dict[str, str] = {}
    for external_id, customer, status, total, currency in ORDERS:
        fields: dict[str, Any] = {
            "external_order_id": external_id,
            "customer_name": customer,
            "status": status,
            "subtotal": total,
            "shipping_fee": 0,
            "platform_fee": total // 20,
            "total": total,
            "currency": currency,
            **tracking(external_id, customer, status),
            **lifecycle(external_id),
        }
        order = factories.order(shop_id, **fields)
        order_ids[external_id] = order.id
        await store(worker, order)
    return Seeded(shop_id, [title for _, title, _, _ in LISTINGS], ids, order_ids)


def tracking(external_id: str, customer: str, status: str) -> dict[str, str]:
    """The hostile order also carries a script URL as its tracking link."""
    if customer == HOSTILE:
        return {"tracking_number": "TRK-HOSTILE", "tracking_url": "javascript:alert(1)"}
    if status in ("shipped", "delivered"):
        return {"tracking_number": f"1Z{external_id[-6:]}"}
    return {}


def lifecycle(external_id: str) -> dict[str, Any]:
    """A refund and TikTok's settlement on one order; a buyer's cancellation request on another."""
    if external_id == REFUNDED_ORDER:
        return {
            "refunded_amount": REFUND,
            "platform_fee": SETTLED_FEE,
            "net_amount": SETTLED_NET,
            "fees_settled": True,
        }
    if external_id == ASKING_ORDER:
        return {
            "needs_refresh": True,
            "reverse_requests": [
                ReverseRequest(
                    kind="cancellation",
                    id="5780000000000009",
                    status="CANCELLATION_REQUEST_PENDING",
                    type="BUYER_CANCEL",
                    role="BUYER",
                    reason="ecom_order_to_ship_cancel_reason_change_of_mind",
                    reason_text="No longer needed",
                    awaiting_seller=True,
                    next_action="SELLER_RESPOND_BUYER_CANCEL",
                    deadline=utcnow() + timedelta(hours=23, minutes=30),
                    refund_total=3200,
                    currency="USD",
                )
            ],
        }
    return {}


async def api_get(http: httpx.AsyncClient, path: str, **params: Any) -> dict[str, Any]:
    response = await http.get(API + path, params=params)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def money(cents: int) -> str:
    """en-US money text for USD, as the page shows it in the tests' locale."""
    return f"${cents / 100:,.2f}"


# ------------------------------------------------------------------------------ sign-in


async def test_the_page_is_behind_the_token(admin_page: AdminPage, seeded: Seeded) -> None:
    page = admin_page.page
    await admin_page.open()

    # Signed out: the sign-in form only, no data and no call to the API.
    await expect(page.locator("#token")).to_be_visible()
    await expect(page.locator("#app")).to_be_hidden()
    await expect(page.locator("#signout")).to_be_hidden()
    assert await admin_page.rows("listings").count() == 0
    html = await page.content()
    assert not [t for t in seeded.listing_titles if t in html]
    assert admin_page.api_requests() == []

    # A wrong token is refused with a message, and shows nothing.
    await admin_page.sign_in("not-the-token")
    error = page.locator("#signin-error")
    await expect(error).to_be_visible()
    await expect(error).to_contain_text("not accepted")
    await expect(page.locator("#app")).to_be_hidden()
    await expect(page.locator("#token")).to_have_value("")

    # The right token shows the dashboard.
    await admin_page.sign_in()
    await expect(page.locator("#app")).to_be_visible()
    await expect(page.locator("#signin")).to_be_hidden()
    await expect(page.locator("#connection-status")).not_to_have_text("Checking connection…")
    await expect(admin_page.rows("listings")).to_have_count(PAGE_SIZE)
    await expect(page.locator("#signout")).to_be_visible()

    # The token travels in a header: never in the address, the markup or any URL asked for.
    assert page.url == admin_page.url
    assert admin_page.token not in page.url
    assert admin_page.token not in await page.content()
    assert admin_page.api_requests(), "the page did not call the API"
    assert not [u for u in admin_page.requests if admin_page.token in u]

    # Signing out forgets the token and clears the data.
    await page.locator("#signout").click()
    await expect(page.locator("#signin-form")).to_be_visible()
    await expect(page.locator("#app")).to_be_hidden()
    await expect(page.locator("#signin-note")).to_have_text("You have signed out.")
    assert await admin_page.rows("listings").count() == 0
    stored = await page.evaluate("() => JSON.stringify(Object.entries(sessionStorage))")
    assert admin_page.token not in stored


async def test_the_page_sends_a_policy_that_forbids_inline_scripts(
    admin_page: AdminPage,
) -> None:
    response = await admin_page.open()
    policy = response.headers.get("content-security-policy")
    assert policy, "the page has no Content-Security-Policy"
    directives = {d.split()[0].lower(): d.split()[1:] for d in policy.split(";") if d.strip()}
    script_src = directives.get("script-src", directives.get("default-src"))
    assert script_src is not None, f"no script-src nor default-src in {policy!r}"
    assert "'unsafe-inline'" not in script_src
    assert "'unsafe-eval'" not in script_src
    assert "*" not in script_src

    # The browser enforces it: an inline script added to the page is blocked and does not run.
    admin_page.allow_csp_violations = True  # the one this test causes on purpose
    outcome = await admin_page.page.evaluate(
        """() => new Promise((resolve) => {
            window.inlineRan = false;
            document.addEventListener(
                "securitypolicyviolation",
                (e) => resolve({ ran: window.inlineRan, directive: e.effectiveDirective }),
                { once: true },
            );
            const script = document.createElement("script");
            script.textContent = "window.inlineRan = true";
            document.body.append(script);
        })"""
    )
    assert outcome["ran"] is False
    assert outcome["directive"].startswith("script-src")


# ------------------------------------------------------------------------------ what it shows


async def test_the_stats_match_the_api(
    admin_page: AdminPage, admin_http: httpx.AsyncClient, seeded: Seeded
) -> None:
    stats = (await api_get(admin_http, "/stats"))["stats"]
    assert stats["totalListings"] >= len(LISTINGS)
    assert stats["totalOrders"] >= len(ORDERS)
    assert stats["totalRevenue"] > 0
    page = admin_page.page
    await admin_page.open_signed_in()

    for name in COUNT_STATS:
        node = page.locator(f'[data-stat="{name}"]')
        await expect(node).to_have_attribute("data-value", str(stats[name]))
        await expect(node).to_have_text(str(stats[name]))
    revenue = page.locator('[data-stat="totalRevenue"]')
    await expect(revenue).to_have_attribute("data-value", str(stats["totalRevenue"]))
    await expect(revenue).to_have_attribute("data-currency", stats["currency"])
    assert stats["currency"] == "USD"
    await expect(revenue).to_have_text(money(stats["totalRevenue"]))
    await expect(page.locator("#revenue-title")).to_have_text("Revenue, net of refunds")

    # Gross, refunds, fees and net per currency, each in its own currency's digits.
    by_currency = {m["currency"]: m for m in stats["moneyByCurrency"]}
    assert set(by_currency) == {"IDR", "JPY", "USD"}
    rows = page.locator("#money-table tbody tr")
    await expect(rows).to_have_count(3)
    await expect(rows.locator("th")).to_have_text(sorted(by_currency))
    for currency, figures in by_currency.items():
        row = page.locator(f'#money-table tr[data-currency="{currency}"]')
        for column in ("gross", "refunds", "fees", "net"):
            await expect(row.locator(f'[data-money="{column}"]')).to_have_attribute(
                "data-value", str(figures[column])
            )
    usd = page.locator('#money-table tr[data-currency="USD"]')
    await expect(usd.locator('[data-money="gross"]')).to_have_text(
        money(by_currency["USD"]["gross"])
    )
    await expect(usd.locator('[data-money="net"]')).to_have_text(money(by_currency["USD"]["net"]))
    jpy = by_currency["JPY"]
    await expect(
        page.locator('#money-table tr[data-currency="JPY"] [data-money="gross"]')
    ).to_have_text(f"¥{jpy['gross']:,}")


async def test_status_lists_and_money_digits_come_from_the_vocabulary(
    admin_page: AdminPage, admin_http: httpx.AsyncClient, seeded: Seeded
) -> None:
    vocabulary = await api_get(admin_http, "/vocabulary")
    assert vocabulary["currencyExponents"]["IDR"] == 2  # ISO 4217's; Intl says 0
    assert vocabulary["currencyExponents"]["JPY"] == 0
    page = admin_page.page
    await admin_page.open_signed_in()

    for select, key in (
        ("#listings-status", "listingStatuses"),
        ("#listings-sync", "syncStatuses"),
        ("#orders-status", "orderStatuses"),
    ):
        values = await page.locator(f"{select} option").evaluate_all(
            "options => options.map(o => o.value)"
        )
        assert values == ["", *vocabulary[key]], select

    # A sync status the vocabulary offers filters the rows.
    failed = await api_get(admin_http, "/listings", syncStatus="failed", limit=PAGE_SIZE)
    assert failed["total"] >= 2
    await page.locator("#listings-sync").select_option("failed")
    await expect(admin_page.rows("listings").locator("td.col-product .title")).to_have_text(
        [x["title"] for x in failed["listings"]]
    )

    # Amounts in minor units, shown with ISO 4217's digits.
    await page.locator("#tab-orders").click()
    totals = {
        "576000000000000009": "IDR\u00a099.50",
        "576000000000000010": "¥1,500",
        "576000000000000003": "$74.20",
    }
    for external_id, text in totals.items():
        row = page.locator(f'#orders-table tr[data-external-id="{external_id}"]')
        await expect(row.locator("td.col-total")).to_have_text(text)


async def test_the_not_configured_state_names_the_variables(
    admin_page: AdminPage, admin_http: httpx.AsyncClient
) -> None:
    settings = await api_get(admin_http, "/settings")
    assert settings["status"] == "not_configured"  # the session's worker has no credentials
    assert settings["webhooks"] is None
    page = admin_page.page
    await admin_page.open_signed_in()

    await expect(page.locator("#connection-status")).to_have_text("Not Configured")
    await expect(page.locator("#connection")).to_have_attribute("data-state", "not_configured")
    await expect(page.locator("#connection-badge")).to_have_text(
        "Sandbox" if settings["sandbox"] else "Production"
    )
    await expect(page.locator("#connection-appkey")).to_have_text("Not set")
    detail = page.locator("#connection-detail")
    for name in ("TIKTOK_APP_KEY", "TIKTOK_APP_SECRET", "TIKTOK_ACCESS_TOKEN"):
        await expect(detail.locator("code", has_text=re.compile(f"^{name}$"))).to_be_visible()
    # No registration to show and nobody to authorize again.
    await expect(page.locator("#webhooks")).to_be_hidden()
    await expect(page.locator("#reauth")).to_be_hidden()

    # What needs TikTok says why it cannot run.
    await page.locator("#reconcile").click()
    await expect(page.locator("#reconcile-status")).to_contain_text(
        "TikTok Shop credentials are not configured"
    )
    await page.locator("#tab-catalog").click()
    await expect(page.locator("#warehouses-message")).to_contain_text(
        "TikTok Shop credentials are not configured"
    )
    await expect(page.locator("#categories-message")).to_contain_text(
        "TikTok Shop credentials are not configured"
    )


async def test_the_status_filter_and_paging_change_the_rows(
    admin_page: AdminPage, admin_http: httpx.AsyncClient, seeded: Seeded
) -> None:
    first = await api_get(admin_http, "/listings", page=1, limit=PAGE_SIZE)
    second = await api_get(admin_http, "/listings", page=2, limit=PAGE_SIZE)
    total = first["total"]
    assert PAGE_SIZE < total <= 2 * PAGE_SIZE, total
    page = admin_page.page
    await admin_page.open_signed_in()
    listings = admin_page.rows("listings")
    titles = listings.locator("td.col-product .title")

    # Page 1: the API's first 20, newest first.
    await expect(titles).to_have_text([x["title"] for x in first["listings"]])
    await expect(page.locator("#listings-page")).to_have_text("Page 1")
    await expect(page.locator("#listings-prev")).to_be_disabled()
    await expect(page.locator("#listings-range")).to_have_text(f"1\u201320 of {total} listings")

    # Next: the rest, on page 2, and no further.
    await page.locator("#listings-next").click()
    await expect(page.locator("#listings-page")).to_have_text("Page 2")
    await expect(listings).to_have_count(total - PAGE_SIZE)
    await expect(titles).to_have_text([x["title"] for x in second["listings"]])
    await expect(page.locator("#listings-next")).to_be_disabled()
    await expect(page.locator("#listings-prev")).to_be_enabled()

    await page.locator("#listings-prev").click()
    await expect(page.locator("#listings-page")).to_have_text("Page 1")
    await expect(titles).to_have_text([x["title"] for x in first["listings"]])

    # A status: only that status's rows, from page 1 again.
    active = await api_get(admin_http, "/listings", status="active", limit=PAGE_SIZE)
    assert 0 < active["total"] < total
    await page.locator("#listings-status").select_option("active")
    await expect(page.locator("#listings-page")).to_have_text("Page 1")
    await expect(listings).to_have_count(active["total"])
    await expect(titles).to_have_text([x["title"] for x in active["listings"]])
    await expect(listings.locator("td.col-status .status")).to_have_text(
        ["active"] * active["total"]
    )
    await expect(page.locator("#listings-next")).to_be_disabled()

    # Orders have their own tab, filter and empty state; the arrow keys move between tabs.
    await page.locator("#tab-listings").focus()
    await page.keyboard.press("ArrowRight")
    await expect(page.locator("#tab-orders")).to_be_focused()
    await expect(page.locator("#panel-orders")).to_be_visible()
    await expect(page.locator("#panel-listings")).to_be_hidden()
    orders = admin_page.rows("orders")
    all_orders = await api_get(admin_http, "/orders", limit=PAGE_SIZE)
    await expect(orders.locator("td.col-order .open-detail")).to_have_text(
        [o["externalOrderId"] for o in all_orders["orders"]]
    )
    delivered = await api_get(admin_http, "/orders", status="delivered", limit=PAGE_SIZE)
    assert 0 < delivered["total"] < all_orders["total"]
    await page.locator("#orders-status").select_option("delivered")
    await expect(orders.locator("td.col-status")).to_have_text(["delivered"] * delivered["total"])
    assert (await api_get(admin_http, "/orders", status="confirmed"))["total"] == 0
    await page.locator("#orders-status").select_option("confirmed")
    await expect(orders).to_have_count(0)
    await expect(page.locator("#orders-table tbody")).to_have_text("No orders")


async def test_orders_show_refunds_fees_and_the_requests_awaiting_the_seller(
    admin_page: AdminPage, admin_http: httpx.AsyncClient, seeded: Seeded
) -> None:
    page = admin_page.page
    await admin_page.open_signed_in()
    await page.locator("#tab-orders").click()

    refunded = page.locator(f'#orders-table tr[data-external-id="{REFUNDED_ORDER}"]')
    await expect(refunded.locator("td.col-refunded .refunded")).to_have_text(
        "\u2212" + money(REFUND)
    )
    await expect(refunded.locator("td.col-refunded .net-of-refunds")).to_have_text(
        "net " + money(5000 - REFUND)
    )
    await expect(refunded.locator("td.col-fee")).to_have_text(money(SETTLED_FEE) + "settled")
    await expect(refunded.locator("td.col-payout")).to_have_text(money(SETTLED_NET))
    other = page.locator('#orders-table tr[data-external-id="576000000000000003"]')
    await expect(other.locator("td.col-fee")).to_have_text(money(7420 // 20) + "pending")
    await expect(other.locator("td.col-payout")).to_have_text("pending")
    await expect(other.locator("td.col-refunded")).to_have_text("—")

    asking = page.locator(f'#orders-table tr[data-external-id="{ASKING_ORDER}"]')
    await expect(asking.locator(".flag", has_text="Needs refresh")).to_be_visible()
    await expect(asking.locator(".flag", has_text="1 awaiting you")).to_be_visible()
    await expect(asking.locator(".countdown")).to_have_text(re.compile(r"^2[23] h \d+ min left$"))

    # The order's detail, opened from the keyboard.
    opener = asking.locator(".open-detail")
    await opener.focus()
    await page.keyboard.press("Enter")
    dialog = page.locator("#order-dialog")
    await expect(dialog).to_be_visible()
    await expect(dialog.locator("#order-dialog-title")).to_have_text(f"Order {ASKING_ORDER}")
    await expect(dialog.locator(".needs-refresh")).to_be_visible()
    await expect(dialog.locator(".money-net-of-refunds")).to_have_text(money(3200))
    card = dialog.locator('.request[data-request-id="5780000000000009"]')
    await expect(card.locator("h4")).to_contain_text("Cancellation request")
    await expect(card.locator("h4")).to_contain_text("BUYER_CANCEL")
    await expect(card.locator(".request-reason")).to_have_text("Reason: No longer needed")
    await expect(card.locator(".request-next")).to_have_text(
        "TikTok waits for: SELLER_RESPOND_BUYER_CANCEL"
    )
    await expect(card.locator(".countdown")).to_have_text(re.compile(r"^2[23] h \d+ min left$"))

    # Without credentials the approval is refused with the service's reason, nothing written.
    await card.locator(".request-approve").click()
    await card.locator("button", has_text="Approve cancellation").click()
    result = card.locator(".decision-form .result")
    await expect(result).to_contain_text("TikTok Shop credentials are not configured")
    await expect(result).to_have_attribute("data-http-status", "409")
    order = (await api_get(admin_http, f"/orders/{seeded.order_ids[ASKING_ORDER]}"))["order"]
    assert order["reverseRequests"][0]["awaitingSeller"] is True

    # Escape closes the dialog and gives the focus back to the row.
    await page.keyboard.press("Escape")
    await expect(dialog).to_be_hidden()
    await expect(opener).to_be_focused()


async def test_listings_show_stock_push_state_audit_and_tiktoks_reasons(
    admin_page: AdminPage, seeded: Seeded
) -> None:
    page = admin_page.page
    await admin_page.open_signed_in()
    rows = admin_page.rows("listings")

    mug = rows.filter(has=page.locator('td.col-product .sub:text-is("mug")'))
    await expect(mug.locator("td.col-stock .stock-total")).to_have_text("12")
    await expect(mug.locator("td.col-stock")).to_contain_text("TikTok: 10")
    await expect(mug.locator("td.col-stock")).to_contain_text("LOW_STOCK")
    await expect(mug.locator("td.col-sync .flag")).to_have_text(["stock to push"])
    await expect(mug.locator("td.col-status .audit")).to_have_text("audit approved")

    await mug.locator(".open-detail").click()
    dialog = page.locator("#listing-dialog")
    await expect(dialog.locator("#listing-dialog-title")).to_have_text("Ceramic mug, 350 ml")
    stock = dialog.locator(f'.stock-table tr[data-warehouse-id="{MAIN_WAREHOUSE}"]')
    await expect(stock.locator(".col-quantity")).to_have_text("12")
    await expect(stock.locator(".col-version")).to_have_text("1801")
    await expect(stock.locator(".col-tiktok")).to_have_text("10")
    await expect(dialog.locator(".tiktok-total")).to_have_text("10")
    await expect(dialog.locator(".inventory-status")).to_have_text("LOW_STOCK")
    await expect(dialog.locator(".sku-status")).to_have_text("ACTIVATED")
    await expect(dialog.locator('.push-state [data-push="stock"]')).to_have_attribute(
        "data-pending", "true"
    )
    await expect(dialog.locator('.push-state [data-push="price"]')).to_have_attribute(
        "data-pending", "false"
    )
    await dialog.locator(".dialog-close").click()
    await expect(dialog).to_be_hidden()

    board = rows.filter(has=page.locator('td.col-product .sub:text-is("serving-board")'))
    await expect(board.locator("td.col-sync .flag")).to_have_text(["price to push", "push failed"])
    await board.locator(".open-detail").click()
    await expect(dialog.locator(".push-error")).to_have_text(
        "Last push failed: TikTok refused the price: the product is under review"
    )
    await dialog.locator(".dialog-close").click()

    # A rejected listing: TikTok's reason and its audit's reasons.
    await page.locator("#listings-status").select_option("rejected")
    dripper = rows.filter(has_text="Pour-over coffee dripper")
    await expect(dripper.locator("td.col-error .cell-label")).to_have_text("TikTok's reason")
    await expect(dripper.locator("td.col-error .error-text")).to_have_text(REJECTED_LISTING[1])
    await expect(dripper.locator("td.col-status .audit")).to_have_text("audit failed")
    await dripper.locator(".open-detail").click()
    await expect(dialog.locator(".listing-error")).to_have_text(
        f"TikTok's reason: {REJECTED_LISTING[1]}"
    )
    await expect(dialog.locator(".audit-reasons li")).to_have_text(
        "Main image: Image too small Suggestion: Use 600 x 600 px or more"
    )
    await dialog.locator(".dialog-close").click()

    # A suspended one TikTok changed since: flagged for a refresh.
    await page.locator("#listings-status").select_option("suspended")
    holder = rows.filter(has_text="Gift card holder")
    await expect(holder.locator(".flag", has_text="Needs refresh")).to_be_visible()


async def test_stock_and_price_are_set_from_the_listing(
    admin_page: AdminPage, admin_http: httpx.AsyncClient, seeded: Seeded
) -> None:
    """Without TikTok the change is stored for the push (the push itself: the TikTok tests)."""
    listing_id = seeded.listing_ids["carafe"]
    page = admin_page.page
    await admin_page.open_signed_in()
    row = page.locator(f'#listings-table tr[data-id="{listing_id}"]')
    await row.locator(".open-detail").click()
    dialog = page.locator("#listing-dialog")
    await expect(dialog.locator("#listing-dialog-title")).to_have_text("Glass carafe 1 l")

    # TikTok's warehouses cannot be listed here: the platform's id is typed.
    await dialog.locator("#stock-warehouse").fill("wh-elsewhere")
    await dialog.locator("#stock-quantity").fill("5")
    await dialog.locator("#stock-form button[type=submit]").click()
    refused = dialog.locator("#stock-form + .result")
    await expect(refused).to_contain_text("'wh-elsewhere' is not mapped")
    await expect(refused).to_have_attribute("data-http-status", "400")
    await dialog.locator("#stock-warehouse").fill("wh-main")
    await dialog.locator("#stock-form button[type=submit]").click()
    await expect(dialog.locator("#listing-dialog-result")).to_have_text(
        "Stock set: 5 in wh-main; it goes to TikTok shortly."
    )
    await expect(
        dialog.locator(f'.stock-table tr[data-warehouse-id="{MAIN_WAREHOUSE}"] .col-quantity')
    ).to_have_text("5")
    stored = (await api_get(admin_http, f"/listings/{listing_id}"))["listing"]
    assert stored["stock"] == [{"warehouseId": MAIN_WAREHOUSE, "quantity": 5, "version": None}]
    assert stored["stockRevision"] > stored["stockPushedRevision"]

    # The price is typed in dollars and sent in cents; a fraction of a cent is refused here.
    amount = dialog.locator("#price-amount")
    await expect(amount).to_have_value("23.00")
    await amount.fill("21.505")
    await dialog.locator("#price-form button[type=submit]").click()
    await expect(dialog.locator("#price-form + .result")).to_have_text(
        "USD has 2 decimals: 21.505 cannot be sent exactly."
    )
    assert (await api_get(admin_http, f"/listings/{listing_id}"))["listing"]["price"] == 2300
    await amount.fill("21.5")
    await dialog.locator("#price-form button[type=submit]").click()
    await expect(dialog.locator("#listing-dialog-result")).to_contain_text("Price set to $21.50")
    await expect(dialog.locator(".listing-price")).to_have_text("$21.50")
    await expect(dialog.locator('.push-state [data-push="price"]')).to_have_attribute(
        "data-pending", "true"
    )
    stored = (await api_get(admin_http, f"/listings/{listing_id}"))["listing"]
    assert (stored["price"], stored["currency"]) == (2150, "USD")
    # The table behind the dialog shows it too.
    await expect(row.locator("td.col-price")).to_have_text("$21.50")


async def test_sync_products_shows_its_result(admin_page: AdminPage) -> None:
    page = admin_page.page
    await admin_page.open_signed_in()
    await page.locator("#sync-products").click()
    # Without TikTok credentials there is nothing to fetch: the service says it synced none.
    await expect(page.get_by_role("status").first).to_contain_text("Synced 0 products")
    await expect(page.locator("#sync-message")).to_have_text("Synced 0 products")
    await expect(page.locator("#sync-products")).to_be_enabled()


async def test_sync_catalog_without_credentials_says_it_will_not_start(
    admin_page: AdminPage,
) -> None:
    page = admin_page.page
    await admin_page.open_signed_in()
    button = page.locator("#sync-catalog")
    await button.click()
    # The service records the sync as pending and never runs it without TikTok credentials:
    # the page says so instead of showing progress that never comes.
    box = page.locator("#sync-result #catalog-sync")
    await expect(box).to_have_attribute("data-status", "pending")
    await expect(box.locator(".catalog-state")).to_have_text("not started")
    await expect(box).to_contain_text("TikTok Shop is not configured")
    for name in ("TIKTOK_APP_KEY", "TIKTOK_APP_SECRET", "TIKTOK_ACCESS_TOKEN"):
        await expect(box.locator("code", has_text=re.compile(f"^{name}$"))).to_be_visible()
    await expect(box.locator("progress")).to_have_count(0)
    await expect(button).to_be_enabled()

    # After a reload the stalled sync is not taken for one in progress.
    await page.reload()
    await expect(page.locator("#app")).to_be_visible()
    await admin_page.settled("listings")
    await expect(box).to_be_empty()
    await expect(button).to_be_enabled()


async def test_hostile_values_render_as_text(admin_page: AdminPage, seeded: Seeded) -> None:
    page = admin_page.page
    await admin_page.open_signed_in()

    # A listing's error from TikTok, in the table and in the listing's detail.
    await page.locator("#listings-status").select_option("suspended")
    listing = admin_page.rows("listings").filter(has_text="Gift card holder")
    await expect(listing.locator("td.col-error .error-text")).to_have_text(HOSTILE)
    await listing.locator(".open-detail").click()
    await expect(page.locator("#listing-dialog .reason-text")).to_have_text(HOSTILE)
    await page.keyboard.press("Escape")

    # An order's customer name from TikTok, and a script URL as its tracking link.
    await page.locator("#tab-orders").click()
    await page.locator("#orders-status").select_option("refunded")
    order = admin_page.rows("orders").filter(has_text="576000000000000001")
    await expect(order.locator("td.col-customer")).to_have_text(HOSTILE)
    await expect(order.locator("td.col-tracking")).to_have_text("TRK-HOSTILE")
    await expect(order.locator("td.col-tracking a")).to_have_count(0)
    await order.locator(".open-detail").click()
    await expect(page.locator("#order-dialog .detail-facts")).to_contain_text(HOSTILE)

    # Nothing was parsed as markup and nothing ran.
    await expect(page.locator("img")).to_have_count(0)
    assert await page.locator('[onerror], a[href^="javascript:"]').count() == 0
    assert admin_page.dialogs == []


# ------------------------------------------------------------------------------ errors


async def test_a_service_error_shows_the_services_message_and_can_be_retried(
    admin_page: AdminPage, worker: Worker, seeded: Seeded
) -> None:
    """A stored order the service cannot read: the orders page is a 500 `internal`."""
    page = admin_page.page
    await admin_page.open_signed_in()
    now = utcnow()
    broken = f"broken-{uuid.uuid4().hex[:8]}"
    orders = worker.db.collection("orders")
    await orders.insert_one(
        {
            "_id": broken,
            "shop_id": seeded.shop_id,
            "external_order_id": broken,
            "status": "lost-in-migration",
            "created_at": now,
            "updated_at": now,
        }
    )
    try:
        await page.locator("#tab-orders").click()
        message = page.locator("#orders-table td.table-message")
        await expect(message).to_contain_text(
            "Could not load orders: The service failed (HTTP 500): The command failed unexpectedly"
        )
    finally:
        await orders.delete_one({"_id": broken})
    await message.locator("button", has_text="Retry").click()
    await expect(admin_page.rows("orders")).to_have_count(len(ORDERS))


@pytest.fixture
async def database_down_url(services: dict[str, str]) -> AsyncIterator[str]:
    """A worker's admin API whose database never answers (nothing listens on its port). Only
    its HTTP side runs: the page needs no consumer."""
    settings = make_settings(services, mongodb_uri="mongodb://127.0.0.1:9/")
    worker = Worker(settings)
    # The service waits 5 s for a database per attempt (22 s per command with its retries); a
    # driver that gives up after 0.2 s fails the same way, sooner.
    unused = worker.db.client
    quick = Database("mongodb://127.0.0.1:9/", settings.mongodb_database, timeout_ms=200)
    worker.db.client, worker.db.db = quick.client, quick.db
    try:
        async with serve(worker_app(worker, run_worker=False)) as url:
            yield url
    finally:
        await quick.client.close()
        await unused.close()


async def test_a_database_outage_says_retry(
    open_tab: TabOpener, database_down_url: str, settings: Settings
) -> None:
    tab = await open_tab(database_down_url, settings.admin_api_token.get_secret_value())
    page = tab.page
    await tab.open_signed_in()  # the settings need no database without credentials
    expected = "Service unavailable, retry in a moment: The database is unreachable; try again"
    await expect(page.locator("#stats-error")).to_have_text(
        "Could not load the statistics: " + expected
    )
    message = page.locator("#listings-table td.table-message")
    await expect(message).to_contain_text("Could not load listings: " + expected)
    await expect(message.locator("button", has_text="Retry")).to_be_visible()


# ------------------------------------------------------------------------------ screenshots


async def test_screenshots_at_desktop_and_phone_width(
    admin_page: AdminPage, admin_http: httpx.AsyncClient, seeded: Seeded
) -> None:
    """Saved under test-artifacts/screenshots."""
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page = admin_page.page
    stats = (await api_get(admin_http, "/stats"))["stats"]
    await admin_page.open_signed_in()
    await expect(page.locator("#connection-badge")).to_be_visible()
    await expect(page.locator('[data-stat="totalRevenue"]')).to_have_attribute(
        "data-value", str(stats["totalRevenue"])
    )
    await expect(admin_page.rows("listings")).to_have_count(PAGE_SIZE)
    await admin_page.settled("listings")

    await page.screenshot(
        path=SCREENSHOTS / "admin-desktop.png", animations="disabled", caret="hide"
    )
    await page.screenshot(
        path=SCREENSHOTS / "admin-desktop-full.png",
        full_page=True,
        animations="disabled",
        caret="hide",
    )

    await page.locator("#tab-orders").click()
    await expect(admin_page.rows("orders")).to_have_count(stats["totalOrders"])
    await admin_page.settled("orders")
    await page.screenshot(
        path=SCREENSHOTS / "admin-orders-desktop.png",
        full_page=True,
        animations="disabled",
        caret="hide",
    )

    # A phone: the page fits the width (wide tables scroll inside their own box).
    await page.locator("#tab-listings").click()
    await expect(admin_page.rows("listings")).to_have_count(PAGE_SIZE)
    await admin_page.settled("listings")
    await page.set_viewport_size(PHONE)
    await expect(page.locator("#sync-products")).to_be_in_viewport()
    overflow = await page.evaluate(
        "() => document.documentElement.scrollWidth - document.documentElement.clientWidth"
    )
    assert overflow <= 0, f"the page is {overflow}px wider than a phone's screen"
    await page.screenshot(path=SCREENSHOTS / "admin-phone.png", animations="disabled", caret="hide")
    await page.screenshot(
        path=SCREENSHOTS / "admin-phone-full.png",
        full_page=True,
        animations="disabled",
        caret="hide",
    )
    # The order with a buyer's request, in its dialog, at a phone's width too.
    await page.locator("#tab-orders").click()
    await page.locator(f'#orders-table tr[data-external-id="{ASKING_ORDER}"] .open-detail').click()
    await expect(page.locator("#order-dialog .request")).to_be_visible()
    await page.screenshot(
        path=SCREENSHOTS / "admin-phone-order.png", animations="disabled", caret="hide"
    )
