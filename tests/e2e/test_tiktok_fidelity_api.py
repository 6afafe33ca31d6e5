"""Inputs real shops send, with TikTok's API answering: the simulator pushes its webhooks to an
ingress of the test's own (HTTP -> Kafka -> worker -> database) and answers the worker's calls.
Each test is one of issue 11's items; see `test_tiktok_fidelity.py` for those without
credentials."""

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from contracts import commands as c
from contracts import replies as r
from contracts.client import AdminClient
from contracts.entities import ChannelOrder
from service.bootstrap import Worker
from tests.sim_worker import TOKEN, SimWorker, sim_worker
from tests.support import eventually, fresh

pytestmark = pytest.mark.integration

DAY = 24 * 3600


@pytest.fixture(scope="module")
async def sw(services: dict[str, str]) -> AsyncIterator[SimWorker]:
    async with sim_worker(services, ingress=True, subscribe=True) as running:
        yield running


async def seed_orders(sw: SimWorker, *orders: dict[str, Any]) -> list[str]:
    seeded = await sw.sim_post(
        "/_sim/seed", {"orders": [{"shop_id": sw.shop, **o} for o in orders]}
    )
    return [str(o) for o in seeded["orders"]]


async def stored_order(
    worker: Worker, shop: str, external: str, until: Any = lambda o: o is not None
) -> ChannelOrder:
    async def read() -> ChannelOrder | None:
        return await fresh(worker).orders.get_by_external(shop, external)

    order: ChannelOrder = await eventually(read, until=until, timeout=30)
    return order


async def outcomes(worker: Worker, shop: str, webhook_type: str) -> list[str]:
    docs = worker.db.collection("webhook_events").find(
        {"shop_id": shop, "webhook_type": webhook_type, "processed_at": {"$ne": None}}
    )
    return [str(d["outcome"]) async for d in docs]


# --- 1: no tts_notification_id, ids as numbers, sent twice ----------------------------------


async def test_a_webhook_tiktok_sends_without_a_notification_id_twice_is_one_order(
    sw: SimWorker,
) -> None:
    [external] = await seed_orders(
        sw, {"status": "AWAITING_SHIPMENT", "items": [{"sale_price": "4.00"}]}
    )
    await sw.sim_post(
        "/_sim/webhooks",
        {
            "type": 1,
            "shop_id": sw.shop,
            "data": {"order_id": external, "order_status": "AWAITING_SHIPMENT", "update_time": 1},
            "omit_notification_id": True,
            "numeric_ids": True,
            "deliveries": 2,
        },
    )
    order = await stored_order(sw.worker, sw.shop, external, lambda o: o and not o.needs_refresh)
    assert (order.status, order.total) == ("confirmed", 400)
    said = await eventually(lambda: outcomes(sw.worker, sw.shop, "1"))
    assert len(said) == 1  # one inbox record: the second delivery was a duplicate


# --- 2: TikTok freezes a product itself -------------------------------------------------------


async def test_a_product_tiktok_froze_is_suspended_with_tiktoks_reason(sw: SimWorker) -> None:
    created = await sw.admin.post(
        "/listings/create",
        json={
            "localProductId": f"mug-{uuid.uuid4().hex[:6]}",
            "title": "Mug",
            "price": 1299,
            "imageUrl": sw.images.url("mug"),
        },
    )
    listing_id = created.json()["listing"]["id"]
    pushed = (await sw.admin.post(f"/listings/{listing_id}/push")).json()["listing"]
    product_id = pushed["externalProductId"]
    reason = "Counterfeit goods suspected"
    await sw.sim_post(
        f"/_sim/products/{product_id}/platform_status", {"status": "FREEZE", "reason": reason}
    )

    async def listing() -> dict[str, Any]:
        answer: dict[str, Any] = (await sw.admin.get(f"/listings/{listing_id}")).json()["listing"]
        return answer

    got = await eventually(listing, until=lambda li: li["status"] == "suspended", timeout=30)
    assert (got["error"], got["needsRefresh"]) == (reason, False)
    said = await outcomes(sw.worker, sw.shop, "5")
    assert any(f"listing {listing_id} suspended as TikTok says: {reason}" in s for s in said)


# --- 5: one record that cannot be read does not stop a pull -----------------------------------


async def test_a_pull_reports_an_unreadable_order_and_syncs_the_others(
    sw: SimWorker, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    good, idr, bad = await seed_orders(
        sw,
        {"items": [{"sale_price": "12.50"}]},
        {"currency": "IDR", "items": [{"sale_price": "0.01"}]},
        {"items": [{"sale_price": "1.005"}], "exact_amounts": True},
    )
    reply = (await sw.admin.post("/orders/sync")).json()
    assert reply["job"]["status"] == "completed"
    assert reply["failed"] == 1
    [failure] = reply["job"]["failures"]
    assert failure["ref"] == bad
    assert "more precision than USD allows" in failure["error"]
    assert any(bad in r.getMessage() and "skipped" in r.getMessage() for r in caplog.records)
    assert (await stored_order(sw.worker, sw.shop, good)).total == 1250
    rupiah = await stored_order(sw.worker, sw.shop, idr)
    assert (rupiah.currency, rupiah.total, rupiah.items[0].unit_price) == ("IDR", 1, 1)
    assert await fresh(sw.worker).orders.get_by_external(sw.shop, bad) is None


# One order TikTok answers with an amount finer than its currency (a JPY shipping fee of
# "300.5") must not keep the shop's other orders from being read: not in a package webhook
# naming both, not in the reconciliation that refreshes what that webhook flagged, not when a
# request's order is fetched because it is not known yet.
UNREADABLE_YEN = {
    "currency": "JPY",
    "items": [{"sale_price": "1000"}, {"sale_price": "2000"}],
    "shipping_fee": "300.5",
    "exact_amounts": True,
}


async def test_a_package_webhook_refreshes_its_readable_order_and_flags_the_unreadable_one(
    services: dict[str, str],
) -> None:
    async with sim_worker(services, ingress=True, subscribe=True) as sw:
        good, bad = await seed_orders(
            sw, {"currency": "JPY", "items": [{"sale_price": "1000"}]}, UNREADABLE_YEN
        )
        await sw.sim_post(
            "/_sim/webhooks",
            {
                "type": 4,
                "shop_id": sw.shop,
                "data": {
                    "sc_type": "SPLIT",
                    "package_list": [{"package_id": "7", "order_id_list": [good, bad]}],
                    "update_time": 1,
                },
            },
        )
        [outcome] = await eventually(lambda: outcomes(sw.worker, sw.shop, "4"), timeout=60)
        assert outcome.startswith("refreshed 1 of 2 orders; 1 of 2 orders marked for refresh")
        assert f"order {bad}: " in outcome
        assert "more precision than JPY allows" in outcome
        readable = await stored_order(sw.worker, sw.shop, good)
        assert (readable.total, readable.needs_refresh) == (1000, False)
        flagged = await stored_order(sw.worker, sw.shop, bad)
        assert flagged.needs_refresh

        # The reconciliation that reads the flagged orders first lists the unreadable one as
        # failed, once, and goes on.
        answer = await sw.admin.post("/orders/reconcile")
        assert answer.status_code == 200, answer.text
        run = answer.json()["reconciliation"]
        assert run["status"] == "completed", run
        [failed] = [f for f in run["failures"] if f["ref"] == bad]
        assert "more precision than JPY allows" in failed["error"]
        assert run["orders"]["failed"] == 1
        assert (await stored_order(sw.worker, sw.shop, good)).total == 1000


async def test_a_request_on_an_unreadable_order_does_not_fail_the_reconciliation(
    services: dict[str, str],
) -> None:
    async with sim_worker(services) as sw:
        good, bad = await seed_orders(
            sw, {"currency": "JPY", "items": [{"sale_price": "1000"}]}, UNREADABLE_YEN
        )
        lines = (await sw.sim.get(f"/_sim/orders/{bad}")).json()["order"]["line_items"]
        # One line only: its refund (1000) is readable, so the request is, but its order is not.
        await sw.sim_post(
            f"/_sim/orders/{bad}/cancellation_request", {"line_item_ids": [lines[0]["id"]]}
        )
        answer = await sw.admin.post("/orders/reconcile")
        assert answer.status_code == 200, answer.text
        run = answer.json()["reconciliation"]
        assert run["status"] == "completed", run
        errors = {f["error"] for f in run["failures"] if f["ref"] == bad}
        assert any("more precision than JPY allows" in e for e in errors)
        assert (await stored_order(sw.worker, sw.shop, good)).total == 1000
        assert await fresh(sw.worker).orders.get_by_external(sw.shop, bad) is None


# --- 9: package and address webhooks while TikTok keeps throttling ----------------------------


async def test_orders_tiktok_will_not_detail_are_flagged_for_refresh_not_counted_refreshed(
    sw: SimWorker,
) -> None:
    first, second = await seed_orders(
        sw, {"items": [{"sale_price": "3.00"}]}, {"items": [{"sale_price": "5.00"}]}
    )
    views = sw.worker.bus.context().views
    # Throttled on every call, longer than the gateway's retries last.
    await sw.sim_post("/_sim/faults", {"throttle_next": 1000, "retry_after": 0})
    try:
        await sw.sim_post(
            "/_sim/webhooks",
            {
                "type": 4,
                "shop_id": sw.shop,
                "data": {
                    "sc_type": "SPLIT",
                    "package_list": [{"package_id": "1", "order_id_list": [first, second]}],
                    "update_time": 1,
                },
            },
        )
        said = await eventually(lambda: outcomes(sw.worker, sw.shop, "4"), timeout=60)
    finally:
        await sw.sim.delete("/_sim/faults")
    assert said[0].startswith("2 of 2 orders marked for refresh")
    assert "36009002" in said[0]
    assert not said[0].startswith("refreshed")
    waiting = {o.external_order_id for o in await views.orders_needing_refresh(sw.shop, 100)}
    assert {first, second} <= waiting

    # TikTok answers again: the next address webhook refreshes its order for real.
    await sw.sim_post(
        "/_sim/webhooks",
        {"type": 3, "shop_id": sw.shop, "data": {"order_id": first, "update_time": 2}},
    )
    refreshed = await stored_order(sw.worker, sw.shop, first, lambda o: o and not o.needs_refresh)
    assert refreshed.total == 300
    waiting = {o.external_order_id for o in await views.orders_needing_refresh(sw.shop, 100)}
    assert second in waiting
    assert first not in waiting
    marks = sw.worker.db.collection("refresh_marks")
    assert await marks.count_documents({"_id": f"orders/{refreshed.id}"}) == 0


# --- 4: partial refunds, on a shop of its own (its statistics are the test's) -----------------


async def test_a_partial_refund_counts_what_was_refunded_and_a_full_one_refunds_the_order(
    services: dict[str, str],
) -> None:
    # The buyer's refund completes two days later on TikTok's clock: the worker's calls, signed
    # with the real time, must still be inside TikTok's timestamp window.
    async with sim_worker(
        services, ingress=True, subscribe=True, timestamp_past_seconds=5 * DAY
    ) as sw:
        [external] = await seed_orders(
            sw,
            {
                "status": "DELIVERED",
                "items": [
                    {"sale_price": "10.00", "product_name": "Mug"},
                    {"sale_price": "15.00", "product_name": "Plate"},
                ],
            },
        )
        await sw.admin.post("/orders/sync")
        order = await stored_order(sw.worker, sw.shop, external)
        assert order.total == 2500
        lines = [
            i["id"]
            for i in (await sw.sim.get(f"/_sim/orders/{external}")).json()["order"]["line_items"]
        ]

        async def refund(line: str) -> str:
            asked = await sw.sim_post(
                f"/_sim/orders/{external}/return_request",
                {"return_type": "REFUND", "line_item_ids": [line]},
            )
            # Nobody answers for 48 hours: TikTok approves; the refund lands 10 minutes later.
            await sw.sim_post("/_sim/clock", {"advance": 2 * DAY + 700})
            return str(asked["return"]["return_id"])

        first = await refund(lines[0])
        order = await stored_order(
            sw.worker, sw.shop, external, lambda o: o and o.refunded_amount == 1000
        )
        assert order.status == "delivered"
        [entry] = [r for r in order.reverse_requests if r.kind == "return"]
        assert (entry.id, entry.status, entry.line_item_ids) == (
            first,
            "RETURN_OR_REFUND_REQUEST_COMPLETE",
            [lines[0]],
        )
        stats = (await sw.admin.get("/stats")).json()["stats"]
        assert (stats["totalRevenue"], stats["currency"]) == (1500, "USD")

        await refund(lines[1])
        order = await stored_order(
            sw.worker, sw.shop, external, lambda o: o and o.status == "refunded"
        )
        assert order.refunded_amount == 2500
        stats = (await sw.admin.get("/stats")).json()["stats"]
        assert stats["totalRevenue"] == 0
        said = await outcomes(sw.worker, sw.shop, "12")
        assert any("refunded 10.00 of 25.00 USD: delivered" in s for s in said)


# --- 8: the default shop's token expires -------------------------------------------------------


async def test_the_default_shop_needs_the_seller_until_it_authorizes_then_refreshes_itself(
    services: dict[str, str],
) -> None:
    async with sim_worker(services) as sw:
        await sw.sim_post("/_sim/generate", {"shop_id": sw.shop, "products": 3})
        # Only the static TIKTOK_ACCESS_TOKEN, and TikTok says it expired (105002).
        await sw.sim_post("/_sim/tokens/expire", {"access_token": TOKEN})
        settings = (await sw.admin.get("/settings")).json()
        assert (settings["status"], settings["needsReauthorization"]) == ("error", True)
        assert "TIKTOK_ACCESS_TOKEN cannot be refreshed" in settings["error"]

        # The seller authorizes the shop: its stored, refreshable tokens win over the static one.
        code = (await sw.sim_post("/_sim/auth_codes", {"shop_ids": [sw.shop]}))["auth_code"]
        assert (await sw.admin.post("/shops/authorize", json={"authCode": code})).status_code == 200
        settings = (await sw.admin.get("/settings")).json()
        assert (settings["status"], settings["needsReauthorization"]) == ("connected", False)

        # Its access token expires too: the next call is answered 105002, refreshes, succeeds.
        stored = await sw.worker.db.collection("shops").find_one({"_id": sw.shop})
        assert stored is not None
        await sw.sim_post("/_sim/tokens/expire", {"access_token": stored["access_token"]})
        await sw.sim.delete("/_sim/requests")
        synced = (await sw.admin.post("/products/sync")).json()
        assert (synced["synced"], synced["job"]["status"]) == (3, "completed")
        calls = (
            await sw.sim.get("/_sim/requests", params={"path_prefix": "/api/v2/token/refresh"})
        ).json()
        assert len(calls["requests"]) == 1
        again = await sw.worker.db.collection("shops").find_one({"_id": sw.shop})
        assert again is not None
        assert again["access_token"] != stored["access_token"]


# --- 7: a pull that outlasts the consumer's poll limit ------------------------------------------


async def committed_everything(worker: Worker) -> bool:
    """Whether the command consumers committed every command on their topic (none will be
    delivered again)."""
    settings = worker.settings
    probe = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=settings.kafka_group_id,
        enable_auto_commit=False,
    )
    await probe.start()
    try:
        partitions = [
            TopicPartition(settings.topic_admin_commands, p)
            for p in sorted(probe.partitions_for_topic(settings.topic_admin_commands) or ())
        ]
        ends = await probe.end_offsets(partitions)
        for partition in partitions:
            if (await probe.committed(partition) or 0) != ends[partition]:
                return False
        return True
    finally:
        await probe.stop()


async def test_a_pull_longer_than_the_poll_limit_completes_once(
    services: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO, logger="aiokafka")
    poll_limit_ms = 3000
    async with sim_worker(services, settings={"kafka_max_poll_interval_ms": poll_limit_ms}) as sw:
        await sw.sim_post("/_sim/generate", {"shop_id": sw.shop, "orders": 400})
        # Every page of the pull takes a while: the whole pull outlasts the poll limit.
        await sw.sim_post("/_sim/faults", {"latency_ms": 1500})
        settings = sw.worker.settings
        async with AdminClient(
            settings.kafka_bootstrap_servers,
            command_topic=settings.topic_admin_commands,
            timeout=30,
        ) as admin:
            loop_time = asyncio.get_running_loop().time
            started = loop_time()
            reply = await admin.ask(c.SyncOrders(shop_id=sw.shop), r.SyncedReply)
            assert loop_time() - started < poll_limit_ms / 1000  # answered within the limit
            assert reply.job is not None
            assert reply.job.status == "running"

            async def job() -> r.JobReply:
                return await admin.ask(c.GetJob(id=reply.job.id, shop_id=sw.shop), r.JobReply)

            done = await eventually(job, until=lambda j: j.job.status != "running", timeout=60)
        assert loop_time() - started > poll_limit_ms / 1000  # the pull did outlast the limit
        assert (done.job.status, done.job.done, done.job.failed) == ("completed", 400, 0)
        assert await eventually(lambda: committed_everything(sw.worker), timeout=30)
        jobs = (await sw.admin.get("/jobs", params={"kind": "orders.sync"})).json()
        assert jobs["total"] == 1  # the command never ran again
        assert await sw.worker.db.collection("orders").count_documents({"shop_id": sw.shop}) == 400
        # No consumer outlasted the limit and left its group (another worker would then have
        # been handed the command, uncommitted, and run it again).
        assert not [r for r in caplog.records if "LeaveGroup" in r.getMessage()]
