"""The bus's observer: metrics by handler and outcome, and where each webhook's spans go."""

from collections.abc import Iterator
from datetime import UTC, datetime

import pytest
from opentelemetry import trace
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from contracts.webhooks import Delivery
from service import metrics, telemetry
from service.observability import ServiceObserver


@pytest.fixture
def exporter() -> Iterator[InMemorySpanExporter]:
    exported = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exported))
    telemetry.use(provider)
    try:
        yield exported
    finally:
        telemetry.use(None)


def delivery(notification_id: str) -> Delivery:
    return Delivery(
        notification_id=notification_id,
        source="tiktok",
        webhook_type="1",
        shop_id="shop",
        received_at=datetime.now(UTC),
        correlation_id=f"c-{notification_id}",
        body={},
    )


def published(name: str) -> tuple[trace.SpanContext, dict[str, str]]:
    """A producer's span, and the headers its context travels in."""
    with telemetry.tracer().start_as_current_span(name) as span:
        headers: dict[str, str] = {}
        TraceContextTextMapPropagator().inject(headers)
        return span.get_span_context(), headers


def test_each_webhook_continues_its_own_trace_and_a_batch_its_first(
    exporter: InMemorySpanExporter,
) -> None:
    first, first_headers = published("publish first")
    second, second_headers = published("publish second")
    observer = ServiceObserver()
    carried = {"n1": telemetry.extract(first_headers), "n2": telemetry.extract(second_headers)}
    with telemetry.carrying(carried), observer.batch([delivery("n1"), delivery("n2")]):
        with observer.webhook(delivery("n2")):
            pass
        with telemetry.tracer().start_as_current_span("unit_of_work commit"):
            pass

    spans = {s.name: s for s in exporter.get_finished_spans()}
    assert spans["webhook 1"].context.trace_id == second.trace_id
    assert spans["webhook 1"].parent.span_id == second.span_id
    batch = spans["webhooks batch"]
    assert batch.context.trace_id == first.trace_id
    assert [link.context.span_id for link in batch.links] == [second.span_id]
    assert spans["unit_of_work commit"].parent.span_id == batch.context.span_id


def test_without_tracing_nothing_is_recorded() -> None:
    observer = ServiceObserver()
    with observer.batch([delivery("n1")]), observer.webhook(delivery("n1")):
        assert not trace.get_current_span().get_span_context().is_valid


def test_handled_messages_are_counted_by_kind_handler_and_outcome() -> None:
    labels = {"kind": "webhook", "handler": "on_test", "outcome": "applied"}
    before = metrics.REGISTRY.get_sample_value("tiktok_shop_handled_total", labels) or 0
    ServiceObserver().handled("webhook", "on_test", "applied", 0.25)
    assert metrics.REGISTRY.get_sample_value("tiktok_shop_handled_total", labels) == before + 1
    seconds = metrics.REGISTRY.get_sample_value(
        "tiktok_shop_handler_seconds_sum", {"kind": "webhook", "handler": "on_test"}
    )
    assert seconds is not None
    assert seconds >= 0.25


def test_a_reconciliation_reports_its_drift_and_when() -> None:
    ServiceObserver().reconciled("order", 3)
    assert (
        metrics.REGISTRY.get_sample_value("tiktok_shop_reconciliation_drift", {"entity": "order"})
        == 3
    )
    when = metrics.REGISTRY.get_sample_value(
        "tiktok_shop_reconciliation_last_run_timestamp_seconds", {"entity": "order"}
    )
    assert when is not None
    assert when > 1_700_000_000
