"""Reconciliation: per shop, on a schedule and on demand, bring in what TikTok changed since the
last run, so that an order whose webhooks were lost still ends as TikTok has it.

A run, in order: the orders marked `needsRefresh` are fetched first (order detail 202507); then
the orders TikTok updated since the watermark minus the overlap (order search 202309 by
`update_time`), the cancellations and returns (return_refund 202602 searches) and the products
(product search 202502), each through the same idempotent path as webhooks (newest update
wins, so the overlap and a concurrent webhook change nothing twice); last the fees of delivered
orders TikTok has settled (finance 202501). Each run is recorded in `reconciliations` with what
it found, logged, and announced as `tiktok.reconciliation.finished`.

One worker reconciles a shop at a time, once per interval, however many workers run: a run
must hold the shop's lease in the database (`Reconciliations.claim`), taken atomically with the
shop's next due time. Runs are jobs: accepted at once, run in the background with the lease
renewed, closed as failed when their worker stops; no consumer handler waits for one longer
than `jobs.COMMAND_WAIT`.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Literal, TypeVar

import structlog

from contracts import commands as c
from contracts import replies as r
from contracts.entities import (
    JobFailure,
    ReconcileCounts,
    Reconciliation,
    ReconciliationTrigger,
)
from contracts.events import ReconciliationFinished
from service import retries
from service.application import catalog, jobs, orders
from service.application.context import Context
from service.application.errors import Conflict, GatewayError, InvalidRequest
from service.application.fees import FeeCheck, settle_fees
from service.application.ports import (
    DatabaseUnavailable,
    Keys,
    PageRequest,
    ReconcileLease,
    Unreadable,
    Watermarks,
)
from service.domain import reconciliation as rules
from service.domain.ids import new_id, stable_id
from service.domain.orders import order_id_for, record_requests
from service.domain.remote import RemoteOrder, RemoteProduct
from service.domain.reverse_requests import RemoteRequest
from service.domain.time import utcnow

log = structlog.get_logger(__name__)

T = TypeVar("T")

#: Orders marked needsRefresh fetched per run (50 per detail call).
REFRESH_PER_RUN = 500
#: A run keeps at most this many failure reasons; the counts count them all.
MAX_FAILURES = 100


@dataclass
class _Tally:
    """What a run found so far."""

    orders: ReconcileCounts = field(default_factory=ReconcileCounts)
    requests: ReconcileCounts = field(default_factory=ReconcileCounts)
    products: ReconcileCounts = field(default_factory=ReconcileCounts)
    refreshed: int = 0
    failures: list[JobFailure] = field(default_factory=list)
    newest_order: datetime | None = None
    newest_request: datetime | None = None
    newest_product: datetime | None = None
    # What failed already, by counts and ref: an order the refresh could not read is listed
    # again by the search, and is still one failed order.
    failed: set[tuple[int, str]] = field(default_factory=set)

    def fail(self, counts: ReconcileCounts, ref: str, error: str) -> None:
        if (id(counts), ref) in self.failed:
            return
        self.failed.add((id(counts), ref))
        counts.failed += 1
        if len(self.failures) < MAX_FAILURES:
            self.failures.append(JobFailure(ref=ref, error=error))

    def readable(self, fetched: list[RemoteOrder | Unreadable]) -> list[RemoteOrder]:
        """The orders that could be read; each other one counted as a failed order."""
        found: list[RemoteOrder] = []
        for item in fetched:
            if isinstance(item, Unreadable):
                self.fail(self.orders, item.ref, item.reason)
            else:
                found.append(item)
        return found


def _newest(held: datetime | None, seen: datetime | None) -> datetime | None:
    return rules.advance(held, seen)


Outcome = Literal["created", "changed", "unchanged"]
#: What became of one record: its outcome, or (TikTok id, why it failed).
Result = Outcome | tuple[str, str]


def _outcome(before: object | None, after: object | None) -> Outcome:
    if before is None:
        return "created"
    return "unchanged" if before == after else "changed"


def _count(tally: _Tally, counts: ReconcileCounts, results: list[Result]) -> None:
    for result in results:
        if isinstance(result, tuple):
            tally.fail(counts, *result)
        else:
            setattr(counts, result, getattr(counts, result) + 1)


# --- commands -------------------------------------------------------------------------------


class _LeaseBusy(Exception):
    """Another worker holds the shop's lease and no run of it is recorded as running."""


async def _start_or_running(
    ctx: Context, shop_id: str
) -> "tuple[Reconciliation, asyncio.Event] | r.ReconciliationReply":
    started = await start(ctx, shop_id, "command", due_only=False)
    if started is not None:
        return started
    running, _ = await ctx.reconciliations.history(shop_id, PageRequest(1, 1))
    if running and running[0].status == "running":
        return r.ReconciliationReply(reconciliation=running[0])
    raise _LeaseBusy(f"A reconciliation of shop {shop_id} is starting; try again")


async def reconcile_orders(cmd: c.ReconcileOrders, ctx: Context) -> r.ReconciliationReply:
    """`orders.reconcile`: start a run now (whatever the schedule says) and answer it once done,
    or after `jobs.COMMAND_WAIT` seconds in progress. While another run of the shop is going,
    answers that one."""
    shop_id = ctx.shop(cmd.shop_id)
    ctx.require_tiktok(shop_id)
    # The lease may be held for a moment with no run recorded as running (one starting, or one
    # just finished and letting go): asked again with `retries.CONFLICT`'s pauses, then a 409.
    started: tuple[Reconciliation, asyncio.Event] | r.ReconciliationReply | None = None
    try:
        async for attempt in retries.CONFLICT.context(on=_LeaseBusy):
            with attempt:
                started = await _start_or_running(ctx, shop_id)
    except _LeaseBusy as exc:
        raise Conflict(str(exc)) from None
    if started is None:
        raise AssertionError("unreachable: the last attempt returns or raises")
    if isinstance(started, r.ReconciliationReply):
        return started
    record, finished = started
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(finished.wait(), jobs.COMMAND_WAIT)
    return r.ReconciliationReply(
        reconciliation=await ctx.reconciliations.get(shop_id, record.id) or record
    )


async def list_reconciliations(cmd: c.ListReconciliations, ctx: Context) -> r.ReconciliationsReply:
    """`reconciliations.list`: the shop's runs, newest first."""
    runs, total = await ctx.reconciliations.history(
        ctx.shop(cmd.shop_id), PageRequest(cmd.page, cmd.limit)
    )
    return r.ReconciliationsReply(reconciliations=runs, total=total)


# --- the schedule ---------------------------------------------------------------------------


async def shops_to_reconcile(ctx: Context) -> list[str]:
    """The default shop (when configured) and every shop authorized by OAuth, bar blocked ones."""
    shops = [ctx.config.default_shop_id] if ctx.config.configured else []
    shops += await ctx.reconciliations.shops()
    return [s for s in dict.fromkeys(shops) if ctx.tiktok.enabled(s)]


async def schedule(new_context: Callable[[], Context]) -> None:
    """Every worker runs this loop; each shop is reconciled by whichever worker claims it first
    once it is due (every `reconcile_interval` seconds). Returns at once when the interval is
    0; otherwise runs until cancelled. A failure (the database away) is logged and tried again
    at the next tick."""
    ctx = new_context()
    interval = ctx.config.reconcile_interval
    if interval <= 0:
        return
    # Ticks well inside the interval, so that a shop waits at most a quarter interval past due.
    tick = min(max(interval / 4, 0.2), 30.0)
    log.info("reconciliation scheduled", interval=interval)
    while True:
        try:
            for shop_id in await shops_to_reconcile(ctx):
                await start(ctx, shop_id, "schedule", due_only=True)
        except (DatabaseUnavailable, GatewayError) as exc:
            log.warning("reconciliation schedule skipped a tick", error=str(exc))
        except Exception:
            log.exception("reconciliation schedule failed a tick")
        await asyncio.sleep(tick)


async def start(
    ctx: Context, shop_id: str, trigger: ReconciliationTrigger, *, due_only: bool
) -> tuple[Reconciliation, asyncio.Event] | None:
    """Claim the shop's lease and start a run in the background; None when another run holds
    the lease or (`due_only`) the shop is not due yet."""
    run_id = new_id()
    lease = await ctx.reconciliations.claim(
        shop_id,
        run_id,
        interval=timedelta(seconds=max(ctx.config.reconcile_interval, 0)),
        due_only=due_only,
    )
    if lease is None:
        return None
    overlap = timedelta(seconds=ctx.config.reconcile_overlap)
    record = Reconciliation(
        id=run_id,
        shop_id=shop_id,
        trigger=trigger,
        status="running",
        since=rules.search_from(lease.watermarks.orders, overlap),
        started_at=utcnow(),
    )
    try:
        await ctx.reconciliations.insert(record)
    except BaseException:
        await ctx.reconciliations.release(lease, watermarks=None, fees_cursor=lease.fees_cursor)
        raise
    finished = asyncio.Event()
    ctx.spawner.spawn(_run(ctx, lease, record, finished), name=f"reconcile-{shop_id}-{run_id}")
    log.info("reconciliation started", shop_id=shop_id, reconciliation_id=run_id, trigger=trigger)
    return record, finished


# --- a run ----------------------------------------------------------------------------------


async def _run(
    ctx: Context, lease: ReconcileLease, record: Reconciliation, finished: asyncio.Event
) -> None:
    shop_id = lease.shop_id
    tally = _Tally()
    fees = FeeCheck(cursor=lease.fees_cursor)
    watermarks: Watermarks | None = None
    renewing = asyncio.create_task(_renew(ctx, lease))
    overlap = timedelta(seconds=ctx.config.reconcile_overlap)
    marks = lease.watermarks
    with structlog.contextvars.bound_contextvars(shop_id=shop_id, reconciliation_id=record.id):
        try:
            await _refresh(ctx, shop_id, tally)
            await _orders(ctx, shop_id, rules.search_from(marks.orders, overlap), tally)
            await _requests(ctx, shop_id, rules.search_from(marks.requests, overlap), tally)
            await _products(ctx, shop_id, rules.search_from(marks.products, overlap), tally)
            fees = await settle_fees(ctx, shop_id, lease.fees_cursor)
            started = record.started_at
            watermarks = Watermarks(
                orders=rules.advance(marks.orders, tally.newest_order, started),
                requests=rules.advance(marks.requests, tally.newest_request, started),
                products=rules.advance(marks.products, tally.newest_product, started),
            )
            outcome = record.model_copy(update={"status": "completed"})
        except asyncio.CancelledError:
            with contextlib.suppress(Exception):
                await _close(
                    ctx, lease, record, tally, fees, None, "Interrupted: the worker stopped"
                )
            finished.set()
            raise
        except GatewayError as exc:
            outcome = record.model_copy(update={"status": "failed", "error": exc.message})
        except Exception as exc:
            log.exception("reconciliation failed")
            outcome = record.model_copy(update={"status": "failed", "error": repr(exc)})
        finally:
            renewing.cancel()
        try:
            await _close(ctx, lease, outcome, tally, fees, watermarks, outcome.error)
        finally:
            finished.set()


async def _close(
    ctx: Context,
    lease: ReconcileLease,
    record: Reconciliation,
    tally: _Tally,
    fees: FeeCheck,
    watermarks: Watermarks | None,
    error: str | None,
) -> None:
    """Record the run's outcome with its event, free the lease, log it, report its drift per
    entity to the observer (the reconciliation drift metric)."""
    drift = rules.drift(tally.orders, tally.requests)
    final = record.model_copy(
        update={
            "status": "failed" if error else record.status,
            "error": error,
            "orders": tally.orders,
            "requests": tally.requests,
            "products": tally.products,
            "refreshed": tally.refreshed,
            "fees_settled": fees.settled,
            "failures": (tally.failures + fees.failures)[:MAX_FAILURES],
            "drift": drift,
            "watermark": watermarks.orders if watermarks else None,
            "completed_at": utcnow(),
        }
    )
    event = ReconciliationFinished(
        event_id=stable_id("reconciliation.finished", final.id),
        shop_id=final.shop_id,
        occurred_at=final.completed_at or utcnow(),
        reconciliation=final,
    )
    await ctx.reconciliations.finish(final, [event])
    await ctx.reconciliations.release(lease, watermarks=watermarks, fees_cursor=fees.cursor)
    log.info(
        "reconciliation finished",
        status=final.status,
        error=final.error,
        orders=final.orders.model_dump(),
        requests=final.requests.model_dump(),
        products=final.products.model_dump(),
        refreshed=final.refreshed,
        fees_settled=final.fees_settled,
        drift=drift,
    )
    if final.status == "completed":
        for entity, counts in (
            ("orders", final.orders),
            ("requests", final.requests),
            ("products", final.products),
        ):
            ctx.observer.reconciled(entity, rules.drift(counts))


async def _renew(ctx: Context, lease: ReconcileLease) -> None:
    while True:
        await asyncio.sleep(jobs.HEARTBEAT_SECONDS)
        with contextlib.suppress(DatabaseUnavailable):
            await ctx.reconciliations.renew(lease)


async def _pages(records: AsyncIterator[T | Unreadable]) -> AsyncIterator[list[T | Unreadable]]:
    page: list[T | Unreadable] = []
    async for record in records:
        page.append(record)
        if len(page) >= jobs.PAGE:
            yield page
            page = []
    if page:
        yield page


async def _apply_orders(
    ctx: Context, shop_id: str, batch: list[RemoteOrder], counts: ReconcileCounts, tally: _Tally
) -> None:
    """Apply TikTok's copies of orders, a unit of work for the batch, counting what changed."""

    async def apply(unit: Context) -> list[Result]:
        await unit.uow.load(
            Keys(order_ids={order_id_for(shop_id, o.external_order_id) for o in batch})
        )
        results: list[Result] = []
        for remote in batch:
            before = await unit.uow.orders.get_by_external(shop_id, remote.external_order_id)
            try:
                await orders.apply_remote_order(unit, shop_id, remote)
            except (InvalidRequest, ValueError) as exc:
                results.append((remote.external_order_id, getattr(exc, "message", str(exc))))
                continue
            after = await unit.uow.orders.get_by_external(shop_id, remote.external_order_id)
            results.append(_outcome(before, after))
        return results

    _count(tally, counts, await ctx.in_own_unit(apply))


async def _refresh(ctx: Context, shop_id: str, tally: _Tally) -> None:
    """The orders a webhook could only mark `needsRefresh` (no API then): fetched first. One
    TikTok answers but that cannot be read is listed as failed and stays flagged."""
    ids = await ctx.reconciliations.needing_refresh(shop_id, REFRESH_PER_RUN)
    if not ids:
        return
    fetched = tally.readable(await ctx.tiktok.order_details(shop_id, ids))
    for start in range(0, len(fetched), jobs.PAGE):
        await _apply_orders(ctx, shop_id, fetched[start : start + jobs.PAGE], tally.orders, tally)
    tally.refreshed = len(fetched)


async def _orders(ctx: Context, shop_id: str, since: datetime | None, tally: _Tally) -> None:
    async for page in _pages(ctx.tiktok.orders_changed(shop_id, since)):
        batch: list[RemoteOrder] = []
        for item in page:
            if isinstance(item, Unreadable):
                tally.fail(tally.orders, item.ref, item.reason)
            else:
                batch.append(item)
                tally.newest_order = _newest(tally.newest_order, item.updated_at)
        if batch:
            await _apply_orders(ctx, shop_id, batch, tally.orders, tally)


async def _requests(ctx: Context, shop_id: str, since: datetime | None, tally: _Tally) -> None:
    async for page in _pages(ctx.tiktok.requests_changed(shop_id, since)):
        batch: list[RemoteRequest] = []
        for item in page:
            if isinstance(item, Unreadable):
                tally.fail(tally.requests, item.ref, item.reason)
            else:
                batch.append(item)
                tally.newest_request = _newest(tally.newest_request, item.updated_at)
        missing = await _missing_orders(ctx, shop_id, {q.order_id for q in batch})
        if missing:
            fetched = tally.readable(await ctx.tiktok.order_details(shop_id, sorted(missing)))
            await _apply_orders(ctx, shop_id, fetched, tally.orders, tally)

        async def apply(unit: Context, batch: list[RemoteRequest] = batch) -> list[Result]:
            await unit.uow.load(Keys(order_ids={order_id_for(shop_id, q.order_id) for q in batch}))
            results: list[Result] = []
            now = utcnow()
            for remote in batch:
                order = await unit.uow.orders.get_by_external(shop_id, remote.order_id)
                if order is None:
                    results.append((remote.id, f"TikTok's order {remote.order_id} is not known"))
                    continue
                known = any(
                    (q.kind, q.id) == (remote.kind, remote.id) for q in order.reverse_requests
                )
                change = record_requests(order, [remote], now)
                if change is None:
                    results.append("unchanged")
                    continue
                unit.uow.orders.save(change.order, change.events)
                results.append("changed" if known else "created")
            return results

        _count(tally, tally.requests, await ctx.in_own_unit(apply))


async def _missing_orders(ctx: Context, shop_id: str, external_ids: set[str]) -> set[str]:
    unit = ctx.fresh()
    await unit.uow.load(Keys(order_ids={order_id_for(shop_id, i) for i in external_ids}))
    return {i for i in external_ids if await unit.uow.orders.get_by_external(shop_id, i) is None}


async def _products(ctx: Context, shop_id: str, since: datetime | None, tally: _Tally) -> None:
    async for page in _pages(ctx.tiktok.products_changed(shop_id, since)):
        batch: list[RemoteProduct] = []
        for item in page:
            if isinstance(item, Unreadable):
                tally.fail(tally.products, item.ref, item.reason)
            else:
                batch.append(item)
                tally.newest_product = _newest(tally.newest_product, item.updated_at)

        async def apply(unit: Context, batch: list[RemoteProduct] = batch) -> list[Result]:
            await unit.uow.load(
                Keys(listing_products={(shop_id, p.external_product_id) for p in batch})
            )
            results: list[Result] = []
            for product in batch:
                held = await unit.uow.listings.get_by_external(shop_id, product.external_product_id)
                if held is not None and product.status in (None, held.status):
                    results.append("unchanged")
                    continue
                await catalog.apply_remote_product(unit, shop_id, product)
                results.append("created" if held is None else "changed")
            return results

        _count(tally, tally.products, await ctx.in_own_unit(apply))
