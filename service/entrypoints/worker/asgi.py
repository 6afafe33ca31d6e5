"""The worker process's HTTP side: health, readiness and the admin API over the same code."""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, RedirectResponse, Response
from starlette.routing import Mount, Route

from service.bootstrap import Worker
from service.entrypoints.admin_http.asyncapi import asyncapi_routes
from service.entrypoints.admin_http.auth import BearerToken
from service.entrypoints.admin_http.errors import JsonErrors, error
from service.entrypoints.admin_http.page import page_mount
from service.entrypoints.admin_http.routes import admin_routes
from service.entrypoints.health import health_routes
from service.entrypoints.metrics import metrics_routes

ADMIN_PREFIX = "/admin/tiktok-shop"


def worker_app(worker: Worker, *, run_worker: bool = True) -> Starlette:
    """The HTTP app; with `run_worker` its lifespan also starts and stops the worker."""
    token = worker.settings.admin_api_token.get_secret_value()
    if not token:
        raise SystemExit("ADMIN_API_TOKEN is not set: the admin API refuses to run without it")

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        if not run_worker:
            yield
            return
        await worker.start()
        try:
            yield
        finally:
            await worker.stop()

    admin = Mount(
        ADMIN_PREFIX,
        routes=admin_routes(worker.bus),
        middleware=[Middleware(JsonErrors), Middleware(BearerToken, token=token)],
    )
    page = page_mount(f"{ADMIN_PREFIX}/ui")

    async def to_page(_: Request) -> RedirectResponse:
        return RedirectResponse(f"{ADMIN_PREFIX}/ui/")

    return Starlette(
        routes=[
            *health_routes(worker.ready),
            *metrics_routes(),
            # Before the admin mount, which would take these paths: they also take Basic auth.
            *asyncapi_routes(ADMIN_PREFIX, worker.settings, token),
            Route(f"{ADMIN_PREFIX}/ui", to_page),
            page,
            admin,
        ],
        lifespan=lifespan,
        exception_handlers={404: _http_error, 405: _http_error},
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    """A path or method no route takes, answered in the admin API's error shape (JSON with
    `error` and `code`), as every other refusal is."""
    if isinstance(exc, HTTPException) and exc.status_code == 405:
        message = f"{request.method} is not allowed on this path"
        body = {"error": message, "code": "validation_failed", "fields": []}
        return JSONResponse(body, status_code=405, headers=exc.headers)
    return error("not_found", "No such path")
