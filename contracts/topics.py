"""Kafka topic names, versioned: a breaking change to a topic's messages gets a new version."""

from typing import Final

#: Verified TikTok webhooks, published by the ingress, keyed by shop and order or product.
WEBHOOKS: Final = "tiktok-shop.webhooks.v1"
#: Admin commands from the platform (request/reply); replies go to each request's reply_to.
ADMIN_COMMANDS: Final = "tiktok-shop.admin.commands.v1"
#: Default topic for replies to admin commands, shared by callers that filter by correlation id.
ADMIN_REPLIES: Final = "tiktok-shop.admin.replies.v1"
#: Domain events for any subscriber (tiktok.order.received, tiktok.product.synced, ...).
EVENTS: Final = "tiktok-shop.events.v1"
#: Stock and price changes published by platform services (`contracts.platform`), keyed by
#: product id.
PLATFORM_CATALOG: Final = "tiktok-shop.platform-catalog.v1"
#: Messages that could not be processed, with their origin and the reason in headers.
DEAD_LETTER: Final = "tiktok-shop.dead-letter.v1"

#: Partition counts the service creates its topics with: the ceiling on consumer parallelism.
PARTITIONS: Final = {
    WEBHOOKS: 6,
    ADMIN_COMMANDS: 6,
    ADMIN_REPLIES: 3,
    EVENTS: 6,
    PLATFORM_CATALOG: 6,
    DEAD_LETTER: 1,
}
