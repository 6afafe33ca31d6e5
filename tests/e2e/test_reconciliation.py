"""Reconciliation proven against loss: the simulator drops (and repeats) a share of its webhooks,
two workers run the schedule, and every order still ends exactly as TikTok has it within one
interval, each change announced once, each shop reconciled by one worker at a time."""

import itertools
import time
from collections import Counter
from collections.abc import AsyncIterator
from datetime import datetime
from typing import Any

import pytest

from service.bootstrap import Worker
from service.domain.money import to_minor_units
from service.domain.reverse_requests import normalise_status
from tests.kafka_tools import TopicReader
from tests.sim_worker import SimWorker, sim_worker
from tests.support import eventually, fresh

pytestmark = pytest.mark.integration

INTERVAL = 4.0  # seconds between a shop's scheduled runs
# What a run itself may take on a busy 2-core machine, beyond the interval it waits for.
RUN_SLACK = 10.0


@pytest.fixture
async def lossy(services: dict[str, str]) -> AsyncIterator[tuple[SimWorker, Worker]]:
    """A worker reconciling every INTERVAL seconds, a second worker on the same database and
    topics, the shop's webhooks registered, and TikTok losing half its deliveries."""
    async with sim_worker(
        services,
        ingress=True,
        settings={"reconcile_interval": INTERVAL, "reconcile_overlap": 2.0},
        random_seed=11,
    ) as sw:
        assert (await sw.admin.post("/webhooks/register")).status_code == 200
        await sw.sim.put(f"/_sim/shops/{sw.shop}/webhook", json={"url": sw.ingress_url})
        second = Worker(sw.worker.settings)
        await second.start()
        try:
            await sw.sim_post(
                "/_sim/faults", {"webhook_drop_rate": 0.5, "webhook_duplicate_rate": 0.2}
            )
            yield sw, second
        finally:
            await second.stop()


async def seed(sw: SimWorker, count: int, status: str) -> list[str]:
    orders = [
        {"shop_id": sw.shop, "status": status, "items": [{"sale_price": "10.00"}] * 2}
        for _ in range(count)
    ]
    seeded = await sw.sim_post("/_sim/seed", {"orders": orders})
    return [o if isinstance(o, str) else str(o["id"]) for o in seeded["orders"]]


async def tiktok_copy(sw: SimWorker, external: str) -> dict[str, Any]:
    order: dict[str, Any] = (await sw.sim.get(f"/_sim/orders/{external}")).json()["order"]
    return order


async def differences(
    sw: SimWorker, externals: list[str], requests: dict[str, tuple[str, str]]
) -> list[str]:
    """Where the service's orders differ from TikTok's copies (empty: none)."""
    found: list[str] = []
    unit = fresh(sw.worker)
    for external in externals:
        theirs = await tiktok_copy(sw, external)
        ours = await unit.orders.get_by_external(sw.shop, external)
        if ours is None:
            found.append(f"{external}: missing")
            continue
        currency = theirs["payment"]["currency"]
        expected = (
            theirs["status"],
            theirs["update_time"],
            to_minor_units(theirs["payment"]["total_amount"], currency),
        )
        held = (
            ours.external_status,
            int(ours.external_updated_at.timestamp()) if ours.external_updated_at else None,
            ours.total,
        )
        if held != expected:
            found.append(f"{external}: {held} != {expected}")
    for request_id, (kind, external) in requests.items():
        path = "cancellations" if kind == "cancellation" else "returns"
        answer = (await sw.sim.get(f"/_sim/{path}/{request_id}")).json()
        theirs = answer[kind if kind == "cancellation" else "return"]
        status = theirs["cancel_status" if kind == "cancellation" else "return_status"]
        waiting = bool(theirs["seller_next_action_response"])
        ours = await unit.orders.get_by_external(sw.shop, external)
        entry = next(
            (r for r in (ours.reverse_requests if ours else []) if r.id == request_id), None
        )
        if entry is None:
            found.append(f"{kind} {request_id}: missing")
        elif (normalise_status(entry.status), entry.awaiting_seller) != (status, waiting):
            found.append(f"{kind} {request_id}: {entry.status} != {status}")
    return found


async def test_every_order_ends_as_tiktok_has_it_within_one_interval_though_webhooks_are_lost(
    lossy: tuple[SimWorker, Worker],
) -> None:
    sw, _second = lossy
    settings = sw.worker.settings
    async with TopicReader(settings.kafka_bootstrap_servers, settings.topic_events) as events:
        shipped = await seed(sw, 2, "AWAITING_SHIPMENT")
        delivered = await seed(sw, 2, "AWAITING_SHIPMENT")
        asked = await seed(sw, 3, "AWAITING_SHIPMENT")
        refunds = await seed(sw, 2, "IN_TRANSIT")
        quiet = await seed(sw, 2, "AWAITING_SHIPMENT")
        requests: dict[str, tuple[str, str]] = {}
        for external in shipped + delivered:
            for status in ("AWAITING_COLLECTION", "IN_TRANSIT"):
                await sw.sim_post(f"/_sim/orders/{external}/status", {"status": status})
        for external in delivered:
            await sw.sim_post(f"/_sim/orders/{external}/status", {"status": "DELIVERED"})
        for external in asked:
            made = await sw.sim_post(f"/_sim/orders/{external}/cancellation_request", {})
            requests[made["cancellation"]["cancel_id"]] = ("cancellation", external)
        # One of them TikTok approves at the buyer's side of the story (Seller Center, say).
        first_cancel = next(iter(requests))
        await sw.worker.tiktok.approve_cancellation(
            sw.shop, first_cancel, idempotency_key="seller-center"
        )
        for external in refunds:
            made = await sw.sim_post(
                f"/_sim/orders/{external}/return_request", {"return_type": "REFUND"}
            )
            requests[made["return"]["return_id"]] = ("return", external)
        last_change = time.monotonic()
        externals = shipped + delivered + asked + refunds + quiet

        remaining = await eventually(
            lambda: differences(sw, externals, requests),
            until=lambda diff: not diff,
            timeout=INTERVAL * 1.25 + RUN_SLACK,
            interval=0.5,
        )
        converged = time.monotonic() - last_change
        assert remaining == []
        assert converged <= INTERVAL * 1.25 + RUN_SLACK

        faults = (await sw.sim.get("/_sim/faults")).json()
        assert faults["webhooks_dropped"] > 0  # the proof needs losses
        # Reconciliation found (and repaired) what the lost webhooks left behind.
        runs = (await sw.admin.get("/reconciliations", params={"limit": 100})).json()
        completed = [r for r in runs["reconciliations"] if r["status"] == "completed"]
        assert sum(r["drift"] for r in completed) > 0
        # The quiet orders had no webhook at all: only reconciliation could bring them.
        assert sum(r["orders"]["created"] for r in completed) >= len(quiet)

        # Each change was announced once: one `received` per order, one `shipped` per order
        # left in transit, whichever of webhook and reconciliation brought it first (an order
        # first seen delivered was never seen shipped: at most one for those).
        unit = fresh(sw.worker)
        ours = {(await unit.orders.get_by_external(sw.shop, e)).id for e in externals}
        await events.wait_for(
            lambda e: e["type"] == "tiktok.order.received" and e["order"]["id"] in ours,
            count=len(ours),
        )
        shipped_ids = {(await unit.orders.get_by_external(sw.shop, e)).id for e in shipped}
        await events.wait_for(
            lambda e: e["type"] == "tiktok.order.shipped" and e["order"]["id"] in shipped_ids,
            count=len(shipped_ids),
        )
        await events.poll()
        published = events.json()
        received = Counter(
            e["order"]["id"] for e in published if e["type"] == "tiktok.order.received"
        )
        shipped_events = Counter(
            e["order"]["id"] for e in published if e["type"] == "tiktok.order.shipped"
        )
        assert {i: received[i] for i in ours} == dict.fromkeys(ours, 1)
        assert {i: shipped_events[i] for i in shipped_ids} == dict.fromkeys(shipped_ids, 1)
        assert all(n == 1 for n in shipped_events.values())
        ids = [e["eventId"] for e in published if e["type"] != "tiktok.webhook.received"]
        assert len(ids) == len(set(ids))
        finished = Counter(
            e["reconciliation"]["id"]
            for e in published
            if e["type"] == "tiktok.reconciliation.finished"
        )
        assert finished
        assert set(finished.values()) == {1}


async def test_two_workers_never_reconcile_a_shop_at_once_and_run_once_per_interval(
    lossy: tuple[SimWorker, Worker],
) -> None:
    sw, _second = lossy
    await seed(sw, 30, "AWAITING_SHIPMENT")

    async def scheduled() -> list[dict[str, Any]]:
        answer = await sw.admin.get("/reconciliations", params={"limit": 100})
        runs: list[dict[str, Any]] = answer.json()["reconciliations"]
        return [r for r in runs if r["trigger"] == "schedule" and r["completedAt"]]

    # A deadline far beyond the 3 intervals 4 runs need: a loaded machine slows each run.
    runs = await eventually(scheduled, until=lambda r: len(r) >= 4, timeout=INTERVAL * 15)
    runs.sort(key=lambda r: r["startedAt"])
    for earlier, later in itertools.pairwise(runs):
        assert earlier["completedAt"] <= later["startedAt"], (earlier, later)  # never at once
        gap = _seconds(later["startedAt"]) - _seconds(earlier["startedAt"])
        assert gap >= INTERVAL - 0.5, (earlier, later)  # once per interval, not once per worker
    # An on-demand run while one is going answers that run instead of starting a second.
    ordered = await sw.admin.post("/orders/reconcile")
    assert ordered.status_code == 200
    assert ordered.json()["reconciliation"]["shopId"] == sw.shop


def _seconds(stamp: str) -> float:
    return datetime.fromisoformat(stamp.replace("Z", "+00:00")).timestamp()
