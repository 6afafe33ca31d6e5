"""A worker configured for TikTok, talking to the simulator over real HTTP; optionally with an
ingress of its own that the simulator pushes the shop's webhooks to."""

import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from service.bootstrap import Worker
from service.entrypoints.worker.asgi import worker_app
from service.settings import Settings
from simulator.app import create_app
from simulator.config import SimulatorConfig
from tests.conftest import make_settings, run_topic
from tests.ingress import PATH, serve_ingress
from tests.kafka_tools import delete_topics
from tests.support import serve

APP_KEY, APP_SECRET, TOKEN = "flow-app-key", "flow-app-secret", "flow-access-token"


@dataclass
class SimWorker:
    shop: str
    worker: Worker
    admin: httpx.AsyncClient  # the worker's admin API, token set
    sim: httpx.AsyncClient  # the simulator's control API
    ingress: str | None = None  # where the simulator pushes the shop's webhooks

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
    topics, consumer group and database of its own; `overrides` last."""
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
        **overrides,
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
    worker: dict[str, Any] | None = None,
    **sim: Any,
) -> AsyncIterator[SimWorker]:
    """The simulator (`sim`: its config), a worker of its own (`worker`: settings overrides)
    and, with `ingress`, an ingress the simulator delivers the shop's webhooks to."""
    run = uuid.uuid4().hex[:8]
    shop = f"sim-shop-{run}"
    async with serve(create_app(simulator_config(shop, **sim))) as sim_url:
        settings = sim_settings(services, sim_url, shop, run, **(worker or {}))
        running = Worker(settings)
        await running.start()
        try:
            async with AsyncExitStack() as stack:
                admin_url = await stack.enter_async_context(
                    serve(worker_app(running, run_worker=False))
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
                ingress_url = None
                if ingress:
                    ingress_url = await stack.enter_async_context(
                        serve_ingress(
                            services,
                            settings.topic_webhooks,
                            app_key=APP_KEY,
                            app_secret=APP_SECRET,
                        )
                    )
                    hooked = await sim_http.put(
                        f"/_sim/shops/{shop}/webhook", json={"url": ingress_url + PATH}
                    )
                    assert hooked.status_code == 200, hooked.text
                yield SimWorker(shop, running, admin, sim_http, ingress_url)
        finally:
            await running.db.client.drop_database(settings.mongodb_database)
            await running.stop()
            await delete_topics(settings.kafka_bootstrap_servers, prefix=run_topic(f"sim-{run}."))
