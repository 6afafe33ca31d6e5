"""Dead letters an operator can act on, on the real broker and database: a webhook set aside
because of a handler bug is listed, read, and (the bug fixed) replayed through the same
idempotent path, so that replaying it twice still gives one order and one event."""

import json
import os
import subprocess
import sys
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from contracts import commands as c
from contracts import replies as r
from contracts import webhooks as w
from contracts.client import AdminClient, CommandError
from service.adapters.kafka import headers
from service.application import orders
from service.application.context import Context
from service.application.messagebus import HANDLERS, Route
from service.bootstrap import Worker
from service.entrypoints.worker.asgi import worker_app
from service.settings import Settings
from tests.conftest import make_settings
from tests.kafka_tools import TopicReader, tiktok_webhook
from tests.support import ROOT, eventually, fresh, serve

pytestmark = pytest.mark.integration

PREFIX = "/admin/tiktok-shop"


class HandlerBug:
    """ORDER_STATUS_CHANGE's handler with a bug that can be fixed while the worker runs."""

    def __init__(self) -> None:
        self.fixed = False
        self.calls = 0

    async def __call__(self, webhook: w.OrderStatusChange, ctx: Context) -> str:
        self.calls += 1
        if not self.fixed:
            raise RuntimeError("status mapping bug")
        return await orders.on_order_status_change(webhook, ctx)


class Running:
    def __init__(
        self, settings: Settings, worker: Worker, bug: HandlerBug, admin: AdminClient
    ) -> None:
        self.settings = settings
        self.worker = worker
        self.bug = bug
        self.admin = admin
        self.http: httpx.AsyncClient


@pytest.fixture(scope="module")
async def running(services: dict[str, str]) -> AsyncIterator[Running]:
    run = uuid.uuid4().hex[:8]
    settings = make_settings(
        services,
        mongodb_database=f"dead_letters_{run}",
        kafka_group_id=f"dead-letters-{run}",
        topic_webhooks=f"test.{run}.webhooks",
        topic_admin_commands=f"test.{run}.commands",
        topic_events=f"test.{run}.events",
        topic_dead_letter=f"test.{run}.dead-letter",
    )
    worker = Worker(settings)
    bug = HandlerBug()
    worker.bus.handlers = {
        **HANDLERS,
        w.OrderStatusChange: Route(bug, orders.order_keys),
    }
    await worker.start()
    try:
        async with (
            AdminClient(
                settings.kafka_bootstrap_servers, command_topic=settings.topic_admin_commands
            ) as admin,
            serve(worker_app(worker, run_worker=False)) as url,
            httpx.AsyncClient(
                base_url=url + PREFIX,
                headers={"Authorization": "Bearer test-admin-token"},
                timeout=60,
            ) as http,
        ):
            state = Running(settings, worker, bug, admin)
            state.http = http
            yield state
    finally:
        await worker.db.client.drop_database(settings.mongodb_database)
        await worker.stop()


async def send(settings: Settings, message: w.WebhookMessage, key: str) -> None:
    """Publish as the ingress does: its headers name the notification, the type and the shop."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            settings.topic_webhooks,
            message.to_json(),
            key=key.encode(),
            headers=[
                (headers.NOTIFICATION_ID, message.notification_id.encode()),
                (headers.WEBHOOK_TYPE, message.webhook_type.encode()),
                (headers.SHOP_ID, (message.shop_id or "").encode()),
                ("content-type", b"application/json"),
            ],
        )
    finally:
        await producer.stop()


async def applied(worker: Worker, notification_id: str) -> bool:
    doc = await worker.db.collection("webhook_events").find_one({"_id": notification_id})
    return bool(doc and doc.get("processed_at"))


def cli(settings: Settings, *args: str) -> subprocess.CompletedProcess[str]:
    """`python -m service dead-letters ...` in a process of its own, configured like the worker."""
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "MONGODB_URI": settings.mongodb_uri.get_secret_value(),
        "MONGODB_DATABASE": settings.mongodb_database,
        "TOPIC_DEAD_LETTER": settings.topic_dead_letter,
        "LOG_LEVEL": "WARNING",
    }
    return subprocess.run(
        [sys.executable, "-m", "service", "dead-letters", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def letters_of(admin: AdminClient, shop: str) -> r.DeadLettersReply:
    return await admin.ask(c.ListDeadLetters(shop_id=shop, limit=100), r.DeadLettersReply)


async def test_a_letter_set_aside_by_a_bug_is_replayed_twice_into_one_order_and_one_event(
    running: Running, shop: str
) -> None:
    settings, worker = running.settings, running.worker
    order_key = f"{shop}:dl-1"
    webhook = tiktok_webhook(
        1, shop, {"order_id": "dl-1", "order_status": "AWAITING_SHIPMENT", "update_time": 1}
    )
    rejected = tiktok_webhook(1, shop, {"order_status": "UNPAID"})  # no order id: never applies
    async with TopicReader(settings.kafka_bootstrap_servers, settings.topic_events) as events:
        await send(settings, webhook, order_key)
        await send(settings, rejected, order_key)
        listed = await eventually(
            lambda: letters_of(running.admin, shop), until=lambda got: got.total == 2, timeout=60
        )
        # Newest first, each with its origin and why.
        newest, oldest = listed.dead_letters
        assert oldest.notification_id == webhook.notification_id
        assert oldest.reason == "failed: RuntimeError('status mapping bug')"
        assert (oldest.origin_topic, oldest.key, oldest.shop_id) == (
            settings.topic_webhooks,
            order_key,
            shop,
        )
        assert newest.notification_id == rejected.notification_id
        assert newest.reason.startswith("rejected: ORDER_STATUS_CHANGE: data.order_id")
        assert await fresh(worker).orders.get_by_external(shop, "dl-1") is None

        # Over HTTP: filtered by reason, and one letter in full.
        page = (await running.http.get("/dead-letters", params={"reason": "MAPPING BUG"})).json()
        assert [letter["id"] for letter in page["deadLetters"]] == [oldest.id]
        shown = (await running.http.get(f"/dead-letters/{oldest.id}")).json()["deadLetter"]
        assert json.loads(shown["body"]) == json.loads(webhook.to_json())
        assert shown["headers"]["x-failure-reason"] == oldest.reason

        # From the command line: the same list.
        listed_by_cli = cli(settings, "list", "--shop-id", shop, "--json")
        assert listed_by_cli.returncode == 0, listed_by_cli.stdout + listed_by_cli.stderr
        assert json.loads(listed_by_cli.stdout)["total"] == 2

        running.bug.fixed = True
        first = cli(settings, "replay", "--reason", "mapping bug", "--shop-id", shop, "--json")
        assert first.returncode == 0, first.stdout + first.stderr
        assert json.loads(first.stdout) == {"replayed": [oldest.id], "skipped": []}
        await eventually(lambda: applied(worker, webhook.notification_id), timeout=30)

        second = await running.admin.ask(c.ReplayDeadLetters(ids=[oldest.id]), r.ReplayedReply)
        assert second.replayed == [oldest.id]
        # A marker behind the second replay, in the same partition: once it is applied, so is
        # the replay (skipped as a duplicate).
        marker = tiktok_webhook(
            1, shop, {"order_id": "dl-1", "order_status": "AWAITING_SHIPMENT", "update_time": 1}
        )
        calls_before_marker = running.bug.calls
        await send(settings, marker, order_key)
        await eventually(lambda: applied(worker, marker.notification_id), timeout=30)
        # The duplicate replay never reached the handler; the marker did.
        assert running.bug.calls == calls_before_marker + 1

        # Every event the replays and the marker caused has been published once these are.
        await events.wait_for(lambda e: e.get("notificationId") == marker.notification_id)

        def webhook_received(e: dict[str, Any]) -> bool:
            return (
                e["type"] == "tiktok.webhook.received"
                and e["notificationId"] == webhook.notification_id
            )

        await events.wait_for(webhook_received)
        await events.poll()
        received_once = events.json(webhook_received)
        received = events.json(
            lambda e: e["type"] == "tiktok.order.received" and e["shopId"] == shop
        )
    assert await worker.db.collection("orders").count_documents({"shop_id": shop}) == 1
    order = await fresh(worker).orders.get_by_external(shop, "dl-1")
    assert order is not None
    assert (order.status, order.external_status) == ("confirmed", "AWAITING_SHIPMENT")
    assert len(received) == 1
    assert len(received_once) == 1
    # The topic keeps its letters; the replayed one is applied now, the rejected one (not
    # chosen by the reason, and refused as it is anyway) is still pending.
    after = await letters_of(running.admin, shop)
    assert (after.total, after.pending) == (2, 1)
    assert {letter.id: letter.applied for letter in after.dead_letters} == {
        oldest.id: True,
        newest.id: False,
    }


async def test_replaying_every_letter_of_a_shop_and_unknown_ids(
    running: Running, shop: str
) -> None:
    settings = running.settings
    running.bug.fixed = True
    unreadable_shop = tiktok_webhook(1, shop, {"order_status": "UNPAID"})
    await send(settings, unreadable_shop, f"{shop}:x")
    listed = await eventually(
        lambda: letters_of(running.admin, shop), until=lambda got: got.total == 1, timeout=60
    )
    (letter,) = listed.dead_letters

    with pytest.raises(CommandError) as refused:
        await running.admin.ask(c.ReplayDeadLetters(ids=[letter.id, "0:999999"]), r.ReplayedReply)
    assert refused.value.code == "not_found"
    assert "0:999999" in refused.value.reply.message

    answer = await running.http.post("/dead-letters/replay", json={"all": True, "shopId": shop})
    assert answer.status_code == 200, answer.text
    assert answer.json() == {"replayed": [letter.id], "skipped": []}
    # The replayed rejected webhook is skipped by the worker (its letter is still there): once
    # a marker behind it in the same partition is applied, no second letter has appeared.
    marker = tiktok_webhook(
        1, shop, {"order_id": "x", "order_status": "AWAITING_SHIPMENT", "update_time": 1}
    )
    await send(settings, marker, f"{shop}:x")
    await eventually(lambda: applied(running.worker, marker.notification_id), timeout=30)
    assert (await letters_of(running.admin, shop)).total == 1

    both = await running.http.post("/dead-letters/replay", json={"all": True, "ids": ["0:1"]})
    assert both.status_code == 400
    assert "exactly one of ids, reason or all" in both.json()["error"] + str(both.json())
    missing = await running.http.get("/dead-letters/0:999999")
    assert (missing.status_code, missing.json()["code"]) == (404, "not_found")
    malformed = await running.http.get("/dead-letters/not-an-id")
    assert malformed.status_code == 400

    gone = cli(settings, "show", "0:999999")
    assert (gone.returncode, gone.stdout.split(":")[0]) == (1, "not_found")


async def test_the_dead_letter_topic_keeps_its_letters_until_an_operator_acts(
    running: Running,
) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=running.settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        (answer,) = await admin.describe_configs(
            [
                ConfigResource(
                    ConfigResourceType.TOPIC,
                    running.settings.topic_dead_letter,
                    {"retention.ms": None},
                )
            ]
        )
    finally:
        await admin.close()
    (resource,) = answer.to_object()["resources"]
    (entry,) = resource["config_entries"]
    assert (entry["config_names"], entry["config_value"]) == ("retention.ms", "-1")
