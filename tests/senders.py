"""Webhooks as their senders send them to the ingress: TikTok's form signed in the
`Authorization` header, the seed's form signed in the `sign` query parameter."""

import json
from typing import Any

import httpx

from service.adapters.tiktok.signing import seed_webhook_signature, webhook_signature
from service.entrypoints.ingress.webhook import PATH


async def post_tiktok(url: str, key: str, secret: str, body: dict[str, Any]) -> httpx.Response:
    """TikTok's form: hex HMAC-SHA256 with the app secret over app key + raw body."""
    raw = json.dumps(body, ensure_ascii=False).encode()
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(
            url + PATH,
            content=raw,
            headers={
                "Authorization": webhook_signature(key, secret, raw),
                "content-type": "application/json",
            },
        )


async def post_seed(url: str, secret: str, body: dict[str, Any]) -> httpx.Response:
    """The seed's form: `sign` over the path, the sorted query parameters and the raw body."""
    raw = json.dumps(body).encode()
    params = {"timestamp": "1700000000"}
    sign = seed_webhook_signature(secret, PATH, params, raw)
    async with httpx.AsyncClient(timeout=10) as http:
        return await http.post(url + PATH, params={**params, "sign": sign}, content=raw)
