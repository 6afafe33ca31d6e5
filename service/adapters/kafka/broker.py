"""The Kafka broker as every part of the service configures it.

Producer: acks from all in-sync replicas and the idempotent producer, so a publish that returned
is durable and a retried send is not doubled. Consumers: offsets are committed only after the
handler finished (FastStream's default, ACK_FIRST, commits before and loses messages); a handler
that raises is redelivered, and the reliability middlewares decide what may raise.
"""

import logging

from faststream.kafka import KafkaBroker
from faststream.middlewares import AckPolicy

from service import stopping
from service.settings import Settings

# A webhook body may be 1 MiB; with its envelope it needs more than Kafka's 1 MiB default.
MAX_MESSAGE_BYTES = 2 * 1024 * 1024


def make_broker(settings: Settings, *, role: str) -> KafkaBroker:
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
    )
