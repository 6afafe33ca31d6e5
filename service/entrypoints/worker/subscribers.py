"""The worker's Kafka subscribers: thin edges between Kafka and the message bus.

Both commit offsets only after the work they stand for is stored (`AckPolicy.NACK_ON_ERROR`:
FastStream's default, ACK_FIRST, commits first and loses messages). Bodies are taken as raw
bytes and parsed here, so a malformed message is answered (a command) or set aside (a webhook)
instead of failing before the handler.
"""

import os
import re
import socket
import time
from typing import Any

import structlog
from faststream.kafka import KafkaBroker
from faststream.kafka.annotations import KafkaMessage
from faststream.message import StreamMessage
from faststream.middlewares import AckPolicy
from pydantic import ValidationError

from contracts.commands import ADMIN_COMMAND
from contracts.platform import PLATFORM_EVENT, PlatformEvent
from contracts.replies import ErrorReply
from contracts.webhooks import WebhookMessage
from contracts.wire import WireModel
from service import telemetry
from service.adapters.kafka import headers
from service.adapters.kafka.dead_letters import DeadLetters
from service.application.errors import AppError
from service.application.messagebus import MessageBus
from service.entrypoints.validation import error_reply_from_validation

log = structlog.get_logger(__name__)

#: Which worker answered a command: operators (and a test) see the group share the work.
SERVED_BY = "x-served-by"
INSTANCE = f"{socket.gethostname()}:{os.getpid()}"


async def _raw(message: StreamMessage[Any]) -> bytes:
    body: bytes = message.body
    return body


async def _raw_batch(message: StreamMessage[Any]) -> list[bytes]:
    return [record.value or b"" for record in message.raw_message]


def webhook_subscriber(
    broker: KafkaBroker,
    bus: MessageBus,
    dead_letters: DeadLetters,
    *,
    topic: str,
    group_id: str,
    batch_size: int,
    max_poll_interval_ms: int,
) -> None:
    @broker.subscriber(
        topic,
        group_id=group_id,
        auto_offset_reset="earliest",
        batch=True,
        max_records=batch_size,
        batch_timeout_ms=50,
        max_poll_interval_ms=max_poll_interval_ms,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_raw_batch,
        title="webhooks",
        description="Verified TikTok webhooks, a batch at a time; each applied once.",
    )
    async def on_webhooks(bodies: list[bytes], message: KafkaMessage) -> None:
        records = message.raw_message
        readable: list[tuple[Any, WebhookMessage]] = []
        for record, body in zip(records, bodies, strict=True):
            try:
                readable.append((record, WebhookMessage.model_validate_json(body)))
            except ValidationError as exc:
                await dead_letters.set_aside(record, f"unreadable: {exc}")
        with telemetry.carrying(_trace_contexts(readable)):
            outcomes = await bus.apply([m for _, m in readable])
        for (record, _), outcome in zip(readable, outcomes, strict=True):
            if outcome.set_aside and not (outcome.recorded_before and _replayed(record)):
                # A redelivery of a rejected webhook is set aside again (its first set-aside
                # may have failed), but a replay of its letter is not: that letter is still
                # there, and a second would be its duplicate.
                await dead_letters.set_aside(record, outcome.detail)
        # Returning commits the batch's offsets: everything in it is stored or set aside.


def _trace_contexts(readable: list[tuple[Any, WebhookMessage]]) -> dict[str, Any]:
    """Each webhook's trace context, as its ingress's publish put it in the record's headers."""
    if telemetry.provider() is None:
        return {}
    return {
        message.notification_id: telemetry.extract(
            {k: bytes(v).decode("utf-8", "replace") for k, v in record.headers or ()}
        )
        for record, message in readable
    }


def _replayed(record: Any) -> bool:
    return any(name == headers.REPLAY_OF for name, _ in record.headers or ())


def platform_subscriber(
    broker: KafkaBroker,
    bus: MessageBus,
    dead_letters: DeadLetters,
    *,
    topic: str,
    group_id: str,
    batch_size: int,
    max_poll_interval_ms: int,
) -> None:
    """The platform's stock and price changes, a batch at a time: stored on the listings, then
    committed; unreadable or refused changes set aside on the dead-letter topic first."""

    @broker.subscriber(
        topic,
        group_id=group_id,
        auto_offset_reset="earliest",
        batch=True,
        max_records=batch_size,
        batch_timeout_ms=50,
        max_poll_interval_ms=max_poll_interval_ms,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        decoder=_raw_batch,
        title="platform-catalog",
        description="inventory.changed and price.changed from platform services; the newest "
        "version per product (and warehouse) is stored, then pushed to TikTok, coalesced.",
    )
    async def on_changes(bodies: list[bytes], message: KafkaMessage) -> None:
        records = message.raw_message
        readable: list[tuple[Any, PlatformEvent]] = []
        for record, body in zip(records, bodies, strict=True):
            try:
                readable.append((record, PLATFORM_EVENT.validate_json(body)))
            except ValidationError as exc:
                await dead_letters.set_aside(record, f"unreadable: {exc}"[:1000])
        started = time.perf_counter()
        outcomes = await bus.apply_platform([event for _, event in readable])
        for (record, _), outcome in zip(readable, outcomes, strict=True):
            if outcome.status in ("rejected", "failed"):
                await dead_letters.set_aside(record, outcome.detail)
        log.info(
            "platform changes stored",
            size=len(records),
            applied=sum(o.status == "applied" for o in outcomes),
            seconds=round(time.perf_counter() - started, 3),
        )
        # Returning commits the batch's offsets: every change is stored or set aside.


#: A topic name Kafka accepts (its own rule: letters, digits, `.`, `_`, `-`, up to 249).
_TOPIC_NAME = re.compile(r"^(?!\.{1,2}$)[A-Za-z0-9._-]{1,249}$")


def unusable_reply_to(reply_to: str, own_topics: frozenset[str]) -> str | None:
    """Why a command's `reply_to` cannot take its reply, or None when it can. A name Kafka
    refuses would fail the reply's publish on every redelivery, and the service's own topics
    take only what their producers write (the webhooks topic only what the ingress verified)."""
    if not _TOPIC_NAME.match(reply_to):
        return "reply_to is not a Kafka topic name"
    if reply_to in own_topics:
        return "reply_to names one of the service's own topics"
    return None


def command_subscriber(
    broker: KafkaBroker,
    bus: MessageBus,
    *,
    topic: str,
    group_id: str,
    max_poll_interval_ms: int,
    own_topics: frozenset[str] = frozenset(),
) -> None:
    @broker.subscriber(
        topic,
        group_id=group_id,
        auto_offset_reset="earliest",
        ack_policy=AckPolicy.NACK_ON_ERROR,
        max_poll_interval_ms=max_poll_interval_ms,
        decoder=_raw,
        # The reply is published here, not by FastStream: a reply that cannot be delivered must
        # not hand the command back to Kafka to run again and again.
        no_reply=True,
        title="admin-commands",
        description="Admin commands; the reply (or an ErrorReply) goes to the request's reply_to.",
    )
    async def on_command(body: bytes, message: KafkaMessage) -> None:
        with structlog.contextvars.bound_contextvars(correlation_id=message.correlation_id):
            reply_to = message.reply_to
            refusal = unusable_reply_to(reply_to, own_topics) if reply_to else None
            if refusal is not None:
                # Nobody can be told: the command is not run (its caller waits in vain, as
                # for a reply it could not read), and the next one is served.
                log.warning("command not run", reason=refusal, reply_to=reply_to[:300])
                return
            reply = await _answer(bus, body)
            if not reply_to:
                return
            try:
                await broker.publish(
                    reply,
                    topic=reply_to,
                    correlation_id=message.correlation_id,
                    headers={SERVED_BY: INSTANCE},
                )
            except Exception as exc:
                # The producer retried already; the command ran and is not run again.
                log.error("reply not delivered", reply_to=reply_to, error=repr(exc)[:300])


async def _answer(bus: MessageBus, body: bytes) -> WireModel:
    try:
        command = ADMIN_COMMAND.validate_json(body)
    except ValidationError as exc:
        if any(e["type"] == "json_invalid" for e in exc.errors()):
            return ErrorReply(code="validation_failed", message="Unreadable command: not JSON")
        return error_reply_from_validation(exc)
    try:
        return await bus.handle(command)
    except AppError as exc:
        return exc.reply()
    except Exception:
        log.exception("command failed", command=command.command)
        return ErrorReply(code="internal", message="The command failed unexpectedly")
