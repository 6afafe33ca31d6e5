"""The webhook ingress: verifies TikTok's signature and publishes to Kafka. No database here."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from faststream.kafka import KafkaBroker
from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from service import stopping
from service.adapters.kafka.broker import make_broker
from service.adapters.kafka.link import KafkaLink
from service.entrypoints.health import health_routes
from service.entrypoints.ingress.webhook import PATH, webhook_endpoint
from service.entrypoints.metrics import metrics_routes
from service.settings import Settings

# Well inside TikTok's 3 s: a webhook that waited longer counts as undelivered anyway.
PUBLISH_TIMEOUT = 2.0
# How long start-up waits for Kafka before serving without it (then readiness says so).
STARTUP_WAIT = 3.0


def ingress_app(
    settings: Settings,
    *,
    broker: KafkaBroker | None = None,
    publish_timeout: float = PUBLISH_TIMEOUT,
) -> Starlette:
    link = KafkaLink(
        broker or make_broker(settings, role="ingress"),
        servers=settings.kafka_bootstrap_servers,
        topic=settings.topic_webhooks,
        publish_timeout=publish_timeout,
        security=settings.security(),
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        link.start()
        await link.wait_connected(STARTUP_WAIT)
        try:
            yield
        finally:
            # Requests in hand were answered (each publish is bounded); closing the producer
            # must not wait for a Kafka that is gone.
            await stopping.step("kafka producer", link.stop(), 2.0)

    routes = [
        *health_routes(link.ready),
        *metrics_routes(),
        Route(PATH, webhook_endpoint(settings, link), methods=["POST"]),
    ]
    return Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: _not_served, 405: _not_served},
    )


async def _not_served(request: Request, exc: Exception) -> Response:
    """A path or a method the ingress does not serve, answered like every other refusal of the
    ingress (JSON `{"error", "code"}`) instead of Starlette's plain text; a 405 keeps its
    `Allow` header."""
    if isinstance(exc, HTTPException) and exc.status_code == 405:
        allowed = (exc.headers or {}).get("Allow", "")
        body = {
            "error": f"{request.method} is not taken here: this path takes {allowed} only",
            "code": "method_not_allowed",
        }
        return JSONResponse(body, status_code=405, headers=exc.headers)
    body = {"error": f"No such path: webhooks are sent to POST {PATH}", "code": "not_found"}
    return JSONResponse(body, status_code=404)
