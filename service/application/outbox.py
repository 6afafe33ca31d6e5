"""The outbox relay: publishes the events the unit of work hands over, then clears them.

An event is written in the same document write as the change it reports, so a crash between
the write and the publish loses nothing: a sweep finds it, at start-up (before the worker
consumes) and every `sweep_seconds` after, for what a worker that stopped for good left. A
crash between the publish and the clear publishes it again with the same `eventId`, which
subscribers use to drop the duplicate (at least once, never lost).
"""

import asyncio
import contextlib
from collections.abc import Awaitable, Callable, Sequence

import structlog

from service import retries
from service.application.ports import EventBus, OutboxEntry, OutboxStore

log = structlog.get_logger(__name__)

#: Beyond this many entries waiting in memory (Kafka away for long), the rest wait in the
#: documents for the sweep instead.
MAX_QUEUED = 10_000


class OutboxRelay:
    def __init__(
        self, store: OutboxStore, events: EventBus, *, sweep_seconds: float = 300.0
    ) -> None:
        self.store = store
        self.events = events
        self.sweep_seconds = sweep_seconds
        self._queue: list[OutboxEntry] = []
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._failures = 0
        self._swept_at_start = False

    def hand(self, entries: Sequence[OutboxEntry]) -> None:
        """Entries a commit just wrote: published as soon as the relay gets to them."""
        if len(self._queue) < MAX_QUEUED:
            self._queue.extend(entries)
        self._wake.set()

    def start(self) -> None:
        self._task = asyncio.create_task(self._run(), name="outbox-relay")

    async def sweep_first(self) -> None:
        """The start-up sweep, before the worker consumes anything: events a crash left in the
        documents go out before the events of new work about the same records. Tried once; if
        Kafka or the database is away, the running relay sweeps as soon as it can instead."""
        self._swept_at_start = await self._attempt(self.sweep)

    @property
    def backlog(self) -> int:
        """Entries handed over and not yet published."""
        return len(self._queue)

    async def stop(self, *, grace: float = 5.0) -> None:
        """Publish what is queued within `grace` seconds, then stop; the rest waits in the
        documents for the next start's sweep."""
        if self._task is None:
            return
        with contextlib.suppress(TimeoutError, Exception):
            await asyncio.wait_for(self.drain(), grace)
        self._task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._task
        self._task = None

    async def drain(self) -> None:
        """Publish and clear everything queued now."""
        while self._queue:
            entries, self._queue = self._queue[:500], self._queue[500:]
            try:
                await self.events.publish(entries)
                await self.store.clear(entries)
            except BaseException:
                self._queue[:0] = entries
                raise

    async def sweep(self) -> int:
        """Publish every entry left in the documents (by a crash, or by another worker)."""
        found: list[OutboxEntry] = [entry async for entry in self.store.pending()]
        if found:
            await self.events.publish(found)
            await self.store.clear(found)
            log.info("outbox sweep published leftovers", count=len(found))
        return len(found)

    async def _run(self) -> None:
        loop = asyncio.get_running_loop()
        # The first sweep at start-up, unless `sweep_first` did it.
        next_sweep = loop.time() + (self.sweep_seconds if self._swept_at_start else 0.0)
        while True:
            # Draining and sweeping fail on their own: a sweep that meets trouble must not
            # hold back the events just handed over, nor the other way round.
            ok = await self._attempt(self.drain)
            if loop.time() >= next_sweep:
                swept = await self._attempt(self.sweep)
                ok = ok and swept
                if swept:
                    next_sweep = loop.time() + self.sweep_seconds
            if not ok:
                # Kafka or the database is away: the entries wait (in memory and in their
                # documents) and are tried again after a pause.
                self._failures += 1
                await asyncio.sleep(retries.KAFKA_CONNECT.delay(self._failures))
                continue
            self._failures = 0
            timeout = max(0.0, next_sweep - loop.time())
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout)
            self._wake.clear()

    async def _attempt(self, step: Callable[[], Awaitable[object]]) -> bool:
        try:
            await step()
        except Exception as exc:
            log.warning("outbox relay could not publish; will retry", error=repr(exc)[:300])
            return False
        return True
