"""The service's Prometheus metrics: every name, its labels, and the registry `/metrics` serves.

Both parts serve `GET /metrics` (the ingress on its port, the worker on the admin port) in
Prometheus' text format, without the admin token: see the README's "Metrics". Besides the
metrics below, FastStream's `KafkaPrometheusMiddleware` adds its own, per topic, with the
`faststream_` prefix (`faststream_received_messages_total`, `..._received_processed_messages_
duration_seconds`, `faststream_published_messages_duration_seconds`, ...; label `app_name` is
`tiktok-shop-ingress` or `tiktok-shop-worker`), and the process collector `process_*`.

Label values are bounded: webhook types only as TikTok and the seed define them (else
`other`), TikTok endpoints from `adapters/tiktok/versions.py`, handlers from the bus's table,
outcomes and reasons from short fixed lists; never an id, a shop or free text.

The application layer never imports this module (an import-linter contract): the bus reports
through the `Observer` port, which `service.observability` implements with these metrics.
"""

import weakref
from typing import Final, Protocol

from prometheus_client import (
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    PlatformCollector,
    ProcessCollector,
    disable_created_metrics,
)

from contracts.webhooks import SEED_MODELS, TIKTOK_MODELS

# `*_created` series double the output and no dashboard here reads them.
disable_created_metrics()  # type: ignore[no-untyped-call]

#: What `/metrics` serves: ours, FastStream's and the process's, nothing a library registered.
REGISTRY: Final = CollectorRegistry()
ProcessCollector(registry=REGISTRY)
PlatformCollector(registry=REGISTRY)

#: FastStream's metric names start with this (its default, so that public dashboards for its
#: middleware work too).
FASTSTREAM_PREFIX: Final = "faststream"

# Seconds: from a millisecond database write to TikTok's 3 s webhook limit and long retries.
_SECONDS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120)

# --- the ingress ---------------------------------------------------------------------------

WEBHOOKS: Final = Counter(
    "tiktok_shop_webhooks",
    "Webhooks the ingress answered: outcome accepted (published, 200) or refused, with the"
    " refusal's code (signature_invalid, broker_unavailable, ...); type as TikTok numbers it or"
    " the seed names it, unknown before the signature is verified, other when not ours.",
    ["type", "outcome", "code"],
    registry=REGISTRY,
)
WEBHOOK_SECONDS: Final = Histogram(
    "tiktok_shop_webhook_request_seconds",
    "Time from a webhook's arrival at the ingress to its answer (TikTok waits 3 s), by outcome.",
    ["outcome"],
    buckets=_SECONDS,
    registry=REGISTRY,
)

# --- the worker ----------------------------------------------------------------------------

HANDLED: Final = Counter(
    "tiktok_shop_handled",
    "Messages the worker's handlers finished, by kind (command, webhook), handler and outcome:"
    " commands ok, their error code or cancelled (a stop); webhooks applied, duplicate,"
    " rejected or failed.",
    ["kind", "handler", "outcome"],
    registry=REGISTRY,
)
HANDLER_SECONDS: Final = Histogram(
    "tiktok_shop_handler_seconds",
    "Time in a handler, by kind and handler: a command with its commit, a webhook without the"
    " commit it shares with its batch.",
    ["kind", "handler"],
    buckets=_SECONDS,
    registry=REGISTRY,
)
CONSUMER_LAG: Final = Gauge(
    "tiktok_shop_consumer_lag",
    "Records on a partition this worker's consumer has not fetched yet: the partition's end"
    " offset (asked of Kafka every few seconds) minus the consumer's position.",
    ["topic", "partition", "group"],
    registry=REGISTRY,
)
DEAD_LETTERS: Final = Counter(
    "tiktok_shop_dead_letters",
    "Messages set aside on the dead-letter topic, by the topic they came from and why:"
    " unreadable (not a webhook message), rejected (can never apply), failed (kept failing).",
    ["topic", "reason"],
    registry=REGISTRY,
)
OUTBOX_BACKLOG: Final = Gauge(
    "tiktok_shop_outbox_backlog",
    "Events stored and handed to the outbox relay, not yet published (Kafka slow or away).",
    registry=REGISTRY,
)
RECONCILIATION_DRIFT: Final = Gauge(
    "tiktok_shop_reconciliation_drift",
    "Records the last reconciliation with TikTok found different from what the service held,"
    " by entity (order, listing, ...), before it repaired them.",
    ["entity"],
    registry=REGISTRY,
)
RECONCILIATION_TIME: Final = Gauge(
    "tiktok_shop_reconciliation_last_run_timestamp_seconds",
    "When the last reconciliation of an entity finished, unix seconds (UTC).",
    ["entity"],
    registry=REGISTRY,
)

# --- TikTok's API --------------------------------------------------------------------------

TIKTOK_CALLS: Final = Counter(
    "tiktok_shop_tiktok_calls",
    "Calls to TikTok's API after their retries, by endpoint (the name in versions.py) and"
    " outcome: ok, throttled, token_expired, reauthorization_required, api_error,"
    " server_error, transport_error, bad_response, cancelled (a stop), error (a bug).",
    ["endpoint", "outcome"],
    registry=REGISTRY,
)
TIKTOK_CALL_SECONDS: Final = Histogram(
    "tiktok_shop_tiktok_call_seconds",
    "Time of a call to TikTok's API, retries and rate-limit waits included, by endpoint.",
    ["endpoint"],
    buckets=_SECONDS,
    registry=REGISTRY,
)
TIKTOK_RETRIES: Final = Counter(
    "tiktok_shop_tiktok_retries",
    "Attempts at TikTok's API sent again, by endpoint and reason: throttled (429, 36009002),"
    " server_error, transport_error.",
    ["endpoint", "reason"],
    registry=REGISTRY,
)
RATE_LIMIT_WAIT_SECONDS: Final = Histogram(
    "tiktok_shop_tiktok_rate_limit_wait_seconds",
    "Waits for the per-shop rate limiter before a call to TikTok (only calls that waited).",
    buckets=(0.001, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
    registry=REGISTRY,
)
TOKEN_REFRESHES: Final = Counter(
    "tiktok_shop_tiktok_token_refreshes",
    "Refreshes of a shop's access token: refreshed, reauthorization_required (the refresh token"
    " is dead: the seller must authorize again), failed (TikTok did not answer).",
    ["outcome"],
    registry=REGISTRY,
)

_KNOWN_TYPES = frozenset({str(number) for number in TIKTOK_MODELS} | set(SEED_MODELS))


def webhook_type_label(webhook_type: str) -> str:
    """The `type` label of a verified webhook: its type when TikTok or the seed defines it."""
    return webhook_type if webhook_type in _KNOWN_TYPES else "other"


class HasBacklog(Protocol):
    @property
    def backlog(self) -> int: ...


_relays: "weakref.WeakSet[HasBacklog]" = weakref.WeakSet()
OUTBOX_BACKLOG.set_function(lambda: float(sum(relay.backlog for relay in list(_relays))))


def watch_outbox(relay: HasBacklog) -> None:
    """Count the relay's `backlog` in `tiktok_shop_outbox_backlog` for as long as it lives;
    several workers in one process add up."""
    _relays.add(relay)
