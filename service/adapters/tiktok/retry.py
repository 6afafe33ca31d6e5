"""When and how long to wait before trying a call again."""

import logging
import random
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC
from email.utils import parsedate_to_datetime
from typing import Any

import httpx

from service.adapters.tiktok.envelope import unwrap
from service.adapters.tiktok.errors import (
    TikTokApiError,
    TikTokResponseError,
    TikTokTransportError,
)

_log = logging.getLogger(__name__)

# The request never reached TikTok: safe to send again even when the call is not idempotent.
NOT_SENT_ERRORS: tuple[type[httpx.TransportError], ...] = (
    httpx.ConnectError,
    httpx.ConnectTimeout,
    httpx.PoolTimeout,
)


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 5
    base_backoff: float = 0.5
    max_backoff: float = 30.0
    max_retry_after: float = 60.0

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Exponential backoff with full jitter, but never shorter than TikTok's Retry-After."""
        ceiling = min(self.max_backoff, self.base_backoff * 2 ** (attempt - 1))
        return max(rng.uniform(0.0, ceiling), retry_after or 0.0)


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


async def send_with_retries(
    send: Callable[[], Awaitable[httpx.Response]],
    *,
    label: str,
    policy: RetryPolicy,
    idempotent: bool,
    sleep: Callable[[float], Awaitable[None]],
    rng: random.Random,
) -> Any:
    """Call ``send`` until TikTok answers ``code == 0``; return ``data``.

    Throttling is always retried (TikTok did nothing); 5xx, timeouts and dropped connections only
    for idempotent calls, since the first attempt may have taken effect. ``send`` builds a fresh
    request each time (new timestamp and signature) and takes its own rate-limit token.
    """
    for attempt in range(1, policy.max_attempts + 1):
        last = attempt == policy.max_attempts
        try:
            response = await send()
        except httpx.TransportError as exc:
            if last or not (idempotent or isinstance(exc, NOT_SENT_ERRORS)):
                raise TikTokTransportError(
                    f"{label}: {type(exc).__name__} on attempt {attempt}: {exc}"
                ) from exc
            delay = policy.delay(attempt, None, rng)
            _log.warning("%s: %s, retry %d in %.2fs", label, type(exc).__name__, attempt, delay)
            await sleep(delay)
            continue
        try:
            return unwrap(response)
        except (TikTokApiError, TikTokResponseError) as error:
            retry_after = parse_retry_after(response.headers.get("retry-after"))
            if last or not _retryable(error, idempotent):
                raise
            if retry_after is not None and retry_after > policy.max_retry_after:
                raise
            delay = policy.delay(attempt, retry_after, rng)
            _log.warning("%s: %s, retry %d in %.2fs", label, error, attempt, delay)
            await sleep(delay)
    raise AssertionError("unreachable: the last attempt returns or raises")


def _retryable(error: TikTokApiError | TikTokResponseError, idempotent: bool) -> bool:
    status = error.http_status
    if status == 429 or (isinstance(error, TikTokApiError) and error.is_throttled):
        return True
    return idempotent and status is not None and status >= 500
