"""Each shop's TikTok tokens and cipher, in the shop's document of the ``shops`` collection.

The document is shared: ``MongoShops`` keeps the seller's deauthorization (``status``,
``deauthorized_at``), expiry warnings and an outbox there. Writes here ``$set`` their own fields
only, so the token status lives in ``token_status`` rather than ``status``.
"""

import asyncio
from datetime import datetime
from typing import Any, Final, cast

from service.adapters.mongo.database import SHOPS, Database, Document
from service.adapters.tiktok.client import TikTokShopClient
from service.adapters.tiktok.errors import ShopNeedsReauthorizationError
from service.adapters.tiktok.tokens import AuthorizationStatus, ShopTokens

DEAUTHORIZED: Final = "deauthorized"
NEEDS_REAUTHORIZATION: Final = "needs_reauthorization"

# ShopTokens field -> document field (shop_id is the document's _id).
_FIELDS: Final[dict[str, str]] = {
    "access_token": "access_token",
    "access_token_expires_at": "access_token_expires_at",
    "refresh_token": "refresh_token",
    "refresh_token_expires_at": "refresh_token_expires_at",
    "cipher": "cipher",
    "status": "token_status",
    "status_reason": "token_status_reason",
    "open_id": "open_id",
    "seller_name": "seller_name",
}
_PROJECTION: Final = {
    **dict.fromkeys(_FIELDS.values(), True),
    "status": True,
    "deauthorized_at": True,
}


def _tokens(shop_id: str, doc: Document | None) -> ShopTokens | None:
    if doc is None or not doc.get("access_token"):
        return None  # a shop document without tokens (a deauthorization, a cipher only)
    status: AuthorizationStatus = (
        NEEDS_REAUTHORIZATION if doc.get("token_status") == NEEDS_REAUTHORIZATION else "active"
    )
    return ShopTokens(
        shop_id=shop_id,
        access_token=str(doc["access_token"]),
        access_token_expires_at=int(doc.get("access_token_expires_at") or 0),
        refresh_token=str(doc.get("refresh_token") or ""),
        refresh_token_expires_at=int(doc.get("refresh_token_expires_at") or 0),
        cipher=cast(str | None, doc.get("cipher")),
        status=status,
        status_reason=cast(str | None, doc.get("token_status_reason")),
        open_id=cast(str | None, doc.get("open_id")),
        seller_name=cast(str | None, doc.get("seller_name")),
    )


def _blocked_reason(doc: Document | None) -> str | None:
    if doc is None:
        return None
    if doc.get("status") == DEAUTHORIZED:
        at = doc.get("deauthorized_at")
        when = f" on {at:%Y-%m-%d %H:%M} UTC" if isinstance(at, datetime) else ""
        return f"the seller deauthorized the app{when}"
    if doc.get("token_status") == NEEDS_REAUTHORIZATION:
        return f"the authorization was lost ({doc.get('token_status_reason') or 'no reason'})"
    return None


class MongoTokenStore:
    """The client's ``TokenStore``: one document per shop, ``_id`` the shop id."""

    def __init__(self, db: Database) -> None:
        self.collection = db.collection(SHOPS)
        self.locks = db.locks

    async def get(self, shop_id: str) -> ShopTokens | None:
        return _tokens(shop_id, await self.collection.find_one({"_id": shop_id}, _PROJECTION))

    async def save(self, tokens: ShopTokens) -> None:
        fields: dict[str, Any] = {
            doc_field: getattr(tokens, attribute) for attribute, doc_field in _FIELDS.items()
        }
        if tokens.cipher is None:
            # A refresh of tokens saved before the cipher was known must not erase the cipher
            # the directory has found since.
            del fields["cipher"]
        async with self.locks.hold(SHOPS, tokens.shop_id):
            await self.collection.update_one({"_id": tokens.shop_id}, {"$set": fields}, upsert=True)


class MongoShopDirectory:
    """The gateway's ``ShopDirectory`` over the ``shops`` documents.

    ``callable`` is synchronous, so it answers from a cache: ``refresh()`` reloads it for every
    shop, and each ``blocked_reason`` (the gateway asks before every call) updates one shop.
    A shop without a document is callable: the seed's static token needs none.
    """

    def __init__(self, db: Database, client: TikTokShopClient) -> None:
        self.collection = db.collection(SHOPS)
        self.locks = db.locks
        self._client = client
        self._blocked: dict[str, str] = {}
        # Ciphers never change for a shop, so once known they are kept for the process.
        self._ciphers: dict[str, str] = {}
        # Concurrent first calls for a shop ask TikTok once.
        self._fetching = asyncio.Lock()

    def callable(self, shop_id: str) -> bool:
        return shop_id not in self._blocked

    async def refresh(self) -> None:
        blocked: dict[str, str] = {}
        query = {"$or": [{"status": DEAUTHORIZED}, {"token_status": NEEDS_REAUTHORIZATION}]}
        async for doc in self.collection.find(query, _PROJECTION):
            reason = _blocked_reason(doc)
            if reason is not None:
                blocked[str(doc["_id"])] = reason
        self._blocked = blocked

    async def reauthorized(self, shop_id: str) -> None:
        """The seller authorized the app again: a recorded deauthorization no longer holds."""
        async with self.locks.hold(SHOPS, shop_id):
            await self.collection.update_one(
                {"_id": shop_id, "status": DEAUTHORIZED},
                {"$unset": {"status": "", "deauthorized_at": ""}},
            )
        await self.blocked_reason(shop_id)

    async def blocked_reason(self, shop_id: str) -> str | None:
        doc = await self.collection.find_one({"_id": shop_id}, _PROJECTION)
        reason = _blocked_reason(doc)
        if reason is None:
            self._blocked.pop(shop_id, None)
        else:
            self._blocked[shop_id] = reason
        if doc is not None and doc.get("cipher"):
            self._ciphers[shop_id] = str(doc["cipher"])
        return reason

    async def cipher(self, shop_id: str) -> str:
        known = self._ciphers.get(shop_id)
        if known:
            return known
        async with self._fetching:
            known = self._ciphers.get(shop_id)
            if known:
                return known
            doc = await self.collection.find_one({"_id": shop_id}, {"cipher": True})
            if doc is not None and doc.get("cipher"):
                cipher = str(doc["cipher"])
            else:
                cipher = await self._fetch_cipher(shop_id)
                async with self.locks.hold(SHOPS, shop_id):
                    await self.collection.update_one(
                        {"_id": shop_id}, {"$set": {"cipher": cipher}}, upsert=True
                    )
            self._ciphers[shop_id] = cipher
            return cipher

    async def _fetch_cipher(self, shop_id: str) -> str:
        shops = await self._client.authorized_shops(shop_id)
        match = next((s for s in shops if s.id == shop_id), None)
        if match is None and len(shops) == 1:
            # The seed's single configured shop may go by a name of ours rather than TikTok's
            # id; a token that covers exactly one shop leaves no doubt which shop it is.
            match = shops[0]
        if match is None:
            covered = ", ".join(s.id for s in shops) or "none"
            raise ShopNeedsReauthorizationError(
                shop_id, f"the access token does not cover this shop (it covers: {covered})"
            )
        return match.cipher
