"""What every operation is given: the ports and the few settings the rules need."""

from collections.abc import Coroutine
from dataclasses import dataclass
from typing import Any, Protocol

from service.application.ports import (
    ListingRepository,
    OrderRepository,
    ShopRegistry,
    SyncRepository,
    TikTokGateway,
    WebhookLog,
)


class Spawner(Protocol):
    """Runs work that outlives the request that started it (a catalog sync)."""

    def spawn(self, work: Coroutine[Any, Any, None], *, name: str) -> None: ...


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
class Deps:
    listings: ListingRepository
    orders: OrderRepository
    syncs: SyncRepository
    tiktok: TikTokGateway
    spawner: Spawner
    config: AppConfig
    webhooks: WebhookLog
    shops: ShopRegistry

    def shop(self, shop_id: str | None) -> str:
        return shop_id or self.config.default_shop_id
