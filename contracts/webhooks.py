"""Webhooks as TikTok (and the 86d seed) send them, and as the ingress publishes them to Kafka.

The ingress verifies the signature on the raw bytes, then publishes a `WebhookMessage` to
`topics.WEBHOOKS` keyed so that one order's (or one product's) events share a partition.
"""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from contracts.wire import WireModel

# TikTok's webhook types (its published description); 2 is the legacy form of 11 and 12.
ORDER_STATUS_CHANGE = 1
REVERSE_STATUS_UPDATE = 2
RECIPIENT_ADDRESS_UPDATE = 3
PACKAGE_UPDATE = 4
PRODUCT_STATUS_CHANGE = 5
SELLER_DEAUTHORIZATION = 6
UPCOMING_AUTHORIZATION_EXPIRATION = 7
CANCELLATION_STATUS_CHANGE = 11
RETURN_STATUS_CHANGE = 12

TIKTOK_TYPE_NAMES: dict[int, str] = {
    1: "ORDER_STATUS_CHANGE",
    2: "REVERSE_STATUS_UPDATE",
    3: "RECIPIENT_ADDRESS_UPDATE",
    4: "PACKAGE_UPDATE",
    5: "PRODUCT_STATUS_CHANGE",
    6: "SELLER_DEAUTHORIZATION",
    7: "UPCOMING_AUTHORIZATION_EXPIRATION",
    11: "CANCELLATION_STATUS_CHANGE",
    12: "RETURN_STATUS_CHANGE",
    13: "NEW_CONVERSATION",
    14: "NEW_MESSAGE",
    15: "PRODUCT_INFORMATION_CHANGE",
    16: "PRODUCT_CREATION",
    18: "PRODUCT_CATEGORY_CHANGE",
    33: "NEW_MESSAGE_LISTENER",
    36: "INVOICE_STATUS_CHANGE",
    37: "PRODUCT_AUDIT_STATUS_CHANGE",
}

SeedWebhookType = Literal[
    "order.created",
    "order.shipped",
    "order.cancelled",
    "product.sync",
    "order.sync",
    "catalog.sync",
]


class TikTokWebhook(BaseModel):
    """TikTok's own envelope (snake_case, as TikTok sends it). Unknown fields are kept."""

    model_config = ConfigDict(extra="allow")

    type: int
    tts_notification_id: str = Field(min_length=1)
    shop_id: str = ""
    timestamp: int = 0
    data: dict[str, Any] = Field(default_factory=dict)


class SeedWebhook(BaseModel):
    """The 86d seed module's form: a string type and a payload."""

    model_config = ConfigDict(extra="allow")

    type: str = Field(min_length=1)
    payload: dict[str, Any]


class WebhookMessage(WireModel):
    """What the ingress publishes: the verified webhook and what it learned of it."""

    notification_id: str = Field(
        description="TikTok's tts_notification_id; for the seed form, sha256 of the body"
    )
    source: Literal["tiktok", "seed"]
    webhook_type: str = Field(description="TikTok's type number as text, or the seed's type")
    shop_id: str | None = None
    received_at: datetime
    correlation_id: str
    body: dict[str, Any] = Field(description="the webhook body as it was verified")
