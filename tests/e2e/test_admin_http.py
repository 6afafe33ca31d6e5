"""The seed's admin paths over real HTTP, literally as its callers use them."""

import httpx
import pytest

from service.bootstrap import Worker
from service.entrypoints.worker.asgi import worker_app
from service.settings import Settings
from tests.conftest import make_settings
from tests.support import store

pytestmark = pytest.mark.integration

P = "/admin/tiktok-shop"


async def test_the_seed_paths_answer_the_seed_shapes(
    admin_http: httpx.AsyncClient, shop: str
) -> None:
    q = {"shopId": shop}
    created = await admin_http.post(
        f"{P}/listings/create", json={"shopId": shop, "localProductId": "p1", "title": "Mug"}
    )
    assert created.status_code == 200
    listing_id = created.json()["listing"]["id"]

    listings = (await admin_http.get(f"{P}/listings", params={**q, "page": 1, "limit": 20})).json()
    assert (listings["total"], listings["listings"][0]["id"]) == (1, listing_id)
    got = (await admin_http.get(f"{P}/listings/{listing_id}", params=q)).json()
    assert got["listing"]["localProductId"] == "p1"
    by_product = (await admin_http.get(f"{P}/listings/by-product/p1", params=q)).json()
    assert by_product["listing"]["id"] == listing_id
    updated = await admin_http.post(
        f"{P}/listings/{listing_id}/update", json={"shopId": shop, "title": "Big mug"}
    )
    assert updated.json()["listing"]["title"] == "Big mug"
    pushed = await admin_http.post(f"{P}/listings/{listing_id}/push", params=q)
    assert pushed.json()["listing"]["id"] == listing_id

    sync = (await admin_http.post(f"{P}/sync", json={"shopId": shop})).json()["sync"]
    assert sync["status"] == "pending"
    syncs = (await admin_http.get(f"{P}/syncs", params=q)).json()
    assert (syncs["total"], syncs["syncs"][0]["id"]) == (1, sync["id"])
    assert (await admin_http.get(f"{P}/syncs/last", params=q)).json()["sync"]["id"] == sync["id"]
    # The seed's {"synced": n}; without credentials no job runs (job null, nothing failed).
    for pull in ("products/sync", "orders/sync"):
        answer = (await admin_http.post(f"{P}/{pull}", json={"shopId": shop})).json()
        assert answer == {"synced": 0, "failed": 0, "job": None}
    assert (await admin_http.get(f"{P}/orders", params=q)).json() == {"orders": [], "total": 0}
    stats = (await admin_http.get(f"{P}/stats", params=q)).json()["stats"]
    assert (stats["totalListings"], stats["totalRevenue"]) == (1, 0)
    settings = (await admin_http.get(f"{P}/settings")).json()
    assert settings["status"] == "not_configured"

    deleted = await admin_http.post(f"{P}/listings/{listing_id}/delete", params=q)
    assert deleted.json() == {"deleted": True}
    gone = await admin_http.get(f"{P}/listings/{listing_id}", params=q)
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
