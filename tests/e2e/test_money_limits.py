"""Amounts of money the service cannot keep as they are (beyond the largest amount taken, below
zero) are refused where money is read, whichever path reads them: the seed's `order.created`
and TikTok's REFUND_SUCCESS through the whole path (signed HTTP -> ingress -> Kafka -> worker ->
database), TikTok's orders in a pull and a reconciliation on the simulator. A refusal names the
amount and why; nothing is half written, and the other records go on."""

import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from service.bootstrap import Worker
from service.domain.orders import order_id_for
from service.settings import Settings
from tests import factories
from tests.conftest import Outcomes
from tests.ingress import post_seed, post_tiktok, serve_ingress
from tests.kafka_tools import events_on
from tests.sim_worker import SimWorker, sim_worker
from tests.support import events_published, eventually, fresh, store

pytestmark = pytest.mark.integration

T = 1_796_000_000
BEYOND = "is beyond the largest amount taken (9999999999999.99 USD)"


@pytest.fixture(scope="module")
async def ingress_url(services: dict[str, str], settings: Settings) -> AsyncIterator[str]:
    async with serve_ingress(services, settings.topic_webhooks) as url:
        yield url


async def verdict(outcomes: Outcomes, notification_id: str) -> tuple[str, str]:
    """What the worker answered for the webhook (status and detail), once it answered."""

    async def answered() -> list[tuple[str, str]]:
        return [(o.status, o.detail) for o in outcomes.seen if o.notification_id == notification_id]

    [answer] = await eventually(answered, timeout=30)
    return answer


NEGATIVE = "is below zero, which an amount of money never is"


@pytest.mark.parametrize(
    ("field", "value", "reason"),
    [
        ("total", "99999999999999999999.99", BEYOND),
        ("total", 99999999999999999999.99, BEYOND),  # a JSON number, read as a float (1e20)
        ("subtotal", "92233720368547758.08", BEYOND),  # 2**63 cents
        ("items", [{"title": "Mug", "price": "99999999999999999999.99"}], BEYOND),
        ("total", -5, NEGATIVE),
        ("shippingFee", "-0.01", NEGATIVE),
        ("items", [{"title": "Mug", "price": -3}], NEGATIVE),
    ],
)
async def test_a_seed_order_with_an_amount_that_cannot_be_kept_is_rejected_with_the_reason(
    ingress_url: str,
    worker: Worker,
    settings: Settings,
    outcomes: Outcomes,
    field: str,
    value: Any,
    reason: str,
) -> None:
    external = f"seed-{uuid.uuid4().hex[:8]}"
    payload = {"externalOrderId": external, "currency": "USD", "total": 10, field: value}
    answer = await post_seed(ingress_url, {"type": "order.created", "payload": payload})
    assert answer.status_code == 200, answer.text
    status, detail = await verdict(outcomes, answer.json()["id"])
    assert status == "rejected"
    assert detail.startswith("rejected: ")
    assert "is not an amount of USD we can keep" in detail
    assert reason in detail
    assert await fresh(worker).orders.get_by_external(settings.default_shop_id, external) is None


@pytest.mark.parametrize(
    ("refund_total", "reason"),
    [("99999999999999999999999.00", BEYOND), ("-5.00", NEGATIVE), (-5, NEGATIVE)],
)
async def test_a_refund_whose_amount_cannot_be_kept_is_recorded_with_its_amount_unknown(
    ingress_url: str,
    worker: Worker,
    settings: Settings,
    shop: str,
    outcomes: Outcomes,
    refund_total: str | int,
    reason: str,
) -> None:
    external = f"tt-{uuid.uuid4().hex[:8]}"
    order = factories.order(
        shop, id=order_id_for(shop, external), external_order_id=external, status="delivered"
    )
    await store(worker, order)
    body = {
        "type": 67,
        "tts_notification_id": uuid.uuid4().hex,
        "shop_id": shop,
        "timestamp": T,
        "data": {
            "aftersales_request_id": "as-1",
            "refund_status": "SUCCESS",
            "refund_timestamp": T,
            "refund_total": refund_total,
            "refund_currency": "USD",
            "line_items": [{"main_order_id": external}],
        },
    }
    answer = await post_tiktok(ingress_url, body)
    assert answer.status_code == 200, answer.text
    status, detail = await verdict(outcomes, answer.json()["id"])
    assert status == "applied"
    assert f"refund of as-1 recorded on {order.id}" in detail
    assert f"its amount is unknown: '{refund_total}' {reason}" in detail
    stored = await fresh(worker).orders.get(shop, order.id)
    assert stored is not None
    [entry] = [r for r in stored.reverse_requests if r.kind == "aftersales"]
    assert (entry.id, entry.refund_total, entry.currency) == ("as-1", None, "USD")
    assert entry.refunded_at is not None
    assert stored.refunded_amount == 0
    # The refund is announced once, its amount unknown rather than wrong.
    await events_published(worker, ("orders", order.id))
    announced = await events_on(
        settings,
        lambda e: e["type"] == "tiktok.refund.succeeded" and e["order"]["id"] == order.id,
    )
    assert [(e["requestId"], e.get("amount")) for e in announced] == [("as-1", None)]


async def test_a_pull_and_a_reconciliation_list_an_order_beyond_the_largest_amount_as_failed(
    services: dict[str, str],
) -> None:
    async with sim_worker(services) as sw:
        seeded = await sw.sim_post(
            "/_sim/seed",
            {
                "orders": [
                    {"shop_id": sw.shop, "items": [{"sale_price": "12.50"}]},
                    {"shop_id": sw.shop, "items": [{"sale_price": "92233720368547758.08"}]},
                ]
            },
        )
        good, big = (str(o) for o in seeded["orders"])

        pulled = await sw.admin.post("/orders/sync")
        assert pulled.status_code == 200, pulled.text
        job = await finished_job(sw, pulled.json()["job"]["id"])
        assert (job["status"], job["failed"]) == ("completed", 1), job
        [failure] = job["failures"]
        assert failure["ref"] == big
        assert f"'92233720368547758.08' {BEYOND}" in failure["error"]
        held = await fresh(sw.worker).orders.get_by_external(sw.shop, good)
        assert held is not None
        assert held.total == 1250
        assert await fresh(sw.worker).orders.get_by_external(sw.shop, big) is None

        reconciled = await sw.admin.post("/orders/reconcile")
        assert reconciled.status_code == 200, reconciled.text
        run = reconciled.json()["reconciliation"]
        assert run["status"] == "completed", run
        assert [f["ref"] for f in run["failures"]] == [big]
        assert BEYOND in run["failures"][0]["error"]


async def finished_job(sw: SimWorker, job_id: str) -> dict[str, Any]:
    async def read() -> dict[str, Any]:
        job: dict[str, Any] = (await sw.admin.get(f"/jobs/{job_id}")).json()["job"]
        return job

    return await eventually(read, until=lambda j: j["status"] != "running", timeout=60)
