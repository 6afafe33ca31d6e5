"""Domain events out to Kafka's events topic, keyed by the id of the entity they are about."""

import asyncio
from collections.abc import Sequence
from typing import Any

from faststream.kafka import KafkaBroker

from service.adapters.kafka import headers
from service.application.ports import OutboxEntry


class KafkaEventBus:
    def __init__(self, broker: KafkaBroker, topic: str) -> None:
        self._broker = broker
        self._topic = topic

    async def publish(self, entries: Sequence[OutboxEntry]) -> None:
        """Send every entry and return once Kafka acknowledged them all (acks=all).

        Raises what the producer raised for any entry (then some may have been sent: the
        relay sends them again, with the same event ids).
        """
        # Each send is queued in turn and the acknowledgements awaited together: hundreds of
        # sends awaited at once each wait on the producer's full batches, which cost about
        # ten times the CPU per event (measured: 600 against 60 microseconds).
        acks: list[asyncio.Future[Any]] = []
        try:
            for entry in entries:
                acks.append(await self._send(entry))
        except BaseException:
            for ack in acks:  # their outcome no longer matters: the relay sends them all again
                ack.add_done_callback(_ignore)
            raise
        await asyncio.gather(*acks)

    async def _send(self, entry: OutboxEntry) -> "asyncio.Future[Any]":
        return await self._broker.publish(
            entry.payload.encode(),
            self._topic,
            key=entry.key.encode(),
            headers={
                headers.EVENT_ID: entry.event_id,
                headers.EVENT_TYPE: entry.type,
                headers.SHOP_ID: entry.shop_id,
                "content-type": "application/json",
            },
            no_confirm=True,
        )


def _ignore(ack: "asyncio.Future[Any]") -> None:
    if not ack.cancelled():
        ack.exception()  # retrieved, so that asyncio does not report it as never retrieved
