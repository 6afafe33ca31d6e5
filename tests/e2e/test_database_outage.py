"""While the database is down the admin API answers 503 `unavailable` as JSON (HTTP) and as an
error reply (Kafka), with one warning line per request and no traceback; once it is back the
answers are normal again.

Runs a worker of its own on the second, separate local database (`MONGO_INSTANCE=outage`, see
deploy/local/services.sh), which it kills and starts again, disturbing no other test.
"""

import asyncio
import logging
import uuid
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime

import httpx
import pytest

from contracts import commands as c
from contracts import replies as r
from contracts.client import AdminClient, CommandError
from contracts.entities import ChannelOrder
from service.bootstrap import Worker
from service.entrypoints.worker.asgi import worker_app
from tests.conftest import make_settings
from tests.integration.test_database_durability import outage_database
from tests.support import eventually, serve, store

pytestmark = pytest.mark.integration

SHOP = "outage-shop"


@dataclass
class Running:
    worker: Worker
    http: httpx.AsyncClient
    kafka: AdminClient


@pytest.fixture
async def running(services: dict[str, str]) -> AsyncIterator[Running]:
    uri = (await asyncio.to_thread(outage_database, "env")).strip().split("=", 1)[1]
    await asyncio.to_thread(outage_database, "up")
    run = uuid.uuid4().hex[:8]
    settings = make_settings(
        services,
        mongodb_uri=uri,
        mongodb_database=f"outage_{run}",
        kafka_group_id=f"outage-worker-{run}",
        topic_admin_commands=f"test.{run}.commands",
        topic_webhooks=f"test.{run}.webhooks",
        topic_events=f"test.{run}.events",
        topic_dead_letter=f"test.{run}.dead-letter",
        # Configured for TikTok, so that the settings answer reads the shop's authorization
        # (TikTok itself is never reached: the database fails first).
        tiktok_app_key="outage-key",
        tiktok_app_secret="outage-secret",
        tiktok_access_token="outage-token",
        tiktok_shop_id=SHOP,
        tiktok_api_base_url="http://127.0.0.1:9",
    )
    worker = Worker(settings)
    await worker.start()
    try:
        async with (
            serve(worker_app(worker, run_worker=False)) as url,
            httpx.AsyncClient(
                base_url=url + "/admin/tiktok-shop",
                headers={"Authorization": "Bearer test-admin-token"},
                timeout=60,
            ) as http,
            AdminClient(
                settings.kafka_bootstrap_servers,
                command_topic=settings.topic_admin_commands,
                timeout=60,
            ) as kafka,
        ):
            yield Running(worker, http, kafka)
    finally:
        await asyncio.to_thread(outage_database, "up")
        await worker.db.client.drop_database(settings.mongodb_database)
        await worker.stop()
        await asyncio.to_thread(outage_database, "down")


def order() -> ChannelOrder:
    now = datetime.now(UTC)
    return ChannelOrder(
        id=uuid.uuid4().hex,
        shop_id=SHOP,
        external_order_id="O-1",
        status="confirmed",
        total=1200,
        created_at=now,
        updated_at=now,
    )


@pytest.mark.timeout(300)
async def test_the_admin_api_answers_unavailable_while_the_database_is_down_then_normally(
    running: Running, caplog: pytest.LogCaptureFixture
) -> None:
    http, kafka = running.http, running.kafka
    stored = order()
    await store(running.worker, stored)
    assert (await http.get(f"/orders/{stored.id}", params={"shopId": SHOP})).status_code == 200

    await asyncio.to_thread(outage_database, "kill")
    caplog.clear()
    caplog.set_level(logging.INFO)
    # Every kind of read and write: a page (views), one order (the unit of work), statistics
    # (grouped views), jobs, the last catalog sync, a new listing (a commit), the settings (the
    # shop directory).
    requests = [
        http.get("/settings"),
        http.get("/orders", params={"shopId": SHOP}),
        http.get(f"/orders/{stored.id}", params={"shopId": SHOP}),
        http.get("/stats", params={"shopId": SHOP}),
        http.get("/jobs", params={"shopId": SHOP}),
        http.get("/syncs/last", params={"shopId": SHOP}),
        http.post("/listings/create", json={"localProductId": "p1", "title": "Mug"}),
    ]
    answers = await asyncio.gather(*requests)
    for answer in answers:
        assert answer.status_code == 503, (answer.request.url, answer.text)
        assert answer.headers["content-type"] == "application/json"
        body = answer.json()
        assert body["code"] == "unavailable"
        assert body["error"]
    with pytest.raises(CommandError) as refused:
        await kafka.ask(c.GetOrder(id=stored.id, shop_id=SHOP), r.OrderReply)
    assert refused.value.reply.code == "unavailable"

    warnings = [rec for rec in caplog.records if "database unavailable" in rec.getMessage()]
    assert len(warnings) == len(requests) + 1  # one line per request
    assert all(rec.levelno == logging.WARNING for rec in warnings)
    tracebacks = [rec for rec in caplog.records if rec.exc_info and rec.name.startswith("service")]
    assert tracebacks == []

    await asyncio.to_thread(outage_database, "up")

    async def answered() -> int:
        return (await http.get(f"/orders/{stored.id}", params={"shopId": SHOP})).status_code

    assert await eventually(answered, until=lambda status: status == 200, timeout=60) == 200
    again = await kafka.ask(c.GetOrder(id=stored.id, shop_id=SHOP), r.OrderReply)
    assert again.order.total == 1200
    assert (await http.get("/stats", params={"shopId": SHOP})).json()["stats"]["totalOrders"] == 1
