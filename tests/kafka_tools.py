"""Reading and writing topics directly, for tests that check what crossed the broker."""

import json
import random
from collections.abc import Callable
from typing import Any

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

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
) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
    await producer.start()
    try:
        await producer.send_and_wait(
            topic, value, key=key, headers=[("content-type", b"application/json")]
        )
    finally:
        await producer.stop()


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
