"""The dead-letter path of the worker's webhook subscriber, on the real broker and database.

- A webhook whose handler keeps failing is tried `retries.MESSAGE.attempts` times with growing
  pauses, then published to the dead-letter topic with headers naming the topic, partition and
  offset it came from and the reason, and only then is its offset committed.
- When the dead-letter publish itself fails, nothing is committed: the message comes back, and
  once the dead-letter topic takes it, it is set aside after all.
"""

import json
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from typing import Any

import pytest
import stamina.instrumentation
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from aiokafka.structs import RecordMetadata

from service import retries
from service.adapters.kafka import headers
from service.bootstrap import Worker
from service.domain.orders import order_id_for
from service.domain.time import utcnow
from service.settings import Settings
from tests.conftest import Outcomes, make_settings, run_topic
from tests.kafka_tools import (
    TopicReader,
    committed_offset,
    delete_topics,
    publish_raw,
    read_to_end,
    tiktok_webhook,
)
from tests.support import eventually, fresh, holds

pytestmark = pytest.mark.integration


@pytest.fixture
def retries_seen() -> Iterator[list[stamina.instrumentation.RetryDetails]]:
    """Every retry stamina schedules while the test runs (the policy's own account)."""
    seen: list[stamina.instrumentation.RetryDetails] = []
    before = stamina.instrumentation.get_on_retry_hooks()
    stamina.instrumentation.set_on_retry_hooks([*before, seen.append])
    yield seen
    stamina.instrumentation.set_on_retry_hooks(before)


def header_map(record: Any) -> dict[str, str]:
    return {name: bytes(value).decode() for name, value in record.headers or ()}


def origin_of(landed: RecordMetadata) -> dict[str, str]:
    return {
        headers.ORIGIN_TOPIC: landed.topic,
        headers.ORIGIN_PARTITION: str(landed.partition),
        headers.ORIGIN_OFFSET: str(landed.offset),
    }


async def test_a_webhook_that_keeps_failing_is_retried_with_backoff_then_dead_lettered(
    worker: Worker,
    settings: Settings,
    shop: str,
    outcomes: Outcomes,
    retries_seen: list[stamina.instrumentation.RetryDetails],
) -> None:
    # A stored order the service cannot read (a status outside its vocabulary, as an older
    # version or a hand edit might leave): every attempt of the webhook's handler fails.
    marker = f"unreadable-{uuid.uuid4().hex[:8]}"
    now = utcnow()
    await worker.db.collection("orders").insert_one(
        {
            "_id": order_id_for(shop, "bad-1"),
            "shop_id": shop,
            "external_order_id": "bad-1",
            "status": marker,
            "created_at": now,
            "updated_at": now,
        }
    )
    message = tiktok_webhook(
        1, shop, {"order_id": "bad-1", "order_status": "IN_TRANSIT", "update_time": 1700000000}
    )
    key = f"{shop}:bad-1".encode()
    async with TopicReader(settings.kafka_bootstrap_servers, settings.topic_dead_letter) as dead:
        landed = await publish_raw(settings, settings.topic_webhooks, message.to_json(), key=key)

        async def set_aside() -> list[Any]:
            await dead.poll()
            return [
                r
                for r in dead.records
                if header_map(r).get(headers.ORIGIN_OFFSET) == str(landed.offset)
                and header_map(r).get(headers.ORIGIN_PARTITION) == str(landed.partition)
            ]

        # 4 attempts with pauses of about 0.2, 0.4 and 0.8 s: well inside the deadline.
        [record] = await eventually(set_aside, timeout=30)

    found = header_map(record)
    assert {k: found[k] for k in origin_of(landed)} == origin_of(landed)
    assert found[headers.ORIGIN_TOPIC] == settings.topic_webhooks
    assert "validation error for ChannelOrder" in found[headers.FAILURE_REASON]
    assert marker in found[headers.FAILURE_REASON]
    assert (record.key, record.value) == (key, message.to_json())  # the message as it came
    assert found["content-type"] == "application/json"  # its own headers are carried over

    # Bounded: exactly attempts - 1 retries of this failure, each after a longer pause.
    ours = [r for r in retries_seen if marker in str(r.caused_by)]
    assert [r.retry_num for r in ours] == list(range(1, retries.MESSAGE.attempts or 0))
    for r in ours:
        low = retries.MESSAGE.delay(r.retry_num)
        assert low <= r.wait_for <= low + retries.MESSAGE.wait_jitter, (r.retry_num, r.wait_for)
    assert outcomes.of(message.notification_id)[-1] == "failed"

    # Set aside, then committed: the partition moves on, and nothing of it was applied.
    async def committed() -> int | None:
        return await committed_offset(
            settings.kafka_bootstrap_servers,
            f"{settings.kafka_group_id}-webhooks",
            landed.topic,
            landed.partition,
        )

    await eventually(committed, until=lambda offset: (offset or 0) > landed.offset)
    inbox = await worker.db.collection("webhook_events").find_one({"_id": message.notification_id})
    assert inbox is None  # a failure is not recorded as handled: a replay may apply it
    stored = await worker.db.collection("orders").find_one({"_id": order_id_for(shop, "bad-1")})
    assert stored is not None
    assert stored["status"] == marker
    await worker.db.collection("orders").delete_one({"_id": order_id_for(shop, "bad-1")})


# --- when the dead-letter topic refuses ------------------------------------------------------

#: The dead-letter topic of the next test takes records of at most this many bytes at first.
SMALL = 512


@pytest.fixture
async def refusing_dead_letters(services: dict[str, str]) -> AsyncIterator[Worker]:
    """A worker of its own whose dead-letter topic refuses records over `SMALL` bytes (made
    before the worker starts, so the worker keeps it as it is)."""
    name = uuid.uuid4().hex[:8]
    settings = make_settings(
        services,
        kafka_group_id=f"test-dlq-{name}",
        topic_webhooks=run_topic(f"dlq-{name}.webhooks"),
        topic_admin_commands=run_topic(f"dlq-{name}.commands"),
        topic_events=run_topic(f"dlq-{name}.events"),
        topic_dead_letter=run_topic(f"dlq-{name}.dead-letter"),
    )
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        small = NewTopic(
            settings.topic_dead_letter, 1, 1, topic_configs={"max.message.bytes": str(SMALL)}
        )
        await admin.create_topics([small])
    finally:
        await admin.close()
    worker = Worker(settings)
    await worker.start()
    try:
        yield worker
    finally:
        await worker.stop()
        await delete_topics(
            settings.kafka_bootstrap_servers,
            names=[
                settings.topic_webhooks,
                settings.topic_admin_commands,
                settings.topic_events,
                settings.topic_dead_letter,
            ],
        )


async def refused(caplog: pytest.LogCaptureFixture, landed: RecordMetadata, *, times: int) -> None:
    """Wait until the worker tried `times` times to set the record at `landed` aside (it logs
    each try before it publishes)."""

    async def tries() -> int:
        return sum(
            1
            for r in caplog.records
            if "dead-lettered" in r.getMessage()
            and f"'{headers.ORIGIN_OFFSET}': '{landed.offset}'" in r.getMessage()
            and f"'{headers.ORIGIN_TOPIC}': '{landed.topic}'" in r.getMessage()
        )

    await eventually(tries, until=lambda n: n >= times, timeout=30)


async def allow_large_records(settings: Settings) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        resource = ConfigResource(
            ConfigResourceType.TOPIC,
            settings.topic_dead_letter,
            configs={"max.message.bytes": str(2 * 1024 * 1024)},
        )
        await admin.alter_configs([resource])
    finally:
        await admin.close()


async def test_when_the_dead_letter_publish_fails_the_message_comes_back_uncommitted(
    refusing_dead_letters: Worker, caplog: pytest.LogCaptureFixture
) -> None:
    worker = refusing_dead_letters
    settings = worker.settings
    poison = b"{not json: " + b"x" * (4 * SMALL)  # can never be read, too big to set aside
    landed = await publish_raw(settings, settings.topic_webhooks, poison, key=b"poison")

    async def committed() -> int | None:
        return await committed_offset(
            settings.kafka_bootstrap_servers,
            f"{settings.kafka_group_id}-webhooks",
            landed.topic,
            landed.partition,
        )

    with caplog.at_level(logging.INFO):
        # Refused by the dead-letter topic, handed back to Kafka, read again, refused again.
        await refused(caplog, landed, times=3)
        await holds(
            committed,
            until=lambda offset: offset is None or offset <= landed.offset,
            seconds=2,
            why="the poison's offset was committed though it was never set aside",
        )
        assert await read_to_end(settings.kafka_bootstrap_servers, settings.topic_dead_letter) == []

        await allow_large_records(settings)

        async def set_aside() -> list[Any]:
            return await read_to_end(settings.kafka_bootstrap_servers, settings.topic_dead_letter)

        [record] = await eventually(set_aside, timeout=30)
    found = header_map(record)
    assert {k: found[k] for k in origin_of(landed)} == origin_of(landed)
    assert found[headers.FAILURE_REASON].startswith("unreadable:")
    assert record.value == poison
    assert await eventually(committed, until=lambda offset: offset == landed.offset + 1) == (
        landed.offset + 1
    )


async def test_a_webhook_rejected_while_the_dead_letter_topic_refuses_still_reaches_it(
    refusing_dead_letters: Worker, shop: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A readable webhook that can never apply (no order id) is recorded in the inbox as
    rejected and set aside; a failed set-aside must not make its redelivery a duplicate that
    is committed without ever reaching the dead-letter topic."""
    worker = refusing_dead_letters
    settings = worker.settings
    rejected = tiktok_webhook(1, shop, {"order_status": "UNPAID", "padding": "x" * (4 * SMALL)})
    landed = await publish_raw(
        settings, settings.topic_webhooks, rejected.to_json(), key=f"{shop}:none".encode()
    )

    async def recorded() -> Any:
        return await worker.db.collection("webhook_events").find_one(
            {"_id": rejected.notification_id}
        )

    with caplog.at_level(logging.INFO):
        await refused(caplog, landed, times=1)
    record = await recorded()
    assert str(record["outcome"]).startswith("rejected")
    await allow_large_records(settings)
    # A later webhook on the same partition is applied only after the rejected one is done.
    after = tiktok_webhook(
        1, shop, {"order_id": "next", "order_status": "UNPAID", "update_time": 1}
    )
    await publish_raw(
        settings, settings.topic_webhooks, after.to_json(), key=f"{shop}:none".encode()
    )
    await eventually(lambda: fresh(worker).orders.get_by_external(shop, "next"), timeout=30)
    dead = await read_to_end(settings.kafka_bootstrap_servers, settings.topic_dead_letter)
    assert [
        json.loads(r.value)["notificationId"]
        for r in dead
        if header_map(r).get(headers.ORIGIN_OFFSET) == str(landed.offset)
    ] == [rejected.notification_id]
