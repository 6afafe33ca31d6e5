"""Time in one place: timezone-aware UTC, truncated to what MongoDB stores (milliseconds)."""

from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def from_unix(seconds: int | float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def later(now: datetime, previous: datetime) -> datetime:
    """A time after `previous`, so that a write guarded by the old stamp always moves it."""
    return now if now > previous else previous + timedelta(milliseconds=1)
