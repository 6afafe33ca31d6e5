"""The webhook subscriber: verified webhooks from the ingress, applied through the application."""

from collections.abc import Callable

import structlog
from faststream.kafka import KafkaBroker, KafkaRouter

from contracts.webhooks import WebhookMessage
from service.application.deps import Deps
from service.application.webhooks import handle_webhook
from service.entrypoints.worker.dead_letter import DeadLetter

log = structlog.get_logger(__name__)


def webhook_router(
    broker: KafkaBroker,
    deps: Callable[[], Deps],
    *,
    topic: str,
    group_id: str,
    dead_letter_topic: str,
) -> KafkaRouter:
    router = KafkaRouter(middlewares=[DeadLetter(broker, dead_letter_topic)])

    @router.subscriber(
        topic,
        group_id=f"{group_id}-webhooks",
        auto_offset_reset="earliest",
        title="webhooks",
        description="Verified TikTok webhooks; each is applied once (deduplicated by id).",
    )
    async def on_webhook(message: WebhookMessage) -> None:
        with structlog.contextvars.bound_contextvars(
            correlation_id=message.correlation_id, notification_id=message.notification_id
        ):
            outcome = await handle_webhook(deps(), message)
            log.info("webhook applied", webhook_type=message.webhook_type, outcome=outcome)

    return router
