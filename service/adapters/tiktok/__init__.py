"""TikTok Shop Open API adapter: signing, OAuth, tokens, rate limits, the typed client and the
gateway (the application's ``TikTokGateway`` port).

Names are loaded on first use, so that ``signing`` and ``errors`` stay importable without httpx
or pydantic (the webhook ingress uses them).
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.adapters.tiktok.client import (
        ShopRef,
        TikTokShopClient,
    )
    from service.adapters.tiktok.config import TikTokConfig
    from service.adapters.tiktok.errors import (
        AccessTokenExpiredError,
        AccessTokenNotRefreshableError,
        InvalidSignatureError,
        NeedsReauthorization,
        PermissionDeniedError,
        ReauthorizationRequiredError,
        ShopCipherInvalidError,
        ShopCipherMissingError,
        ShopNeedsReauthorizationError,
        ThrottledError,
        TikTokApiError,
        TikTokError,
        TikTokResponseError,
        TikTokTransportError,
    )
    from service.adapters.tiktok.gateway import (
        TikTokApiGateway,
        build_api_gateway,
    )
    from service.adapters.tiktok.oauth import TikTokOAuth
    from service.adapters.tiktok.onboarding import authorize_shops
    from service.adapters.tiktok.tokens import (
        DefaultShopTokenProvider,
        StaticTokenProvider,
        StoredTokenProvider,
        TokenProvider,
    )
    from service.adapters.tiktok.unconfigured import UnconfiguredTikTok

_EXPORTS: dict[str, str] = {
    "AccessTokenExpiredError": "service.adapters.tiktok.errors",
    "AccessTokenNotRefreshableError": "service.adapters.tiktok.errors",
    "DefaultShopTokenProvider": "service.adapters.tiktok.tokens",
    "InvalidSignatureError": "service.adapters.tiktok.errors",
    "NeedsReauthorization": "service.adapters.tiktok.errors",
    "PermissionDeniedError": "service.adapters.tiktok.errors",
    "ReauthorizationRequiredError": "service.adapters.tiktok.errors",
    "ShopCipherInvalidError": "service.adapters.tiktok.errors",
    "ShopCipherMissingError": "service.adapters.tiktok.errors",
    "ShopNeedsReauthorizationError": "service.adapters.tiktok.errors",
    "ShopRef": "service.adapters.tiktok.client",
    "StaticTokenProvider": "service.adapters.tiktok.tokens",
    "StoredTokenProvider": "service.adapters.tiktok.tokens",
    "ThrottledError": "service.adapters.tiktok.errors",
    "TikTokApiError": "service.adapters.tiktok.errors",
    "TikTokApiGateway": "service.adapters.tiktok.gateway",
    "TikTokConfig": "service.adapters.tiktok.config",
    "TikTokError": "service.adapters.tiktok.errors",
    "TikTokOAuth": "service.adapters.tiktok.oauth",
    "TikTokResponseError": "service.adapters.tiktok.errors",
    "TikTokShopClient": "service.adapters.tiktok.client",
    "TikTokTransportError": "service.adapters.tiktok.errors",
    "TokenProvider": "service.adapters.tiktok.tokens",
    "UnconfiguredTikTok": "service.adapters.tiktok.unconfigured",
    "authorize_shops": "service.adapters.tiktok.onboarding",
    "build_api_gateway": "service.adapters.tiktok.gateway",
}


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "AccessTokenExpiredError",
    "AccessTokenNotRefreshableError",
    "DefaultShopTokenProvider",
    "InvalidSignatureError",
    "NeedsReauthorization",
    "PermissionDeniedError",
    "ReauthorizationRequiredError",
    "ShopCipherInvalidError",
    "ShopCipherMissingError",
    "ShopNeedsReauthorizationError",
    "ShopRef",
    "StaticTokenProvider",
    "StoredTokenProvider",
    "ThrottledError",
    "TikTokApiError",
    "TikTokApiGateway",
    "TikTokConfig",
    "TikTokError",
    "TikTokOAuth",
    "TikTokResponseError",
    "TikTokShopClient",
    "TikTokTransportError",
    "TokenProvider",
    "UnconfiguredTikTok",
    "authorize_shops",
    "build_api_gateway",
]
