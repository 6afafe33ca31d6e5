"""The error codes a caller gets when the service, not the request, is at fault: `internal`
(something failed that should not have) and `unavailable` (a dependency is down; retry), over
Kafka request/reply and over HTTP alike."""

import asyncio
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from contracts import commands as c
from contracts import replies as r
from contracts.client import AdminClient
from contracts.replies import ErrorReply
from service.adapters.kafka.topics import ensure_topics
from service.bootstrap import Worker, topic_partitions
from service.domain.time import utcnow
from service.entrypoints.worker.asgi import worker_app
from service.settings import Settings
from tests.admin_api import AdminApi
from tests.conftest import make_settings, run_topic
from tests.kafka_tools import delete_topics
from tests.support import serve

pytestmark = pytest.mark.integration


async def test_a_stored_order_the_service_cannot_read_is_an_internal_error(
    api: AdminApi, worker: Worker, shop: str
) -> None:
    """A document that no longer fits the model (an older version's, a hand edit) is the
    service's fault, not the caller's: `internal`, never `validation_failed`."""
    now = utcnow()
    broken = f"broken-{uuid.uuid4().hex[:8]}"
    await worker.db.collection("orders").insert_one(
        {
            "_id": broken,
            "shop_id": shop,
            "external_order_id": broken,
            "status": "lost-in-migration",
            "created_at": now,
            "updated_at": now,
        }
    )
    try:
        reply = await api.call(c.GetOrder(shop_id=shop, id=broken))
    finally:
        await worker.db.collection("orders").delete_one({"_id": broken})
    assert isinstance(reply, ErrorReply)
    assert (reply.code, reply.fields) == ("internal", [])
    assert "lost-in-migration" not in reply.message  # no internals in the answer


# --- the database down ------------------------------------------------------------------------


@pytest.fixture
async def without_database(services: dict[str, str]) -> AsyncIterator[Worker]:
    """The worker's subscribers and HTTP API wired to a database that does not answer (nothing
    listens on its port): the broker runs, the database never comes."""
    name = uuid.uuid4().hex[:8]
    settings = make_settings(
        services,
        mongodb_uri="mongodb://127.0.0.1:9/",  # discard: nothing answers there
        kafka_group_id=f"test-nodb-{name}",
        topic_webhooks=run_topic(f"nodb-{name}.webhooks"),
        topic_admin_commands=run_topic(f"nodb-{name}.commands"),
        topic_events=run_topic(f"nodb-{name}.events"),
        topic_dead_letter=run_topic(f"nodb-{name}.dead-letter"),
    )
    await ensure_topics(settings.kafka_bootstrap_servers, topic_partitions(settings))
    worker = Worker(settings)
    # What `Worker.start` does, minus the database: it would wait for the database first.
    await worker.broker.start()
    try:
        yield worker
    finally:
        await worker.broker.stop()
        await worker.db.close()
        await delete_topics(settings.kafka_bootstrap_servers, prefix=run_topic(f"nodb-{name}."))


# The database is given up on after `retries.MESSAGE` (4 attempts of a 5 s server selection,
# about 22 s): both calls run side by side, inside the test's limit.
@pytest.mark.timeout(90)
async def test_with_the_database_down_commands_are_answered_unavailable(
    without_database: Worker,
) -> None:
    settings: Settings = without_database.settings
    token = settings.admin_api_token.get_secret_value()

    async def over_kafka() -> Any:
        async with AdminClient(
            settings.kafka_bootstrap_servers,
            command_topic=settings.topic_admin_commands,
            timeout=60,
        ) as admin:
            raw = await admin.send(c.GetStats(shop_id="s").to_json())
        assert raw is not None
        return r.parse_reply(raw.payload, r.StatsReply)

    async def over_http() -> httpx.Response:
        async with (
            serve(worker_app(without_database, run_worker=False)) as url,
            httpx.AsyncClient(
                base_url=url, headers={"Authorization": f"Bearer {token}"}, timeout=60
            ) as http,
        ):
            return await http.get("/admin/tiktok-shop/stats")

    kafka_reply, http_answer = await asyncio.gather(over_kafka(), over_http())
    assert isinstance(kafka_reply, ErrorReply)
    assert kafka_reply.code == "unavailable"
    assert kafka_reply.message == "The database is unreachable; try again"
    assert http_answer.status_code == 503
    assert http_answer.json() == {
        "error": "The database is unreachable; try again",
        "code": "unavailable",
        "fields": [],
    }
