"""Helpers for the simulator's catalog tests: signed raw calls, image files, product bodies."""

import json
import struct
import zlib
from dataclasses import dataclass
from typing import Any

import httpx

from service.adapters.tiktok.signing import sign_request
from tests.integration.tiktok.sim_support import APP_KEY, APP_SECRET, SeededShop, SimControl

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


def png(width: int, height: int) -> bytes:
    """A PNG whose header says ``width`` x ``height`` (the pixels are a token single row)."""
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    pixels = zlib.compress(b"\x00" + b"\xff" * 3)
    return PNG_SIGNATURE + _chunk(b"IHDR", header) + _chunk(b"IDAT", pixels) + _chunk(b"IEND", b"")


def jpeg(width: int, height: int) -> bytes:
    """SOI, a JFIF APP0, a baseline frame header of that size, EOI."""
    app0 = b"\xff\xe0" + struct.pack(">H", 16) + b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    sof0 = b"\xff\xc0" + struct.pack(">HBHHB", 11, 8, height, width, 1) + b"\x01\x11\x00"
    return b"\xff\xd8" + app0 + sof0 + b"\xff\xd9"


def webp(width: int, height: int) -> bytes:
    """An extended (VP8X) WEBP header of that size."""
    payload = b"VP8X" + struct.pack("<I", 10) + b"\x00\x00\x00\x00"
    payload += (width - 1).to_bytes(3, "little") + (height - 1).to_bytes(3, "little")
    return b"RIFF" + struct.pack("<I", len(payload) + 4) + b"WEBP" + payload


GIF = b"GIF89a\x01\x00\x01\x00\x00\x00\x00;"


@dataclass
class Api:
    """Signed Open API calls for one shop, with the simulator's own clock in ``timestamp``."""

    sim: SimControl
    shop: SeededShop

    def _params(self, query: dict[str, str] | None, cipher: bool) -> dict[str, str]:
        params = {"app_key": APP_KEY, "timestamp": str(self.sim.sim.now()), **(query or {})}
        if cipher:
            params["shop_cipher"] = self.shop.ref.cipher
        return params

    async def call(
        self,
        method: str,
        path: str,
        body: Any = None,
        *,
        query: dict[str, str] | None = None,
        cipher: bool = True,
    ) -> httpx.Response:
        params = self._params(query, cipher)
        content = b"" if body is None else json.dumps(body).encode()
        headers = {"x-tts-access-token": self.shop.access_token}
        if body is not None:
            headers["content-type"] = "application/json"
        params["sign"] = sign_request(APP_SECRET, path, params, content)
        return await self.sim.http.request(
            method, path, params=params, content=content, headers=headers
        )

    async def upload(
        self,
        data: bytes,
        use_case: str | None = "MAIN_IMAGE",
        *,
        sign_body: bool = False,
        cipher: bool = False,
    ) -> httpx.Response:
        """``POST /product/202309/images/upload`` as multipart; the body is left out of the
        signature unless ``sign_body`` (which TikTok would refuse)."""
        path = "/product/202309/images/upload"
        fields: list[tuple[str, tuple[str | None, bytes, str]]] = [
            ("data", ("image.bin", data, "application/octet-stream"))
        ]
        if use_case is not None:
            fields.append(("use_case", (None, use_case.encode(), "text/plain")))
        request = httpx.Request("POST", "http://sim", files=fields)
        body = request.read()
        content_type = request.headers["content-type"]
        params = self._params(None, cipher)
        params["sign"] = sign_request(
            APP_SECRET,
            path,
            params,
            body,
            content_type="application/octet-stream" if sign_body else content_type,
        )
        return await self.sim.http.post(
            path,
            params=params,
            content=body,
            headers={"x-tts-access-token": self.shop.access_token, "content-type": content_type},
        )

    async def ok(self, method: str, path: str, body: Any = None, **query: str) -> Any:
        """``data`` of a call that must succeed."""
        answer = await self.call(method, path, body, query=query or None)
        envelope = answer.json()
        assert envelope["code"] == 0, answer.text
        return envelope["data"]

    async def refused(self, method: str, path: str, body: Any = None, **query: str) -> int:
        """The code of a call that must be refused (``data`` null, TikTok's envelope)."""
        answer = await self.call(method, path, body, query=query or None)
        envelope = answer.json()
        assert envelope["code"] != 0, answer.text
        assert set(envelope) == {"code", "message", "request_id", "data"}
        assert envelope["data"] is None
        code: int = envelope["code"]
        return code


def sku(
    seller_sku: str = "TEE-M",
    *,
    price: str = "19.99",
    currency: str = "USD",
    inventory: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    return {
        "seller_sku": seller_sku,
        "price": {"amount": price, "currency": currency},
        "inventory": inventory if inventory is not None else [{"quantity": 12}],
        **extra,
    }


def product(
    *,
    category_id: str = "600001",
    images: list[str] | None = None,
    skus: list[dict[str, Any]] | None = None,
    **extra: Any,
) -> dict[str, Any]:
    """A create/edit body that passes every check unless told otherwise."""
    return {
        "title": "Organic cotton tee",
        "description": "<p>Soft.</p>",
        "category_id": category_id,
        "main_images": [{"uri": u} for u in (images or ["tos-sim/main-image"])],
        "skus": skus or [sku()],
        **extra,
    }


async def create(api: Api, body: dict[str, Any] | None = None) -> dict[str, Any]:
    data: dict[str, Any] = await api.ok("POST", "/product/202309/products", body or product())
    return data


async def detail(api: Api, product_id: str) -> dict[str, Any]:
    data: dict[str, Any] = await api.ok("GET", f"/product/202309/products/{product_id}")
    return data
