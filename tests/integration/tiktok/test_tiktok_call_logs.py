"""What the service's logging writes while it calls TikTok: at INFO no line per call (the HTTP
library's own request lines stay quiet), at DEBUG each request as the HTTP library reports it."""

import io
import logging
from collections.abc import Iterator
from contextlib import contextmanager

import pytest

from service import logs
from tests.integration.tiktok.sim_support import ClientFactory

pytestmark = pytest.mark.integration

HTTP_LIBRARIES = ("httpx", "httpcore")


@contextmanager
def service_logging(level: str) -> Iterator[io.StringIO]:
    """The service's logging as `LOG_LEVEL=level` sets it, each line also written into the
    buffer yielded as `<logger> <level> <message>`."""
    logs.configure(level)
    buffer = io.StringIO()
    handler = logging.StreamHandler(buffer)
    handler.setFormatter(logging.Formatter("%(name)s %(levelname)s %(message)s"))
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        yield buffer
    finally:
        root.removeHandler(handler)
        logs.configure("INFO")


def http_library_lines(logged: io.StringIO) -> list[str]:
    return [line for line in logged.getvalue().splitlines() if line.startswith(HTTP_LIBRARIES)]


async def test_at_info_tiktok_calls_write_no_line_each(make_client: ClientFactory) -> None:
    client = make_client()
    with service_logging("INFO") as logged:
        for _ in range(20):
            await client.authorized_shops()
    assert http_library_lines(logged) == []


@pytest.mark.parametrize("level", ["WARNING", "ERROR"])
async def test_above_info_tiktok_calls_write_no_line_each(
    make_client: ClientFactory, level: str
) -> None:
    client = make_client()
    with service_logging(level) as logged:
        await client.authorized_shops()
    assert http_library_lines(logged) == []


async def test_at_debug_each_tiktok_request_is_logged(make_client: ClientFactory) -> None:
    client = make_client()
    with service_logging("DEBUG") as logged:
        await client.authorized_shops()
    lines = http_library_lines(logged)
    requests = [line for line in lines if line.startswith("httpx INFO HTTP Request: GET ")]
    assert len(requests) == 1, lines
    assert "/authorization/202309/shops" in requests[0]
    assert any(line.startswith("httpcore.") and " DEBUG " in line for line in lines), lines
