"""What every handler is given: its unit of work, the other ports and the few settings the
rules need (the shape of cosmicpython's `bootstrap` injecting dependencies into handlers)."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, replace
from typing import TypeVar

from service import retries
from service.application.ports import (
    DeadLetterArchive,
    Jobs,
    Spawner,
    TikTokGateway,
    UnitOfWork,
    Views,
    WriteConflict,
)

T = TypeVar("T")


@dataclass(frozen=True)
class AppConfig:
    default_shop_id: str
    shop_id: str  # as configured; empty when not set
    currency: str
    app_key: str
    sandbox: bool
    configured: bool
    catalog_sync_concurrency: int = 8


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
    dead_letters: DeadLetterArchive

    def shop(self, shop_id: str | None) -> str:
        """The shop a message means: the one it names, else the deployment's default shop."""
        return shop_id or self.config.default_shop_id

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
