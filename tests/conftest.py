"""Session fixtures: the real Kafka broker and database, one run's own topics and database.

Every topic a run creates is named `test.<run>.…` (`run_topic`), and all of them are deleted
when the session ends, so runs do not pile topics up on the shared broker.
"""

import uuid
from collections.abc import AsyncIterator, Sequence

import httpx
import pytest
from pymongo import AsyncMongoClient

from contracts.client import AdminClient
from contracts.webhooks import WebhookMessage
from service import logs
from service.adapters.mongo.outbox import MongoOutbox
from service.application.messagebus import MessageBus, Outcome
from service.bootstrap import Worker
from service.entrypoints.worker.asgi import worker_app
from service.settings import Settings
from tests.admin_api import AdminApi, HttpAdmin, KafkaAdmin
from tests.kafka_tools import delete_topics
from tests.support import serve, service_env

RUN = uuid.uuid4().hex[:8]

# Logs go through the standard library as in production, so tests can read them (caplog).
logs.configure("INFO")


def run_topic(name: str) -> str:
    """A topic name of this run's own (deleted at the end of the session)."""
    return f"test.{RUN}.{name}"


@pytest.fixture(scope="session")
async def services() -> AsyncIterator[dict[str, str]]:
    env = service_env()
    yield env
    await delete_topics(env["KAFKA_BOOTSTRAP_SERVERS"], prefix=run_topic(""))


@pytest.fixture(scope="session")
def settings(services: dict[str, str]) -> Settings:
    """Settings for this run: its own topics, database and consumer group, so runs never mix."""
    return make_settings(services)


def make_settings(services: dict[str, str], **overrides: object) -> Settings:
    values: dict[str, object] = {
        "kafka_bootstrap_servers": services["KAFKA_BOOTSTRAP_SERVERS"],
        "mongodb_uri": services["MONGODB_URI"],
        "mongodb_database": f"test_{RUN}",
        "kafka_group_id": f"test-worker-{RUN}",
        "topic_webhooks": run_topic("webhooks"),
        "topic_admin_commands": run_topic("commands"),
        "topic_events": run_topic("events"),
        "topic_dead_letter": run_topic("dead-letter"),
        "topic_platform_catalog": run_topic("platform-catalog"),
        "admin_api_token": "test-admin-token",
        "tiktok_app_key": "",
        "tiktok_app_secret": "",
        "tiktok_access_token": "",
        "tiktok_shop_id": "",
        "tiktok_warehouse_map": "wh-main:7068517275539719942",
    }
    values.update(overrides)
    return Settings.model_validate(values)


@pytest.fixture(scope="session")
async def mongo(settings: Settings) -> AsyncIterator[AsyncMongoClient[dict[str, object]]]:
    client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
        settings.mongodb_uri.get_secret_value(), tz_aware=True
    )
    yield client
    await client.drop_database(settings.mongodb_database)
    await client.close()


@pytest.fixture(scope="session")
async def worker(settings: Settings) -> AsyncIterator[Worker]:
    """One worker for the session: consumers, admin API, outbox relay.

    At the end, every event a test left in the documents must still be readable by the relay:
    one malformed outbox entry would stop every later sweep of a worker on this database."""
    w = Worker(settings)
    await w.start()
    yield w
    try:
        await readable_outbox(w)
    finally:
        await w.stop()


async def readable_outbox(worker: Worker) -> None:
    """Fail when an outbox entry in the worker's database cannot be read back as one."""
    try:
        [entry async for entry in MongoOutbox(worker.db).pending()]
    except (KeyError, TypeError, ValueError) as exc:
        raise AssertionError(f"a malformed outbox entry was left behind: {exc!r}") from exc


@pytest.fixture(scope="session")
async def admin(settings: Settings, worker: Worker) -> AsyncIterator[AdminClient]:
    async with AdminClient(
        settings.kafka_bootstrap_servers, command_topic=settings.topic_admin_commands
    ) as client:
        yield client


@pytest.fixture(scope="session")
async def admin_url(worker: Worker) -> AsyncIterator[str]:
    """The admin HTTP API of the session's worker, served over real HTTP."""
    async with serve(worker_app(worker, run_worker=False)) as url:
        yield url


@pytest.fixture(scope="session")
async def admin_http(admin_url: str, settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    token = settings.admin_api_token.get_secret_value()
    async with httpx.AsyncClient(
        base_url=admin_url, headers={"Authorization": f"Bearer {token}"}, timeout=30
    ) as http:
        yield http


@pytest.fixture(params=["kafka", "http"])
def api(
    request: pytest.FixtureRequest, admin: AdminClient, admin_http: httpx.AsyncClient
) -> AdminApi:
    """The admin operations over Kafka request/reply, then over HTTP: both must behave alike."""
    if request.param == "kafka":
        return KafkaAdmin(admin)
    return HttpAdmin(admin_http)


@pytest.fixture
def shop() -> str:
    """A shop of the test's own: its listings, orders and stats are the test's alone."""
    return f"shop-{uuid.uuid4().hex[:10]}"


class Outcomes:
    """What the worker's message bus answered for each webhook it was given (`Outcome`s), in
    the order it answered them: the bus's own verdict (`applied`, `duplicate`, ...)."""

    def __init__(self) -> None:
        self.seen: list[Outcome] = []

    def of(self, notification_id: str) -> list[str]:
        return [o.status for o in self.seen if o.notification_id == notification_id]


@pytest.fixture
def outcomes(worker: Worker, monkeypatch: pytest.MonkeyPatch) -> Outcomes:
    """Records every answer of the session worker's bus while the test runs."""
    bus: MessageBus = worker.bus
    apply = bus.apply
    recorded = Outcomes()

    async def recording(messages: Sequence[WebhookMessage]) -> list[Outcome]:
        answered = await apply(messages)
        recorded.seen.extend(answered)
        return answered

    monkeypatch.setattr(bus, "apply", recording)
    return recorded
