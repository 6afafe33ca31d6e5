"""Bounded retries, then the dead-letter topic: a message is acknowledged only once it was
either processed or set aside with its reason, so nothing acknowledged is lost and no poison
message stops its partition.

Input that can never succeed (unreadable, failing validation) goes to the dead-letter topic at
once; other failures are retried in process with backoff (far below the poll interval). If even
the dead-letter publish fails, the exception propagates and the message is redelivered.
"""

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from faststream import BaseMiddleware
from faststream.kafka import KafkaBroker
from faststream.message import StreamMessage
from pydantic import ValidationError

from service.adapters.kafka import headers
from service.application.errors import InvalidRequest

log = logging.getLogger(__name__)

PERMANENT = (ValidationError, InvalidRequest, json.JSONDecodeError, UnicodeDecodeError)


class DeadLetter:
    """Middleware factory: FastStream builds one middleware per message."""

    def __init__(
        self, broker: KafkaBroker, topic: str, *, attempts: int = 5, backoff: float = 0.2
    ) -> None:
        self.broker = broker
        self.topic = topic
        self.attempts = attempts
        self.backoff = backoff

    def __call__(self, msg: Any, /, *, context: Any) -> "_DeadLetter":
        return _DeadLetter(msg, context=context, factory=self)


class _DeadLetter(BaseMiddleware):
    def __init__(self, msg: Any, /, *, context: Any, factory: DeadLetter) -> None:
        super().__init__(msg, context=context)
        self.factory = factory

    async def consume_scope(
        self, call_next: Callable[[StreamMessage[Any]], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        attempts = self.factory.attempts
        for attempt in range(1, attempts + 1):
            try:
                return await call_next(msg)
            except PERMANENT as exc:
                await self.set_aside(f"rejected: {exc}")
                return None
            except Exception as exc:
                if attempt == attempts:
                    log.exception("giving up after %d attempts", attempts)
                    await self.set_aside(f"failed {attempts} times: {exc!r}")
                    return None
                log.warning("attempt %d of %d failed: %r", attempt, attempts, exc)
                await asyncio.sleep(self.factory.backoff * 2 ** (attempt - 1))
        return None

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: Any = None,
    ) -> bool | None:
        # Failures before the handler ran (a body that does not decode) land here.
        if isinstance(exc_val, PERMANENT):
            await self.set_aside(f"unreadable: {exc_val}")
            return True
        return False

    async def set_aside(self, reason: str) -> None:
        record: Any = self.msg
        origin = {
            headers.ORIGIN_TOPIC: str(getattr(record, "topic", "")),
            headers.ORIGIN_PARTITION: str(getattr(record, "partition", "")),
            headers.ORIGIN_OFFSET: str(getattr(record, "offset", "")),
            headers.FAILURE_REASON: reason[:1000],
        }
        carried = {k: bytes(v).decode("utf-8", "replace") for k, v in record.headers or ()}
        log.error("dead-lettered %s: %s", origin, reason)
        await self.factory.broker.publish(
            record.value,
            self.factory.topic,
            key=record.key,
            headers={**carried, **origin},
        )
