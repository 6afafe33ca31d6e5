"""Consumer lag per partition, for `tiktok_shop_consumer_lag`.

Every `every` seconds, for each partition assigned to one of the broker's consumers: the
partition's end offset, asked of Kafka (aiokafka's own high watermark is only refreshed by a
fetch, and a consumer busy with a batch does not fetch), minus the consumer's position. A batch
in hand counts as read; records behind it are the lag. Partitions this worker lost in a
rebalance are dropped from the metric, so the group's workers together report each partition
once. A round that Kafka does not answer within `timeout` leaves the last figures.
"""

import asyncio
import contextlib

import structlog
from faststream.kafka import KafkaBroker

from service import metrics

log = structlog.get_logger(__name__)


class LagReporter:
    def __init__(self, broker: KafkaBroker, *, every: float = 5.0, timeout: float = 3.0) -> None:
        self._broker = broker
        self._every = every
        self._timeout = timeout
        self._reported: set[tuple[str, str, str]] = set()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="consumer-lag")

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
            self._task = None
        for labels in self._reported:
            metrics.CONSUMER_LAG.remove(*labels)
        self._reported.clear()

    async def report(self) -> None:
        """One round: set the lag of every assigned partition, drop the partitions gone."""
        now: set[tuple[str, str, str]] = set()
        for subscriber in self._broker.subscribers:
            consumer = getattr(subscriber, "consumer", None)
            group = str(getattr(subscriber, "group_id", "") or "")
            if consumer is None:
                continue
            partitions = sorted(consumer.assignment())
            if not partitions:
                continue
            ends = await consumer.end_offsets(partitions)
            for partition in partitions:
                position = await consumer.position(partition)
                labels = (partition.topic, str(partition.partition), group)
                metrics.CONSUMER_LAG.labels(*labels).set(max(0, ends[partition] - position))
                now.add(labels)
        for labels in self._reported - now:
            metrics.CONSUMER_LAG.remove(*labels)
        self._reported = now

    async def _run(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self.report(), self._timeout)
            except Exception as exc:  # Kafka away, a rebalance under way: try next round
                log.debug("consumer lag not measured this round", error=repr(exc))
            await asyncio.sleep(self._every)
