"""`GET /metrics` on the ingress and on the worker's admin port, as Prometheus scrapes them.

The session's worker and an ingress publishing to its topic run in this process, so both ports
serve the same registry; each test reads how far the samples it is about moved.
"""

import json
from collections.abc import AsyncIterator, Mapping

import httpx
import pytest
from prometheus_client.parser import text_string_to_metric_families

from contracts.client import AdminClient
from contracts.commands import GetOrder, GetStats
from contracts.replies import OrderReply, StatsReply
from service.adapters.tiktok.signing import webhook_signature
from service.bootstrap import Worker
from service.entrypoints.ingress.app import ingress_app
from service.entrypoints.ingress.webhook import PATH
from service.settings import Settings
from tests.conftest import make_settings
from tests.kafka_tools import publish_raw
from tests.support import eventually, serve

pytestmark = pytest.mark.integration

KEY, SECRET = "metricskey", "metricssecret"
Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]


async def scrape(url: str) -> Samples:
    """Every sample of a scrape, by name and labels; no token sent, as Prometheus sends none."""
    async with httpx.AsyncClient() as http:
        answer = await http.get(url + "/metrics")
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"].startswith("text/plain")
    return {
        (s.name, frozenset(s.labels.items())): s.value
        for family in text_string_to_metric_families(answer.text)
        for s in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    return samples.get((name, frozenset(labels.items())), 0.0)


def moved(before: Samples, after: Samples, name: str, **labels: str) -> float:
    return value(after, name, **labels) - value(before, name, **labels)


def matching(samples: Samples, name: str, **labels: str) -> dict[Mapping[str, str], float]:
    wanted = set(labels.items())
    return {
        frozenset(found): v for (n, found), v in samples.items() if n == name and wanted <= found
    }


@pytest.fixture(scope="module")
async def ingress_url(services: dict[str, str], settings: Settings) -> AsyncIterator[str]:
    ingress_settings = make_settings(
        services,
        topic_webhooks=settings.topic_webhooks,
        tiktok_app_key=KEY,
        tiktok_app_secret=SECRET,
    )
    async with serve(ingress_app(ingress_settings)) as url, httpx.AsyncClient() as http:
        await eventually(lambda: http.get(url + "/readyz"), until=lambda r: r.status_code == 200)
        yield url


def order_webhook(shop: str, notification_id: str) -> bytes:
    return json.dumps(
        {
            "type": 1,
            "tts_notification_id": notification_id,
            "shop_id": shop,
            "timestamp": 1_700_000_000,
            "data": {
                "order_id": f"O-{notification_id}",
                "order_status": "AWAITING_SHIPMENT",
                "update_time": 1_700_000_000,
            },
        }
    ).encode()


async def test_the_ingress_counts_webhooks_by_type_and_outcome_and_times_its_publishes(
    ingress_url: str, admin_url: str, settings: Settings, shop: str
) -> None:
    before = await scrape(ingress_url)
    raw = order_webhook(shop, "metrics-1")
    async with httpx.AsyncClient() as http:
        signed = {"Authorization": webhook_signature(KEY, SECRET, raw)}
        assert (await http.post(ingress_url + PATH, content=raw, headers=signed)).status_code == 200
        assert (await http.post(ingress_url + PATH, content=raw)).status_code == 401
        forged = {"Authorization": "0" * 64}
        assert (await http.post(ingress_url + PATH, content=raw, headers=forged)).status_code == 401
    after = await scrape(ingress_url)

    webhooks = "tiktok_shop_webhooks_total"
    assert moved(before, after, webhooks, type="1", outcome="accepted", code="") == 1
    refused = {"type": "unknown", "outcome": "refused"}
    assert moved(before, after, webhooks, **refused, code="signature_missing") == 1
    assert moved(before, after, webhooks, **refused, code="signature_invalid") == 1
    seconds = "tiktok_shop_webhook_request_seconds_count"
    assert moved(before, after, seconds, outcome="accepted") == 1
    assert moved(before, after, seconds, outcome="refused") == 2
    # FastStream's middleware: the publish to Kafka, counted and timed.
    publish = {
        "app_name": "tiktok-shop-ingress",
        "broker": "kafka",
        "destination": settings.topic_webhooks,
    }
    assert (
        moved(before, after, "faststream_published_messages_total", **publish, status="success")
        == 1
    )
    publish_seconds = "faststream_published_messages_duration_seconds_count"
    assert moved(before, after, publish_seconds, **publish) == 1

    # The worker applied it: counted by handler and outcome on the admin port, token or not.
    applied = {"kind": "webhook", "handler": "on_order_status_change", "outcome": "applied"}
    await eventually(
        lambda: scrape(admin_url),
        until=lambda now: moved(before, now, "tiktok_shop_handled_total", **applied) >= 1,
    )


async def test_the_worker_counts_commands_by_handler_and_outcome(
    admin_url: str, admin: AdminClient, shop: str
) -> None:
    before = await scrape(admin_url)
    await admin.ask(GetStats(shop_id=shop), StatsReply)
    with pytest.raises(Exception, match="not_found"):
        await admin.ask(GetOrder(id="no-such-order", shop_id=shop), OrderReply)
    after = await scrape(admin_url)
    handled = "tiktok_shop_handled_total"
    assert moved(before, after, handled, kind="command", handler="get_stats", outcome="ok") == 1
    not_found = {"kind": "command", "handler": "get_order", "outcome": "not_found"}
    assert moved(before, after, handled, **not_found) == 1
    timed = "tiktok_shop_handler_seconds_count"
    assert moved(before, after, timed, kind="command", handler="get_stats") == 1


async def test_dead_letters_lag_and_the_outbox_backlog_are_reported(
    admin_url: str, worker: Worker, settings: Settings
) -> None:
    before = await scrape(admin_url)
    await publish_raw(settings, settings.topic_webhooks, b"not a webhook message")
    unreadable = {"topic": settings.topic_webhooks, "reason": "unreadable"}
    await eventually(
        lambda: scrape(admin_url),
        until=lambda now: moved(before, now, "tiktok_shop_dead_letters_total", **unreadable) == 1,
    )

    # Every partition of the webhooks topic is this worker's (it alone is in its group), and
    # each is read to its end once the poison record was set aside.
    def caught_up(now: Samples) -> bool:
        lag = matching(now, "tiktok_shop_consumer_lag", topic=settings.topic_webhooks)
        return len(lag) == 6 and all(v == 0 for v in lag.values())

    await eventually(lambda: scrape(admin_url), until=caught_up, timeout=30)
    after = await scrape(admin_url)
    assert ("tiktok_shop_outbox_backlog", frozenset()) in after
    assert worker.relay.backlog == value(after, "tiktok_shop_outbox_backlog")
