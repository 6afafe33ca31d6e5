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

from collections import Counter
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import structlog

from contracts import commands as c
from contracts import webhooks as w
from contracts.events import WebhookReceived
from contracts.wire import WireModel
from service import retries
from service.application import catalog, jobs, listings, orders, shops, stats
from service.application.context import AppConfig, Context
from service.application.errors import AppError, Conflict, InvalidRequest, Unavailable
from service.application.ports import (
    DatabaseUnavailable,
    Jobs,
    Keys,
    Spawner,
    TikTokGateway,
    UnitOfWork,
    Views,
    WriteConflict,
)
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
    c.AuthorizeShops: Route(shops.authorize_shops, repeatable=False),
    c.GetStats: Route(stats.get_stats),
    c.GetSettings: Route(shops.get_settings),
    # TikTok's webhooks
    w.OrderStatusChange: Route(orders.on_order_status_change, orders.order_keys),
    w.ReverseStatusUpdate: Route(orders.on_reverse_status, orders.order_keys),
    w.CancellationStatusChange: Route(orders.on_reverse_status, orders.order_keys),
    w.ReturnStatusChange: Route(orders.on_reverse_status, orders.order_keys),
    w.RecipientAddressUpdate: Route(orders.on_order_refresh, orders.order_keys),
    w.PackageUpdate: Route(orders.on_order_refresh, orders.order_keys),
    w.ProductStatusChange: Route(listings.on_product_status_change, listings.product_keys),
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
    failing) are set aside on the dead-letter topic by the caller; the others are done."""

    notification_id: str
    status: Literal["applied", "duplicate", "rejected", "failed"]
    detail: str
    error: Exception | None = None

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


def _retry_command(exc: Exception) -> bool:
    # Refusals are answers, not failures; a conflict was retried already.
    return not isinstance(exc, AppError | WriteConflict)


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
        handlers: Mapping[type, Route] = HANDLERS,
    ) -> None:
        self.config = config
        self.handlers = handlers
        self._new_uow = new_uow
        self._views = views
        self._tiktok = tiktok
        self._jobs = jobs
        self._spawner = spawner

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
        )

    # --- commands ------------------------------------------------------------------------

    async def handle(self, command: c.Command) -> WireModel:
        """Carry out one admin command and answer its reply.

        Raises `AppError` for an answer that is an error: its own refusals, `Conflict` when the
        data kept changing under it, `Unavailable` when the database did not answer. Anything
        else escapes after `retries.MESSAGE` (only for repeatable commands) and is a bug.
        """
        route = self.handlers[type(command)]
        try:
            if not route.repeatable:
                return await self._commit_once(route, command)  # type: ignore[no-any-return]
            async for attempt in retries.MESSAGE.context(on=_retry_command):
                with attempt:
                    return await self._commit_once(route, command)  # type: ignore[no-any-return]
        except WriteConflict as exc:
            raise Conflict("The data kept changing while the command ran; try again") from exc
        except DatabaseUnavailable as exc:
            log.warning("database unavailable", command=type(command).__name__, error=str(exc))
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
        nothing is then lost, the caller hands the batch back to Kafka.
        """
        parsed = [self.parse(m) for m in messages]
        outcomes: list[Outcome] | None = None
        if len(parsed) > 1:
            try:
                outcomes = await self._apply_together(parsed)
            except Exception as exc:
                log.warning(
                    "batch failed; applying its webhooks one at a time",
                    size=len(parsed),
                    error=repr(exc),
                )
        if outcomes is None:
            outcomes = [await self._apply_alone(p) for p in parsed]
        counts: Counter[str] = Counter(o.status for o in outcomes)
        log.info("webhooks applied", size=len(outcomes), **counts)
        return outcomes

    async def _apply_together(self, parsed: list[w.Webhook | w.UnreadableWebhook]) -> list[Outcome]:
        ctx = self.context()
        keys = Keys()
        for item in parsed:
            keys.notification_ids.add(item.delivery.notification_id)
            route = None if isinstance(item, w.UnreadableWebhook) else self.handlers[type(item)]
            if route is not None and route.keys is not None:
                keys.add(route.keys(item))
        await ctx.uow.load(keys)
        outcomes = [await self._apply_in(ctx, item) for item in parsed]
        await ctx.uow.commit()
        return outcomes

    async def _apply_alone(self, item: w.Webhook | w.UnreadableWebhook) -> Outcome:
        route = None if isinstance(item, w.UnreadableWebhook) else self.handlers[type(item)]
        try:
            async for attempt in retries.MESSAGE.context(on=Exception):
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
                handler=route.handler.__name__ if route is not None else None,
            )
            return Outcome(item.delivery.notification_id, "failed", repr(exc), exc)
        raise AssertionError("unreachable: the last attempt returns or raises")

    async def _apply_in(self, ctx: Context, item: w.Webhook | w.UnreadableWebhook) -> Outcome:
        delivery = item.delivery
        with structlog.contextvars.bound_contextvars(
            notification_id=delivery.notification_id,
            correlation_id=delivery.correlation_id,
            shop_id=delivery.shop_id,
        ):
            if await ctx.uow.inbox.seen(delivery.notification_id):
                return Outcome(delivery.notification_id, "duplicate", "applied before")
            if isinstance(item, w.UnreadableWebhook):
                return self._rejected(ctx, delivery, item.reason, item)
            route = self.handlers[type(item)]
            try:
                result = await route.handler(item, ctx)
            except InvalidRequest as exc:
                return self._rejected(ctx, delivery, exc.message, exc)
            except AppError as exc:
                # A refusal (a sync already running, TikTok said no) is an answer, recorded.
                result = f"refused: {exc.message}"
            detail = _summary(result)
            ctx.uow.inbox.record(delivery, detail, [received_event(delivery)])
            # One line per webhook at DEBUG; `apply` says what became of the batch at INFO.
            log.debug("webhook applied", webhook_type=delivery.webhook_type, outcome=detail)
            return Outcome(delivery.notification_id, "applied", detail)

    def _rejected(
        self, ctx: Context, delivery: w.Delivery, reason: str, error: Exception
    ) -> Outcome:
        detail = f"rejected: {reason}"
        ctx.uow.inbox.record(delivery, detail, [received_event(delivery)])
        log.warning("webhook rejected", webhook_type=delivery.webhook_type, reason=reason)
        return Outcome(delivery.notification_id, "rejected", detail, error)
