"""A worker configured for TikTok, talking to the simulator over real HTTP."""

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
from simulator.app import create_app
from simulator.config import SimulatorConfig
from tests.conftest import make_settings
from tests.support import eventually, free_port, serve

APP_KEY, APP_SECRET, TOKEN = "flow-app-key", "flow-app-secret", "flow-access-token"


@dataclass
class SimWorker:
    shop: str
    worker: Worker
    admin: httpx.AsyncClient  # the worker's admin API, token set
    sim: httpx.AsyncClient  # the simulator's control API
    ingress_url: str | None = None  # the webhook address TikTok should use (PUBLIC_WEBHOOK_URL)

    async def sim_post(self, path: str, body: dict[str, Any]) -> Any:
        answer = await self.sim.post(path, json=body)
        assert answer.status_code < 300, answer.text
        return answer.json()


@asynccontextmanager
async def sim_worker(
    services: dict[str, str],
    *,
    ingress: bool = False,
    settings: dict[str, Any] | None = None,
    **sim: Any,
) -> AsyncIterator[SimWorker]:
    """A simulator and a worker configured for it. `ingress` also serves a webhook ingress
    publishing to the worker's topic, its address as `PUBLIC_WEBHOOK_URL`; `settings` overrides
    the worker's settings (reconciliation is off unless `reconcile_interval` is given)."""
    run = uuid.uuid4().hex[:8]
    shop = f"sim-shop-{run}"
    config = SimulatorConfig(
        app_key=APP_KEY,
        app_secret=APP_SECRET,
        demo_shop_id=shop,
        demo_access_token=TOKEN,
        **sim,
    )
    ingress_port = free_port() if ingress else None
    public_url = f"http://127.0.0.1:{ingress_port}{INGRESS_PATH}" if ingress_port else ""
    async with serve(create_app(config)) as sim_url:
        worker_settings = make_settings(
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
            public_webhook_url=public_url,
            **{"reconcile_interval": 0, **(settings or {})},
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
                yield SimWorker(shop, worker, admin, sim_http, public_url or None)
        finally:
            await worker.db.client.drop_database(worker_settings.mongodb_database)
            await worker.stop()


async def _ready(http: httpx.AsyncClient, base: str) -> bool:
    return (await http.get(base + "/readyz")).status_code == 200
