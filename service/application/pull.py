"""Pulling a whole collection from TikTok into ours, one item at a time."""

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TypeVar

from contracts import replies as r
from service.application.errors import TikTokFailed
from service.application.tiktok_errors import describe

T = TypeVar("T")


async def pull(
    items: AsyncIterator[T], apply: Callable[[T], Awaitable[object]], noun: str
) -> r.SyncedReply:
    """Apply every item; a failure part-way says how far it got (what was applied stays)."""
    synced = 0
    try:
        async for item in items:
            await apply(item)
            synced += 1
    except Exception as exc:
        raise TikTokFailed(
            f"{noun.capitalize()} sync stopped after {synced} {noun}: {describe(exc)}"
        ) from exc
    return r.SyncedReply(synced=synced)
