"""Settings of the TikTok Shop adapter: who we are, where TikTok is, how hard we may push."""

from dataclasses import dataclass, field
from typing import Final

PRODUCTION_API_BASE_URL: Final = "https://open-api.tiktokglobalshop.com"
SANDBOX_API_BASE_URL: Final = "https://open-api-sandbox.tiktokglobalshop.com"
AUTH_BASE_URL: Final = "https://auth.tiktok-shops.com"


@dataclass(frozen=True)
class TikTokConfig:
    app_key: str
    app_secret: str = field(repr=False)
    api_base_url: str = PRODUCTION_API_BASE_URL
    auth_base_url: str = AUTH_BASE_URL
    # Per shop. TikTok documents 50 QPS per API, app and shop.
    rate_per_second: float = 50.0
    # Calls allowed back to back before the rate applies; None picks a tenth of the rate.
    burst: int | None = None
    # Seconds per HTTP request. How often a call is tried again is `service.retries`.
    timeout: float = 30.0

    def __post_init__(self) -> None:
        if not self.app_key or not self.app_secret:
            raise ValueError("app_key and app_secret are required")
        if self.rate_per_second <= 0:
            raise ValueError("rate_per_second must be positive")
        if self.timeout <= 0:
            raise ValueError("timeout must be positive")
