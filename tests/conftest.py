"""Session fixtures: the real Kafka broker and database, one run's own topics and database."""

import uuid
from collections.abc import AsyncIterator

import httpx
import pytest
from pymongo import AsyncMongoClient

from contracts.client import AdminClient
from service import logs
from service.bootstrap import Worker
from service.entrypoints.worker.asgi import worker_app
from service.settings import Settings
from tests.admin_api import AdminApi, HttpAdmin, KafkaAdmin
from tests.support import serve, service_env

RUN = uuid.uuid4().hex[:8]

# Logs go through the standard library as in production, so tests can read them (caplog).
logs.configure("INFO")


@pytest.fixture(scope="session")
def services() -> dict[str, str]:
    return service_env()


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
        "topic_webhooks": f"test.{RUN}.webhooks",
        "topic_admin_commands": f"test.{RUN}.commands",
        "topic_events": f"test.{RUN}.events",
        "topic_dead_letter": f"test.{RUN}.dead-letter",
        "topic_platform_catalog": f"test.{RUN}.platform-catalog",
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
    """One worker for the session: consumers, admin API, outbox relay."""
    w = Worker(settings)
    await w.start()
    yield w
    await w.stop()


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
