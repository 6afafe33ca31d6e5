"""The dead-letter topic: a message that could not be processed, kept with its origin and the
reason, so that an operator can read, fix and replay it."""

from typing import Any

import structlog
from faststream.kafka import KafkaBroker

from service import metrics
from service.adapters.kafka import headers

log = structlog.get_logger(__name__)


class DeadLetters:
    def __init__(self, broker: KafkaBroker, topic: str) -> None:
        self._broker = broker
        self._topic = topic

    async def set_aside(self, record: Any, reason: str) -> None:
        """Publish the record's bytes, key and headers with `x-origin-topic`, `-partition`,
        `-offset` and `x-failure-reason`; return once Kafka acknowledged (raise otherwise, so
        the caller does not commit the record's offset)."""
        origin = {
            headers.ORIGIN_TOPIC: str(record.topic),
            headers.ORIGIN_PARTITION: str(record.partition),
            headers.ORIGIN_OFFSET: str(record.offset),
            headers.FAILURE_REASON: reason[:1000],
        }
        carried = {k: bytes(v).decode("utf-8", "replace") for k, v in record.headers or ()}
        log.error("dead-lettered", reason=reason[:1000], **origin)
        await self._broker.publish(
            record.value, self._topic, key=record.key, headers={**carried, **origin}
        )
        metrics.DEAD_LETTERS.labels(topic=str(record.topic), reason=_reason_kind(reason)).inc()


def _reason_kind(reason: str) -> str:
    """unreadable, rejected or failed: the first word the subscriber's reasons start with."""
    kind = reason.split(":", 1)[0].strip()
    return kind if kind in ("unreadable", "rejected") else "failed"
