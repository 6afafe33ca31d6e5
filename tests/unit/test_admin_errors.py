"""The admin API's last resort: whatever escapes an endpoint is answered as JSON."""

import logging

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from service.application.ports import DatabaseUnavailable
from service.entrypoints.admin_http.errors import JsonErrors


async def defect(_: Request) -> Response:
    raise KeyError("a bug")


async def outage(_: Request) -> Response:
    raise DatabaseUnavailable("no server selected")


APP = Starlette(
    routes=[Route("/defect", defect), Route("/outage", outage)],
    middleware=[Middleware(JsonErrors)],
)


async def get(path: str) -> httpx.Response:
    transport = httpx.ASGITransport(app=APP, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://admin") as http:
        return await http.get(path)


async def test_an_unexpected_error_is_a_json_500_logged_with_its_traceback(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answer = await get("/defect")
    assert answer.status_code == 500
    assert answer.headers["content-type"] == "application/json"
    assert answer.json() == {
        "error": "The request failed unexpectedly",
        "code": "internal",
        "fields": [],
    }
    assert [r.exc_info is not None for r in caplog.records if r.levelno >= logging.ERROR] == [True]


async def test_a_database_outage_is_a_json_503_and_one_warning_line(
    caplog: pytest.LogCaptureFixture,
) -> None:
    answer = await get("/outage")
    assert answer.status_code == 503
    assert answer.json()["code"] == "unavailable"
    warnings = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [(r.levelno, r.exc_info) for r in warnings] == [(logging.WARNING, None)]
