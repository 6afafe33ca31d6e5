"""The seed's admin paths over real HTTP, literally as its callers use them."""

import re

import httpx
import pytest

from service.bootstrap import Worker
from service.entrypoints.admin_http.routes import ROUTES
from service.entrypoints.worker.asgi import worker_app
from service.settings import Settings
from tests.conftest import make_settings
from tests.support import store

pytestmark = pytest.mark.integration

P = "/admin/tiktok-shop"


ERROR = {"error", "code", "fields"}

# Every admin path, written out as the seed's README and the design list them (`:id` stands for
# the id the earlier steps made), with the top-level keys of its answer.
LITERAL_PATHS: list[tuple[str, str, int, set[str]]] = [
    ("POST", "/admin/tiktok-shop/listings/create", 200, {"listing"}),
    ("GET", "/admin/tiktok-shop/listings", 200, {"listings", "total"}),
    ("GET", "/admin/tiktok-shop/listings/:id", 200, {"listing"}),
    ("GET", "/admin/tiktok-shop/listings/by-product/:localProductId", 200, {"listing"}),
    ("POST", "/admin/tiktok-shop/listings/:id/update", 200, {"listing"}),
    ("POST", "/admin/tiktok-shop/listings/:id/push", 200, {"listing"}),
    ("POST", "/admin/tiktok-shop/sync", 200, {"sync"}),
    ("GET", "/admin/tiktok-shop/syncs", 200, {"syncs", "total"}),
    ("GET", "/admin/tiktok-shop/syncs/last", 200, {"sync"}),
    ("POST", "/admin/tiktok-shop/products/sync", 200, {"synced", "failed", "job"}),
    ("POST", "/admin/tiktok-shop/orders/sync", 200, {"synced", "failed", "job"}),
    ("GET", "/admin/tiktok-shop/orders", 200, {"orders", "total"}),
    ("GET", "/admin/tiktok-shop/orders/:id", 200, {"order"}),
    ("POST", "/admin/tiktok-shop/orders/:id/status", 200, {"order"}),
    ("PUT", "/admin/tiktok-shop/orders/:id/status", 200, {"order"}),
    ("GET", "/admin/tiktok-shop/jobs", 200, {"jobs", "total"}),
    ("GET", "/admin/tiktok-shop/jobs/:id", 404, ERROR),
    # Without the app's key and secret there is nothing to exchange the code with.
    ("POST", "/admin/tiktok-shop/shops/authorize", 400, ERROR),
    ("GET", "/admin/tiktok-shop/stats", 200, {"stats"}),
    (
        "GET",
        "/admin/tiktok-shop/settings",
        200,
        {
            "status",
            "error",
            "needsReauthorization",
            "configured",
            "shopId",
            "sandbox",
            "appKey",
            "webhooks",
        },
    ),
    # The lifecycle and catalog paths need TikTok: without credentials each answers why (409:
    # the service's state forbids it), unless the request itself is incomplete (400).
    ("POST", "/admin/tiktok-shop/webhooks/register", 400, ERROR),
    ("GET", "/admin/tiktok-shop/webhooks", 409, ERROR),
    ("POST", "/admin/tiktok-shop/orders/reconcile", 409, ERROR),
    ("GET", "/admin/tiktok-shop/reconciliations", 200, {"reconciliations", "total"}),
    (
        "POST",
        "/admin/tiktok-shop/orders/:id/cancellation/approve",
        409,
        {"error", "code", "fields"},
    ),
    ("POST", "/admin/tiktok-shop/orders/:id/cancellation/reject", 400, ERROR),
    ("POST", "/admin/tiktok-shop/orders/:id/return/approve", 409, ERROR),
    ("POST", "/admin/tiktok-shop/orders/:id/return/reject", 400, ERROR),
    ("GET", "/admin/tiktok-shop/orders/:id/reject-reasons", 409, ERROR),
    ("POST", "/admin/tiktok-shop/orders/:id/cancel", 400, ERROR),
    ("GET", "/admin/tiktok-shop/orders/:id/cancel-reasons", 409, ERROR),
    ("GET", "/admin/tiktok-shop/orders/:id/shipping-providers", 409, ERROR),
    ("POST", "/admin/tiktok-shop/orders/:id/ship", 400, ERROR),
    ("POST", "/admin/tiktok-shop/listings/:id/stock", 400, ERROR),
    ("POST", "/admin/tiktok-shop/listings/:id/price", 400, ERROR),
    ("GET", "/admin/tiktok-shop/warehouses", 409, ERROR),
    ("GET", "/admin/tiktok-shop/categories", 409, ERROR),
    (
        "GET",
        "/admin/tiktok-shop/categories/:categoryId/attributes",
        409,
        {"error", "code", "fields"},
    ),
    ("GET", "/admin/tiktok-shop/dead-letters", 200, {"deadLetters", "total", "pending"}),
    # Which letters to replay is required: ids, a reason or all.
    ("POST", "/admin/tiktok-shop/dead-letters/replay", 400, ERROR),
    ("GET", "/admin/tiktok-shop/dead-letters/:id", 404, ERROR),
    ("POST", "/admin/tiktok-shop/listings/:id/delete", 200, {"deleted"}),
]

# The seed's field names (its types in the README): every answer carries at least these.
SEED_LISTING = {
    "id", "localProductId", "externalProductId", "title", "description", "price", "imageUrl",
    "status", "syncStatus", "lastSyncedAt", "error", "metadata", "createdAt", "updatedAt",
}  # fmt: skip
SEED_ORDER = {
    "id", "externalOrderId", "status", "items", "subtotal", "shippingFee", "platformFee",
    "total", "customerName", "shippingAddress", "trackingNumber", "trackingUrl", "createdAt",
    "updatedAt",
}  # fmt: skip
SEED_SYNC = {
    "id", "status", "totalProducts", "syncedProducts", "failedProducts", "error", "startedAt",
    "completedAt", "createdAt",
}  # fmt: skip
SEED_STATS = {
    "totalListings", "activeListings", "pendingListings", "failedListings", "totalOrders",
    "pendingOrders", "shippedOrders", "deliveredOrders", "cancelledOrders", "totalRevenue",
}  # fmt: skip


def test_the_literal_paths_are_every_route_the_service_serves() -> None:
    """So that a route added to the service without a literal request here fails."""
    served = {
        (method, P + re.sub(r"{(\w+)}", r":\1", path))
        for methods, path, _, _ in ROUTES
        for method in methods
    }
    assert {(method, path) for method, path, _, _ in LITERAL_PATHS} == served


async def test_each_seed_path_requested_literally_answers_the_seed_shape(
    admin_http: httpx.AsyncClient, worker: Worker, shop: str
) -> None:
    from tests import factories

    order = factories.order(shop, status="confirmed")
    await store(worker, order)
    ids = {":id": "", ":localProductId": "p-literal", ":categoryId": "600001"}
    bodies: dict[str, dict[str, object]] = {
        "/admin/tiktok-shop/listings/create": {"localProductId": "p-literal", "title": "Mug"},
        "/admin/tiktok-shop/listings/:id/update": {"title": "Big mug"},
        "/admin/tiktok-shop/orders/:id/status": {"status": "shipped", "trackingNumber": "1Z"},
        "/admin/tiktok-shop/shops/authorize": {"authCode": "code-from-tiktok"},
    }
    answers: dict[tuple[str, str], dict[str, object]] = {}
    for method, literal, status, keys in LITERAL_PATHS:
        if literal.startswith("/admin/tiktok-shop/orders/:id"):
            ids[":id"] = order.id
        elif literal.startswith("/admin/tiktok-shop/jobs/:id"):
            ids[":id"] = "no-such-job"
        elif literal.startswith("/admin/tiktok-shop/dead-letters/:id"):
            ids[":id"] = "0:999999999"  # a place on the dead-letter topic that holds nothing
        elif literal.startswith("/admin/tiktok-shop/listings/:id"):
            ids[":id"] = str(answers[("POST", "/admin/tiktok-shop/listings/create")]["id"])
        url = literal
        for placeholder, value in ids.items():
            url = url.replace(placeholder, value)
        response = await admin_http.request(
            method, url, params={"shopId": shop}, json=bodies.get(literal)
        )
        body = response.json()
        assert response.status_code == status, (method, literal, response.text)
        assert set(body) == keys, (method, literal, body)
        entity = next((body[k] for k in ("listing", "order", "sync", "stats") if k in body), None)
        answers[(method, literal)] = entity if isinstance(entity, dict) else body

    assert set(answers[("POST", "/admin/tiktok-shop/listings/create")]) >= SEED_LISTING
    listing = answers[("GET", "/admin/tiktok-shop/listings/:id")]
    assert (listing["localProductId"], listing["title"]) == ("p-literal", "Mug")
    assert answers[("POST", "/admin/tiktok-shop/listings/:id/update")]["title"] == "Big mug"
    assert set(answers[("GET", "/admin/tiktok-shop/orders/:id")]) >= SEED_ORDER
    shipped = answers[("PUT", "/admin/tiktok-shop/orders/:id/status")]
    assert (shipped["status"], shipped["trackingNumber"]) == ("shipped", "1Z")
    assert set(answers[("POST", "/admin/tiktok-shop/sync")]) >= SEED_SYNC
    stats = answers[("GET", "/admin/tiktok-shop/stats")]
    assert set(stats) >= SEED_STATS
    assert stats["revenueByCurrency"] == [{"currency": "USD", "amount": order.total}]
    assert answers[("GET", "/admin/tiktok-shop/orders")]["total"] == 1
    assert answers[("POST", "/admin/tiktok-shop/listings/:id/delete")] == {"deleted": True}
    gone = await admin_http.get(f"{P}/listings/{listing['id']}", params={"shopId": shop})
    assert (gone.status_code, gone.json()["error"]) == (404, "Listing not found")


@pytest.mark.parametrize("method", ["POST", "PUT"])
async def test_order_status_takes_post_and_put(
    admin_http: httpx.AsyncClient, worker: Worker, shop: str, method: str
) -> None:
    from tests import factories

    order = factories.order(shop)
    await store(worker, order)
    response = await admin_http.request(
        method,
        f"{P}/orders/{order.id}/status",
        params={"shopId": shop},
        json={"status": "confirmed"},
    )
    assert response.status_code == 200, response.text
    assert response.json()["order"]["status"] == "confirmed"
    missing = await admin_http.request(
        method, f"{P}/orders/nope/status", json={"status": "confirmed"}
    )
    assert (missing.status_code, missing.json()["error"]) == (404, "Order not found")


@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer wrong"}, {"Authorization": "test-admin-token"}],
    ids=["none", "wrong", "not bearer"],
)
async def test_admin_paths_need_the_token(admin_url: str, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient(base_url=admin_url, headers=headers) as http:
        for method, path in [("GET", f"{P}/stats"), ("POST", f"{P}/listings/create")]:
            response = await http.request(method, path, json={})
            assert response.status_code == 401
            assert response.json()["code"] == "unauthorized"


async def test_health_needs_no_token(admin_url: str) -> None:
    async with httpx.AsyncClient(base_url=admin_url) as http:
        assert (await http.get("/healthz")).status_code == 200
        assert (await http.get("/readyz")).json() == {"status": "ready"}


async def test_bad_json_body_is_a_400(admin_http: httpx.AsyncClient) -> None:
    response = await admin_http.post(
        f"{P}/listings/create", content=b"{oops", headers={"content-type": "application/json"}
    )
    assert (response.status_code, response.json()["code"]) == (400, "validation_failed")
    array = await admin_http.post(f"{P}/listings/create", json=[1])
    assert array.status_code == 400


def test_the_admin_api_refuses_to_start_without_a_token(services: dict[str, str]) -> None:
    settings: Settings = make_settings(services, admin_api_token="")
    with pytest.raises(SystemExit, match="ADMIN_API_TOKEN"):
        worker_app(Worker(settings))
