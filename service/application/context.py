"""What every handler is given: its unit of work, the other ports and the few settings the
rules need (the shape of cosmicpython's `bootstrap` injecting dependencies into handlers)."""

from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass, field, replace
from typing import TypeVar

from service import retries
from service.application.errors import Conflict
from service.application.observer import QUIET, Observer
from service.application.ports import (
    DeadLetterArchive,
    Jobs,
    Pushes,
    Reconciliations,
    Spawner,
    TikTokGateway,
    UnitOfWork,
    Views,
    WriteConflict,
)

T = TypeVar("T")


#: Told `(shop id, drift)` after each completed reconciliation: how many orders and requests
#: differed from TikTok's copy. The hook a metrics module wires to a counter or gauge.
@dataclass(frozen=True)
class AppConfig:
    default_shop_id: str
    shop_id: str  # as configured; empty when not set
    currency: str
    app_key: str
    sandbox: bool
    configured: bool
    catalog_sync_concurrency: int = 8
    # How long a pull command waits for its job (seconds): below the consumer's poll limit.
    command_wait_seconds: float = 10.0
    # How long one batch of webhooks may spend on TikTok's API in all (seconds), likewise.
    webhook_tiktok_seconds: float = 100.0
    # How long a webhook waits for a database that went away before its batch is handed back
    # to Kafka (seconds), likewise.
    database_wait_seconds: float = 100.0
    # --- order lifecycle ---
    #: Where TikTok should send webhooks (`PUBLIC_WEBHOOK_URL`); empty: not registered.
    public_webhook_url: str = ""
    #: Seconds between a shop's scheduled reconciliations (`RECONCILE_INTERVAL`); 0: none.
    reconcile_interval: float = 900.0
    #: Seconds before the watermark a reconciliation searches from (`RECONCILE_OVERLAP`).
    reconcile_overlap: float = 300.0
    #: Platform carrier name -> TikTok shipping provider id or name (`TIKTOK_CARRIER_MAP`).
    carrier_map: tuple[tuple[str, str], ...] = ()
    # The platform's warehouse ids -> TikTok's (TIKTOK_WAREHOUSE_MAP).
    warehouse_map: Mapping[str, str] = field(default_factory=dict)
    # The category of a listing that names none (TIKTOK_CATEGORY_ID).
    default_category_id: str | None = None


class NoPushes:
    """A pusher that pushes nothing (a context without one)."""

    def wake(self, shop_id: str, listing_id: str, *, at_once: bool = False) -> None:
        return None


@dataclass(frozen=True)
class Context:
    """One message's (or one batch's) view of the service."""

    uow: UnitOfWork
    views: Views
    tiktok: TikTokGateway
    jobs: Jobs
    spawner: Spawner
    config: AppConfig
    new_uow: Callable[[], UnitOfWork]
    reconciliations: Reconciliations
    dead_letters: DeadLetterArchive
    pushes: Pushes = field(default_factory=NoPushes)
    #: Where a handler reports what the bus cannot see (a reconciliation's drift).
    observer: Observer = QUIET

    def shop(self, shop_id: str | None) -> str:
        """The shop a message means: the one it names, else the deployment's default shop."""
        return shop_id or self.config.default_shop_id

    def require_tiktok(self, shop_id: str) -> None:
        """Raise `Conflict` when TikTok cannot be called for the shop: no credentials are
        configured, or the seller must authorize the shop again."""
        if not self.tiktok.enabled(shop_id):
            why = (
                "TikTok Shop credentials are not configured"
                if not self.config.configured
                else "the seller must authorize the shop again (see settings)"
            )
            raise Conflict(f"TikTok cannot be called for shop {shop_id}: {why}")

    def fresh(self) -> "Context":
        """The same ports with a unit of work of its own."""
        return replace(self, uow=self.new_uow())

    async def in_own_unit(self, work: Callable[["Context"], Awaitable[T]]) -> T:
        """Run `work` in a unit of work of its own and commit it; run it again from a fresh read
        when the commit met a concurrent write (`retries.CONFLICT`). For work outside any message
        (a job's steps)."""
        async for attempt in retries.CONFLICT.context(on=WriteConflict):
            with attempt:
                ctx = self.fresh()
                result = await work(ctx)
                await ctx.uow.commit()
                return result
        raise AssertionError("unreachable: the last attempt returns or raises")
