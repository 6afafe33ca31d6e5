"""The ports the operations work through; adapters implement them (Mongo, TikTok, Kafka)."""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from contracts.entities import (
    CatalogSync,
    ChannelOrder,
    Listing,
    ListingStatus,
    OrderStatus,
    SyncFailure,
    SyncStatus,
)
from contracts.events import Event
from contracts.webhooks import WebhookMessage
from service.domain.remote import RemoteOrder, RemoteProduct
from service.domain.stats import ListingGroup, OrderGroup


@dataclass(frozen=True)
class PageRequest:
    page: int
    limit: int

    @property
    def skip(self) -> int:
        return (self.page - 1) * self.limit


class Duplicate(Exception):
    """A unique index refused the write."""


class StaleWrite(Exception):
    """The document changed since it was read; read it again and retry."""


class ListingRepository(Protocol):
    async def insert(self, listing: Listing) -> None: ...
    async def get(self, shop_id: str, listing_id: str) -> Listing | None: ...
    async def get_by_product(self, shop_id: str, local_product_id: str) -> Listing | None: ...
    async def get_by_external(self, shop_id: str, external_id: str) -> Listing | None: ...
    async def page(
        self,
        shop_id: str,
        page: PageRequest,
        status: ListingStatus | None = None,
        sync_status: SyncStatus | None = None,
    ) -> tuple[list[Listing], int]: ...
    async def all_ids(self, shop_id: str) -> list[str]: ...
    async def replace(
        self, listing: Listing, *, expected: datetime, events: Sequence[Event] = ()
    ) -> None:
        """Store the listing if it is still at `expected` updated_at, else raise StaleWrite."""

    async def delete(self, shop_id: str, listing_id: str) -> bool: ...
    async def upsert_remote(self, shop_id: str, product: RemoteProduct, now: datetime) -> None: ...
    async def count_groups(self, shop_id: str) -> list[ListingGroup]: ...


class OrderRepository(Protocol):
    async def insert(self, order: ChannelOrder, events: Sequence[Event] = ()) -> None: ...
    async def get(self, shop_id: str, order_id: str) -> ChannelOrder | None: ...
    async def get_by_external(
        self, shop_id: str, external_order_id: str
    ) -> ChannelOrder | None: ...
    async def page(
        self, shop_id: str, page: PageRequest, status: OrderStatus | None = None
    ) -> tuple[list[ChannelOrder], int]: ...
    async def replace(
        self, order: ChannelOrder, *, expected: datetime, events: Sequence[Event] = ()
    ) -> None: ...
    async def count_groups(self, shop_id: str) -> list[OrderGroup]: ...


class SyncRepository(Protocol):
    async def insert(self, sync: CatalogSync) -> None: ...
    async def get(self, shop_id: str, sync_id: str) -> CatalogSync | None: ...
    async def page(self, shop_id: str, page: PageRequest) -> tuple[list[CatalogSync], int]: ...
    async def last(self, shop_id: str) -> CatalogSync | None: ...
    async def claim(self, shop_id: str, sync_id: str) -> bool:
        """Take the shop's one catalog-sync slot; False while another sync holds it."""

    async def heartbeat(self, shop_id: str, sync_id: str) -> None:
        """The sync holding the slot is alive (a silent one is taken over)."""

    async def release(self, shop_id: str, sync_id: str) -> None: ...
    async def interrupted(self, sync_id: str, reason: str) -> None:
        """Mark a sync that will never finish as failed, keeping its progress."""

    async def record(self, sync_id: str, *, failure: SyncFailure | None) -> None:
        """Count one listing as synced, or as failed with its reason."""

    async def finish(
        self, sync: CatalogSync, now: datetime, events: Sequence[Event] = ()
    ) -> CatalogSync: ...


class WebhookLog(Protocol):
    """Every accepted webhook, once per notification id: the dedupe log."""

    async def record(self, message: WebhookMessage, events: Sequence[Event]) -> bool:
        """Store the webhook (and its events) unless known; True when it was processed before."""

    async def mark_processed(self, notification_id: str, outcome: str) -> None: ...


class ShopRegistry(Protocol):
    """What the service knows of each shop's authorization."""

    async def mark_deauthorized(self, shop_id: str, at: datetime) -> None: ...
    async def record_expiry_warning(
        self, shop_id: str, expires_at: datetime | None, events: Sequence[Event]
    ) -> None: ...


class TikTokGateway(Protocol):
    """TikTok Shop's Open API, as the operations need it."""

    def enabled(self, shop_id: str) -> bool:
        """Whether calls can be made for the shop (credentials present, shop authorized)."""

    async def check_connection(self, shop_id: str) -> str | None:
        """None when TikTok answers for the shop, else why not."""

    async def authorize(self, auth_code: str) -> list[str]:
        """Exchange a seller's authorization code; stores the tokens, answers the shop ids."""

    async def push_product(self, shop_id: str, listing: Listing) -> RemoteProduct:
        """Create the product (no external id yet) or edit it; answers TikTok's copy."""

    async def delete_product(self, shop_id: str, external_product_id: str) -> None: ...
    def products(self, shop_id: str) -> AsyncIterator[RemoteProduct]: ...
    def orders(self, shop_id: str) -> AsyncIterator[RemoteOrder]: ...
    async def order_details(self, shop_id: str, ids: Sequence[str]) -> list[RemoteOrder]: ...
    async def mark_shipped(
        self, shop_id: str, external_order_id: str, tracking_number: str
    ) -> None: ...
