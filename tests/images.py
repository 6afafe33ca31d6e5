"""An image host for tests: listing images the service fetches to upload them to TikTok.

`GET /{width}x{height}/{name}.png` answers a PNG of that size (its header says so; TikTok's
image API reads the size from it); anything else is 404. `fetched` counts the GETs per path.
"""

import re
import struct
import zlib
from collections import Counter
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

from tests.support import serve

_PATH = re.compile(r"^/(\d{1,5})x(\d{1,5})/[\w.-]+\.png$")


def png(width: int, height: int) -> bytes:
    """A PNG whose header says `width` x `height` (its pixels a token single row)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        crc = zlib.crc32(kind + data) & 0xFFFFFFFF
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\xff\xff"))
        + chunk(b"IEND", b"")
    )


@dataclass
class ImageHost:
    base_url: str
    fetched: Counter[str] = field(default_factory=Counter)

    def url(self, name: str, width: int = 800, height: int = 800) -> str:
        return f"{self.base_url}/{width}x{height}/{name}.png"


@asynccontextmanager
async def image_host() -> AsyncIterator[ImageHost]:
    host = ImageHost("")

    async def image(request: Request) -> Response:
        path = request.url.path
        host.fetched[path] += 1
        match = _PATH.match(path)
        if match is None:
            return Response(status_code=404)
        return Response(png(int(match[1]), int(match[2])), media_type="image/png")

    app = Starlette(routes=[Route("/{path:path}", image, methods=["GET"])])
    async with serve(app) as url:
        host.base_url = url
        yield host
