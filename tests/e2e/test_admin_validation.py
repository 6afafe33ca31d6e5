"""Every validation limit of the seed: a rejected command names the field and writes nothing."""

from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from contracts.client import AdminClient
from contracts.replies import ErrorReply
from service.settings import Settings

pytestmark = pytest.mark.integration

BASE = {"localProductId": "sku-1", "title": "Mug"}

# (what is wrong, the create-listing fields, the field the error must name)
CREATE_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("empty local product id", {"localProductId": ""}, "localProductId"),
    ("local product id over 200", {"localProductId": "x" * 201}, "localProductId"),
    ("external product id over 200", {"externalProductId": "x" * 201}, "externalProductId"),
    ("empty title", {"title": ""}, "title"),
    ("title of markup only", {"title": "<b></b>"}, "title"),
    ("title over 500", {"title": "x" * 501}, "title"),
    ("description over 5000", {"description": "x" * 5001}, "description"),
    ("negative price", {"price": -1}, "price"),
    ("price not a number", {"price": "ten"}, "price"),
    ("image url over 2000", {"imageUrl": "https://a.example/" + "x" * 2000}, "imageUrl"),
    ("image url not a url", {"imageUrl": "not a url"}, "imageUrl"),
    ("metadata over 100 keys", {"metadata": {f"k{i}": i for i in range(101)}}, "metadata"),
    ("unknown field", {"colour": "blue"}, "colour"),
    ("missing title", {"title": None}, "title"),
    ("shop id with a control character", {"shopId": "\U0001f4a5\x00x"}, "shopId"),
    ("shop id over 200", {"shopId": "s" * 201}, "shopId"),
]


def create_body(change: dict[str, Any], shop: str) -> dict[str, Any]:
    body = {**BASE, "shopId": shop, **change}
    return {k: v for k, v in body.items() if v is not None}


@pytest.mark.parametrize(
    ("case", "change", "field"), CREATE_CASES, ids=[c[0] for c in CREATE_CASES]
)
async def test_create_listing_limits_over_http(
    admin_http: httpx.AsyncClient,
    mongo: AsyncMongoClient[dict[str, Any]],
    settings: Settings,
    shop: str,
    case: str,
    change: dict[str, Any],
    field: str,
) -> None:
    response = await admin_http.post(
        "/admin/tiktok-shop/listings/create", json=create_body(change, shop)
    )
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["code"] == "validation_failed"
    assert field in [f["field"] for f in body["fields"]], body
    assert field in body["error"]
    db = mongo[settings.mongodb_database]
    assert await db["listings"].count_documents({"shop_id": shop}) == 0


@pytest.mark.parametrize(
    ("case", "change", "field"), CREATE_CASES, ids=[c[0] for c in CREATE_CASES]
)
async def test_create_listing_limits_over_kafka(
    admin: AdminClient,
    mongo: AsyncMongoClient[dict[str, Any]],
    settings: Settings,
    shop: str,
    case: str,
    change: dict[str, Any],
    field: str,
) -> None:
    import json

    body = {"command": "listings.create", **create_body(change, shop)}
    raw = await admin.send(json.dumps(body).encode())
    assert raw is not None
    reply = ErrorReply.model_validate(raw.payload)
    assert reply.code == "validation_failed"
    assert field in [f.field for f in reply.fields], reply
    db = mongo[settings.mongodb_database]
    assert await db["listings"].count_documents({"shop_id": shop}) == 0


def test_the_limits_at_their_edges_are_accepted() -> None:
    from contracts.commands import CreateListing

    CreateListing.model_validate(
        {
            "localProductId": "x" * 200,
            "externalProductId": "x" * 200,
            "title": "x" * 500,
            "description": "x" * 5000,
            "price": 0,
            "imageUrl": "https://a.example/" + "x" * (2000 - len("https://a.example/")),
            "metadata": {f"k{i}": i for i in range(100)},
        }
    )


ORDER_CASES: list[tuple[str, dict[str, Any], str]] = [
    ("unknown status", {"status": "lost"}, "status"),
    ("missing status", {}, "status"),
    (
        "tracking number over 200",
        {"status": "shipped", "trackingNumber": "x" * 201},
        "trackingNumber",
    ),
    ("tracking url not a url", {"status": "shipped", "trackingUrl": "nope"}, "trackingUrl"),
    (
        "tracking url over 2000",
        {"status": "shipped", "trackingUrl": "https://t.example/" + "x" * 2000},
        "trackingUrl",
    ),
]


@pytest.mark.parametrize(("case", "body", "field"), ORDER_CASES, ids=[c[0] for c in ORDER_CASES])
async def test_order_status_limits(
    admin_http: httpx.AsyncClient, case: str, body: dict[str, Any], field: str
) -> None:
    response = await admin_http.post("/admin/tiktok-shop/orders/some-order/status", json=body)
    assert response.status_code == 400, response.text
    assert field in [f["field"] for f in response.json()["fields"]]


@pytest.mark.parametrize(
    ("path", "field"),
    [
        ("/admin/tiktok-shop/listings?limit=0", "limit"),
        ("/admin/tiktok-shop/listings?limit=101", "limit"),
        ("/admin/tiktok-shop/listings?page=0", "page"),
        ("/admin/tiktok-shop/listings?status=gone", "status"),
        ("/admin/tiktok-shop/listings?syncStatus=gone", "syncStatus"),
        ("/admin/tiktok-shop/orders?status=gone", "status"),
        ("/admin/tiktok-shop/syncs?limit=1000", "limit"),
        ("/admin/tiktok-shop/listings/" + "x" * 201, "id"),
    ],
)
async def test_query_limits(admin_http: httpx.AsyncClient, path: str, field: str) -> None:
    response = await admin_http.get(path)
    assert response.status_code == 400, response.text
    assert field in [f["field"] for f in response.json()["fields"]]


async def test_text_is_cleaned_of_markup_and_control_characters(
    admin_http: httpx.AsyncClient, shop: str
) -> None:
    response = await admin_http.post(
        "/admin/tiktok-shop/listings/create",
        json={
            "shopId": shop,
            "localProductId": "sku\x07-1",
            "title": "<script>alert(1)</script>Mug\x00 <b>blue</b>",
            "description": "Line one\nLine <a href='x'>two</a>\x1b",
        },
    )
    assert response.status_code == 200, response.text
    listing = response.json()["listing"]
    assert listing["title"] == "alert(1)Mug blue"
    assert listing["description"] == "Line one\nLine two"
    assert listing["localProductId"] == "sku-1"


@pytest.mark.parametrize("shop_id", ["\U0001f4a5\x00x", "shop\x1b[31m", "a\nb", "shop\x85"])
@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("POST", "/admin/tiktok-shop/listings/create", BASE),
        ("GET", "/admin/tiktok-shop/listings", None),
        ("GET", "/admin/tiktok-shop/stats", None),
        ("POST", "/admin/tiktok-shop/orders/sync", None),
    ],
)
async def test_a_shop_id_with_a_control_character_is_refused_not_stored(
    admin_http: httpx.AsyncClient,
    mongo: AsyncMongoClient[dict[str, Any]],
    settings: Settings,
    shop_id: str,
    method: str,
    path: str,
    body: dict[str, Any] | None,
) -> None:
    response = await admin_http.request(method, path, params={"shopId": shop_id}, json=body)
    assert response.status_code == 400, response.text
    answer = response.json()
    assert answer["code"] == "validation_failed"
    assert [f["field"] for f in answer["fields"]] == ["shopId"]
    assert "must not contain control characters" in answer["fields"][0]["message"]
    db = mongo[settings.mongodb_database]
    for collection in ("listings", "jobs"):
        assert await db[collection].count_documents({"shop_id": shop_id}) == 0
