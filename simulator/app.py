"""The ASGI app: TikTok's Open API host and auth host in one, plus the ``/_sim`` controls."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response

from simulator import (
    control,
    control_catalog,
    control_orders,
    routes_auth,
    routes_catalog,
    routes_events,
    routes_finance,
    routes_fulfillment,
    routes_images,
    routes_inventory,
    routes_orders,
    routes_products,
    routes_returns,
)
from simulator import envelope as env
from simulator.config import SimulatorConfig
from simulator.core import Simulator
from simulator.demo import seed_demo
from simulator.faults import LoggedRequest


async def _unknown_call(request: Request, exc: Exception) -> Response:
    """A path or method TikTok does not serve (a wrong version, say) in TikTok's envelope.

    A known path with another method is also "no such API" (404), as for TikTok's gateway.
    """
    sim: Simulator = request.app.state.sim
    status = 404
    entry = sim.log.add(LoggedRequest(sim.config.clock(), request.method, request.url.path))
    entry.status, entry.code = status, env.NOT_FOUND
    return env.failure(status, env.NOT_FOUND, f"no such API: {request.method} {request.url.path}")


def create_app(
    config: SimulatorConfig | None = None, simulator: Simulator | None = None
) -> Starlette:
    """``simulator`` lets a test hold the same object the app serves from."""
    sim = simulator or Simulator(config)
    seed_demo(sim)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        yield
        await sim.aclose()

    app = Starlette(
        routes=[
            *routes_products.ROUTES,
            *routes_orders.ROUTES,
            *routes_fulfillment.ROUTES,
            *routes_returns.ROUTES,
            *routes_finance.ROUTES,
            *routes_events.ROUTES,
            *routes_auth.ROUTES,
            *routes_images.ROUTES,
            *routes_catalog.ROUTES,
            *routes_inventory.ROUTES,
            *control.ROUTES,
            *control_orders.ROUTES,
            *control_catalog.ROUTES,
        ],
        exception_handlers={404: _unknown_call, 405: _unknown_call},
        lifespan=lifespan,
    )
    app.state.sim = sim
    return app
