"""No secret in any log line, with everything logged: a whole flow (the ingress, the worker, admin
commands over HTTP and Kafka, TikTok calls on the simulator, a seller's authorization and a token
refresh, refused requests) runs with DEBUG logging, and no line holds the app secret, an access
or refresh token, an authorization code, the admin token or the database password.

The database password is real: the worker reaches the database through a proxy that asks for it
(`tests.mongo_auth`), since the local database has no authentication of its own.
"""

import io
import logging
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from typing import Any

import httpx
import pytest
import structlog

from contracts import commands as c
from contracts import replies as r
from contracts.client import AdminClient
from service import logs
from service.adapters.tiktok.signing import webhook_signature
from service.bootstrap import Worker
from service.entrypoints.ingress.app import ingress_app
from service.entrypoints.ingress.webhook import PATH
from service.entrypoints.worker.asgi import ADMIN_PREFIX, worker_app
from simulator.app import create_app
from simulator.config import SimulatorConfig
from tests.conftest import make_settings
from tests.mongo_auth import plain_auth_proxy
from tests.support import eventually, serve

pytestmark = pytest.mark.integration

APP_KEY = "logs-app-key"
APP_SECRET = f"app-secret-{uuid.uuid4().hex}"
STATIC_TOKEN = f"static-token-{uuid.uuid4().hex}"
ADMIN_TOKEN = f"admin-token-{uuid.uuid4().hex}"
DB_PASSWORD = f"db-password-{uuid.uuid4().hex}"


@contextmanager
def everything_logged() -> Iterator[io.StringIO]:
    """The service's logging at DEBUG (as LOG_LEVEL=DEBUG sets it), every line also rendered
    as JSON into the buffer yielded, the way a log shipper would store it."""
    logs.configure("DEBUG", json=True)
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(
        structlog.stdlib.ProcessorFormatter(
            foreign_pre_chain=[
                structlog.contextvars.merge_contextvars,
                structlog.processors.add_log_level,
            ],
            processors=[
                structlog.stdlib.ProcessorFormatter.remove_processors_meta,
                structlog.processors.format_exc_info,
                structlog.processors.JSONRenderer(default=repr),
            ],
        )
    )
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        logs.configure("INFO")


@pytest.fixture
async def simulator() -> AsyncIterator[tuple[str, str]]:
    shop = f"logs-shop-{uuid.uuid4().hex[:6]}"
    config = SimulatorConfig(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        demo_shop_id=shop,
        demo_access_token=STATIC_TOKEN,
        demo_products=2,
        demo_orders=2,
    )
    # TikTok's own access log is not ours: its token URLs carry the secret by TikTok's design.
    async with serve(create_app(config), access_log=False) as url:
        yield url, shop


async def test_a_whole_flow_with_debug_logging_shows_no_secret(
    services: dict[str, str], simulator: tuple[str, str]
) -> None:
    sim_url, shop = simulator
    run = uuid.uuid4().hex[:8]
    secrets = {
        "app secret": APP_SECRET,
        "static access token": STATIC_TOKEN,
        "admin token": ADMIN_TOKEN,
        "database password": DB_PASSWORD,
    }
    with everything_logged() as logged:
        async with (
            plain_auth_proxy(services["MONGODB_URI"], "channel", DB_PASSWORD) as proxy,
            httpx.AsyncClient(base_url=sim_url, timeout=30) as sim,
        ):
            settings = make_settings(
                services,
                mongodb_uri=proxy.uri(),
                mongodb_database=f"logs_{run}",
                admin_api_token=ADMIN_TOKEN,
                tiktok_app_key=APP_KEY,
                tiktok_app_secret=APP_SECRET,
                tiktok_access_token=STATIC_TOKEN,
                tiktok_shop_id=shop,
                tiktok_api_base_url=sim_url,
                tiktok_auth_base_url=sim_url,
                tiktok_category_id="600001",
                tiktok_default_inventory=5,
                log_level="DEBUG",
                kafka_group_id=f"logs-{run}",
                topic_webhooks=f"test.{run}.webhooks",
                topic_admin_commands=f"test.{run}.commands",
                topic_events=f"test.{run}.events",
                topic_dead_letter=f"test.{run}.dead-letter",
            )
            worker = Worker(settings)
            await worker.start()
            try:
                async with (
                    serve(worker_app(worker, run_worker=False)) as admin_url,
                    serve(ingress_app(settings)) as ingress_url,
                    httpx.AsyncClient(
                        base_url=admin_url + ADMIN_PREFIX,
                        headers={"Authorization": f"Bearer {ADMIN_TOKEN}"},
                        timeout=60,
                    ) as admin,
                    AdminClient(
                        settings.kafka_bootstrap_servers,
                        command_topic=settings.topic_admin_commands,
                        timeout=60,
                    ) as kafka,
                ):
                    secrets |= await _flow(sim, admin, kafka, worker, ingress_url, shop)
            finally:
                await worker.db.client.drop_database(settings.mongodb_database)
                await worker.stop()
            assert proxy.accepted >= 1  # the password was used, and was right
    lines = logged.getvalue().splitlines()
    # Enough was logged for the check to mean something: DEBUG lines, requests, the flow.
    assert len(lines) > 200
    for expected in ('"level": "debug"', "webhook accepted", "HTTP Request", "token"):
        assert any(expected in line for line in lines), expected
    leaks = {
        name: [line[:300] for line in lines if secret in line]
        for name, secret in secrets.items()
        if any(secret in line for line in lines)
    }
    assert not leaks, leaks


async def _flow(
    sim: httpx.AsyncClient,
    admin: httpx.AsyncClient,
    kafka: AdminClient,
    worker: Worker,
    ingress_url: str,
    shop: str,
) -> dict[str, str]:
    """Everything an operator, TikTok and a seller do in a day; the secrets it made."""
    made: dict[str, str] = {}

    async def ok(answer: Any) -> Any:
        response = await answer
        assert response.status_code < 300, response.text
        return response.json()

    # Admin commands over HTTP and Kafka, TikTok called with the static token.
    listing = (
        await ok(admin.post("/listings/create", json={"localProductId": "p", "title": "Mug"}))
    )["listing"]
    await ok(admin.post(f"/listings/{listing['id']}/push"))
    await ok(admin.post("/orders/sync", json={}))
    await kafka.ask(c.GetStats(), r.StatsReply)
    await kafka.ask(c.GetSettings(), r.SettingsReply)
    orders = (await ok(admin.get("/orders")))["orders"]
    assert orders

    # A seller authorizes a second shop; its tokens are refreshed after the access token expires.
    other = f"other-{uuid.uuid4().hex[:6]}"
    await ok(sim.post("/_sim/seed", json={"shops": [{"id": other, "name": "Second"}]}))
    await ok(sim.post("/_sim/generate", json={"shop_id": other, "products": 2}))
    code = (await ok(sim.post("/_sim/auth_codes", json={"shop_ids": [other]})))["auth_code"]
    made["authorization code"] = code
    await kafka.ask(c.AuthorizeShops(auth_code=code), r.AuthorizedReply)
    first = await worker.db.collection("shops").find_one({"_id": other})
    assert first is not None
    made["access token"] = first["access_token"]
    made["refresh token"] = first["refresh_token"]
    await ok(sim.post("/_sim/tokens/expire", json={"access_token": first["access_token"]}))
    synced = await ok(admin.post("/products/sync", json={"shopId": other}))
    assert synced["synced"] == 2
    refreshed = await worker.db.collection("shops").find_one({"_id": other})
    assert refreshed is not None
    assert refreshed["access_token"] != first["access_token"]  # it was refreshed
    made["refreshed access token"] = refreshed["access_token"]
    made["refreshed refresh token"] = refreshed["refresh_token"]

    # TikTok pushes a signed webhook for an order; the worker reads the order from the API.
    order_id = orders[0]["externalOrderId"]
    pushed = await ok(
        sim.post(
            f"/_sim/orders/{order_id}/status",
            json={"status": "AWAITING_COLLECTION", "webhook_url": ingress_url + PATH},
        )
    )
    assert pushed

    async def collected() -> Any:
        found = (await ok(admin.get(f"/orders/{orders[0]['id']}")))["order"]
        return found["externalStatus"]

    await eventually(collected, until=lambda status: status == "AWAITING_COLLECTION")

    # Refused requests: a wrong admin token, a forged webhook.
    async with httpx.AsyncClient(timeout=30) as anyone:
        wrong = await anyone.get(
            str(admin.base_url) + "/stats", headers={"Authorization": "Bearer wrong"}
        )
        assert wrong.status_code == 401
        raw = b'{"type":1,"data":{}}'
        forged = await anyone.post(
            ingress_url + PATH,
            content=raw,
            headers={"Authorization": webhook_signature(APP_KEY, "not-the-secret", raw)},
        )
        assert forged.status_code == 401
    return made
