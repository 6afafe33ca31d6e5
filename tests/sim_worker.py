"""A worker configured for TikTok, talking to the simulator over real HTTP; optionally with a
webhook ingress of its own whose address is the worker's `PUBLIC_WEBHOOK_URL`."""

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from service.bootstrap import Worker
from service.entrypoints.ingress.app import ingress_app
from service.entrypoints.ingress.webhook import PATH as INGRESS_PATH
from service.entrypoints.worker.asgi import worker_app
from service.settings import Settings
from simulator.app import create_app
from simulator.config import SimulatorConfig
from tests.conftest import make_settings, run_topic
from tests.images import ImageHost, image_host
from tests.kafka_tools import delete_topics
from tests.support import eventually, free_port, serve

APP_KEY, APP_SECRET, TOKEN = "flow-app-key", "flow-app-secret", "flow-access-token"


@dataclass
class SimWorker:
    shop: str
    worker: Worker
    admin: httpx.AsyncClient  # the worker's admin API, token set
    sim: httpx.AsyncClient  # the simulator's control API
    images: ImageHost  # where listing images are served from
    ingress_url: str | None = None  # the webhook address TikTok should use (PUBLIC_WEBHOOK_URL)

    @property
    def settings(self) -> Settings:
        return self.worker.settings

    async def sim_post(self, path: str, body: dict[str, Any]) -> Any:
        answer = await self.sim.post(path, json=body)
        assert answer.status_code < 300, answer.text
        return answer.json()

    async def seed_order(self, status: str = "AWAITING_SHIPMENT", price: str = "7.25") -> str:
        """An order of the shop on TikTok's side only; answers TikTok's order id."""
        return await seed_order(self.sim, self.shop, status, price)


def simulator_config(shop: str, **sim: Any) -> SimulatorConfig:
    """The simulator with `shop` authorized by the worker's static token."""
    return SimulatorConfig(
        app_key=APP_KEY, app_secret=APP_SECRET, demo_shop_id=shop, demo_access_token=TOKEN, **sim
    )


def sim_settings(
    services: dict[str, str], sim_url: str, shop: str, run: str, **overrides: Any
) -> Settings:
    """A worker's settings for the simulator at `sim_url`: the seed's four TikTok settings set,
    topics, consumer group and database of its own, reconciliation off; `overrides` last."""
    return make_settings(
        services,
        tiktok_app_key=APP_KEY,
        tiktok_app_secret=APP_SECRET,
        tiktok_access_token=TOKEN,
        tiktok_shop_id=shop,
        tiktok_api_base_url=sim_url,
        tiktok_auth_base_url=sim_url,
        tiktok_category_id="600001",
        tiktok_default_inventory=5,
        tiktok_shipping_provider_id="sim-carrier",
        # A database of its own: the local database scans for any filter but an exact unique
        # key, so a small one keeps these flows fast (MongoDB uses its indexes either way).
        mongodb_database=f"sim_{run}",
        kafka_group_id=f"sim-worker-{run}",
        topic_admin_commands=run_topic(f"sim-{run}.commands"),
        topic_webhooks=run_topic(f"sim-{run}.webhooks"),
        topic_events=run_topic(f"sim-{run}.events"),
        topic_dead_letter=run_topic(f"sim-{run}.dead-letter"),
        topic_platform_catalog=run_topic(f"sim-{run}.platform-catalog"),
        **{"reconcile_interval": 0, **overrides},
    )


async def seed_order(sim: httpx.AsyncClient, shop: str, status: str, price: str) -> str:
    answer = await sim.post(
        "/_sim/seed",
        json={"orders": [{"shop_id": shop, "status": status, "items": [{"sale_price": price}]}]},
    )
    assert answer.status_code < 300, answer.text
    first = answer.json()["orders"][0]
    return str(first if isinstance(first, str) else first["id"])


@asynccontextmanager
async def sim_worker(
    services: dict[str, str],
    *,
    ingress: bool = False,
    subscribe: bool = False,
    webhooks: bool = False,
    settings: dict[str, Any] | None = None,
    **sim: Any,
) -> AsyncIterator[SimWorker]:
    """The simulator (`sim`: its config) and a worker of its own (`settings`: overrides).

    `ingress` also serves a webhook ingress publishing to the worker's topic, its address as
    `PUBLIC_WEBHOOK_URL`; `subscribe` registers that address for every type in the simulator
    up front, as a seller's console would (else the service registers it: `webhooks.register`);
    `webhooks` is both. Listing images are served by an image host of its own (`images`).
    """
    if webhooks:
        ingress = subscribe = True
    run = uuid.uuid4().hex[:8]
    shop = f"sim-shop-{run}"
    ingress_port = free_port() if ingress else None
    public_url = f"http://127.0.0.1:{ingress_port}{INGRESS_PATH}" if ingress_port else ""
    async with serve(create_app(simulator_config(shop, **sim))) as sim_url, image_host() as images:
        worker_settings = sim_settings(
            services, sim_url, shop, run, public_webhook_url=public_url, **(settings or {})
        )
        worker = Worker(worker_settings)
        await worker.start()
        try:
            async with AsyncExitStack() as stack:
                admin_url = await stack.enter_async_context(
                    serve(worker_app(worker, run_worker=False))
                )
                admin = await stack.enter_async_context(
                    httpx.AsyncClient(
                        base_url=admin_url + "/admin/tiktok-shop",
                        headers={"Authorization": "Bearer test-admin-token"},
                        timeout=60,
                    )
                )
                sim_http = await stack.enter_async_context(
                    httpx.AsyncClient(base_url=sim_url, timeout=30)
                )
                if ingress_port is not None:
                    base = await stack.enter_async_context(
                        serve(ingress_app(worker_settings), port=ingress_port)
                    )
                    await eventually(lambda: _ready(sim_http, base), timeout=30)
                    if subscribe:
                        hooked = await sim_http.put(
                            f"/_sim/shops/{shop}/webhook", json={"url": public_url}
                        )
                        assert hooked.status_code == 200, hooked.text
                yield SimWorker(shop, worker, admin, sim_http, images, public_url or None)
        finally:
            await worker.db.client.drop_database(worker_settings.mongodb_database)
            await worker.stop()
            await delete_topics(
                worker_settings.kafka_bootstrap_servers, prefix=run_topic(f"sim-{run}.")
            )


async def _ready(http: httpx.AsyncClient, base: str) -> bool:
    return (await http.get(base + "/readyz")).status_code == 200
