"""Inputs real shops send, through the whole path without TikTok credentials: a signed webhook
over HTTP -> ingress -> Kafka -> the session's worker -> database, read back through the
database and the admin API. Each test is one of issue 11's items; the ones that need TikTok's
API answers are in `test_tiktok_fidelity_api.py`."""

import hashlib
import json
import logging
import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest

from contracts.entities import Listing
from contracts.webhooks import TIKTOK_MODELS
from service.bootstrap import Worker
from service.domain.orders import order_id_for
from service.settings import Settings
from tests.ingress import post_seed, post_tiktok, raw_json, serve_ingress
from tests.kafka_tools import TopicReader
from tests.support import eventually, fresh, store

pytestmark = pytest.mark.integration

T = 1_796_000_000


@pytest.fixture(scope="module")
async def ingress_url(services: dict[str, str], settings: Settings) -> AsyncIterator[str]:
    async with serve_ingress(services, settings.topic_webhooks) as url:
        yield url


async def outcome(worker: Worker, notification_id: str) -> str:
    """The outcome the worker recorded for a webhook, once it was applied."""

    async def record() -> Any:
        return await worker.db.collection("webhook_events").find_one(
            {"_id": notification_id, "processed_at": {"$ne": None}}
        )

    doc = await eventually(record)
    return str(doc["outcome"])


async def deliver(ingress_url: str, worker: Worker, body: dict[str, Any] | bytes) -> str:
    """Post one TikTok webhook, wait until it is applied, answer its outcome."""
    answer = await post_tiktok(ingress_url, body)
    assert answer.status_code == 200, answer.text
    return await outcome(worker, answer.json()["id"])


def tiktok(type_: int, shop: str, data: dict[str, Any], **envelope: Any) -> dict[str, Any]:
    return {
        "type": type_,
        "tts_notification_id": uuid.uuid4().hex,
        "shop_id": shop,
        "timestamp": T,
        "data": data,
        **envelope,
    }


# --- 1: no tts_notification_id ------------------------------------------------------------


async def test_a_webhook_without_a_notification_id_is_applied_once_under_an_id_from_its_body(
    ingress_url: str, worker: Worker, settings: Settings, shop: str
) -> None:
    raw = raw_json(
        {
            "type": 1,
            "shop_id": shop,
            "timestamp": 1796000010,
            "data": {
                "order_id": "O",
                "order_status": "AWAITING_SHIPMENT",
                "update_time": 1796000000,
            },
        }
    )
    expected_id = hashlib.sha256(raw).hexdigest()
    async with TopicReader(settings.kafka_bootstrap_servers, settings.topic_events) as events:
        first = await post_tiktok(ingress_url, raw)
        second = await post_tiktok(ingress_url, raw)
        assert (first.status_code, second.status_code) == (200, 200)
        assert first.json() == second.json() == {"received": True, "id": expected_id}
        await outcome(worker, expected_id)
        # One more webhook for the same order (same partition, so consumed after both), older
        # than what it holds, so it changes nothing.
        marker = await post_tiktok(
            ingress_url,
            tiktok(1, shop, {"order_id": "O", "order_status": "UNPAID", "update_time": 1}),
        )
        await events.wait_for(lambda e: e.get("notificationId") == marker.json()["id"])
        received = events.json(lambda e: e.get("notificationId") == expected_id)
    assert len(received) == 1  # the second delivery was a duplicate
    order = await fresh(worker).orders.get_by_external(shop, "O")
    assert order is not None
    assert order.status == "confirmed"
    assert await worker.db.collection("orders").count_documents({"shop_id": shop}) == 1


# --- 2: product status, ids as number or text, no credentials -----------------------------


def linked_listing(shop: str, product_id: str, status: Any = "active") -> Listing:
    now = datetime.now(UTC)
    return Listing(
        id=uuid.uuid4().hex,
        shop_id=shop,
        local_product_id=f"p-{product_id}",
        external_product_id=product_id,
        title="Mug",
        price=1299,
        status=status,
        sync_status="synced",
        created_at=now,
        updated_at=now,
    )


@pytest.mark.parametrize("as_number", [True, False], ids=["number", "text"])
async def test_product_status_changed_without_credentials_marks_the_listing_for_refresh(
    ingress_url: str, worker: Worker, admin_http: httpx.AsyncClient, shop: str, as_number: bool
) -> None:
    product_id = "1729592969712207012"
    listing = linked_listing(shop, product_id)
    await store(worker, listing)
    said = await deliver(
        ingress_url,
        worker,
        tiktok(
            5,
            shop,
            {
                "product_id": int(product_id) if as_number else product_id,
                "status": "PRODUCT_STATUS_CHANGED",
                "suspended_reason": "Prohibited item",
                "update_time": T,
            },
        ),
    )
    assert f"listing {listing.id} marked for refresh" in said
    assert "no TikTok credentials" in said
    answer = await admin_http.get(f"/admin/tiktok-shop/listings/{listing.id}?shopId={shop}")
    got = answer.json()["listing"]
    assert (got["status"], got["needsRefresh"]) == ("active", True)  # not guessed
    waiting = await worker.bus.context().views.listings_needing_refresh(shop, 10)
    assert [li.id for li in waiting] == [listing.id]


@pytest.mark.parametrize(
    ("status", "expected"),
    [("PRODUCT_AUDIT_FAILURE", "rejected"), ("PRODUCT_FIRST_PASS_REVIEW", "active")],
)
async def test_an_audit_outcome_is_applied_with_its_reason(
    ingress_url: str, worker: Worker, shop: str, status: str, expected: str
) -> None:
    listing = linked_listing(shop, "1729000000000042", status="pending")
    await store(worker, listing)
    await deliver(
        ingress_url,
        worker,
        tiktok(
            5,
            shop,
            {"product_id": 1729000000000042, "status": status, "suspended_reason": "Blurry"},
        ),
    )
    got = await fresh(worker).listings.get(shop, listing.id)
    assert got is not None
    assert (got.status, got.needs_refresh) == (expected, False)
    assert got.error == ("Blurry" if expected == "rejected" else None)


# --- 3: a cancellation out of order ---------------------------------------------------------


async def test_a_cancellation_completes_whatever_order_its_webhooks_and_the_order_status_arrive(
    ingress_url: str, worker: Worker, shop: str
) -> None:
    for data in (
        {"order_id": "O", "order_status": "AWAITING_SHIPMENT", "update_time": T},
        {"order_id": "O", "cancel_status": "CANCELLATION_REQUEST_PENDING", "create_time": T + 100},
        {"order_id": "O", "order_status": "CANCEL", "update_time": T + 200},
        {"order_id": "O", "cancel_status": "CANCELLATION_REQUEST_COMPLETE", "create_time": T + 100},
    ):
        await deliver(ingress_url, worker, tiktok(11 if "cancel_status" in data else 1, shop, data))
    order = await fresh(worker).orders.get_by_external(shop, "O")
    assert order is not None
    [request] = order.reverse_requests
    assert (order.status, request.kind, request.status) == (
        "cancelled",
        "cancellation",
        "CANCELLATION_REQUEST_COMPLETE",
    )


# --- 4: a completed refund without credentials: recorded, not guessed ----------------------


async def test_a_completed_refund_without_credentials_is_recorded_and_flagged_not_guessed(
    ingress_url: str, worker: Worker, admin_http: httpx.AsyncClient, shop: str
) -> None:
    await deliver(
        ingress_url,
        worker,
        tiktok(1, shop, {"order_id": "O", "order_status": "DELIVERED", "update_time": T}),
    )
    said = await deliver(
        ingress_url,
        worker,
        tiktok(
            12,
            shop,
            {
                "order_id": "O",
                "return_id": "R1",
                "return_type": "REFUND",
                "return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE",
                "create_time": T + 10,
                "update_time": T + 20,
            },
        ),
    )
    assert "refund amount unknown, marked for refresh" in said
    order_id = order_id_for(shop, "O")
    got = (await admin_http.get(f"/admin/tiktok-shop/orders/{order_id}?shopId={shop}")).json()
    order = got["order"]
    assert (order["status"], order["refundedAmount"], order["needsRefresh"]) == (
        "delivered",
        0,
        True,
    )
    assert [(r["id"], r["status"], r["refundTotal"]) for r in order["reverseRequests"]] == [
        ("R1", "RETURN_OR_REFUND_REQUEST_COMPLETE", None)
    ]


# --- 6: bodies MongoDB cannot store as they are --------------------------------------------


async def test_a_body_with_dotted_and_dollar_keys_is_applied_and_kept_losslessly(
    ingress_url: str, worker: Worker, shop: str
) -> None:
    body = {
        "type": 1,
        "tts_notification_id": uuid.uuid4().hex,
        "shop_id": shop,
        "timestamp": T,
        "data": {
            "order_id": "O",
            "order_status": "UNPAID",
            "update_time": 1,
            "meta": {"a.b": 1, "$x": 2},
        },
    }
    said = await deliver(ingress_url, worker, body)
    assert "created" in said
    order = await fresh(worker).orders.get_by_external(shop, "O")
    assert order is not None
    assert order.status == "pending"
    record = await worker.db.collection("webhook_events").find_one(
        {"_id": body["tts_notification_id"]}
    )
    assert record is not None
    assert json.loads(record["body_json"]) == body


# --- 9: package and address webhooks that cannot be refreshed ------------------------------


async def test_package_and_address_webhooks_without_credentials_flag_their_orders(
    ingress_url: str, worker: Worker, shop: str
) -> None:
    await deliver(
        ingress_url,
        worker,
        tiktok(1, shop, {"order_id": "A", "order_status": "AWAITING_SHIPMENT", "update_time": T}),
    )
    said = await deliver(
        ingress_url,
        worker,
        tiktok(
            4,
            shop,
            {
                "sc_type": "SPLIT",
                "package_list": [{"package_id": "P1", "order_id_list": ["A", 576000000000001]}],
                "update_time": T + 5,
            },
        ),
    )
    assert said.startswith("2 of 2 orders marked for refresh")
    assert "refreshed" not in said
    said = await deliver(
        ingress_url, worker, tiktok(3, shop, {"order_id": "C", "update_time": T + 6})
    )
    assert said.startswith("1 of 1 orders marked for refresh")
    waiting = await worker.bus.context().views.orders_needing_refresh(shop, 10)
    assert {o.external_order_id for o in waiting} == {"A", "576000000000001", "C"}
    stub = await fresh(worker).orders.get_by_external(shop, "C")
    assert stub is not None
    assert (stub.status, stub.needs_refresh) == ("pending", True)


# --- 10: the seed's order.created with items of any shape ---------------------------------


async def test_seed_order_created_keeps_items_of_any_shape(
    ingress_url: str, worker: Worker, settings: Settings
) -> None:
    external = f"seed-{uuid.uuid4().hex[:8]}"
    items: list[Any] = [
        {"sku": "a", "quantity": 1},
        {"productId": 42, "name": "Mug", "quantity": 2, "price": 9.5, "a.b": {"$x": 1}},
        "gift wrap",
    ]
    answer = await post_seed(
        ingress_url,
        {
            "type": "order.created",
            "payload": {"externalOrderId": external, "items": items, "total": 19},
        },
    )
    assert answer.status_code == 200
    assert "created" in await outcome(worker, answer.json()["id"])
    order = await fresh(worker).orders.get_by_external(settings.default_shop_id, external)
    assert order is not None
    assert [(i.external_sku_id, i.external_product_id, i.quantity) for i in order.items] == [
        ("a", None, 1),
        (None, "42", 2),
        (None, None, 1),
    ]
    assert (order.items[1].title, order.items[1].unit_price) == ("Mug", 950)
    assert [i.source for i in order.items] == [items[0], items[1], {"value": "gift wrap"}]


async def test_seed_order_created_without_an_external_id_is_received_ignored_and_logged(
    ingress_url: str, worker: Worker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    answer = await post_seed(
        ingress_url, {"type": "order.created", "payload": {"items": [{"sku": "a"}]}}
    )
    assert answer.status_code == 200
    assert answer.json()["received"] is True
    said = await outcome(worker, answer.json()["id"])
    assert said == "ignored: order.created without externalOrderId"
    assert any(said in r.getMessage() for r in caplog.records)


# --- integers as numbers or digit strings, never booleans ----------------------------------


def typed_data(type_: int) -> dict[str, Any]:
    """The least each typed webhook needs to be applied, with ids of its own."""
    mark = uuid.uuid4().hex[:8]
    order = {"order_id": f"o-{mark}", "update_time": T}
    product = {"product_id": f"p-{mark}", "sku_id": f"s-{mark}"}
    data: dict[int, dict[str, Any]] = {
        1: {**order, "order_status": "AWAITING_SHIPMENT"},
        2: {**order, "reverse_order_status": 1},
        3: order,
        4: order,
        5: {"product_id": f"p-{mark}", "status": "PRODUCT_STATUS_CHANGED", "update_time": T},
        6: {"message": "revoked"},
        7: {"message": "expiring", "expiration_time": T + 86400},
        11: {**order, "cancel_id": f"c-{mark}", "cancel_status": "CANCELLATION_REQUEST_PENDING"},
        12: {
            **order,
            "return_id": f"r-{mark}",
            "return_status": "RETURN_OR_REFUND_REQUEST_PENDING",
        },
        27: {**product, "current_inventory_status": "LOW_STOCK"},
        37: {"product_id": f"p-{mark}", "audit": {"status": "APPROVED"}},
        50: {"product_id": f"p-{mark}", "skus": [{"sku_id": f"s-{mark}", "status": "ACTIVE"}]},
        64: {"aftersales_request_id": f"as-{mark}", "aftersales_request_status": "INIT"},
        65: {"rma_id": f"rma-{mark}"},
        67: {"aftersales_request_id": f"as-{mark}", "refund_total": "1.00"},
        71: {**product, "event_id": mark, "occurred_at": "2026-11-30T00:00:00Z"},
    }
    return data[type_]


@pytest.mark.parametrize("type_", sorted(TIKTOK_MODELS))
async def test_every_typed_webhook_takes_its_type_as_a_digit_string(
    ingress_url: str, worker: Worker, shop: str, type_: int
) -> None:
    body = tiktok(type_, shop, typed_data(type_), type=str(type_))
    said = await deliver(ingress_url, worker, body)
    assert not said.startswith("rejected"), said


@pytest.mark.parametrize(
    ("type_", "field"),
    [(5, "status"), (1, "order_status"), (1, "update_time"), (67, "refund_total")],
)
async def test_a_boolean_where_a_webhook_takes_an_integer_is_refused_not_read_as_1(
    ingress_url: str, worker: Worker, shop: str, type_: int, field: str
) -> None:
    data = {**typed_data(type_), field: True}
    said = await deliver(ingress_url, worker, tiktok(type_, shop, data))
    assert said.startswith("rejected: "), said
    assert f"data.{field}: " in said
    assert "a boolean is not" in said


# --- integers no database keeps, times no calendar holds -----------------------------------


async def stored_listing(worker: Worker, shop: str, product_id: str) -> Listing:
    listing = linked_listing(shop, product_id)
    await store(worker, listing)
    return listing


@pytest.mark.parametrize(
    ("type_", "change", "field"),
    [
        (27, {"inventory_distribution": {"total_quantity": 10**20}}, "total_quantity"),
        (71, {"quantity_snapshot_after_change": {"total_quantity": "9" * 20}}, "total_quantity"),
        (1, {"update_time": 2**64}, "update_time"),
    ],
)
async def test_an_integer_beyond_64_bits_in_a_webhook_is_refused_with_the_field(
    ingress_url: str, worker: Worker, shop: str, type_: int, change: dict[str, Any], field: str
) -> None:
    data = {**typed_data(type_), **change}
    if "product_id" in data:
        await stored_listing(worker, shop, data["product_id"])
    said = await deliver(ingress_url, worker, tiktok(type_, shop, data))
    assert said.startswith("rejected: "), said
    assert f"{field}: Value error, must be an integer of at most 64 bits" in said


@pytest.mark.parametrize(
    ("type_", "field"), [(27, "update_time"), (37, "update_time"), (7, "expiration_time")]
)
async def test_a_time_past_the_year_9999_is_read_as_no_time_not_a_failure(
    ingress_url: str, worker: Worker, shop: str, type_: int, field: str
) -> None:
    data = {**typed_data(type_), field: 10**13}
    listing = await stored_listing(worker, shop, data["product_id"]) if type_ != 7 else None
    said = await deliver(ingress_url, worker, tiktok(type_, shop, data))
    assert not said.startswith("rejected"), said
    if listing is not None:
        assert said.startswith(f"listing {listing.id} "), said
