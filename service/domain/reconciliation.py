"""Reconciliation's rules: where a run starts searching, how far the next one may start, and
what counts as drift.

A run asks TikTok for what changed since the last watermark minus an overlap: TikTok's
`update_time` has one-second resolution and records changed in the same second as the newest
one seen, or changed while the last run paged, could otherwise be missed. The watermark is the
newest `update_time` a run saw, but never past the time the run started: a record stamped ahead
of our clock (TikTok's clock runs ahead, or moved back) is read again rather than have the
watermark jump past changes still to come. It moves only after a run completed. Re-reading
the overlap costs nothing but reads: applying the same version twice changes nothing (newest
update wins).
"""

from datetime import datetime, timedelta

from contracts.entities import ReconcileCounts


def search_from(watermark: datetime | None, overlap: timedelta) -> datetime | None:
    """The `update_time` to search from; None (everything) when no run completed yet."""
    return None if watermark is None else watermark - overlap


def advance(
    watermark: datetime | None, seen: datetime | None, started: datetime | None = None
) -> datetime | None:
    """The watermark after a run that started at `started` and saw `seen` as its newest update
    time: never backwards, never past `started`."""
    if seen is None:
        return watermark
    if started is not None:
        seen = min(seen, started)
    if watermark is None:
        return seen
    return max(watermark, seen)


def drift(*counts: ReconcileCounts) -> int:
    """Records whose TikTok copy differed from ours (new or changed): missed webhooks' toll."""
    return sum(c.created + c.changed for c in counts)
