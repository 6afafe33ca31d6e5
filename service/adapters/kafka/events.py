"""Domain events out to Kafka's events topic, keyed by the id of the entity they are about."""

import asyncio
from collections.abc import Sequence

from faststream.kafka import KafkaBroker

from service.adapters.kafka import headers
from service.application.ports import OutboxEntry


class KafkaEventBus:
    def __init__(self, broker: KafkaBroker, topic: str) -> None:
        self._broker = broker
        self._topic = topic

    async def publish(self, entries: Sequence[OutboxEntry]) -> None:
        """Send every entry and return once Kafka acknowledged them all (acks=all)."""
        await asyncio.gather(*(self._send(e) for e in entries))

    async def _send(self, entry: OutboxEntry) -> None:
        await self._broker.publish(
            entry.payload.encode(),
            self._topic,
            key=entry.key.encode(),
            headers={
                headers.EVENT_ID: entry.event_id,
                headers.EVENT_TYPE: entry.type,
                headers.SHOP_ID: entry.shop_id,
                "content-type": "application/json",
            },
        )
