"""Domain events on `topics.EVENTS`, keyed by the id of the entity they are about.

Every event shares the envelope (`eventId`, `type`, `shopId`, `occurredAt`); `eventId` is stable
across redelivery of the same change, so a subscriber can drop duplicates by it.
"""

from datetime import datetime
from typing import Annotated, Literal

from pydantic import Field, TypeAdapter

from contracts.entities import CatalogSync, ChannelOrder, Listing, Reconciliation
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


# --- order lifecycle: seller decisions, refunds, reconciliation ------------------------------


class CancellationApproved(Event):
    """The seller approved a buyer's cancellation request on TikTok."""

    type: Literal["tiktok.cancellation.approved"] = "tiktok.cancellation.approved"
    order: ChannelOrder
    request_id: str


class CancellationRejected(Event):
    """The seller rejected a buyer's cancellation request on TikTok, with TikTok's reason."""

    type: Literal["tiktok.cancellation.rejected"] = "tiktok.cancellation.rejected"
    order: ChannelOrder
    request_id: str
    reason: str


class ReturnApproved(Event):
    """The seller approved a return or refund request (`decision` is TikTok's)."""

    type: Literal["tiktok.return.approved"] = "tiktok.return.approved"
    order: ChannelOrder
    request_id: str
    decision: str


class ReturnRejected(Event):
    """The seller rejected a return or refund request (`decision` and `reason` are TikTok's)."""

    type: Literal["tiktok.return.rejected"] = "tiktok.return.rejected"
    order: ChannelOrder
    request_id: str
    decision: str
    reason: str


class OrderCancelledBySeller(Event):
    """The seller cancelled the order on TikTok (`requestId` is TikTok's cancel_id)."""

    type: Literal["tiktok.order.cancelled"] = "tiktok.order.cancelled"
    order: ChannelOrder
    request_id: str
    reason: str


class RefundSucceeded(Event):
    """TikTok paid a refund to the buyer (webhook 67): `amount` in minor units of `currency`."""

    type: Literal["tiktok.refund.succeeded"] = "tiktok.refund.succeeded"
    order: ChannelOrder
    request_id: str = Field(description="TikTok's aftersales_request_id")
    amount: int | None = None
    currency: str | None = None


class ReconciliationFinished(Event):
    """A reconciliation run ended (completed or failed), with what it found."""

    type: Literal["tiktok.reconciliation.finished"] = "tiktok.reconciliation.finished"
    reconciliation: Reconciliation


DomainEvent = Annotated[
    ProductSynced
    | ProductFailed
    | OrderReceived
    | OrderShipped
    | CatalogSynced
    | WebhookReceived
    | AuthorizationExpiring
    | CancellationApproved
    | CancellationRejected
    | ReturnApproved
    | ReturnRejected
    | OrderCancelledBySeller
    | RefundSucceeded
    | ReconciliationFinished,
    Field(discriminator="type"),
]

DOMAIN_EVENT: TypeAdapter[DomainEvent] = TypeAdapter(DomainEvent)
