"""Fixtures: the simulator on a real socket, a control handle to drive it, clients pointed at it,
the real database for the shop directory.

Self-contained (no service `Worker`), so that these tests run on their own:
`pytest tests/integration/tiktok --confcutdir=tests/integration/tiktok`.
"""

import uuid
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from typing import Any

import httpx
import pytest
import pytest_asyncio
import stamina
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service.adapters.mongo.database import Database
from service.adapters.tiktok import (
    ShopRef,
    StaticTokenProvider,
    TikTokConfig,
    TikTokShopClient,
    TokenProvider,
)
from simulator import Simulator, SimulatorConfig, create_app
from tests.images import ImageHost, image_host
from tests.integration.tiktok.sim_api import Inbox, Received, SignedApi
from tests.integration.tiktok.sim_support import (
    APP_KEY,
    APP_SECRET,
    ClientFactory,
    Delivery,
    SeededShop,
    SimControl,
    SimServer,
    WebhookReceiver,
    serving,
)
from tests.support import service_env


@pytest.fixture(autouse=True)
def retries_without_waiting() -> Iterator[None]:
    """Every retry policy runs its attempts (capped at its own count) but waits 0 s between
    them: stamina's test mode. Tests about waiting itself turn it off."""
    with stamina.set_testing(True, attempts=1000, cap=True):
        yield


@pytest_asyncio.fixture(scope="session")
async def images() -> AsyncIterator[ImageHost]:
    """Where listing images are served from: the gateway fetches them to upload them."""
    async with image_host() as host:
        yield host


@pytest_asyncio.fixture(scope="session")
async def database() -> AsyncIterator[Database]:
    """The project's real database, a database of this run's own (dropped at the end)."""
    name = f"test_tiktok_{uuid.uuid4().hex[:8]}"
    db = Database(service_env()["MONGODB_URI"], name)
    await db.ensure_indexes()
    yield db
    await db.client.drop_database(name)
    await db.close()


@pytest_asyncio.fixture(scope="session")
async def sim_server() -> AsyncIterator[SimServer]:
    sim = Simulator(SimulatorConfig(app_key=APP_KEY, app_secret=APP_SECRET, random_seed=7))
    async with serving(create_app(simulator=sim)) as url:
        yield SimServer(url, sim)


@pytest_asyncio.fixture
async def sim(sim_server: SimServer) -> AsyncIterator[SimControl]:
    """A fresh simulator (no shops, default faults, empty log) for each test."""
    async with httpx.AsyncClient(base_url=sim_server.url, timeout=10) as http:
        control = SimControl(http, sim_server.sim)
        await control.call("POST", "/reset")
        yield control


@pytest_asyncio.fixture
async def shop(sim: SimControl) -> SeededShop:
    seeded = await sim.shop(name="Test shop")
    tokens = await sim.tokens(seeded["id"])
    return SeededShop(
        ShopRef(seeded["id"], seeded["cipher"]), tokens["access_token"], tokens["refresh_token"]
    )


@pytest.fixture
def config(sim_server: SimServer) -> TikTokConfig:
    """The simulator for both hosts; the rate is TikTok's default."""
    return TikTokConfig(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        api_base_url=sim_server.url,
        auth_base_url=sim_server.url,
        timeout=5.0,
    )


@pytest_asyncio.fixture
async def make_client(config: TikTokConfig, shop: SeededShop) -> AsyncIterator[ClientFactory]:
    """``make_client(tokens=..., **config_overrides)``; the seeded shop's token by default."""
    made: list[TikTokShopClient] = []

    def factory(tokens: TokenProvider | None = None, **overrides: Any) -> TikTokShopClient:
        client = TikTokShopClient(
            replace(config, **overrides), tokens or StaticTokenProvider(shop.access_token)
        )
        made.append(client)
        return client

    yield factory
    for client in made:
        await client.aclose()


@pytest_asyncio.fixture(scope="session")
async def _receiver_server() -> AsyncIterator[WebhookReceiver]:
    deliveries: list[Delivery] = []

    async def receive(request: Request) -> Response:
        deliveries.append(Delivery(dict(request.headers), await request.body()))
        return JSONResponse({"received": True})

    app = Starlette(routes=[Route("/webhooks/tiktok", receive, methods=["POST"])])
    async with serving(app) as url:
        yield WebhookReceiver(f"{url}/webhooks/tiktok", deliveries)


@pytest.fixture
def webhook_receiver(_receiver_server: WebhookReceiver) -> WebhookReceiver:
    _receiver_server.deliveries.clear()
    return _receiver_server


@pytest_asyncio.fixture(scope="session")
async def _inbox_server() -> AsyncIterator[Inbox]:
    inbox = Inbox("")

    async def receive(request: Request) -> Response:
        path = "/" + request.path_params["path"]
        inbox.received.append(Received(path, dict(request.headers), await request.body()))
        if path.startswith("/fail"):
            return JSONResponse({"error": "unavailable"}, status_code=503)
        return JSONResponse({"received": True})

    app = Starlette(routes=[Route("/{path:path}", receive, methods=["POST"])])
    async with serving(app) as url:
        inbox.base = url
        yield inbox


@pytest.fixture
def inbox(_inbox_server: Inbox) -> Inbox:
    """Webhook addresses ``inbox.url(name)``, each recording what it received."""
    _inbox_server.received.clear()
    return _inbox_server


@pytest.fixture
def api(sim: SimControl, shop: SeededShop) -> SignedApi:
    """Signed raw Open API calls for the seeded shop."""
    return SignedApi(sim, shop)
