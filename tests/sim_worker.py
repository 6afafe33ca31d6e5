"""A worker configured for TikTok, talking to the simulator over real HTTP."""

import contextlib
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any

import httpx

from service.bootstrap import Worker
from service.entrypoints.ingress.app import ingress_app
from service.entrypoints.ingress.webhook import PATH
from service.entrypoints.worker.asgi import worker_app
from simulator.app import create_app
from simulator.config import SimulatorConfig
from tests.conftest import make_settings
from tests.images import ImageHost, image_host
from tests.support import serve

APP_KEY, APP_SECRET, TOKEN = "flow-app-key", "flow-app-secret", "flow-access-token"


@dataclass
class SimWorker:
    shop: str
    worker: Worker
    admin: httpx.AsyncClient  # the worker's admin API, token set
    sim: httpx.AsyncClient  # the simulator's control API
    images: ImageHost  # where listing images are served from

    async def sim_post(self, path: str, body: dict[str, Any]) -> Any:
        answer = await self.sim.post(path, json=body)
        assert answer.status_code < 300, answer.text
        return answer.json()


@asynccontextmanager
async def sim_worker(
    services: dict[str, str],
    settings: dict[str, Any] | None = None,
    *,
    webhooks: bool = False,
    **sim: Any,
) -> AsyncIterator[SimWorker]:
    """A worker on the simulator; `settings` overrides the worker's, `sim` the simulator's.
    With `webhooks`, an ingress runs too and the simulator pushes the shop's webhooks to it."""
    run = uuid.uuid4().hex[:8]
    shop = f"sim-shop-{run}"
    config = SimulatorConfig(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        demo_shop_id=shop,
        demo_access_token=TOKEN,
        **sim,
    )
    async with serve(create_app(config)) as sim_url, image_host() as images:
        settings = make_settings(
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
            # A database of its own: FerretDB scans whole collections for most queries, so a
            # small one keeps these flows fast (MongoDB would use the indexes either way).
            mongodb_database=f"sim_{run}",
            kafka_group_id=f"sim-worker-{run}",
            topic_admin_commands=f"test.{run}.commands",
            topic_webhooks=f"test.{run}.webhooks",
            topic_events=f"test.{run}.events",
            topic_dead_letter=f"test.{run}.dead-letter",
            topic_platform_catalog=f"test.{run}.platform-catalog",
            **(settings or {}),
        )
        worker = Worker(settings)
        await worker.start()
        try:
            async with (
                serve(worker_app(worker, run_worker=False)) as admin_url,
                httpx.AsyncClient(
                    base_url=admin_url + "/admin/tiktok-shop",
                    headers={"Authorization": "Bearer test-admin-token"},
                    timeout=60,
                ) as admin,
                httpx.AsyncClient(base_url=sim_url, timeout=30) as sim_http,
                contextlib.AsyncExitStack() as stack,
            ):
                if webhooks:
                    ingress_url = await stack.enter_async_context(serve(ingress_app(settings)))
                    answer = await sim_http.put(
                        f"/_sim/shops/{shop}/webhook", json={"url": ingress_url + PATH}
                    )
                    assert answer.status_code == 200, answer.text
                yield SimWorker(shop, worker, admin, sim_http, images)
        finally:
            await worker.db.client.drop_database(settings.mongodb_database)
            await worker.stop()
