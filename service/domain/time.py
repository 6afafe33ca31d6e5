"""Time in one place: timezone-aware UTC, truncated to what MongoDB stores (milliseconds)."""

from datetime import UTC, datetime, timedelta


def utcnow() -> datetime:
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def from_unix(seconds: int | float) -> datetime:
    """Raises OverflowError, OSError or ValueError for a time no datetime holds (past 9999)."""
    return datetime.fromtimestamp(seconds, UTC)


def unix_time(seconds: int | None) -> datetime | None:
    """A time TikTok sent as unix seconds; None when it sent none, 0 or less, or a time no
    datetime holds (past the year 9999): such a time says nothing."""
    if seconds is None or seconds <= 0:
        return None
    try:
        return from_unix(seconds)
    except (OverflowError, OSError, ValueError):
        return None


def later(now: datetime, previous: datetime) -> datetime:
    """A time after `previous`, so that a write guarded by the old stamp always moves it."""
    return now if now > previous else previous + timedelta(milliseconds=1)
