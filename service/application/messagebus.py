"""The message bus: one handler table, one signature, for admin commands and webhooks alike.

Every message is a typed model (`contracts.commands`, `contracts.webhooks`); its handler is
`async def handler(message, ctx: Context) -> result`, found in `HANDLERS` by the message's type.
A handler reads through `ctx.uow`, decides with the domain's rules, and leaves the writing to
the unit of work, which the bus commits.

- A command runs in a unit of work of its own; its result is the reply.
- Webhooks run a batch at a time in one unit of work: what the batch touches is loaded in one
  query per collection, each webhook is applied in offset order (skipping those the inbox has
  seen), and one commit writes it all. If anything in the batch fails, the batch is run again
  one webhook at a time, so that only the bad one is set aside.
"""

import asyncio
import time
from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import structlog

from contracts import commands as c
from contracts import webhooks as w
from contracts.events import WebhookReceived
from contracts.platform import PlatformEvent
from contracts.wire import WireModel
from service import retries
from service.application import (
    budget,
    catalog,
    dead_letters,
    jobs,
    listings,
    orders,
    reconciliation,
    reverse_flows,
    shops,
    stats,
    stock,
    webhook_subscriptions,
)
from service.application.context import AppConfig, Context
from service.application.errors import (
    REJECTED,
    AppError,
    Conflict,
    InvalidRequest,
    Unavailable,
)
from service.application.observer import QUIET, Observer
from service.application.ports import (
    DatabaseUnavailable,
    DeadLetterArchive,
    Jobs,
    Keys,
    Reconciliations,
    Spawner,
    TikTokGateway,
    UnitOfWork,
    Views,
    WriteConflict,
)
from service.application.pushing import CatalogPusher
from service.domain.ids import stable_id

log = structlog.get_logger(__name__)

Handler = Callable[[Any, Context], Awaitable[Any]]


@dataclass(frozen=True)
class Route:
    """A message type's handler. `keys` names what a webhook reads, so that a batch is loaded
    at once; `repeatable` is False for commands whose handler acts on TikTok before it writes
    (a retry after a failure could act twice)."""

    handler: Handler
    keys: Callable[[Any], Keys] | None = None
    repeatable: bool = True


async def keep(webhook: w.UnknownNotification | w.UnknownSeedWebhook, ctx: Context) -> str:
    """A type the service does not act on: stored in the inbox and acknowledged."""
    return "stored"


HANDLERS: Mapping[type, Route] = {
    # admin commands
    c.CreateListing: Route(listings.create_listing),
    c.ListListings: Route(listings.list_listings),
    c.GetListing: Route(listings.get_listing),
    c.GetListingByProduct: Route(listings.get_listing_by_product),
    c.UpdateListing: Route(listings.update_listing),
    c.DeleteListing: Route(listings.delete_listing, repeatable=False),
    c.PushListing: Route(listings.push_listing, repeatable=False),
    c.SetStock: Route(stock.set_stock),
    c.SetPrice: Route(stock.set_price),
    c.ListWarehouses: Route(catalog.list_warehouses),
    c.ListCategories: Route(catalog.list_categories),
    c.GetCategoryAttributes: Route(catalog.category_attributes),
    c.StartCatalogSync: Route(catalog.start_catalog_sync, repeatable=False),
    c.ListSyncs: Route(catalog.list_syncs),
    c.GetLastSync: Route(catalog.last_sync),
    c.SyncProducts: Route(catalog.sync_products),
    c.ListOrders: Route(orders.list_orders),
    c.GetOrder: Route(orders.get_order),
    c.UpdateOrderStatus: Route(orders.update_order_status, repeatable=False),
    c.SyncOrders: Route(orders.sync_orders),
    c.GetJob: Route(jobs.get_job),
    c.ListJobs: Route(jobs.list_jobs),
    c.AuthorizeShops: Route(webhook_subscriptions.authorize_shops, repeatable=False),
    c.GetStats: Route(stats.get_stats),
    c.GetSettings: Route(webhook_subscriptions.get_settings),
    c.ListDeadLetters: Route(dead_letters.list_dead_letters),
    c.GetDeadLetter: Route(dead_letters.get_dead_letter),
    # Publishing twice is harmless (the worker dedupes) but an operator asked for once.
    c.ReplayDeadLetters: Route(dead_letters.replay_dead_letters, repeatable=False),
    # order lifecycle: webhook registration, reconciliation, seller decisions
    c.RegisterWebhooks: Route(webhook_subscriptions.register_webhooks, repeatable=False),
    c.ListWebhooks: Route(webhook_subscriptions.list_webhooks),
    c.ReconcileOrders: Route(reconciliation.reconcile_orders, repeatable=False),
    c.ListReconciliations: Route(reconciliation.list_reconciliations),
    c.ApproveCancellation: Route(reverse_flows.approve_cancellation, repeatable=False),
    c.RejectCancellation: Route(reverse_flows.reject_cancellation, repeatable=False),
    c.ApproveReturn: Route(reverse_flows.approve_return, repeatable=False),
    c.RejectReturn: Route(reverse_flows.reject_return, repeatable=False),
    c.ListRejectReasons: Route(reverse_flows.reject_reasons),
    c.CancelOrder: Route(reverse_flows.cancel_order, repeatable=False),
    c.ListCancelReasons: Route(reverse_flows.cancel_reasons),
    c.ListShippingProviders: Route(reverse_flows.shipping_providers),
    c.ShipOrder: Route(reverse_flows.ship_order, repeatable=False),
    # TikTok's webhooks
    w.OrderStatusChange: Route(orders.on_order_status_change, orders.order_keys),
    w.ReverseStatusUpdate: Route(reverse_flows.on_reverse_webhook, orders.order_keys),
    w.CancellationStatusChange: Route(reverse_flows.on_reverse_webhook, orders.order_keys),
    w.ReturnStatusChange: Route(reverse_flows.on_reverse_webhook, orders.order_keys),
    w.AftersalesRequestStatusUpdate: Route(reverse_flows.on_aftersales_webhook),
    w.RmaStatusUpdate: Route(reverse_flows.on_aftersales_webhook),
    w.RefundSuccess: Route(reverse_flows.on_refund_success, reverse_flows.refund_keys),
    w.RecipientAddressUpdate: Route(orders.on_order_refresh, orders.order_keys),
    w.PackageUpdate: Route(orders.on_order_refresh, orders.order_keys),
    w.ProductStatusChange: Route(listings.on_product_status_change, listings.product_keys),
    w.ProductAuditStatusChange: Route(listings.on_audit_status_change, listings.audit_keys),
    w.InventoryStatusChange: Route(stock.on_inventory_status, stock.stock_keys),
    w.SkuStatusChange: Route(stock.on_sku_status, stock.stock_keys),
    w.InventoryChangedByShop: Route(stock.on_inventory_changed, stock.stock_keys),
    w.SellerDeauthorization: Route(shops.on_deauthorization),
    w.UpcomingAuthorizationExpiration: Route(shops.on_authorization_expiring),
    w.UnknownNotification: Route(keep),
    # the seed's webhooks: the sync forms run the same handlers as their commands
    w.SeedOrderCreated: Route(orders.on_seed_order_created, orders.seed_order_keys),
    w.SeedOrderShipped: Route(orders.on_seed_order_status, orders.seed_order_keys),
    w.SeedOrderCancelled: Route(orders.on_seed_order_status, orders.seed_order_keys),
    w.SeedProductSync: Route(catalog.sync_products),
    w.SeedOrderSync: Route(orders.sync_orders),
    w.SeedCatalogSync: Route(catalog.start_catalog_sync),
    w.UnknownSeedWebhook: Route(keep),
}


@dataclass(frozen=True)
class Outcome:
    """What became of one webhook. `rejected` (it can never be applied) and `failed` (it kept
    failing) are set aside on the dead-letter topic by the caller; the others are done.
    `handler` names the function that took it (`unreadable` for a webhook that could not be
    parsed) and `seconds` the time spent in it."""

    notification_id: str
    status: Literal["applied", "duplicate", "rejected", "failed"]
    detail: str
    error: Exception | None = None
    handler: str = "unreadable"
    seconds: float = 0.0
    #: The inbox held this outcome already: the webhook was rejected by an earlier delivery.
    recorded_before: bool = False

    @property
    def set_aside(self) -> bool:
        return self.status in ("rejected", "failed")


def received_event(delivery: w.Delivery) -> WebhookReceived:
    """`tiktok.webhook.received`, with an id stable across redeliveries of the webhook."""
    return WebhookReceived(
        event_id=stable_id("webhook.received", delivery.notification_id),
        shop_id=delivery.shop_id,
        occurred_at=delivery.received_at,
        notification_id=delivery.notification_id,
        webhook_type=delivery.webhook_type,
    )


def _summary(result: object) -> str:
    if isinstance(result, str):
        return result
    if isinstance(result, WireModel):
        return result.model_dump_json(by_alias=True)[:500]
    return repr(result)[:500]


def _handler_name(route: Route | None) -> str:
    if route is None:
        return "unreadable"
    # Any callable is a handler (a partial, an object with __call__), not only a function.
    return getattr(route.handler, "__qualname__", None) or type(route.handler).__qualname__


def _not_the_database(exc: Exception) -> bool:
    return not isinstance(exc, DatabaseUnavailable)


def _retry_command(exc: Exception) -> bool:
    # Refusals are answers, not failures; a conflict was retried already; a database that did
    # not answer was waited for already (the driver's server selection): "unavailable" now.
    return not isinstance(exc, AppError | WriteConflict | DatabaseUnavailable)


class MessageBus:
    """Runs messages through their handlers, each in a unit of work it commits."""

    def __init__(
        self,
        *,
        new_uow: Callable[[], UnitOfWork],
        views: Views,
        tiktok: TikTokGateway,
        jobs: Jobs,
        spawner: Spawner,
        config: AppConfig,
        reconciliations: Reconciliations,
        dead_letters: DeadLetterArchive,
        handlers: Mapping[type, Route] = HANDLERS,
        pusher: CatalogPusher | None = None,
        observer: Observer = QUIET,
    ) -> None:
        self.config = config
        self.handlers = handlers
        self.observer = observer
        self._new_uow = new_uow
        self._views = views
        self._tiktok = tiktok
        self._jobs = jobs
        self._spawner = spawner
        self._reconciliations = reconciliations
        self.pusher = pusher or CatalogPusher(self.context)
        self._dead_letters = dead_letters

    def context(self) -> Context:
        """A context with a unit of work of its own."""
        return Context(
            uow=self._new_uow(),
            views=self._views,
            tiktok=self._tiktok,
            jobs=self._jobs,
            spawner=self._spawner,
            config=self.config,
            new_uow=self._new_uow,
            reconciliations=self._reconciliations,
            pushes=self.pusher,
            observer=self.observer,
            dead_letters=self._dead_letters,
        )

    # --- commands ------------------------------------------------------------------------

    async def handle(self, command: c.Command) -> WireModel:
        """Carry out one admin command and answer its reply.

        Raises `AppError` for an answer that is an error: its own refusals, `Conflict` when the
        data kept changing under it, `Unavailable` when the database did not answer. Anything
        else escapes after `retries.MESSAGE` (only for repeatable commands) and is a bug.
        """
        route = self.handlers[type(command)]
        started, outcome = time.monotonic(), "internal"
        try:
            reply = await self._handle(route, command)
            outcome = "ok"
            return reply
        except AppError as exc:
            outcome = exc.code
            raise
        except asyncio.CancelledError:
            outcome = "cancelled"
            raise
        finally:
            seconds = time.monotonic() - started
            self.observer.handled("command", _handler_name(route), outcome, seconds)

    async def _handle(self, route: Route, command: c.Command) -> WireModel:
        try:
            if not route.repeatable:
                return await self._commit_once(route, command)  # type: ignore[no-any-return]
            async for attempt in retries.MESSAGE.context(on=_retry_command):
                with attempt:
                    return await self._commit_once(route, command)  # type: ignore[no-any-return]
        except WriteConflict as exc:
            raise Conflict("The data kept changing while the command ran; try again") from exc
        except DatabaseUnavailable as exc:
            # One line, no traceback: an outage is expected and the caller is told to retry.
            log.warning(
                "database unavailable", command=type(command).__name__, error=str(exc)[:200]
            )
            raise Unavailable("The database is unreachable; try again") from exc
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _commit_once(self, route: Route, message: object) -> Any:
        async for attempt in retries.CONFLICT.context(on=WriteConflict):
            with attempt:
                ctx = self.context()
                result = await route.handler(message, ctx)
                await ctx.uow.commit()
                return result
        raise AssertionError("unreachable: the last attempt returns or raises")

    # --- platform changes ------------------------------------------------------------------

    async def apply_platform(self, events: Sequence[PlatformEvent]) -> list[stock.ChangeOutcome]:
        """Store a batch of the platform's stock and price changes (in offset order) and say
        what became of each; the pusher sends them to TikTok after the commit.

        The batch is one unit of work, run again from a fresh read when a listing changed
        meanwhile (versions make that harmless). Raises `DatabaseUnavailable` when the database
        stayed away through `retries.MESSAGE`: the caller hands the batch back to Kafka.
        """
        if not events:
            return []
        # A conflict that outlasted `retries.CONFLICT` (the pusher records its pushes on the
        # same listings) is tried again here rather than handed back to Kafka: the versions
        # make a second run harmless.
        shops = {e.shop_id or self.config.default_shop_id for e in events}
        with self.pusher.storing(shops):
            try:
                return await self._store_platform(events)
            except DatabaseUnavailable:
                raise
            except Exception as exc:
                if len(events) == 1:
                    return [self._platform_failed(events[0], exc)]
                # One bad change must not hold back the others: each alone, the bad one set
                # aside as failed.
                log.warning(
                    "platform batch failed; storing its changes one at a time",
                    size=len(events),
                    error=repr(exc)[:300],
                )
            outcomes: list[stock.ChangeOutcome] = []
            for event in events:
                try:
                    outcomes += await self._store_platform([event])
                except DatabaseUnavailable:
                    raise
                except Exception as exc:
                    outcomes.append(self._platform_failed(event, exc))
            return outcomes

    async def _store_platform(self, events: Sequence[PlatformEvent]) -> list[stock.ChangeOutcome]:
        async for attempt in retries.MESSAGE.context(on=(DatabaseUnavailable, WriteConflict)):
            with attempt:
                return await self._commit_once(  # type: ignore[no-any-return]
                    Route(stock.apply_platform_changes), events
                )
        raise AssertionError("unreachable: the last attempt returns or raises")

    @staticmethod
    def _platform_failed(event: PlatformEvent, exc: Exception) -> stock.ChangeOutcome:
        log.error("platform change failed for good", event_id=event.event_id, error=repr(exc))
        return stock.ChangeOutcome(event.event_id, "failed", f"failed: {exc!r}"[:1000])

    # --- webhooks --------------------------------------------------------------------------

    def parse(self, message: w.WebhookMessage) -> w.Webhook | w.UnreadableWebhook:
        """The typed webhook, or why it can never be applied."""
        try:
            return w.parse_webhook(message, default_shop_id=self.config.default_shop_id)
        except w.UnreadableWebhook as exc:
            return exc

    async def apply(self, messages: Sequence[w.WebhookMessage]) -> list[Outcome]:
        """Apply a batch of webhooks (in offset order) and say what became of each.

        Raises `DatabaseUnavailable` when the database stayed away through `retries.MESSAGE`:
        nothing is then lost, the caller hands the batch back to Kafka. The batch's calls to
        TikTok share `config.webhook_tiktok_seconds` (`budget`).
        """
        parsed = [self.parse(m) for m in messages]
        with budget.bounded(self.config.webhook_tiktok_seconds):
            outcomes = await self._apply(parsed)
        for outcome in outcomes:
            self.observer.handled("webhook", outcome.handler, outcome.status, outcome.seconds)
        counts: Counter[str] = Counter(o.status for o in outcomes)
        log.info("webhooks applied", size=len(outcomes), **counts)
        return outcomes

    async def _apply(self, parsed: list[w.Webhook | w.UnreadableWebhook]) -> list[Outcome]:
        if len(parsed) > 1:
            try:
                return await self._apply_together(parsed)
            except Exception as exc:
                log.warning(
                    "batch failed; applying its webhooks one at a time",
                    size=len(parsed),
                    error=repr(exc),
                )
        return [await self._apply_alone(p) for p in parsed]

    async def _apply_together(self, parsed: list[w.Webhook | w.UnreadableWebhook]) -> list[Outcome]:
        ctx = self.context()
        keys = Keys()
        for item in parsed:
            keys.notification_ids.add(item.delivery.notification_id)
            route = None if isinstance(item, w.UnreadableWebhook) else self.handlers[type(item)]
            if route is not None and route.keys is not None:
                keys.add(route.keys(item))
        with self.observer.batch([item.delivery for item in parsed]):
            await ctx.uow.load(keys)
            outcomes = []
            for item in parsed:
                with self.observer.webhook(item.delivery):
                    outcomes.append(await self._apply_in(ctx, item))
            await ctx.uow.commit()
        return outcomes

    async def _apply_alone(self, item: w.Webhook | w.UnreadableWebhook) -> Outcome:
        route = None if isinstance(item, w.UnreadableWebhook) else self.handlers[type(item)]
        started = time.monotonic()
        # A database that is away is waited for (it holds every message alike), up to a third
        # of the consumer's poll limit; a failure of this message alone is retried as MESSAGE.
        waiting = retries.DATABASE.lasting(self.config.database_wait_seconds)
        try:
            with self.observer.webhook(item.delivery):
                async for patience in waiting.context(on=DatabaseUnavailable):
                    with patience:
                        async for attempt in retries.MESSAGE.context(on=_not_the_database):
                            with attempt:
                                async for again in retries.CONFLICT.context(on=WriteConflict):
                                    with again:
                                        ctx = self.context()
                                        outcome = await self._apply_in(ctx, item)
                                        await ctx.uow.commit()
                                        return outcome
        except DatabaseUnavailable:
            raise
        except Exception as exc:
            log.exception(
                "webhook failed for good",
                notification_id=item.delivery.notification_id,
                handler=_handler_name(route),
            )
            return Outcome(
                item.delivery.notification_id,
                "failed",
                f"failed: {exc!r}",
                exc,
                handler=_handler_name(route),
                seconds=time.monotonic() - started,
            )
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _apply_in(self, ctx: Context, item: w.Webhook | w.UnreadableWebhook) -> Outcome:
        delivery = item.delivery
        unreadable = isinstance(item, w.UnreadableWebhook)
        name = _handler_name(None if unreadable else self.handlers[type(item)])
        with structlog.contextvars.bound_contextvars(
            notification_id=delivery.notification_id,
            correlation_id=delivery.correlation_id,
            shop_id=delivery.shop_id,
        ):
            recorded = await ctx.uow.inbox.outcome(delivery.notification_id)
            if recorded is not None and recorded.startswith(REJECTED):
                # Set aside again: had the first set-aside failed, this is its retry.
                return Outcome(
                    delivery.notification_id, "rejected", recorded, None, name, recorded_before=True
                )
            if recorded is not None:
                return Outcome(delivery.notification_id, "duplicate", "applied before", None, name)
            if isinstance(item, w.UnreadableWebhook):
                return self._rejected(ctx, delivery, item.reason, item, name, 0.0)
            route = self.handlers[type(item)]
            started = time.monotonic()
            try:
                result = await route.handler(item, ctx)
            except InvalidRequest as exc:
                seconds = time.monotonic() - started
                return self._rejected(ctx, delivery, exc.message, exc, name, seconds)
            except AppError as exc:
                # A refusal (a sync already running, TikTok said no) is an answer, recorded.
                result = f"refused: {exc.message}"
            seconds = time.monotonic() - started
            detail = _summary(result)
            ctx.uow.inbox.record(delivery, detail, [received_event(delivery)])
            # One line per webhook at DEBUG; `apply` says what became of the batch at INFO. A
            # webhook that changed nothing and was not refused (ignored) stays at INFO: an
            # operator looking for a lost event finds it there.
            level = log.info if detail.startswith(("ignored", "refused")) else log.debug
            level("webhook applied", webhook_type=delivery.webhook_type, outcome=detail)
            return Outcome(delivery.notification_id, "applied", detail, None, name, seconds)

    def _rejected(
        self,
        ctx: Context,
        delivery: w.Delivery,
        reason: str,
        error: Exception,
        handler: str,
        seconds: float,
    ) -> Outcome:
        detail = f"{REJECTED}{reason}"
        ctx.uow.inbox.record(delivery, detail, [received_event(delivery)])
        log.warning("webhook rejected", webhook_type=delivery.webhook_type, reason=reason)
        return Outcome(delivery.notification_id, "rejected", detail, error, handler, seconds)
