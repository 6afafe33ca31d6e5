"""OpenTelemetry traces: off unless an OTLP exporter is configured.

With `OTEL_EXPORTER_OTLP_ENDPOINT` (or `OTEL_EXPORTER_OTLP_TRACES_ENDPOINT`) set, `configure`
installs a tracer provider exporting spans over OTLP/HTTP in batches; the exporter reads
OpenTelemetry's other standard variables itself (`OTEL_EXPORTER_OTLP_HEADERS`, `..._TIMEOUT`,
`..._COMPRESSION`, `..._CERTIFICATE`; `OTEL_SERVICE_NAME`, `OTEL_RESOURCE_ATTRIBUTES`), and the
sampler comes from `OTEL_TRACES_SAMPLER` / `OTEL_TRACES_SAMPLER_ARG` (default: every trace, or
the parent's decision). `OTEL_SDK_DISABLED=true` keeps it off. Without an endpoint nothing is
installed, FastStream's telemetry middleware is not added, and every span below is a no-op.

What a trace holds: the ingress's request (`POST /tiktok-shop/webhooks`, continuing a caller's
`traceparent`), FastStream's publish to Kafka, whose W3C trace context travels in the record's
headers (`KafkaTelemetryMiddleware`); in the worker, FastStream's span for the batch it consumed
(a new trace linked to each record's), then one span per webhook as a child of that webhook's
own publish (`webhook <type>`), with the TikTok calls it makes (`tiktok <endpoint>`) and the
unit of work's commit (`unit_of_work commit`) inside. A batch's shared load and commit belong to
the trace of its first webhook, and link to the others'.

Adapters ask `tracer()` at each use, so a test can install an in-memory provider (`use`).
"""

import os
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any

from opentelemetry import trace
from opentelemetry.context import Context
from opentelemetry.sdk.resources import Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

from service.settings import Settings

#: The instrumentation scope of the service's own spans.
SCOPE = "tiktok_shop"

_provider: TracerProvider | None = None
_propagator = TraceContextTextMapPropagator()
# The trace context each webhook of the batch in hand arrived with, by notification id.
_carried: ContextVar[Mapping[str, Context] | None] = ContextVar(
    "carried_trace_contexts", default=None
)


def configure(settings: Settings, part: str) -> TracerProvider | None:
    """Install the OTLP exporter when the settings name one; the provider, or None (off).

    `part` names the service (`tiktok-shop-<part>`) unless `OTEL_SERVICE_NAME` does.
    """
    endpoint = settings.otel_exporter_otlp_traces_endpoint or settings.otel_exporter_otlp_endpoint
    if not endpoint or os.environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true":
        return None
    from opentelemetry.exporter.otlp.proto.http.trace_exporter import OTLPSpanExporter

    name = settings.otel_service_name or f"tiktok-shop-{part}"
    provider = TracerProvider(resource=Resource.create({"service.name": name}))
    provider.add_span_processor(BatchSpanProcessor(OTLPSpanExporter()))
    use(provider)
    return provider


def use(provider: TracerProvider | None) -> None:
    """Trace with `provider` from now on (None: off)."""
    global _provider
    _provider = provider


def provider() -> TracerProvider | None:
    """The installed provider; None when tracing is off."""
    return _provider


def tracer() -> trace.Tracer:
    """The service's tracer: the installed provider's, else a no-op one."""
    if _provider is None:
        return trace.NoOpTracer()
    return _provider.get_tracer(SCOPE)


def extract(headers: Mapping[str, str]) -> Context:
    """The W3C trace context carried in headers (HTTP or Kafka); empty when there is none."""
    return _propagator.extract(headers)


@contextmanager
def carrying(contexts: Mapping[str, Context]) -> Iterator[None]:
    """While the block runs, `carried(notification_id)` answers from `contexts`."""
    token = _carried.set(contexts)
    try:
        yield
    finally:
        _carried.reset(token)


def carried(notification_id: str) -> Context | None:
    """The trace context a webhook of the batch in hand arrived with, if it had one."""
    context = (_carried.get() or {}).get(notification_id)
    return context if context else None


def parent_span_context(context: Context) -> Any:
    """The span context a carried context holds (for a link to it)."""
    return trace.get_current_span(context).get_span_context()
