"""TikTok's auth host: trade an authorization code for tokens, and refresh them.

These calls are not signed; the app secret travels as a query parameter, as TikTok specifies,
so httpx's request log lines are redacted (see ``redaction``). Retried like the API calls
(``service.retries.TIKTOK_CALL``, through ``retry.send_with_retries``).
"""

import httpx

from service.adapters.tiktok.config import TikTokConfig
from service.adapters.tiktok.envelope import parse_data
from service.adapters.tiktok.http_owner import OwnsHttp
from service.adapters.tiktok.models import TokenData
from service.adapters.tiktok.redaction import install as install_log_redaction
from service.adapters.tiktok.retry import send_with_retries


class TikTokOAuth(OwnsHttp):
    """TikTok's token endpoints (``/api/v2/token/get`` and ``/api/v2/token/refresh``)."""

    def __init__(
        self,
        config: TikTokConfig,
        *,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        install_log_redaction()
        self._config = config
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=config.timeout, transport=transport)

    async def exchange_code(self, auth_code: str) -> TokenData:
        """Tokens for a seller's authorization code.

        A code works once (and for 30 minutes), so it is not re-sent after an answer may have
        been lost. Raises TikTokApiError (a used or unknown code), TikTokTransportError.
        """
        return await self._get(
            "get",
            {"auth_code": auth_code, "grant_type": "authorized_code"},
            idempotent=False,
        )

    async def refresh(self, refresh_token: str) -> TokenData:
        """Fresh tokens; ReauthorizationRequiredError when the refresh token is dead."""
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

        data = await send_with_retries(send, label=f"token/{endpoint}", idempotent=idempotent)
        return parse_data(TokenData, data)
