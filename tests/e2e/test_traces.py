"""One trace from a webhook's HTTP request to the worker's database write and TikTok call.

OpenTelemetry with an in-memory exporter, installed before the ingress and the worker are
built (as `python -m service` does when an OTLP endpoint is set): the ingress continues the
caller's `traceparent`, FastStream's middleware carries the trace in the Kafka record's headers,
and the worker's span for the webhook, the TikTok call and the commit inside it all belong to
that same trace.
"""

import json
import logging
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind

from service import telemetry
from service.adapters.tiktok.signing import webhook_signature
from service.entrypoints.ingress.app import ingress_app
from service.entrypoints.ingress.webhook import PATH
from tests.conftest import make_settings
from tests.sim_worker import APP_KEY, APP_SECRET, sim_worker
from tests.support import eventually, fresh, serve

pytestmark = pytest.mark.integration

TRACE_ID = "4bf92f3577b34da6a3ce929d0e0e4736"
CALLER = f"00-{TRACE_ID}-00f067aa0ba902b7-01"


@pytest.fixture
def exported() -> Iterator[InMemorySpanExporter]:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    telemetry.use(provider)
    try:
        yield exporter
    finally:
        telemetry.use(None)
        provider.shutdown()


def trace_hex(span: ReadableSpan) -> str:
    assert span.context is not None
    return format(span.context.trace_id, "032x")


def ancestors(span: ReadableSpan, by_id: dict[int, ReadableSpan]) -> list[str]:
    """The names of the span's parents, nearest first, as far as they were exported."""
    names = []
    while span.parent is not None and span.parent.span_id in by_id:
        span = by_id[span.parent.span_id]
        names.append(span.name)
    return names


async def test_one_trace_runs_from_the_ingress_request_to_the_commit_and_the_tiktok_call(
    services: dict[str, str], exported: InMemorySpanExporter, caplog: pytest.LogCaptureFixture
) -> None:
    async with sim_worker(services) as sw:
        seeded = await sw.sim_post(
            "/_sim/seed",
            {
                "orders": [
                    {
                        "shop_id": sw.shop,
                        "status": "AWAITING_SHIPMENT",
                        "items": [{"sale_price": "7.25"}],
                    }
                ]
            },
        )
        first = seeded["orders"][0]
        order_id = first if isinstance(first, str) else first["id"]
        topic = sw.worker.settings.topic_webhooks
        ingress_settings = make_settings(
            services, topic_webhooks=topic, tiktok_app_key=APP_KEY, tiktok_app_secret=APP_SECRET
        )
        raw = json.dumps(
            {
                "type": 1,
                "tts_notification_id": "traced-1",
                "shop_id": sw.shop,
                "timestamp": 1_700_000_000,
                "data": {"order_id": order_id, "order_status": "AWAITING_SHIPMENT"},
            }
        ).encode()
        # DEBUG: the per-webhook "webhook applied" line is DEBUG (a batch gets one INFO line).
        with caplog.at_level(logging.DEBUG):
            async with serve(ingress_app(ingress_settings)) as url, httpx.AsyncClient() as http:
                await eventually(
                    lambda: http.get(url + "/readyz"), until=lambda r: r.status_code == 200
                )
                answer = await http.post(
                    url + PATH,
                    content=raw,
                    headers={
                        "Authorization": webhook_signature(APP_KEY, APP_SECRET, raw),
                        "traceparent": CALLER,
                    },
                )
                assert answer.status_code == 200, answer.text
                correlation_id = answer.headers["x-correlation-id"]

            async def stored() -> Any:
                return await fresh(sw.worker).orders.get_by_external(sw.shop, order_id)

            order = await eventually(stored)
            assert order.needs_refresh is False  # its details came from TikTok's API

            def commit_exported(found: list[ReadableSpan]) -> bool:
                return any(
                    s.name == "unit_of_work commit" and trace_hex(s) == TRACE_ID for s in found
                )

            await eventually(lambda: _finished(exported), until=commit_exported, timeout=10)

    spans = [s for s in exported.get_finished_spans() if trace_hex(s) == TRACE_ID]
    by_id = {s.context.span_id: s for s in spans if s.context is not None}
    named = {s.name: s for s in spans}
    request = named[f"POST {PATH}"]
    assert request.kind == SpanKind.SERVER
    assert request.parent is not None
    assert format(request.parent.span_id, "016x") == CALLER.split("-")[2]  # the caller's

    # FastStream's producer spans: the message's creation (whose context the record carries)
    # and the publish to Kafka inside it.
    publish = named[f"{topic} publish"]
    assert publish.kind == SpanKind.PRODUCER
    assert ancestors(publish, by_id) == [f"{topic} create", f"POST {PATH}"]

    webhook = named["webhook 1"]
    assert ancestors(webhook, by_id) == [f"{topic} create", f"POST {PATH}"]
    assert webhook.attributes is not None
    assert webhook.attributes["tiktok_shop.correlation_id"] == correlation_id

    tiktok = named["tiktok order_details"]
    assert tiktok.kind == SpanKind.CLIENT
    assert "webhook 1" in ancestors(tiktok, by_id)
    commit = named["unit_of_work commit"]
    assert ancestors(commit, by_id)[0] == "webhook 1"
    assert f"POST {PATH}" in ancestors(commit, by_id)

    # The logs of that webhook carry its correlation id, and its trace.
    applied = [
        r.getMessage()
        for r in caplog.records
        if "webhook applied" in r.getMessage() and "traced-1" in r.getMessage()
    ]
    assert applied
    assert all(correlation_id in line and TRACE_ID in line for line in applied)


async def _finished(exporter: InMemorySpanExporter) -> list[ReadableSpan]:
    return list(exporter.get_finished_spans())
