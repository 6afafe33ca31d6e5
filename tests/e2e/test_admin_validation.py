"""Every validation limit of the seed: a rejected command names the field and writes nothing."""

import json
import re
from types import UnionType
from typing import Annotated, Any, Union, get_args, get_origin

import httpx
import pytest
from pymongo import AsyncMongoClient

from contracts import commands as c
from contracts.amounts import CURRENCY_CODES
from contracts.client import AdminClient
from contracts.replies import ErrorReply
from service.domain.money import CURRENCY_EXPONENTS
from service.entrypoints.admin_http.routes import ROUTES
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


# --- integers: each one a command takes has a bound the database can store ----------------------

#: Integers just past a signed 64-bit integer (what the database stores) and far past it.
HUGE = [2**63, 10**20, 10**30, -(2**63) - 1]
COMMANDS: list[type[c.Command]] = list(get_args(get_args(c.AdminCommand)[0]))


def integer_fields(command_type: type[c.Command]) -> list[str]:
    """The wire names of the command's integer fields (optional ones included)."""
    return [
        field.alias or name
        for name, field in command_type.model_fields.items()
        if int in _types(field.annotation)
    ]


def _types(annotation: Any) -> set[Any]:
    """The types an annotation allows, unions and `Annotated` unwrapped."""
    if get_origin(annotation) is Annotated:
        return _types(get_args(annotation)[0])
    if get_origin(annotation) in (Union, UnionType):
        return set().union(*(_types(a) for a in get_args(annotation)))
    return {annotation}


INTEGER_FIELDS = [(t, alias) for t in COMMANDS for alias in integer_fields(t)]


def test_the_commands_have_integer_fields_to_check() -> None:
    names = {(t.model_fields["command"].default, alias) for t, alias in INTEGER_FIELDS}
    assert {("listings.create", "price"), ("listings.list", "page"), ("orders.list", "page")} <= (
        names
    )
    assert ("listings.setStock", "quantity") in names


@pytest.mark.parametrize(
    ("command_type", "field"),
    INTEGER_FIELDS,
    ids=[f"{t.model_fields['command'].default} {a}" for t, a in INTEGER_FIELDS],
)
async def test_an_integer_too_big_to_store_is_refused_over_kafka(
    admin: AdminClient,
    mongo: AsyncMongoClient[dict[str, Any]],
    settings: Settings,
    shop: str,
    command_type: type[c.Command],
    field: str,
) -> None:
    name = command_type.model_fields["command"].default
    for value in HUGE:
        body = {"command": name, "shopId": shop, field: value}
        raw = await admin.send(json.dumps(body).encode())
        assert raw is not None
        reply = ErrorReply.model_validate(raw.payload)
        assert reply.code == "validation_failed", (value, reply)
        assert field in [f.field for f in reply.fields], (value, reply)
    db = mongo[settings.mongodb_database]
    assert await db["listings"].count_documents({"shop_id": shop}) == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (
            {"command": "listings.create", "localProductId": "p", "title": "t", "price": 2**63},
            "price",
        ),
        ({"command": "listings.list", "page": 10**20}, "page"),
        ({"command": "orders.list", "page": 10**20}, "page"),
    ],
    ids=["create price 2**63", "listings page 10**20", "orders page 10**20"],
)
async def test_a_sound_command_with_one_huge_integer_is_refused_over_kafka(
    admin: AdminClient,
    mongo: AsyncMongoClient[dict[str, Any]],
    settings: Settings,
    shop: str,
    body: dict[str, Any],
    field: str,
) -> None:
    raw = await admin.send(json.dumps({**body, "shopId": shop}).encode())
    assert raw is not None
    reply = ErrorReply.model_validate(raw.payload)
    assert reply.code == "validation_failed", reply
    assert [f.field for f in reply.fields] == [field], reply
    db = mongo[settings.mongodb_database]
    assert await db["listings"].count_documents({"shop_id": shop}) == 0


INTEGER_ROUTES = [
    (methods[0], path, source, alias)
    for methods, path, command_type, source in ROUTES
    for alias in integer_fields(command_type)
]


@pytest.mark.parametrize(
    ("method", "path", "source", "field"),
    INTEGER_ROUTES,
    ids=[f"{m} {p} {f}" for m, p, _, f in INTEGER_ROUTES],
)
async def test_an_integer_too_big_to_store_is_a_400_on_every_admin_path(
    admin_http: httpx.AsyncClient,
    mongo: AsyncMongoClient[dict[str, Any]],
    settings: Settings,
    shop: str,
    method: str,
    path: str,
    source: str,
    field: str,
) -> None:
    url = "/admin/tiktok-shop" + re.sub(r"{\w+}", "x", path)
    for value in HUGE:
        if source == "query":
            answer = await admin_http.request(method, url, params={"shopId": shop, field: value})
        else:
            answer = await admin_http.request(method, url, json={"shopId": shop, field: value})
        assert answer.status_code == 400, (value, answer.text)
        body = answer.json()
        assert body["code"] == "validation_failed", body
        assert field in [f["field"] for f in body["fields"]], (value, body)
    db = mongo[settings.mongodb_database]
    assert await db["listings"].count_documents({"shop_id": shop}) == 0


@pytest.mark.parametrize(
    ("method", "path", "sent", "field"),
    [
        (
            "POST",
            "/listings/create",
            {"json": {"localProductId": "p", "title": "t", "price": 10**30}},
            "price",
        ),
        ("GET", "/listings", {"params": {"page": 10**20}}, "page"),
        ("GET", "/orders", {"params": {"page": 10**20}}, "page"),
    ],
    ids=["create price 10**30", "listings page 10**20", "orders page 10**20"],
)
async def test_a_sound_request_with_one_huge_integer_is_a_400(
    admin_http: httpx.AsyncClient, method: str, path: str, sent: dict[str, Any], field: str
) -> None:
    answer = await admin_http.request(method, "/admin/tiktok-shop" + path, **sent)
    assert answer.status_code == 400, answer.text
    body = answer.json()
    assert body["code"] == "validation_failed"
    assert [f["field"] for f in body["fields"]] == [field], body


@pytest.mark.parametrize(
    "metadata",
    [{"n": 2**63}, {"deep": [{"n": -(2**63) - 1}]}, {"a": {"b": 10**30}}],
    ids=["2**63", "nested below -2**63", "10**30 two levels down"],
)
async def test_metadata_holding_an_integer_too_big_to_store_is_refused(
    admin: AdminClient,
    admin_http: httpx.AsyncClient,
    mongo: AsyncMongoClient[dict[str, Any]],
    settings: Settings,
    shop: str,
    metadata: dict[str, Any],
) -> None:
    body = {"shopId": shop, "localProductId": "p", "title": "t", "metadata": metadata}
    answer = await admin_http.post("/admin/tiktok-shop/listings/create", json=body)
    assert answer.status_code == 400, answer.text
    assert [f["field"] for f in answer.json()["fields"]] == ["metadata"]
    raw = await admin.send(json.dumps({"command": "listings.create", **body}).encode())
    assert raw is not None
    reply = ErrorReply.model_validate(raw.payload)
    assert reply.code == "validation_failed", reply
    assert [f.field for f in reply.fields] == ["metadata"], reply
    db = mongo[settings.mongodb_database]
    assert await db["listings"].count_documents({"shop_id": shop}) == 0


# --- currencies: ISO 4217's, as the money code knows them ----------------------------------------

#: Three letters that are no ISO 4217 code, and ISO 4217 codes without a minor unit (no price).
NOT_CURRENCIES = ["ZZZ", "ABC", "XXX", "XAU"]
CURRENCY_REQUESTS = [
    ("listings.create", "/listings/create", {"localProductId": "p", "title": "t"}),
    ("listings.update", "/listings/{id}/update", {}),
    ("listings.setPrice", "/listings/{id}/price", {"price": 100}),
]


@pytest.mark.parametrize(
    ("command", "path", "fields"), CURRENCY_REQUESTS, ids=[r[0] for r in CURRENCY_REQUESTS]
)
async def test_a_currency_iso_4217_does_not_price_in_is_refused(
    admin: AdminClient,
    admin_http: httpx.AsyncClient,
    mongo: AsyncMongoClient[dict[str, Any]],
    settings: Settings,
    shop: str,
    command: str,
    path: str,
    fields: dict[str, Any],
) -> None:
    created = await admin_http.post(
        "/admin/tiktok-shop/listings/create",
        json={"shopId": shop, "localProductId": "kept", "title": "Mug", "price": 100},
    )
    listing = created.json()["listing"]
    db = mongo[settings.mongodb_database]
    url = "/admin/tiktok-shop" + path.replace("{id}", listing["id"])
    for currency in NOT_CURRENCIES:
        body = {"shopId": shop, **fields, "currency": currency}
        answer = await admin_http.post(url, json=body)
        assert answer.status_code == 400, (currency, answer.text)
        assert [f["field"] for f in answer.json()["fields"]] == ["currency"], answer.text
        assert "ISO 4217" in answer.json()["fields"][0]["message"]
        body = {"command": command, "id": listing["id"], **body}
        if command == "listings.create":
            del body["id"]
        raw = await admin.send(json.dumps(body).encode())
        assert raw is not None
        reply = ErrorReply.model_validate(raw.payload)
        assert reply.code == "validation_failed", reply
        assert [f.field for f in reply.fields] == ["currency"], reply
    stored = await db["listings"].find({"shop_id": shop}).to_list()
    assert [(d["local_product_id"], d["currency"]) for d in stored] == [("kept", "USD")]


@pytest.mark.parametrize("currency", ["USD", "JPY", "KWD", "IDR", "EUR"])
async def test_an_iso_4217_currency_is_taken(
    admin_http: httpx.AsyncClient, shop: str, currency: str
) -> None:
    answer = await admin_http.post(
        "/admin/tiktok-shop/listings/create",
        json={"shopId": shop, "localProductId": "p", "title": "t", "currency": currency},
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["listing"]["currency"] == currency


def test_the_commands_take_exactly_the_currencies_the_money_code_converts() -> None:
    assert set(CURRENCY_EXPONENTS) == CURRENCY_CODES


# --- text limits: the answer counts characters ---------------------------------------------------


def text_limits(command_type: type[c.Command]) -> list[tuple[str, int]]:
    """The command's text fields (top level) with their greatest length, from its JSON schema."""
    found = []
    for alias, schema in command_type.model_json_schema()["properties"].items():
        for option in schema.get("anyOf", [schema]):
            if option.get("type") == "string" and "maxLength" in option:
                found.append((alias, option["maxLength"]))
    return found


# `shopId` is the same field on every command: checked on one.
TEXT_FIELDS = [
    (t, alias, most)
    for t in COMMANDS
    for alias, most in text_limits(t)
    if alias != "shopId" or t is c.CreateListing
]


def test_the_commands_have_text_fields_to_check() -> None:
    names = {(t.model_fields["command"].default, a) for t, a, _ in TEXT_FIELDS}
    assert {("listings.create", "title"), ("orders.ship", "trackingNumber")} <= names
    assert ("orders.rejectReturn", "comment") in names


@pytest.mark.parametrize(
    ("command_type", "field", "most"),
    TEXT_FIELDS,
    ids=[f"{t.model_fields['command'].default} {a}" for t, a, _ in TEXT_FIELDS],
)
async def test_text_over_its_limit_is_refused_in_characters_over_kafka(
    admin: AdminClient, command_type: type[c.Command], field: str, most: int
) -> None:
    body = {"command": command_type.model_fields["command"].default, field: "x" * (most + 1)}
    raw = await admin.send(json.dumps(body).encode())
    assert raw is not None
    reply = ErrorReply.model_validate(raw.payload)
    assert reply.code == "validation_failed", reply
    said = [f.message for f in reply.fields if f.field == field]
    assert said == [f"String should have at most {most} characters"], reply


TEXT_ROUTES = [
    (methods[0], path, source, alias, most)
    for methods, path, command_type, source in ROUTES
    if source != "path"
    for alias, most in text_limits(command_type)
    if f"{{{alias}}}" not in path and (alias != "shopId" or command_type is c.CreateListing)
]


@pytest.mark.parametrize(
    ("method", "path", "source", "field", "most"),
    TEXT_ROUTES,
    ids=[f"{m} {p} {f}" for m, p, _, f, _ in TEXT_ROUTES],
)
async def test_text_over_its_limit_is_refused_in_characters_on_every_admin_path(
    admin_http: httpx.AsyncClient, method: str, path: str, source: str, field: str, most: int
) -> None:
    url = "/admin/tiktok-shop" + re.sub(r"{\w+}", "x", path)
    sent = {field: "x" * (most + 1)}
    if source == "query":
        answer = await admin_http.request(method, url, params=sent)
    else:
        answer = await admin_http.request(method, url, json=sent)
    assert answer.status_code == 400, answer.text
    said = [f["message"] for f in answer.json()["fields"] if f["field"] == field]
    assert said == [f"String should have at most {most} characters"], answer.text


async def test_a_title_of_501_characters_gets_the_answer_the_readme_shows(
    admin_http: httpx.AsyncClient,
) -> None:
    answer = await admin_http.post(
        "/admin/tiktok-shop/listings/create", json={"localProductId": "p", "title": "x" * 501}
    )
    assert answer.status_code == 400
    assert answer.json() == {
        "error": "Invalid title",
        "code": "validation_failed",
        "fields": [{"field": "title", "message": "String should have at most 500 characters"}],
    }


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
