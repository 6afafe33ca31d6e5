"""The pusher: sends the stock and price TikTok lacks, coalesced per listing, under the shop's
rate limit.

A stored change wakes its listing here (`wake`). A listing is pushed once no change has come
for its shop for `quiet_seconds`, or at the latest `max_delay_seconds` after the first change it
has not pushed, whichever is sooner; changes that arrive meanwhile are pushed together, so a
burst of thousands of changes for a few SKUs costs about one call per SKU. The pause is the
shop's, not the listing's, and the shop is not paused while a batch of its changes is being
stored (`storing`): during a flash sale every SKU waits for the burst to end (or for the
longest delay), instead of being pushed whenever its own changes, or the database, pause. A change
by hand (`at_once`) is pushed without waiting. Each push reads the listing afresh and sends its
newest state, so the last quantity wins. The calls themselves wait for the shop's rate limit in
the TikTok adapter.

What is pushed is marked by revision (`stockPushedRevision`, `pricePushedRevision`) after
TikTok accepted it; a change stored meanwhile stays pending and is pushed by the next round.
`resume()` (at start) wakes every listing left pending by a worker that stopped.
"""

import asyncio
import contextlib
import math
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass

import structlog

from contracts.entities import Listing
from service.application import listings
from service.application.context import Context
from service.application.errors import GatewayError

log = structlog.get_logger(__name__)

# What a light push changes on the listing: written as a patch, never over a newer change.
PUSHED_FIELDS = (
    "stock_pushed_revision",
    "price_pushed_revision",
    "tiktok_stock",
    "tiktok_stock_total",
    "tiktok_stock_updated_at",
    "push_error",
)


@dataclass
class _Due:
    first: float
    at_once: bool


class CatalogPusher:
    """Pushes pending stock and price per shop, one drain task per shop with pending listings.

    `context` makes a context with a unit of work of its own (the bus's). `concurrency` is
    the calls in flight per shop (the rate limit still paces them); `retry_seconds` how long
    a push that may work later waits.
    """

    def __init__(
        self,
        context: Callable[[], Context],
        *,
        quiet_seconds: float = 0.5,
        max_delay_seconds: float = 5.0,
        retry_seconds: float = 30.0,
        concurrency: int = 8,
    ) -> None:
        self._context = context
        self.quiet = quiet_seconds
        self.max_delay = max_delay_seconds
        self.retry = retry_seconds
        self._concurrency = concurrency
        self._pending: dict[str, dict[str, _Due]] = {}
        self._last_change: dict[str, float] = {}  # per shop
        self._storing: dict[str, int] = {}  # per shop: batches of changes being stored
        self._signals: dict[str, asyncio.Event] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._timers: set[asyncio.TimerHandle] = set()
        self._closed = False

    def wake(self, shop_id: str, listing_id: str, *, at_once: bool = False) -> None:
        """The listing has a change TikTok lacks: push it after the quiet time (now when
        `at_once`). Call from the event loop."""
        if self._closed:
            return
        loop = asyncio.get_running_loop()
        now = loop.time()
        self._last_change[shop_id] = now
        pending = self._pending.setdefault(shop_id, {})
        due = pending.get(listing_id)
        if due is None:
            pending[listing_id] = _Due(now, at_once)
        else:
            due.at_once = due.at_once or at_once
        self._signals.setdefault(shop_id, asyncio.Event()).set()
        if shop_id not in self._tasks:
            self._tasks[shop_id] = loop.create_task(self._drain(shop_id), name=f"push-{shop_id}")

    @contextlib.contextmanager
    def storing(self, shop_ids: Iterable[str]) -> Iterator[None]:
        """A batch of the shops' changes is being stored: their pause starts after it."""
        shops = set(shop_ids)
        for shop_id in shops:
            self._storing[shop_id] = self._storing.get(shop_id, 0) + 1
        try:
            yield
        finally:
            now = asyncio.get_running_loop().time()
            for shop_id in shops:
                self._storing[shop_id] -= 1
                self._last_change[shop_id] = now
                signal = self._signals.get(shop_id)
                if signal is not None:
                    signal.set()

    def pending(self) -> int:
        """Listings waiting for their push, in every shop."""
        return sum(len(p) for p in self._pending.values())

    async def resume(self) -> int:
        """Wake every listing whose stock or price was stored but not pushed (a worker stopped
        in between); how many."""
        found = await self._context().views.pending_pushes()
        for shop_id, listing_id in found:
            self.wake(shop_id, listing_id, at_once=True)
        if found:
            log.info("pending pushes resumed", listings=len(found))
        return len(found)

    async def close(self) -> None:
        """Stop pushing; what is still pending stays stored and is resumed by the next start."""
        self._closed = True
        for timer in self._timers:
            timer.cancel()
        tasks = list(self._tasks.values())
        for task in tasks:
            task.cancel()
        for task in tasks:
            with contextlib.suppress(asyncio.CancelledError):
                await task

    async def _drain(self, shop_id: str) -> None:
        loop = asyncio.get_running_loop()
        pending = self._pending[shop_id]
        signal = self._signals[shop_id]
        slots = asyncio.Semaphore(self._concurrency)
        try:
            while pending:
                now = loop.time()
                quiet_at = (
                    math.inf
                    if self._storing.get(shop_id)
                    else self._last_change.get(shop_id, now) + self.quiet
                )
                ready: list[str] = []
                next_due = math.inf
                for listing_id, due in pending.items():
                    at = now if due.at_once else min(quiet_at, due.first + self.max_delay)
                    if at <= now:
                        ready.append(listing_id)
                    else:
                        next_due = min(next_due, at)
                if not ready:
                    signal.clear()
                    with contextlib.suppress(TimeoutError):
                        await asyncio.wait_for(signal.wait(), next_due - now)
                    continue
                for listing_id in ready:
                    del pending[listing_id]
                log.info("pushing stock and price", shop_id=shop_id, listings=len(ready))

                async def bounded(listing_id: str) -> None:
                    async with slots:
                        await self._push(shop_id, listing_id)

                await asyncio.gather(*(bounded(i) for i in ready))
        finally:
            del self._tasks[shop_id]

    async def _push(self, shop_id: str, listing_id: str) -> None:
        async def work(ctx: Context) -> bool:
            listing = await ctx.uow.listings.get(shop_id, listing_id)
            if listing is None:
                return False
            return await push_pending(ctx, listing)

        try:
            again = await self._context().in_own_unit(work)
        except Exception:
            # The database or a defect: the change is stored, so try again later.
            log.exception("push failed", shop_id=shop_id, listing_id=listing_id)
            again = True
        if again:
            self._later(shop_id, listing_id)

    def _later(self, shop_id: str, listing_id: str) -> None:
        loop = asyncio.get_running_loop()

        def fire() -> None:
            self._timers.discard(handle)
            self.wake(shop_id, listing_id, at_once=True)

        handle = loop.call_later(self.retry, fire)
        self._timers.add(handle)


async def push_pending(ctx: Context, listing: Listing) -> bool:
    """Send the listing's stock and price that TikTok lacks, with the light calls: Update
    Inventory (every warehouse of the SKU) and Update Price (active products only). Record
    what TikTok accepted, or why not in `pushError`. True when a later try may work.

    A listing not on TikTok yet waits for its first push, which carries both; a listing whose
    warehouses changed is pushed whole (a full edit), since Update Inventory sends only the
    SKU's present warehouses.
    """
    shop_id = listing.shop_id
    if not ctx.tiktok.enabled(shop_id) or not listing.external_product_id:
        return False
    if listing.stock_pending and _warehouses_changed(listing):
        pushed = await listings.push(ctx, listing)
        return pushed.sync_status == "failed"
    changes: dict[str, object] = {}
    errors: list[str] = []
    retry = False
    if listing.stock_pending and listing.stock:
        try:
            copy = await ctx.tiktok.update_stock(shop_id, listing)
        except GatewayError as exc:
            errors.append(f"stock: {exc.message}")
            retry = retry or exc.retryable
        else:
            changes.update(
                stock_pushed_revision=listing.stock_revision,
                tiktok_stock=copy,
                tiktok_stock_total=sum(q.quantity for q in copy),
                # Our call's answer is TikTok's copy now; its own reports start afresh.
                tiktok_stock_updated_at=None,
            )
    if listing.price_pending and listing.status == "active":
        try:
            await ctx.tiktok.update_price(shop_id, listing)
        except GatewayError as exc:
            errors.append(f"price: {exc.message}")
            retry = retry or exc.retryable
        else:
            changes["price_pushed_revision"] = listing.price_revision
    if not changes and not errors:
        return False  # a price waiting for the product to be active
    changes["push_error"] = "; ".join(errors) or None
    if errors:
        log.warning("push refused", listing_id=listing.id, error=changes["push_error"])
    ctx.uow.listings.patch(listing.model_copy(update=changes), list(changes), [])
    return retry


def _warehouses_changed(listing: Listing) -> bool:
    if not listing.external_sku_id:
        return True
    if not listing.tiktok_stock:
        return False  # unknown: Update Inventory says if they differ
    return {s.warehouse_id for s in listing.stock} != {q.warehouse_id for q in listing.tiktok_stock}
