"""The bus's `Observer` port, implemented with the service's metrics and traces.

Metrics: `tiktok_shop_handled_total`, `tiktok_shop_handler_seconds` and the reconciliation
gauges of `service.metrics`. Traces: a span per webhook, child of the trace context its Kafka
record carried (`telemetry.carrying`, set by the webhook subscriber), and one per batch for its
shared load and commit; none of it when tracing is off.
"""

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager

from opentelemetry.trace import Link

from contracts.webhooks import Delivery
from service import metrics, telemetry
from service.application.observer import Kind


class ServiceObserver:
    def handled(self, kind: Kind, handler: str, outcome: str, seconds: float) -> None:
        metrics.HANDLED.labels(kind=kind, handler=handler, outcome=outcome).inc()
        metrics.HANDLER_SECONDS.labels(kind=kind, handler=handler).observe(seconds)

    def reconciled(self, entity: str, drift: int) -> None:
        metrics.RECONCILIATION_DRIFT.labels(entity=entity).set(drift)
        metrics.RECONCILIATION_TIME.labels(entity=entity).set(time.time())

    @contextmanager
    def webhook(self, delivery: Delivery) -> Iterator[None]:
        if telemetry.provider() is None:
            yield
            return
        with telemetry.tracer().start_as_current_span(
            f"webhook {delivery.webhook_type}",
            context=telemetry.carried(delivery.notification_id),
            attributes={
                "tiktok_shop.notification_id": delivery.notification_id,
                "tiktok_shop.webhook_type": delivery.webhook_type,
                "tiktok_shop.correlation_id": delivery.correlation_id,
            },
        ):
            yield

    @contextmanager
    def batch(self, deliveries: Sequence[Delivery]) -> Iterator[None]:
        if telemetry.provider() is None:
            yield
            return
        carried = [
            context
            for context in (telemetry.carried(d.notification_id) for d in deliveries)
            if context is not None
        ]
        # The batch continues its first webhook's trace and links the others'.
        links = [Link(telemetry.parent_span_context(context)) for context in carried[1:]]
        with telemetry.tracer().start_as_current_span(
            "webhooks batch",
            context=carried[0] if carried else None,
            links=links,
            attributes={"messaging.batch.message_count": len(deliveries)},
        ):
            yield
