"""Reading and writing topics directly, for tests that check what crossed the broker."""

import json
import random
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import RecordMetadata

from contracts.webhooks import WebhookMessage
from service.domain.time import utcnow
from service.settings import Settings
from tests.support import eventually


class TopicReader:
    """Everything on a topic from its beginning, read as it arrives."""

    def __init__(self, bootstrap: str, topic: str) -> None:
        self.consumer = AIOKafkaConsumer(
            topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
        )
        self.records: list[Any] = []

    async def __aenter__(self) -> "TopicReader":
        await self.consumer.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.consumer.stop()

    async def poll(self) -> list[Any]:
        batches = await self.consumer.getmany(timeout_ms=200)
        for records in batches.values():
            self.records.extend(records)
        return self.records

    def json(
        self, where: Callable[[dict[str, Any]], bool] = lambda _: True
    ) -> list[dict[str, Any]]:
        values = [json.loads(r.value) for r in self.records]
        return [v for v in values if isinstance(v, dict) and where(v)]

    async def wait_for(
        self, where: Callable[[dict[str, Any]], bool], count: int = 1, timeout: float = 20
    ) -> list[dict[str, Any]]:
        async def found() -> list[dict[str, Any]]:
            await self.poll()
            return self.json(where)

        return await eventually(found, until=lambda got: len(got) >= count, timeout=timeout)


async def publish_raw(
    settings: Settings, topic: str, value: bytes, key: bytes | None = None
) -> RecordMetadata:
    """Publish one record; answers where it landed (partition and offset)."""
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        return await producer.send_and_wait(
            topic, value, key=key, headers=[("content-type", b"application/json")]
        )
    finally:
        await producer.stop()


async def read_to_end(bootstrap: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record on the topic now, from the earliest offset to the end offsets read at the
    start (no consumer group). Anything published before the call is in the answer."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        [described] = await admin.describe_topics([topic])
    finally:
        await admin.close()
    assert described["partitions"], f"topic {topic} does not exist"
    partitions = [TopicPartition(topic, p["partition"]) for p in described["partitions"]]
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []

        async def caught_up() -> bool:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
            return all([await consumer.position(tp) >= end[tp] for tp in partitions])

        await eventually(caught_up, timeout=20, interval=0)
        return [r for r in records if r.offset < end[TopicPartition(topic, r.partition)]]
    finally:
        await consumer.stop()


async def committed_offset(bootstrap: str, group: str, topic: str, partition: int) -> int | None:
    """The group's committed offset (the next record it will read) on one partition."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        tp = TopicPartition(topic, partition)
        offsets = await admin.list_consumer_group_offsets(group, partitions=[tp])
    finally:
        await admin.close()
    found = offsets.get(tp)
    return None if found is None or found.offset < 0 else int(found.offset)


async def delete_topics(
    bootstrap: str, *, names: list[str] | None = None, prefix: str | None = None
) -> None:
    """Delete the named topics, or every topic whose name starts with `prefix`."""
    if names is None and not prefix:
        raise ValueError("name the topics or give a prefix")
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        if names is not None:
            doomed = existing & set(names)
        else:
            doomed = {t for t in existing if prefix and t.startswith(prefix)}
        if doomed:
            await admin.delete_topics(sorted(doomed))
    finally:
        await admin.close()


def tiktok_webhook(
    webhook_type: int, shop_id: str, data: dict[str, Any], notification_id: str | None = None
) -> WebhookMessage:
    nid = notification_id or f"n-{random.getrandbits(64):x}"
    body = {
        "type": webhook_type,
        "tts_notification_id": nid,
        "shop_id": shop_id,
        "timestamp": int(utcnow().timestamp()),
        "data": data,
    }
    return WebhookMessage(
        notification_id=nid,
        source="tiktok",
        webhook_type=str(webhook_type),
        shop_id=shop_id,
        received_at=utcnow(),
        correlation_id=f"c-{nid}",
        body=body,
    )


async def events_on(
    settings: Settings, where: Callable[[dict[str, Any]], bool]
) -> list[dict[str, Any]]:
    """The events on the settings' events topic now (read to its end) that `where` picks."""
    records = await read_to_end(settings.kafka_bootstrap_servers, settings.topic_events)
    return [e for e in (json.loads(r.value) for r in records) if where(e)]


def seed_webhook(webhook_type: str, shop_id: str, payload: dict[str, Any]) -> WebhookMessage:
    import hashlib

    body = {"type": webhook_type, "payload": payload}
    nid = hashlib.sha256(json.dumps(body, sort_keys=True).encode()).hexdigest()
    return WebhookMessage(
        notification_id=nid,
        source="seed",
        webhook_type=webhook_type,
        shop_id=shop_id,
        received_at=utcnow(),
        correlation_id=f"c-{nid[:8]}",
        body=body,
    )


async def publish_many(
    bootstrap_servers: str, topic: str, messages: list[tuple[bytes | None, bytes]]
) -> None:
    """Publish (key, value) pairs in order with one producer; return once all are acknowledged."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap_servers, acks="all", linger_ms=5)
    await producer.start()
    try:
        sent = [await producer.send(topic, value, key=key) for key, value in messages]
        for future in sent:
            await future
    finally:
        await producer.stop()
