"""The outbox across crashes, on the real broker and database.

An event is written in the same document write as the change it reports and published by the
relay afterwards. Two crashes matter:

- between the write and the publish: the events wait in the documents, and the next worker's
  start-up sweep publishes them;
- between the publish and the clear: the next worker publishes them again, with the same
  `eventId`, which is how subscribers drop the copy.

The first worker here is the service's `Worker` wired but never started (no relay runs, as in
a process that died after its commit); the second is started as `python -m service worker`
starts one. Each test has a database and topics of its own, so no other worker's sweep takes
its events and its sweep takes no one else's.
"""

import json
import uuid
from collections.abc import AsyncIterator, Sequence
from typing import Any

import pytest

from contracts.webhooks import WebhookMessage
from service.adapters.kafka.events import KafkaEventBus
from service.adapters.kafka.topics import ensure_topics
from service.adapters.mongo.database import OUTBOX_COLLECTIONS
from service.adapters.mongo.outbox import MongoOutbox
from service.application.outbox import OutboxRelay
from service.application.ports import OutboxEntry
from service.bootstrap import Worker, topic_partitions
from service.domain.ids import stable_id
from service.domain.orders import order_id_for
from service.settings import Settings
from tests.conftest import make_settings, run_topic
from tests.kafka_tools import delete_topics, read_to_end, tiktok_webhook
from tests.support import eventually

pytestmark = pytest.mark.integration


@pytest.fixture
async def own(services: dict[str, str]) -> AsyncIterator[Settings]:
    """Settings with a database and topics of the test's own (dropped and deleted after)."""
    name = uuid.uuid4().hex[:8]
    settings = make_settings(
        services,
        mongodb_database=f"outbox_{name}",
        kafka_group_id=f"test-outbox-{name}",
        topic_webhooks=run_topic(f"outbox-{name}.webhooks"),
        topic_admin_commands=run_topic(f"outbox-{name}.commands"),
        topic_events=run_topic(f"outbox-{name}.events"),
        topic_dead_letter=run_topic(f"outbox-{name}.dead-letter"),
    )
    await ensure_topics(settings.kafka_bootstrap_servers, topic_partitions(settings))
    try:
        yield settings
    finally:
        probe = Worker(settings)
        await probe.db.client.drop_database(settings.mongodb_database)
        await probe.db.close()
        await delete_topics(settings.kafka_bootstrap_servers, prefix=run_topic(f"outbox-{name}."))


async def written_but_not_published(settings: Settings, message: WebhookMessage) -> Worker:
    """A worker that applied `message` and committed it, then died before its relay ran."""
    crashed = Worker(settings)
    await crashed.db.ensure_indexes()
    [outcome] = await crashed.bus.apply([message])
    assert outcome.status == "applied", outcome
    return crashed


async def pending(worker: Worker) -> list[OutboxEntry]:
    return [entry async for entry in MongoOutbox(worker.db).pending()]


async def published(settings: Settings) -> list[tuple[str, dict[str, Any]]]:
    """(eventId header, payload) of every record on the events topic."""
    records = await read_to_end(settings.kafka_bootstrap_servers, settings.topic_events)
    return [(dict(r.headers)["x-event-id"].decode(), json.loads(r.value)) for r in records]


async def outbox_empty(worker: Worker) -> bool:
    for collection in OUTBOX_COLLECTIONS:
        found = await worker.db.collection(collection).find_one(
            {"outbox.event_id": {"$exists": True}}
        )
        if found is not None:
            return False
    return True


async def started(settings: Settings) -> Worker:
    worker = Worker(settings)
    await worker.start()
    return worker


def order_webhook(shop: str) -> WebhookMessage:
    return tiktok_webhook(
        1, shop, {"order_id": "o-1", "order_status": "UNPAID", "update_time": 1700000000}
    )


async def test_events_written_before_a_crash_are_published_by_the_next_workers_start_up_sweep(
    own: Settings,
) -> None:
    message = order_webhook("outbox-shop")
    crashed = await written_but_not_published(own, message)
    try:
        waiting = await pending(crashed)
        assert {e.type for e in waiting} == {"tiktok.order.received", "tiktok.webhook.received"}
        assert await published(own) == []  # nothing reached Kafka before the crash
    finally:
        await crashed.db.close()

    next_worker = await started(own)
    try:
        await eventually(lambda: outbox_empty(next_worker))
        events = await published(own)
    finally:
        await next_worker.stop()
    assert sorted(event_id for event_id, _ in events) == sorted(e.event_id for e in waiting)
    by_type = {payload["type"]: (event_id, payload) for event_id, payload in events}
    event_id, payload = by_type["tiktok.webhook.received"]
    assert event_id == payload["eventId"] == stable_id("webhook.received", message.notification_id)
    event_id, payload = by_type["tiktok.order.received"]
    assert event_id == payload["eventId"]
    assert payload["order"]["id"] == order_id_for("outbox-shop", "o-1")


class CrashBeforeClear(MongoOutbox):
    """The outbox of a worker that dies right after Kafka acknowledged its events."""

    async def clear(self, entries: Sequence[OutboxEntry]) -> None:
        raise ProcessKilled("killed between the publish and the clear")


class ProcessKilled(Exception):
    pass


async def test_events_published_but_not_cleared_before_a_crash_come_again_with_the_same_id(
    own: Settings,
) -> None:
    message = order_webhook("outbox-shop-2")
    crashed = await written_but_not_published(own, message)
    try:
        await crashed.broker.connect()
        relay = OutboxRelay(
            CrashBeforeClear(crashed.db), KafkaEventBus(crashed.broker, own.topic_events)
        )
        with pytest.raises(ProcessKilled):
            await relay.sweep()
        first = await published(own)
        assert len(first) == 2
    finally:
        await crashed.broker.stop()
        await crashed.db.close()

    next_worker = await started(own)
    try:
        await eventually(lambda: outbox_empty(next_worker))
        events = await published(own)
    finally:
        await next_worker.stop()
    # Each event twice, the copy identical to the first, id included: at least once, and a
    # subscriber that keeps the ids it saw drops the copy.
    copies: dict[str, list[dict[str, Any]]] = {}
    for event_id, payload in events:
        assert event_id == payload["eventId"]
        copies.setdefault(event_id, []).append(payload)
    assert sorted(copies) == sorted(event_id for event_id, _ in first)
    for event_id, payload in first:
        assert copies[event_id] == [payload, payload]


async def test_one_unreadable_outbox_entry_does_not_stop_the_other_events(own: Settings) -> None:
    stray = Worker(own)
    try:
        await stray.db.ensure_indexes()
        # An entry without its payload, as an old version or a hand edit might leave one.
        await stray.db.collection("orders").insert_one(
            {"_id": "stray", "outbox": [{"event_id": "e-stray", "type": "tiktok.order.received"}]}
        )
    finally:
        await stray.db.close()
    worker = await started(own)
    try:
        message = order_webhook("outbox-shop-3")
        [outcome] = await worker.bus.apply([message])
        assert outcome.status == "applied"
        expected = stable_id("webhook.received", message.notification_id)

        async def ids() -> list[str]:
            return [event_id for event_id, _ in await published(own)]

        await eventually(ids, until=lambda found: expected in found, timeout=10)
    finally:
        await worker.stop()
