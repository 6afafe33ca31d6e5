"""The webhook ingress: verifies TikTok's signature and publishes to Kafka. No database here."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from faststream.kafka import KafkaBroker
from starlette.applications import Starlette

from service.adapters.kafka.broker import make_broker
from service.entrypoints.health import health_routes
from service.settings import Settings


def ingress_app(settings: Settings, *, broker: KafkaBroker | None = None) -> Starlette:
    kafka = broker or make_broker(settings, role="ingress")

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        await kafka.connect()
        try:
            yield
        finally:
            await kafka.stop()

    async def ready() -> bool:
        return await kafka.ping(timeout=2.0)

    return Starlette(routes=[*health_routes(ready)], lifespan=lifespan)
