"""Consumer lag per partition on the real broker: what a busy consumer has not fetched yet."""

import asyncio
import uuid

import pytest
from faststream.kafka import KafkaBroker
from faststream.middlewares import AckPolicy

from service import metrics
from service.adapters.kafka.lag import LagReporter
from service.adapters.kafka.topics import ensure_topics
from tests.support import eventually

pytestmark = pytest.mark.integration


def lag(topic: str, group: str) -> float | None:
    return metrics.REGISTRY.get_sample_value(
        "tiktok_shop_consumer_lag", {"topic": topic, "partition": "0", "group": group}
    )


async def test_lag_counts_the_records_behind_a_busy_handler_then_falls_to_zero(
    services: dict[str, str],
) -> None:
    topic, group = f"test.lag.{uuid.uuid4().hex[:10]}", f"test-lag-{uuid.uuid4().hex[:6]}"
    servers = services["KAFKA_BOOTSTRAP_SERVERS"]
    await ensure_topics(servers, {topic: 1})
    release = asyncio.Event()
    seen: list[bytes] = []
    broker = KafkaBroker(servers)

    @broker.subscriber(
        topic, group_id=group, auto_offset_reset="earliest", ack_policy=AckPolicy.NACK_ON_ERROR
    )
    async def handle(body: bytes) -> None:
        seen.append(body)
        await release.wait()  # the first record holds the consumer

    async with broker:
        for n in range(10):
            await broker.publish(f"record {n}".encode(), topic)
        await broker.start()
        reporter = LagReporter(broker)
        await eventually(lambda: asyncio.sleep(0, seen), until=lambda got: len(got) == 1)

        await reporter.report()
        assert lag(topic, group) == 9  # ten on the partition, one in hand

        release.set()
        await eventually(lambda: asyncio.sleep(0, seen), until=lambda got: len(got) == 10)
        await reporter.report()
        assert lag(topic, group) == 0

        await reporter.stop()
        assert lag(topic, group) is None  # no longer reported once the reporter stops
