"""The operators' page in headless Chromium, against the session's worker on real Kafka + database.

The page calls the admin API without `shopId`, i.e. for the deployment's default shop; every
other test uses a shop of its own, so this module fills the default shop once (see `seeded`)
and compares what the page shows with what the API answers at the same time.
"""

import os
import re
import shutil
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from playwright.async_api import expect

from service.bootstrap import Worker
from service.domain.time import utcnow
from service.settings import Settings
from tests import factories
from tests.e2e.browser.conftest import PHONE, SCREENSHOTS, AdminPage
from tests.support import ROOT, fresh, store

pytestmark = [pytest.mark.integration, pytest.mark.browser]

API = "/admin/tiktok-shop"
PAGE_SIZE = 20
HOSTILE = "<img src=x onerror=alert(1)>"
README_IMAGE = ROOT / "docs" / "admin-page.png"

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

#: (external order id, customer, status, total in cents), oldest first.
ORDERS: list[tuple[str, str, str, int]] = [
    ("576000000000000001", HOSTILE, "refunded", 999),
    ("576000000000000002", "Emma Schmidt", "cancelled", 1200),
    ("576000000000000003", "Lucas Martin", "delivered", 7420),
    ("576000000000000004", "Sofia Rossi", "delivered", 1899),
    ("576000000000000005", "Noah Williams", "shipped", 4850),
    ("576000000000000006", "Mia Chen", "pending", 2599),
]
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


@pytest.fixture(scope="module")
async def seeded(worker: Worker, admin_http: httpx.AsyncClient, settings: Settings) -> Seeded:
    """The default shop's data for the whole module, made once: listings through the admin API,
    orders and a listing's error straight in the store (they come from TikTok, not the API)."""
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

    async def set_error(product_id: str, error: str) -> None:
        uow = fresh(worker)
        listing = await uow.listings.get(shop_id, ids[product_id])
        assert listing is not None
        changed = listing.model_copy(
            update={"error": error, "sync_status": "failed", "updated_at": utcnow()}
        )
        uow.listings.save(changed)
        await uow.commit()

    await set_error(HOSTILE_LISTING, HOSTILE)
    await set_error(*REJECTED_LISTING)

    for external_id, customer, status, total in ORDERS:
        fee = total // 20
        await store(
            worker,
            factories.order(
                shop_id,
                external_order_id=external_id,
                customer_name=customer,
                status=status,
                subtotal=total - 500,
                shipping_fee=500,
                platform_fee=fee,
                total=total,
                **tracking(external_id, customer, status),
            ),
        )
    return Seeded(shop_id, [title for _, title, _, _ in LISTINGS])


def tracking(external_id: str, customer: str, status: str) -> dict[str, str]:
    """The hostile order also carries a script URL as its tracking link."""
    if customer == HOSTILE:
        return {"tracking_number": "TRK-HOSTILE", "tracking_url": "javascript:alert(1)"}
    if status in ("shipped", "delivered"):
        return {"tracking_number": f"1Z{external_id[-6:]}"}
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


async def test_the_not_configured_state_names_the_variables(
    admin_page: AdminPage, admin_http: httpx.AsyncClient
) -> None:
    settings = await api_get(admin_http, "/settings")
    assert settings["status"] == "not_configured"  # the session's worker has no credentials
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
    titles = listings.locator("td.product .title")

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
    await expect(listings.locator("td:nth-child(2)")).to_have_text(["active"] * active["total"])
    await expect(page.locator("#listings-next")).to_be_disabled()

    # Orders have their own tab, filter and empty state.
    await page.locator("#tab-orders").click()
    await expect(page.locator("#panel-orders")).to_be_visible()
    await expect(page.locator("#panel-listings")).to_be_hidden()
    orders = admin_page.rows("orders")
    all_orders = await api_get(admin_http, "/orders", limit=PAGE_SIZE)
    await expect(orders.locator("td:first-child")).to_have_text(
        [o["externalOrderId"] for o in all_orders["orders"]]
    )
    delivered = await api_get(admin_http, "/orders", status="delivered", limit=PAGE_SIZE)
    assert 0 < delivered["total"] < all_orders["total"]
    await page.locator("#orders-status").select_option("delivered")
    await expect(orders.locator("td:nth-child(3)")).to_have_text(["delivered"] * delivered["total"])
    assert (await api_get(admin_http, "/orders", status="confirmed"))["total"] == 0
    await page.locator("#orders-status").select_option("confirmed")
    await expect(orders).to_have_count(0)
    await expect(page.locator("#orders-table tbody")).to_have_text("No orders")


async def test_sync_products_shows_its_result(admin_page: AdminPage) -> None:
    page = admin_page.page
    await admin_page.open_signed_in()
    await page.locator("#sync-products").click()
    # Without TikTok credentials there is nothing to fetch: the service says it synced none.
    await expect(page.get_by_role("status")).to_contain_text("Synced 0 products")
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

    # A listing's error from TikTok.
    await page.locator("#listings-status").select_option("suspended")
    listing = admin_page.rows("listings").filter(has_text="Gift card holder")
    await expect(listing.locator("td:nth-child(5)")).to_have_text(HOSTILE)

    # An order's customer name from TikTok, and a script URL as its tracking link.
    await page.locator("#tab-orders").click()
    await page.locator("#orders-status").select_option("refunded")
    order = admin_page.rows("orders").filter(has_text="576000000000000001")
    await expect(order.locator("td:nth-child(2)")).to_have_text(HOSTILE)
    await expect(order.locator("td:nth-child(7)")).to_have_text("TRK-HOSTILE")
    await expect(order.locator("td:nth-child(7) a")).to_have_count(0)

    # Nothing was parsed as markup and nothing ran.
    await expect(page.locator("img")).to_have_count(0)
    assert await page.locator('[onerror], a[href^="javascript:"]').count() == 0
    assert admin_page.dialogs == []


# ------------------------------------------------------------------------------ screenshots


async def test_screenshots_at_desktop_and_phone_width(
    admin_page: AdminPage, admin_http: httpx.AsyncClient, seeded: Seeded
) -> None:
    """Saved under test-artifacts/screenshots; the desktop one is also the README's picture."""
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

    desktop = SCREENSHOTS / "admin-desktop.png"
    await page.screenshot(path=desktop, animations="disabled", caret="hide")
    await page.screenshot(
        path=SCREENSHOTS / "admin-desktop-full.png",
        full_page=True,
        animations="disabled",
        caret="hide",
    )
    # The listings tab shows no times and the data is the module's own, so this picture can be
    # the README's; it is replaced only on request, since fonts differ from machine to machine.
    if os.environ.get("UPDATE_README_SCREENSHOT"):
        README_IMAGE.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(desktop, README_IMAGE)

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
