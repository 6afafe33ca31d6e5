"""Images uploaded to TikTok's image API, one document per (shop, source URL).

The ``UploadedImages`` port. ``_id`` is the sha256 of the shop id and the URL (length-prefixed,
so no two pairs share it): every lookup is by ``_id``. Fields: ``shop_id``, ``url``, ``uri``
(TikTok's), ``uploaded_at`` (UTC).
"""

import hashlib

from pymongo.errors import ConnectionFailure

from service.adapters.mongo.database import UPLOADED_IMAGES, Database
from service.application.ports import DatabaseUnavailable
from service.domain.time import utcnow


def image_key(shop_id: str, url: str) -> str:
    """The document id of an image: sha256 over the length-prefixed shop id and the URL."""
    return hashlib.sha256(f"{len(shop_id)}:{shop_id}/{url}".encode()).hexdigest()


class MongoUploadedImages:
    def __init__(self, db: Database) -> None:
        self._images = db.collection(UPLOADED_IMAGES)

    async def uri(self, shop_id: str, url: str) -> str | None:
        try:
            doc = await self._images.find_one({"_id": image_key(shop_id, url)})
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        return None if doc is None else str(doc["uri"])

    async def remember(self, shop_id: str, url: str, uri: str) -> None:
        try:
            await self._images.update_one(
                {"_id": image_key(shop_id, url)},
                {"$set": {"shop_id": shop_id, "url": url, "uri": uri, "uploaded_at": utcnow()}},
                upsert=True,
            )
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc
