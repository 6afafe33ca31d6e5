"""The Kafka broker as every part of the service configures it.

Producer: acks from all in-sync replicas and the idempotent producer, so a publish that returned
is durable and a retried send is not doubled. Consumers: offsets are committed only after the
handler finished (FastStream's default, ACK_FIRST, commits before and loses messages); a handler
that raises is redelivered, and the reliability middlewares decide what may raise.
"""

import logging
from typing import Any

from faststream.kafka import KafkaBroker
from faststream.kafka.prometheus import KafkaPrometheusMiddleware
from faststream.middlewares import AckPolicy

from service import metrics, stopping, telemetry
from service.settings import Settings

# A webhook body may be 1 MiB; with its envelope it needs more than Kafka's 1 MiB default.
MAX_MESSAGE_BYTES = 2 * 1024 * 1024


def make_broker(settings: Settings, *, role: str) -> KafkaBroker:
    """The broker of one part (`role`: ingress, worker): Prometheus metrics always (FastStream's
    `faststream_*`, labelled `app_name=tiktok-shop-<role>`), trace propagation in Kafka headers
    when tracing is on (`service.telemetry`)."""
    middlewares: list[Any] = []
    provider = telemetry.provider()
    if provider is not None:
        from faststream.kafka.opentelemetry import KafkaTelemetryMiddleware

        middlewares.append(KafkaTelemetryMiddleware(tracer_provider=provider))
    middlewares.append(
        KafkaPrometheusMiddleware(
            registry=metrics.REGISTRY,
            app_name=f"tiktok-shop-{role}",
            metrics_prefix=metrics.FASTSTREAM_PREFIX,
        )
    )
    return KafkaBroker(
        settings.kafka_bootstrap_servers,
        security=settings.security(),
        client_id=f"{settings.kafka_client_id}-{role}",
        acks="all",
        enable_idempotence=True,
        request_timeout_ms=10_000,
        max_request_size=MAX_MESSAGE_BYTES,
        ack_policy=AckPolicy.NACK_ON_ERROR,
        # Handlers in hand at a stop get this long, then are cancelled and not acknowledged.
        graceful_timeout=stopping.HANDLERS_SECONDS,
        logger=logging.getLogger(f"service.kafka.{role}"),
        middlewares=middlewares,
    )
