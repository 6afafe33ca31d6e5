"""Access tokens per shop: who hands the client a valid one, and what happens when it dies.

Authorizations (``ShopAuthorization``) are kept behind the ``ShopDirectory`` port; this module
never knows where. ``StoredTokenProvider`` refreshes before expiry and after TikTok says 105002,
and marks a shop whose refresh token is dead so that nobody calls TikTok for it again until the
seller authorizes again. ``StaticTokenProvider`` is the seed's single ``TIKTOK_ACCESS_TOKEN``.
``DefaultShopTokenProvider`` serves the default shop from a stored authorization when the seller
has made one (``authorize``), else from the static token, and every other shop from storage.

Expiries are unix seconds, as TikTok's auth host sends them (``/api/v2/token/get``, ``refresh``).
"""

import asyncio
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Protocol

import structlog

from service import metrics
from service.adapters.tiktok.errors import (
    ReauthorizationRequiredError,
    ShopNeedsReauthorizationError,
    TikTokApiError,
)
from service.adapters.tiktok.models import TokenData
from service.application.ports import ShopDirectory
from service.domain.shops import ShopAuthorization

_log = structlog.get_logger(__name__)


def authorization_from(
    shop_id: str, data: TokenData, cipher: str | None = None
) -> ShopAuthorization:
    """An active authorization of ``shop_id`` from a token answer (expiries as sent: unix s)."""
    return ShopAuthorization(
        shop_id=shop_id,
        access_token=data.access_token,
        access_token_expires_at=data.access_token_expire_in,
        refresh_token=data.refresh_token,
        refresh_token_expires_at=data.refresh_token_expire_in,
        cipher=cipher,
        open_id=data.open_id,
        seller_name=data.seller_name,
    )


class TokenProvider(Protocol):
    """What the client asks for tokens. ``shop_id`` None is the default (or only) shop."""

    async def access_token(self, shop_id: str | None) -> str:
        """A token to call with now; raises ShopNeedsReauthorizationError without calling."""
        ...

    async def token_rejected(self, shop_id: str | None, rejected: str) -> str | None:
        """TikTok said ``rejected`` expired (105002): a fresh token to retry once with, or None
        when nothing can refresh it."""
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
    """Tokens from the directory, refreshed through ``refresher`` (``TikTokOAuth``).

    ``now`` is the wall clock in unix seconds (expiries are compared with it).
    """

    def __init__(
        self,
        directory: ShopDirectory,
        refresher: TokenRefresher,
        *,
        now: Callable[[], float] = time.time,
    ) -> None:
        self._directory = directory
        self._refresher = refresher
        self._now = now
        # One refresh at a time per shop: concurrent callers wait for it and share the result.
        self._locks: dict[str, asyncio.Lock] = {}

    async def holds(self, shop_id: str) -> bool:
        """Whether the directory keeps an authorization for the shop (valid or not)."""
        return await self._directory.authorization(shop_id) is not None

    async def access_token(self, shop_id: str | None) -> str:
        key = _required(shop_id)
        record = await self._usable(key)
        if record.fresh_at(self._now()):
            return record.access_token
        async with self._lock(key):
            record = await self._usable(key)
            if record.fresh_at(self._now()):
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
        record = await self._directory.authorization(_required(shop_id))
        if record is not None:
            await self._mark(record, f"{error.code}: {error.message}")

    async def _usable(self, shop_id: str) -> ShopAuthorization:
        record = await self._directory.authorization(shop_id)
        if record is None:
            raise ShopNeedsReauthorizationError(shop_id, "the shop was never authorized")
        if record.needs_reauthorization:
            raise ShopNeedsReauthorizationError(shop_id, record.status_reason or "marked")
        return record

    async def _refresh(self, record: ShopAuthorization) -> ShopAuthorization:
        if not record.refreshable_at(self._now()):
            # Known dead: asking TikTok would only earn a 36004001.
            reason = "refresh token expired"
            metrics.TOKEN_REFRESHES.labels(outcome="reauthorization_required").inc()
            await self._mark(record, reason)
            raise ShopNeedsReauthorizationError(record.shop_id, reason)
        try:
            data = await self._refresher.refresh(record.refresh_token)
        except ReauthorizationRequiredError as error:
            metrics.TOKEN_REFRESHES.labels(outcome="reauthorization_required").inc()
            await self._mark(record, f"{error.code}: {error.message}")
            raise
        except Exception:
            metrics.TOKEN_REFRESHES.labels(outcome="failed").inc()
            raise
        metrics.TOKEN_REFRESHES.labels(outcome="refreshed").inc()
        fresh = authorization_from(record.shop_id, data, record.cipher)
        fresh = replace(
            fresh,
            open_id=fresh.open_id or record.open_id,
            seller_name=fresh.seller_name or record.seller_name,
        )
        await self._directory.save_authorization(fresh)
        _log.info(
            "tiktok.token.refreshed",
            shop_id=record.shop_id,
            access_token_expires_at=fresh.access_token_expires_at,
        )
        return fresh

    async def _mark(self, record: ShopAuthorization, reason: str) -> None:
        await self._directory.save_authorization(
            replace(record, status="needs_reauthorization", status_reason=reason)
        )
        _log.warning("tiktok.authorization.lost", shop_id=record.shop_id, reason=reason)

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
    """The default shop: its stored authorization when there is one (refreshable), else the
    seed's static token (``static`` None: no static token, so storage only). Other shops:
    storage only. ``shop_id`` None means the default shop."""

    def __init__(
        self,
        default_shop_id: str,
        static: StaticTokenProvider | None,
        stored: StoredTokenProvider,
    ) -> None:
        self._default = default_shop_id
        self._static = static
        self._stored = stored

    async def _for(self, shop_id: str | None) -> tuple[str, TokenProvider]:
        key = shop_id or self._default
        if key != self._default or self._static is None:
            return key, self._stored
        # Read each time: a seller authorizing the default shop takes over from the static
        # token at once, in every worker.
        if await self._stored.holds(key):
            return key, self._stored
        return key, self._static

    async def access_token(self, shop_id: str | None) -> str:
        key, provider = await self._for(shop_id)
        return await provider.access_token(key)

    async def token_rejected(self, shop_id: str | None, rejected: str) -> str | None:
        key, provider = await self._for(shop_id)
        return await provider.token_rejected(key, rejected)

    async def authorization_lost(self, shop_id: str | None, error: TikTokApiError) -> None:
        key, provider = await self._for(shop_id)
        await provider.authorization_lost(key, error)
