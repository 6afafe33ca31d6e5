"""An ingress of a test's own and signed posts to it, as TikTok and the seed send them."""

import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from typing import Any

import httpx

from service.adapters.tiktok.signing import seed_webhook_signature, webhook_signature
from service.entrypoints.ingress.app import ingress_app
from tests.conftest import make_settings
from tests.support import eventually, serve

KEY, SECRET = "flowkey", "flowsecret"
PATH = "/tiktok-shop/webhooks"


@asynccontextmanager
async def serve_ingress(
    services: dict[str, str], topic: str, *, app_key: str = KEY, app_secret: str = SECRET
) -> AsyncIterator[str]:
    """An ingress publishing to `topic`, served over HTTP until the block ends; its base URL."""
    settings = make_settings(
        services, topic_webhooks=topic, tiktok_app_key=app_key, tiktok_app_secret=app_secret
    )
    async with serve(ingress_app(settings)) as url, httpx.AsyncClient() as http:

        async def ready() -> bool:
            return (await http.get(url + "/readyz")).status_code == 200

        await eventually(ready, timeout=30)
        yield url


def raw_json(body: dict[str, Any]) -> bytes:
    return json.dumps(body, ensure_ascii=False).encode()


async def post_tiktok(
    url: str, body: dict[str, Any] | bytes, *, app_key: str = KEY, app_secret: str = SECRET
) -> httpx.Response:
    """POST TikTok's form, signed as TikTok signs it (over these exact bytes)."""
    raw = body if isinstance(body, bytes) else raw_json(body)
    async with httpx.AsyncClient() as http:
        return await http.post(
            url + PATH,
            content=raw,
            headers={
                "Authorization": webhook_signature(app_key, app_secret, raw),
                "content-type": "application/json",
            },
        )


async def post_seed(url: str, body: dict[str, Any], *, app_secret: str = SECRET) -> httpx.Response:
    """POST the seed's form, signed in the `sign` query parameter as the seed signs it."""
    raw = raw_json(body)
    params = {"timestamp": "1700000000"}
    sign = seed_webhook_signature(app_secret, PATH, params, raw)
    async with httpx.AsyncClient() as http:
        return await http.post(url + PATH, params={**params, "sign": sign}, content=raw)
