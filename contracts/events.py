"""Domain events on `topics.EVENTS`, keyed by the id of the entity they are about.

Every event shares the envelope (`eventId`, `type`, `shopId`, `occurredAt`); `eventId` is stable
across redelivery of the same change, so a subscriber can drop duplicates by it.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from contracts.entities import CatalogSync, ChannelOrder, Listing
from contracts.wire import WireModel


class Event(WireModel):
    event_id: str
    shop_id: str
    occurred_at: datetime


class ProductSynced(Event):
    type: Literal["tiktok.product.synced"] = "tiktok.product.synced"
    listing: Listing


class ProductFailed(Event):
    type: Literal["tiktok.product.failed"] = "tiktok.product.failed"
    listing: Listing
    error: str


class OrderReceived(Event):
    type: Literal["tiktok.order.received"] = "tiktok.order.received"
    order: ChannelOrder


class OrderShipped(Event):
    type: Literal["tiktok.order.shipped"] = "tiktok.order.shipped"
    order: ChannelOrder


class CatalogSynced(Event):
    type: Literal["tiktok.catalog.synced"] = "tiktok.catalog.synced"
    sync: CatalogSync


class WebhookReceived(Event):
    type: Literal["tiktok.webhook.received"] = "tiktok.webhook.received"
    notification_id: str
    webhook_type: str


class AuthorizationExpiring(Event):
    type: Literal["tiktok.authorization.expiring"] = "tiktok.authorization.expiring"
    expires_at: datetime | None = None


DomainEvent = Annotated[
    ProductSynced
    | ProductFailed
    | OrderReceived
    | OrderShipped
    | CatalogSynced
    | WebhookReceived
    | AuthorizationExpiring,
    Field(discriminator="type"),
]

DOMAIN_EVENT: TypeAdapter[DomainEvent] = TypeAdapter(DomainEvent)
