"""TikTok's auth host: trade an authorization code for tokens, and refresh them.

These calls are not signed; the app secret travels as a query parameter, as TikTok specifies,
so httpx's request log lines are redacted (see ``redaction``).
"""

import asyncio
import random

import httpx

from service.adapters.tiktok.config import TikTokConfig
from service.adapters.tiktok.envelope import parse_data
from service.adapters.tiktok.http_owner import OwnsHttp
from service.adapters.tiktok.models import TokenData
from service.adapters.tiktok.redaction import install as install_log_redaction
from service.adapters.tiktok.retry import RetryPolicy, send_with_retries


class TikTokOAuth(OwnsHttp):
    def __init__(
        self,
        config: TikTokConfig,
        *,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        rng: random.Random | None = None,
    ) -> None:
        install_log_redaction()
        self._config = config
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=config.timeout, transport=transport)
        self._policy = RetryPolicy(
            config.max_attempts, config.base_backoff, config.max_backoff, config.max_retry_after
        )
        self._rng = rng or random.Random()  # noqa: S311 - jitter, not a secret

    async def exchange_code(self, auth_code: str) -> TokenData:
        """An authorization code works once (and for 30 minutes), so it is not re-sent blindly."""
        return await self._get(
            "get",
            {"auth_code": auth_code, "grant_type": "authorized_code"},
            idempotent=False,
        )

    async def refresh(self, refresh_token: str) -> TokenData:
        return await self._get(
            "refresh",
            {"refresh_token": refresh_token, "grant_type": "refresh_token"},
            idempotent=True,
        )

    async def _get(self, endpoint: str, params: dict[str, str], *, idempotent: bool) -> TokenData:
        url = f"{self._config.auth_base_url.rstrip('/')}/api/v2/token/{endpoint}"
        query = {"app_key": self._config.app_key, "app_secret": self._config.app_secret, **params}

        async def send() -> httpx.Response:
            return await self._http.get(url, params=query)

        data = await send_with_retries(
            send,
            label=f"token/{endpoint}",
            policy=self._policy,
            idempotent=idempotent,
            sleep=asyncio.sleep,
            rng=self._rng,
        )
        return parse_data(TokenData, data)
