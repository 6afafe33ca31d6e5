"""TikTok Shop Open API adapter: signing, OAuth, tokens, rate limits and the typed client.

Names are loaded on first use, so that ``signing`` and ``errors`` stay importable without httpx
or pydantic (the webhook ingress uses them).
"""

import importlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from service.adapters.tiktok.client import ShopRef, TikTokShopClient
    from service.adapters.tiktok.config import TikTokConfig
    from service.adapters.tiktok.errors import (
        AccessTokenExpiredError,
        InvalidSignatureError,
        NeedsReauthorization,
        PermissionDeniedError,
        ReauthorizationRequiredError,
        ShopCipherMissingError,
        ShopNeedsReauthorizationError,
        ThrottledError,
        TikTokApiError,
        TikTokError,
        TikTokResponseError,
        TikTokTransportError,
    )
    from service.adapters.tiktok.oauth import TikTokOAuth
    from service.adapters.tiktok.onboarding import authorize_shops
    from service.adapters.tiktok.tokens import (
        InMemoryTokenStore,
        ShopTokens,
        StaticTokenProvider,
        StoredTokenProvider,
        TokenProvider,
        TokenStore,
    )

_EXPORTS: dict[str, str] = {
    "AccessTokenExpiredError": "service.adapters.tiktok.errors",
    "InMemoryTokenStore": "service.adapters.tiktok.tokens",
    "InvalidSignatureError": "service.adapters.tiktok.errors",
    "NeedsReauthorization": "service.adapters.tiktok.errors",
    "PermissionDeniedError": "service.adapters.tiktok.errors",
    "ReauthorizationRequiredError": "service.adapters.tiktok.errors",
    "ShopCipherMissingError": "service.adapters.tiktok.errors",
    "ShopNeedsReauthorizationError": "service.adapters.tiktok.errors",
    "ShopRef": "service.adapters.tiktok.client",
    "ShopTokens": "service.adapters.tiktok.tokens",
    "StaticTokenProvider": "service.adapters.tiktok.tokens",
    "StoredTokenProvider": "service.adapters.tiktok.tokens",
    "ThrottledError": "service.adapters.tiktok.errors",
    "TikTokApiError": "service.adapters.tiktok.errors",
    "TikTokConfig": "service.adapters.tiktok.config",
    "TikTokError": "service.adapters.tiktok.errors",
    "TikTokOAuth": "service.adapters.tiktok.oauth",
    "TikTokResponseError": "service.adapters.tiktok.errors",
    "TikTokShopClient": "service.adapters.tiktok.client",
    "TikTokTransportError": "service.adapters.tiktok.errors",
    "TokenProvider": "service.adapters.tiktok.tokens",
    "TokenStore": "service.adapters.tiktok.tokens",
    "authorize_shops": "service.adapters.tiktok.onboarding",
}


def __getattr__(name: str) -> object:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)


__all__ = [
    "AccessTokenExpiredError",
    "InMemoryTokenStore",
    "InvalidSignatureError",
    "NeedsReauthorization",
    "PermissionDeniedError",
    "ReauthorizationRequiredError",
    "ShopCipherMissingError",
    "ShopNeedsReauthorizationError",
    "ShopRef",
    "ShopTokens",
    "StaticTokenProvider",
    "StoredTokenProvider",
    "ThrottledError",
    "TikTokApiError",
    "TikTokConfig",
    "TikTokError",
    "TikTokOAuth",
    "TikTokResponseError",
    "TikTokShopClient",
    "TikTokTransportError",
    "TokenProvider",
    "TokenStore",
    "authorize_shops",
]
