"""Every admin command gets a reply: the operation's answer, or an error reply with a code.

A command that fails is never redelivered forever and never stops the consumer: rejected input
and refusals become error replies at once; unexpected failures are retried a few times, then
answered with `internal` (nothing was changed that a retry by the caller would double).
"""

import asyncio
import json
import logging
import os
import socket
from collections.abc import Awaitable, Callable
from typing import Any

import structlog
from faststream import BaseMiddleware
from faststream.kafka import KafkaBroker, KafkaResponse
from faststream.message import StreamMessage
from pydantic import ValidationError
from pymongo.errors import ConnectionFailure

from contracts.replies import ErrorReply
from service.application.errors import AppError
from service.entrypoints.validation import error_reply_from_validation

log = logging.getLogger(__name__)

ATTEMPTS = 3
BACKOFF_SECONDS = 0.2


SERVED_BY = "x-served-by"


class CommandReplies:
    """Middleware factory: FastStream builds one middleware per message."""

    def __init__(self, broker: KafkaBroker) -> None:
        self.broker = broker
        # Which worker answered: operators (and a test) can see the group share the work.
        self.instance = f"{socket.gethostname()}:{os.getpid()}"

    def __call__(self, msg: Any, /, *, context: Any) -> "_CommandReplies":
        return _CommandReplies(msg, context=context, factory=self)


class _CommandReplies(BaseMiddleware):
    def __init__(self, msg: Any, /, *, context: Any, factory: CommandReplies) -> None:
        super().__init__(msg, context=context)
        self.broker = factory.broker
        self.instance = factory.instance

    async def consume_scope(
        self, call_next: Callable[[StreamMessage[Any]], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        with structlog.contextvars.bound_contextvars(correlation_id=msg.correlation_id):
            reply = await self._reply(call_next, msg)
        return KafkaResponse(reply, headers={SERVED_BY: self.instance})

    async def _reply(
        self, call_next: Callable[[StreamMessage[Any]], Awaitable[Any]], msg: StreamMessage[Any]
    ) -> Any:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await call_next(msg)
            except AppError as exc:
                return exc.reply()
            except ValidationError as exc:
                return error_reply_from_validation(exc, argument="command")
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                return ErrorReply(code="validation_failed", message=f"Unreadable command: {exc}")
            except ConnectionFailure:
                log.warning("database unreachable (attempt %d of %d)", attempt, ATTEMPTS)
                if attempt == ATTEMPTS:
                    return ErrorReply(
                        code="unavailable", message="The database is unreachable; try again"
                    )
            except Exception:
                log.exception("command failed (attempt %d of %d)", attempt, ATTEMPTS)
                if attempt == ATTEMPTS:
                    return ErrorReply(code="internal", message="The command failed unexpectedly")
            await asyncio.sleep(BACKOFF_SECONDS * 2 ** (attempt - 1))
        raise AssertionError("unreachable")

    async def after_processed(
        self,
        exc_type: type[BaseException] | None = None,
        exc_val: BaseException | None = None,
        exc_tb: Any = None,
    ) -> bool | None:
        # A body that cannot even be decoded fails before the handler runs.
        if not isinstance(exc_val, Exception):
            return False
        raw = self.msg
        reply_to = _header(raw, "reply_to")
        correlation_id = _header(raw, "correlation_id")
        log.warning("unreadable command (correlation id %s): %s", correlation_id, exc_val)
        if reply_to:
            reply = ErrorReply(code="validation_failed", message=f"Unreadable command: {exc_val}")
            await self.broker.publish(
                reply.to_json(),
                reply_to,
                correlation_id=correlation_id,
                headers={SERVED_BY: self.instance},
            )
        return True


def _header(raw: Any, name: str) -> str | None:
    for key, value in getattr(raw, "headers", None) or ():
        if key == name:
            return bytes(value).decode("utf-8", "replace")
    return None
