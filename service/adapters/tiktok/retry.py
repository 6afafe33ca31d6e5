"""Which failed TikTok calls are sent again, and after how long.

How often and how long is `retries.TIKTOK_CALL` (stamina: exponential backoff with jitter,
capped in attempts and total time). What counts as worth another attempt is decided here, in
the backoff hook: throttling always (TikTok did nothing), after TikTok's Retry-After when it
names one and it is at most `retries.MAX_RETRY_AFTER`; TikTok's 5xx, timeouts and dropped
connections only for idempotent calls, since the first attempt may have taken effect; a
connection that was never made always, since nothing was sent.
"""

import time
from collections.abc import Awaitable, Callable
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import structlog

from service import metrics, retries
from service.adapters.tiktok.envelope import unwrap
from service.adapters.tiktok.errors import (
    TikTokApiError,
    TikTokResponseError,
    TikTokTransportError,
)
from service.adapters.tiktok.redaction import redact

_log = structlog.get_logger(__name__)

# The request never reached TikTok: safe to send again even when the call is not idempotent.
NOT_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


def parse_retry_after(value: str | None, now: float | None = None) -> float | None:
    """Seconds to wait from a Retry-After header (delta seconds or an HTTP date); None if absent."""
    if value is None or not value.strip():
        return None
    text = value.strip()
    try:
        return max(0.0, float(text))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # "-0000" dates parse naive; HTTP dates are always GMT
        when = when.replace(tzinfo=UTC)
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def backoff_hook(*, idempotent: bool, label: str = "") -> Callable[[Exception], bool | float]:
    """stamina's `on=` for one call: False (do not retry), True (retry after the policy's
    backoff), or a float (retry after that many seconds: TikTok's Retry-After)."""

    def decide(exc: Exception) -> bool | float:
        verdict = _verdict(exc, idempotent)
        if verdict is not False:
            metrics.TIKTOK_RETRIES.labels(endpoint=label, reason=_reason(exc)).inc()
            _log.warning(
                "tiktok.call.retryable_failure",
                call=label,
                error=type(exc).__name__,
                code=getattr(exc, "code", None),
                http_status=getattr(exc, "http_status", None),
                wait_seconds=None if verdict is True else verdict,
            )
        return verdict

    return decide


def _reason(exc: Exception) -> str:
    """Why an attempt is sent again (`tiktok_shop_tiktok_retries_total`)."""
    if isinstance(exc, TikTokTransportError):
        return "transport_error"
    if isinstance(exc, TikTokApiError | TikTokResponseError) and exc.is_throttled:
        return "throttled"
    return "server_error"


def _verdict(exc: Exception, idempotent: bool) -> bool | float:
    if isinstance(exc, TikTokTransportError):
        return idempotent or not exc.sent
    if isinstance(exc, TikTokApiError | TikTokResponseError):
        if exc.is_throttled:
            wait = exc.retry_after
            if wait is None:
                return True
            # A longer wait than we accept fails the call now, as throttled.
            return False if wait > retries.MAX_RETRY_AFTER else float(wait)
        return idempotent and exc.is_server_error
    return False


async def send_with_retries(
    send: Callable[[], Awaitable[httpx.Response]], *, label: str, idempotent: bool
) -> Any:
    """Call ``send`` until TikTok answers ``code == 0``; return ``data``.

    ``send`` builds a fresh request each time (new timestamp and signature) and takes its own
    rate-limit token. Raises TikTokApiError, TikTokResponseError or TikTokTransportError once
    the attempts allowed are spent or the failure is not worth another attempt.
    """
    async for attempt in retries.TIKTOK_CALL.context(
        on=backoff_hook(idempotent=idempotent, label=label)
    ):
        with attempt:
            return await _send_once(send, label, attempt.num)
    raise AssertionError("unreachable: the last attempt returns or raises")


async def _send_once(
    send: Callable[[], Awaitable[httpx.Response]], label: str, attempt: int
) -> Any:
    try:
        response = await send()
    except httpx.TransportError as exc:
        raise TikTokTransportError(
            # The auth host takes secrets in the query string: keep them out of the message.
            redact(f"{label}: {type(exc).__name__} on attempt {attempt}: {exc}"),
            sent=not isinstance(exc, NOT_SENT_ERRORS),
        ) from exc
    try:
        return unwrap(response)
    except (TikTokApiError, TikTokResponseError) as error:
        error.retry_after = parse_retry_after(response.headers.get("retry-after"))
        raise
