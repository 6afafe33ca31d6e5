"""The dead-letter topic read back for operators, and its letters published again.

The topic is the record: a letter's id is its place on the topic (`<partition>:<offset>`), its
origin and reason are the headers `DeadLetters.set_aside` wrote. Reading assigns the topic's
partitions to a consumer of no group (nothing is committed, other readers are not disturbed)
and reads up to the end offsets as they were when the call began. A replay sends the original
value, key and headers to the origin topic with `x-replay-of`, through an idempotent producer
waiting for every in-sync replica, and returns once Kafka acknowledged each record.
"""

import asyncio
import base64
import contextlib
from collections.abc import AsyncIterator, Iterable, Sequence
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

import structlog
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.errors import KafkaError

from contracts.entities import DeadLetter, DeadLetterDetail
from contracts.kafka_security import client_options
from service.adapters.kafka import headers
from service.adapters.kafka.broker import MAX_MESSAGE_BYTES
from service.application.errors import Unavailable

if TYPE_CHECKING:
    from faststream.security import BaseSecurity

log = structlog.get_logger(__name__)

#: Letters read per partition at most, the newest: a listing stays quick (and its reply small)
#: even when a partition holds far more, which would mean something else is badly wrong.
MAX_SCANNED = 50_000
#: Seconds one operation may take with the broker before it is reported unavailable; far
#: below the command consumer's poll limit.
TIMEOUT = 60.0

#: Headers the dead-letter topic adds; a replay leaves them out (and names the letter instead).
_ADDED = frozenset(
    {
        headers.ORIGIN_TOPIC,
        headers.ORIGIN_PARTITION,
        headers.ORIGIN_OFFSET,
        headers.FAILURE_REASON,
        headers.REPLAY_OF,
    }
)


def parse_letter_id(letter_id: str) -> tuple[int, int]:
    """`"<partition>:<offset>"` as two integers; ValueError when it is not that."""
    partition, _, offset = letter_id.partition(":")
    if not (partition.isdigit() and offset.isdigit()):
        raise ValueError(f"not a dead-letter id: {letter_id!r}")
    return int(partition), int(offset)


class KafkaDeadLetterArchive:
    """`DeadLetterArchive` over the dead-letter topic; opens its Kafka clients per call (an
    operator's call is rare, and so nothing is held open between them)."""

    def __init__(
        self,
        bootstrap_servers: str,
        topic: str,
        *,
        client_id: str,
        security: "BaseSecurity | None" = None,
    ) -> None:
        """`security` is the cluster's (`Settings.security()`), as for every other client."""
        self._servers = bootstrap_servers
        self._topic = topic
        self._client_id = client_id
        self._options = client_options(security)

    async def letters(self) -> list[DeadLetter]:
        async with self._reading() as consumer:
            found: list[DeadLetter] = []
            for partition in await self._partitions(consumer):
                found += [_letter(r) async for r in _read(consumer, partition, None, None)]
        found.sort(key=lambda letter: (letter.dead_lettered_at, parse_letter_id(letter.id)))
        return found

    async def letter(self, letter_id: str) -> DeadLetterDetail | None:
        try:
            partition, offset = parse_letter_id(letter_id)
        except ValueError:
            return None
        async with self._reading() as consumer:
            records = await self._records(consumer, {partition: [offset]})
        record = records.get((partition, offset))
        return None if record is None else _detail(record)

    async def replay(self, letter_ids: Sequence[str]) -> dict[str, str | None]:
        places: dict[str, tuple[int, int]] = {}
        outcomes: dict[str, str | None] = {}
        for letter_id in letter_ids:
            try:
                places[letter_id] = parse_letter_id(letter_id)
            except ValueError:
                outcomes[letter_id] = "not a dead-letter id"
        wanted: dict[int, list[int]] = {}
        for partition, offset in places.values():
            wanted.setdefault(partition, []).append(offset)
        async with self._reading() as consumer:
            records = await self._records(consumer, wanted)
        sends: list[tuple[str, ConsumerRecord[Any, Any]]] = []
        for letter_id, place in places.items():
            record = records.get(place)
            if record is None:
                outcomes[letter_id] = "no longer on the dead-letter topic"
            elif not _headers(record).get(headers.ORIGIN_TOPIC):
                outcomes[letter_id] = "no origin topic recorded"
            else:
                sends.append((letter_id, record))
        if sends:
            await self._publish(sends)
        for letter_id, _ in sends:
            outcomes[letter_id] = None
        return outcomes

    # --- Kafka ---------------------------------------------------------------------------

    @contextlib.asynccontextmanager
    async def _reading(self) -> AsyncIterator[AIOKafkaConsumer]:
        consumer = AIOKafkaConsumer(
            bootstrap_servers=self._servers,
            client_id=self._client_id,
            **self._options,
            group_id=None,
            enable_auto_commit=False,
            auto_offset_reset="earliest",
            fetch_max_bytes=4 * MAX_MESSAGE_BYTES,
            max_partition_fetch_bytes=2 * MAX_MESSAGE_BYTES,
        )
        try:
            async with asyncio.timeout(TIMEOUT):
                await consumer.start()
                yield consumer
        except (KafkaError, TimeoutError) as exc:
            raise _unavailable(exc) from exc
        finally:
            with contextlib.suppress(KafkaError):
                await consumer.stop()

    async def _partitions(self, consumer: AIOKafkaConsumer) -> list[TopicPartition]:
        # A consumer knows only the topics it was given; the admin client asks the broker.
        admin = AIOKafkaAdminClient(
            bootstrap_servers=self._servers, client_id=self._client_id, **self._options
        )
        await admin.start()
        try:
            (described,) = await admin.describe_topics([self._topic])
        finally:
            await admin.close()
        known = [p["partition"] for p in described["partitions"]]
        partitions = [TopicPartition(self._topic, p) for p in sorted(known)]
        consumer.assign(partitions)
        return partitions

    async def _records(
        self, consumer: AIOKafkaConsumer, wanted: dict[int, list[int]]
    ) -> dict[tuple[int, int], ConsumerRecord[Any, Any]]:
        """The records at the wanted offsets that the topic still holds."""
        partitions = {p.partition: p for p in await self._partitions(consumer)}
        found: dict[tuple[int, int], ConsumerRecord[Any, Any]] = {}
        for number, offsets in wanted.items():
            partition = partitions.get(number)
            if partition is None:
                continue
            targets = set(offsets)
            async for record in _read(consumer, partition, min(targets), max(targets) + 1):
                if record.offset in targets:
                    found[(number, record.offset)] = record
        return found

    async def _publish(self, sends: Iterable[tuple[str, ConsumerRecord[Any, Any]]]) -> None:
        producer = AIOKafkaProducer(
            bootstrap_servers=self._servers,
            client_id=self._client_id,
            **self._options,
            acks="all",
            enable_idempotence=True,
            max_request_size=MAX_MESSAGE_BYTES,
        )
        try:
            async with asyncio.timeout(TIMEOUT):
                await producer.start()
                pending = []
                for letter_id, record in sends:
                    kept = [(k, bytes(v)) for k, v in record.headers or () if k not in _ADDED]
                    origin = _headers(record)[headers.ORIGIN_TOPIC]
                    pending.append(
                        await producer.send(
                            origin,
                            record.value,
                            key=record.key,
                            headers=[*kept, (headers.REPLAY_OF, letter_id.encode())],
                        )
                    )
                    log.info("dead letter replayed", letter_id=letter_id, topic=origin)
                await asyncio.gather(*pending)
        except (KafkaError, TimeoutError) as exc:
            raise _unavailable(exc) from exc
        finally:
            with contextlib.suppress(KafkaError):
                await producer.stop()


async def _read(
    consumer: AIOKafkaConsumer, partition: TopicPartition, start: int | None, stop: int | None
) -> AsyncIterator[ConsumerRecord[Any, Any]]:
    """The partition's records from `start` (default: the newest MAX_SCANNED) up to `stop`
    (default: the end offset as it is now), in offset order."""
    first = (await consumer.beginning_offsets([partition]))[partition]
    end = (await consumer.end_offsets([partition]))[partition]
    stop = end if stop is None else min(stop, end)
    start = max(first, stop - MAX_SCANNED) if start is None else max(start, first)
    if start >= stop:
        return
    consumer.seek(partition, start)
    while await consumer.position(partition) < stop:
        batch = await consumer.getmany(partition, timeout_ms=1000)
        for record in batch.get(partition, []):
            if record.offset >= stop:
                return
            yield record


def _headers(record: ConsumerRecord[Any, Any]) -> dict[str, str]:
    return {k: bytes(v).decode("utf-8", "replace") for k, v in record.headers or ()}


def _int(value: str | None) -> int | None:
    return int(value) if value is not None and value.isdigit() else None


def _letter(record: ConsumerRecord[Any, Any]) -> DeadLetter:
    found = _headers(record)
    return DeadLetter(
        id=f"{record.partition}:{record.offset}",
        dead_lettered_at=datetime.fromtimestamp(record.timestamp / 1000, UTC),
        reason=found.get(headers.FAILURE_REASON, "(no reason recorded)"),
        origin_topic=found.get(headers.ORIGIN_TOPIC),
        origin_partition=_int(found.get(headers.ORIGIN_PARTITION)),
        origin_offset=_int(found.get(headers.ORIGIN_OFFSET)),
        key=None if record.key is None else bytes(record.key).decode("utf-8", "replace"),
        notification_id=found.get(headers.NOTIFICATION_ID),
        webhook_type=found.get(headers.WEBHOOK_TYPE),
        shop_id=found.get(headers.SHOP_ID),
        replay_of=found.get(headers.REPLAY_OF),
        size=len(record.value or b""),
    )


def _detail(record: ConsumerRecord[Any, Any]) -> DeadLetterDetail:
    value = bytes(record.value or b"")
    try:
        body, encoded = value.decode("utf-8"), None
    except UnicodeDecodeError:
        body, encoded = None, base64.b64encode(value).decode("ascii")
    return DeadLetterDetail(
        **_letter(record).model_dump(), headers=_headers(record), body=body, body_base64=encoded
    )


def _unavailable(exc: BaseException) -> Unavailable:
    reason = "no answer in time" if isinstance(exc, TimeoutError) else type(exc).__name__
    return Unavailable(f"Kafka is unreachable ({reason}); try again")
