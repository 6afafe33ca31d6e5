"""Each shop's TikTok authorization, cipher and block, in the shop's document of ``shops``.

The ``ShopDirectory`` port, as pure storage. The document is shared with the shop's other writer
(which keeps ``deauthorized_at``, ``authorization_expires_at``, ``outbox`` and ``version``
there), so every write here ``$set``s its own fields and never replaces the document.

Fields: ``_id`` the shop id; ``access_token``, ``access_token_expires_at``, ``refresh_token``,
``refresh_token_expires_at`` (expiries in unix seconds, as TikTok sends them); ``token_status``
("active" | "needs_reauthorization") and ``token_status_reason``; ``open_id``, ``seller_name``;
``cipher``; ``deauthorized_at`` (a UTC datetime while the seller's revocation holds, else null
or absent).
"""

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Final, cast

from pymongo.errors import ConnectionFailure

from service.adapters.mongo.database import SHOPS, Database, Document
from service.application.ports import DatabaseUnavailable
from service.domain.shops import AuthorizationStatus, ShopAuthorization

ACTIVE: Final = "active"
NEEDS_REAUTHORIZATION: Final = "needs_reauthorization"

# ShopAuthorization attribute -> document field (shop_id is the document's _id).
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
_PROJECTION: Final = {**dict.fromkeys(_FIELDS.values(), True), "deauthorized_at": True}
_BLOCK_PROJECTION: Final = {
    "token_status": True,
    "token_status_reason": True,
    "deauthorized_at": True,
}


def _authorization(shop_id: str, doc: Document | None) -> ShopAuthorization | None:
    if doc is None or not doc.get("access_token"):
        return None  # a shop document without tokens (a deauthorization, a cipher only)
    status: AuthorizationStatus = (
        NEEDS_REAUTHORIZATION if doc.get("token_status") == NEEDS_REAUTHORIZATION else ACTIVE
    )
    return ShopAuthorization(
        shop_id=shop_id,
        access_token=str(doc["access_token"]),
        access_token_expires_at=int(doc.get("access_token_expires_at") or 0),
        refresh_token=str(doc.get("refresh_token") or ""),
        refresh_token_expires_at=int(doc.get("refresh_token_expires_at") or 0),
        cipher=cast(str | None, doc.get("cipher")) or None,
        status=status,
        status_reason=cast(str | None, doc.get("token_status_reason")),
        open_id=cast(str | None, doc.get("open_id")),
        seller_name=cast(str | None, doc.get("seller_name")),
    )


def _blocked_reason(doc: Document | None) -> str | None:
    if doc is None:
        return None
    at = doc.get("deauthorized_at")
    if at is not None:
        if isinstance(at, datetime):
            moment = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(UTC)
            return f"the seller deauthorized the app on {moment:%Y-%m-%d %H:%M} UTC"
        return "the seller deauthorized the app"
    if doc.get("token_status") == NEEDS_REAUTHORIZATION:
        return f"the authorization was lost ({doc.get('token_status_reason') or 'no reason'})"
    return None


@asynccontextmanager
async def _database() -> AsyncIterator[None]:
    try:
        yield
    except ConnectionFailure as exc:
        raise DatabaseUnavailable(f"the database did not answer: {exc}") from exc


class MongoShopDirectory:
    """The ``ShopDirectory`` port over the ``shops`` collection (one document per shop).

    Every method raises DatabaseUnavailable when the database does not answer.
    """

    def __init__(self, db: Database) -> None:
        self.collection = db.collection(SHOPS)

    async def authorization(self, shop_id: str) -> ShopAuthorization | None:
        """The shop's stored tokens, or None (never authorized by OAuth)."""
        async with _database():
            doc = await self.collection.find_one({"_id": shop_id}, _PROJECTION)
        return _authorization(shop_id, doc)

    async def save_authorization(self, authorization: ShopAuthorization) -> None:
        """Set the shop's token fields (creating the document if needed); a None cipher keeps
        the stored one (a refresh must not erase a cipher found since)."""
        fields: dict[str, Any] = {
            doc_field: getattr(authorization, attribute) for attribute, doc_field in _FIELDS.items()
        }
        if authorization.cipher is None:
            del fields["cipher"]
        await self._set(authorization.shop_id, fields, upsert=True)

    async def cipher(self, shop_id: str) -> str | None:
        """The shop's stored ``shop_cipher``, or None."""
        async with _database():
            doc = await self.collection.find_one({"_id": shop_id}, {"cipher": True})
        cipher = None if doc is None else doc.get("cipher")
        return str(cipher) if cipher else None

    async def save_cipher(self, shop_id: str, cipher: str) -> None:
        if not cipher:
            raise ValueError("cipher must not be empty")
        await self._set(shop_id, {"cipher": cipher}, upsert=True)

    async def blocked_reason(self, shop_id: str) -> str | None:
        """ "the seller deauthorized the app on <date> UTC", "the authorization was lost
        (<reason>)", or None when the shop may be called."""
        async with _database():
            doc = await self.collection.find_one({"_id": shop_id}, _BLOCK_PROJECTION)
        return _blocked_reason(doc)

    async def blocked_shops(self) -> dict[str, str]:
        """Every blocked shop and why (as ``blocked_reason`` says it)."""
        query = {
            "$or": [
                {"deauthorized_at": {"$ne": None}},
                {"token_status": NEEDS_REAUTHORIZATION},
            ]
        }
        blocked: dict[str, str] = {}
        async with _database():
            async for doc in self.collection.find(query, _BLOCK_PROJECTION):
                reason = _blocked_reason(doc)
                if reason is not None:
                    blocked[str(doc["_id"])] = reason
        return blocked

    async def lift_deauthorization(self, shop_id: str) -> None:
        """The seller authorized the app again: ``deauthorized_at`` becomes null (a shop without
        a document is left without one)."""
        await self._set(shop_id, {"deauthorized_at": None}, upsert=False)

    async def _set(self, shop_id: str, fields: dict[str, Any], *, upsert: bool) -> None:
        async with _database():
            await self.collection.update_one({"_id": shop_id}, {"$set": fields}, upsert=upsert)
