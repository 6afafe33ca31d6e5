"""Access tokens per shop: where they are kept, and who hands a valid one to the client.

``TokenStore`` is the port a database adapter implements; ``InMemoryTokenStore`` serves tests and
the demo. ``StoredTokenProvider`` refreshes before expiry and after TikTok says 105002, and marks a
shop whose refresh token is dead so that nobody calls TikTok for it again until the seller
re-authorizes. ``StaticTokenProvider`` is the seed's single ``TIKTOK_ACCESS_TOKEN``.
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from typing import Literal, Protocol

from service.adapters.tiktok.errors import (
    ReauthorizationRequiredError,
    ShopNeedsReauthorizationError,
    TikTokApiError,
)
from service.adapters.tiktok.models import TokenData

AuthorizationStatus = Literal["active", "needs_reauthorization"]

# Refresh this long before the access token expires (TikTok's tokens live about 7 days).
DEFAULT_REFRESH_SKEW_SECONDS = 300


@dataclass(frozen=True)
class ShopTokens:
    """One shop's authorization. Expiries are absolute unix seconds, as TikTok sends them."""

    shop_id: str
    access_token: str = field(repr=False)
    access_token_expires_at: int
    refresh_token: str = field(repr=False)
    refresh_token_expires_at: int
    cipher: str | None = None
    status: AuthorizationStatus = "active"
    # Why the shop needs re-authorization (TikTok's code and message), for the admin page.
    status_reason: str | None = None
    open_id: str | None = None
    seller_name: str | None = None

    @property
    def needs_reauthorization(self) -> bool:
        return self.status == "needs_reauthorization"

    @classmethod
    def from_token_data(
        cls, shop_id: str, data: TokenData, cipher: str | None = None
    ) -> "ShopTokens":
        return cls(
            shop_id=shop_id,
            access_token=data.access_token,
            access_token_expires_at=data.access_token_expire_in,
            refresh_token=data.refresh_token,
            refresh_token_expires_at=data.refresh_token_expire_in,
            cipher=cipher,
            open_id=data.open_id,
            seller_name=data.seller_name,
        )


class TokenStore(Protocol):
    async def get(self, shop_id: str) -> ShopTokens | None: ...

    async def save(self, tokens: ShopTokens) -> None:
        """Insert or replace the shop's record."""
        ...


class InMemoryTokenStore:
    def __init__(self) -> None:
        self._records: dict[str, ShopTokens] = {}

    async def get(self, shop_id: str) -> ShopTokens | None:
        return self._records.get(shop_id)

    async def save(self, tokens: ShopTokens) -> None:
        self._records[tokens.shop_id] = tokens


class TokenProvider(Protocol):
    """What the client asks for tokens. ``shop_id`` None is the default (or only) shop."""

    async def access_token(self, shop_id: str | None) -> str:
        """A token to call with now; raises NeedsReauthorization without calling TikTok."""
        ...

    async def token_rejected(self, shop_id: str | None, rejected: str) -> str | None:
        """TikTok said ``rejected`` expired (105002): a fresh token to retry once with, or None."""
        ...

    async def authorization_lost(self, shop_id: str | None, error: TikTokApiError) -> None:
        """TikTok said the seller must re-authorize (36004001, 36004005)."""
        ...


class StaticTokenProvider:
    """One fixed token (the seed's ``TIKTOK_ACCESS_TOKEN``); it cannot be refreshed."""

    def __init__(self, access_token: str) -> None:
        if not access_token:
            raise ValueError("access_token is required")
        self._token = access_token

    async def access_token(self, shop_id: str | None) -> str:
        return self._token

    async def token_rejected(self, shop_id: str | None, rejected: str) -> str | None:
        return None

    async def authorization_lost(self, shop_id: str | None, error: TikTokApiError) -> None:
        return None


class TokenRefresher(Protocol):
    async def refresh(self, refresh_token: str) -> TokenData: ...


class StoredTokenProvider:
    def __init__(
        self,
        store: TokenStore,
        refresher: TokenRefresher,
        *,
        refresh_skew_seconds: float = DEFAULT_REFRESH_SKEW_SECONDS,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._store = store
        self._refresher = refresher
        self._skew = refresh_skew_seconds
        self._now = now
        # One refresh at a time per shop: concurrent callers wait for it and share the result.
        self._locks: dict[str, asyncio.Lock] = {}

    async def access_token(self, shop_id: str | None) -> str:
        key = _required(shop_id)
        record = await self._usable(key)
        if self._now() + self._skew < record.access_token_expires_at:
            return record.access_token
        async with self._lock(key):
            record = await self._usable(key)
            if self._now() + self._skew < record.access_token_expires_at:
                return record.access_token  # another caller refreshed meanwhile
            return (await self._refresh(record)).access_token

    async def token_rejected(self, shop_id: str | None, rejected: str) -> str | None:
        key = _required(shop_id)
        async with self._lock(key):
            record = await self._usable(key)
            if record.access_token != rejected:
                return record.access_token  # already replaced by a concurrent refresh
            return (await self._refresh(record)).access_token

    async def authorization_lost(self, shop_id: str | None, error: TikTokApiError) -> None:
        record = await self._store.get(_required(shop_id))
        if record is not None:
            await self._mark(record, f"{error.code}: {error.message}")

    async def _usable(self, shop_id: str) -> ShopTokens:
        record = await self._store.get(shop_id)
        if record is None:
            raise ShopNeedsReauthorizationError(shop_id, "the shop was never authorized")
        if record.needs_reauthorization:
            raise ShopNeedsReauthorizationError(shop_id, record.status_reason or "marked")
        return record

    async def _refresh(self, record: ShopTokens) -> ShopTokens:
        if self._now() >= record.refresh_token_expires_at:
            # Known dead: asking TikTok would only earn a 36004001.
            reason = "refresh token expired"
            await self._mark(record, reason)
            raise ShopNeedsReauthorizationError(record.shop_id, reason)
        try:
            data = await self._refresher.refresh(record.refresh_token)
        except ReauthorizationRequiredError as error:
            await self._mark(record, f"{error.code}: {error.message}")
            raise
        fresh = ShopTokens.from_token_data(record.shop_id, data, record.cipher)
        fresh = replace(
            fresh,
            open_id=fresh.open_id or record.open_id,
            seller_name=fresh.seller_name or record.seller_name,
        )
        await self._store.save(fresh)
        return fresh

    async def _mark(self, record: ShopTokens, reason: str) -> None:
        await self._store.save(
            replace(record, status="needs_reauthorization", status_reason=reason)
        )

    def _lock(self, shop_id: str) -> asyncio.Lock:
        lock = self._locks.get(shop_id)
        if lock is None:
            lock = self._locks[shop_id] = asyncio.Lock()
        return lock


def _required(shop_id: str | None) -> str:
    if not shop_id:
        raise ValueError("this token provider needs a shop_id")
    return shop_id


class DefaultShopTokenProvider:
    """The seed's static token for the default shop; stored, refreshed tokens for the others."""

    def __init__(self, default_shop_id: str, static: TokenProvider, stored: TokenProvider) -> None:
        self._default = default_shop_id
        self._static = static
        self._stored = stored

    def _for(self, shop_id: str | None) -> TokenProvider:
        return self._static if shop_id in (None, self._default) else self._stored

    async def access_token(self, shop_id: str | None) -> str:
        return await self._for(shop_id).access_token(shop_id)

    async def token_rejected(self, shop_id: str | None, rejected: str) -> str | None:
        return await self._for(shop_id).token_rejected(shop_id, rejected)

    async def authorization_lost(self, shop_id: str | None, error: TikTokApiError) -> None:
        await self._for(shop_id).authorization_lost(shop_id, error)
