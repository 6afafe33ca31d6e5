"""Every retry policy of the service, one per kind of failure, stated here and nowhere else.

Retries run through stamina (exponential backoff with jitter, capped in attempts and in total
time). Which exceptions count for a kind is decided where the failure is met (the TikTok client
knows a throttled answer, the worker knows a handler failure); how often and how long to try
again is decided here.

- TIKTOK_CALL: 5 attempts, 0.5 s doubling to 30 s (or TikTok's Retry-After), 120 s in all.
  TikTok throttles (429, 36009002) and has bad minutes (5xx).
- MESSAGE: 4 attempts, 0.2 s doubling to 2 s, 30 s in all. A handler failed unexpectedly;
  then the dead-letter topic or an `internal` reply. Far below Kafka's 300 s poll limit.
- CONFLICT: 8 attempts, 10 ms doubling to 200 ms, 5 s in all. Another write changed the same
  document: read again, decide again.
- DATABASE: 10 attempts, 0.2 s doubling to 3 s, 60 s in all. The database is starting or
  failing over. A webhook waits for it with the same pauses for a third of Kafka's poll limit
  (`Policy.lasting`), since every other message would meet the same outage.
- KAFKA_CONNECT: unbounded, 0.2 s doubling to 2 s. The ingress waits for Kafka and answers
  503 meanwhile; the outbox relay waits for Kafka with the same pauses.
"""

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import stamina

#: A predicate that may also name its own wait (seconds), as stamina's backoff hooks do.
RetryOn = type[Exception] | tuple[type[Exception], ...] | Callable[[Exception], bool | float]


@dataclass(frozen=True)
class Policy:
    """How often and how long one kind of failure is tried again."""

    attempts: int | None
    timeout: float | None
    wait_initial: float
    wait_max: float
    wait_jitter: float

    def context(self, on: RetryOn) -> Any:
        """`async for attempt in POLICY.context(on=...): with attempt: ...` (stamina's
        retry context; its iterator type is not public)."""
        return stamina.retry_context(
            on=_exceptions_only(on),
            attempts=self.attempts,
            timeout=self.timeout,
            wait_initial=self.wait_initial,
            wait_max=self.wait_max,
            wait_jitter=self.wait_jitter,
        )

    def lasting(self, seconds: float) -> "Policy":
        """The same waits, tried for `seconds` in all however many attempts that takes."""
        return replace(self, attempts=None, timeout=seconds)

    def delay(self, attempt: int) -> float:
        """The wait before retry number `attempt` (1-based) without jitter, in seconds."""
        return float(min(self.wait_max, self.wait_initial * 2 ** (attempt - 1)))


def _exceptions_only(on: RetryOn) -> RetryOn:
    """stamina hands a predicate every BaseException; a cancelled task (a stop) or Ctrl-C must
    end the retries at once, not be tried again."""
    if isinstance(on, type | tuple):
        return on
    predicate = on

    def decide(exc: Exception) -> bool | float:
        return isinstance(exc, Exception) and predicate(exc)

    return decide


TIKTOK_CALL = Policy(attempts=5, timeout=120.0, wait_initial=0.5, wait_max=30.0, wait_jitter=0.5)
MESSAGE = Policy(attempts=4, timeout=30.0, wait_initial=0.2, wait_max=2.0, wait_jitter=0.2)
CONFLICT = Policy(attempts=8, timeout=5.0, wait_initial=0.01, wait_max=0.2, wait_jitter=0.02)
DATABASE = Policy(attempts=10, timeout=60.0, wait_initial=0.2, wait_max=3.0, wait_jitter=0.2)
KAFKA_CONNECT = Policy(attempts=None, timeout=None, wait_initial=0.2, wait_max=2.0, wait_jitter=0.1)

#: TikTok's Retry-After is honoured up to this many seconds; a longer one fails the call.
MAX_RETRY_AFTER = dt.timedelta(seconds=60).total_seconds()
