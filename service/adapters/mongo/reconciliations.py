"""Reconciliation runs: the per-shop lease in `locks` and the `reconciliations` history.

The lease is one document per shop, `_id` "reconcile:<shop>", that outlives the runs: it holds
the watermarks, the fee checks' cursor, the run holding it (`run_id`, `expires_at`) and when the
shop is next due (`next_due`). A run takes it with one `find_one_and_update` whose filter says
"free or expired, and due": a single-document atomic update on MongoDB and on the local
database alike, so of any number of workers exactly one wins, and once it did the shop is not
due again for an interval. The very first claim inserts the document; a concurrent first claim
meets the unique `_id` and loses. A run renews its lease while it works; a lease not renewed
for `LEASE_SECONDS` belonged to a worker that died, and is taken over.
"""

from collections.abc import Sequence
from datetime import timedelta
from typing import Any

from pymongo import ReturnDocument
from pymongo.errors import ConnectionFailure, DuplicateKeyError

from contracts.entities import Reconciliation
from contracts.events import Event
from service.adapters.mongo.database import LOCKS, ORDERS, RECONCILIATIONS, SHOPS, Database
from service.adapters.mongo.documents import (
    from_document,
    outbox_documents,
    outbox_entries,
    to_document,
)
from service.adapters.mongo.unit_of_work import Handoff, no_handoff
from service.application.ports import (
    DatabaseUnavailable,
    PageRequest,
    ReconcileLease,
    Watermarks,
)
from service.domain.time import utcnow

#: A lease not renewed for this long belongs to a run that stopped.
LEASE_SECONDS = 120
_NEWEST_FIRST = [("started_at", -1), ("_id", -1)]
_INTERRUPTED = "Interrupted: its worker stopped during the run"


def _lease_id(shop_id: str) -> str:
    return f"reconcile:{shop_id}"


def _lease(shop_id: str, run_id: str, doc: dict[str, Any]) -> ReconcileLease:
    return ReconcileLease(
        shop_id=shop_id,
        run_id=run_id,
        watermarks=Watermarks(
            orders=doc.get("orders_watermark"),
            requests=doc.get("requests_watermark"),
            products=doc.get("products_watermark"),
        ),
        fees_cursor=doc.get("fees_cursor"),
    )


class MongoReconciliations:
    """The `Reconciliations` port over MongoDB."""

    def __init__(self, db: Database, handoff: Handoff = no_handoff) -> None:
        self._db = db
        self._handoff = handoff
        self._locks = db.collection(LOCKS)
        self._runs = db.collection(RECONCILIATIONS)

    async def claim(
        self, shop_id: str, run_id: str, *, interval: timedelta, due_only: bool
    ) -> ReconcileLease | None:
        now = utcnow()
        free: dict[str, Any] = {"$or": [{"run_id": None}, {"expires_at": {"$lt": now}}]}
        query: dict[str, Any] = {"_id": _lease_id(shop_id), **free}
        if due_only:
            query["next_due"] = {"$lte": now}
        taking = {
            "run_id": run_id,
            "expires_at": now + timedelta(seconds=LEASE_SECONDS),
            "next_due": now + interval,
        }
        try:
            before = await self._locks.find_one_and_update(
                query, {"$set": taking}, return_document=ReturnDocument.BEFORE
            )
            if before is None:
                try:
                    await self._locks.insert_one({"_id": _lease_id(shop_id), **taking})
                except DuplicateKeyError:
                    return None  # held, not due, or another worker's first claim won
                return _lease(shop_id, run_id, {})
            stale = before.get("run_id")
            if stale and stale != run_id:
                await self._interrupted(str(stale))
            return _lease(shop_id, run_id, before)
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    async def _interrupted(self, run_id: str) -> None:
        await self._runs.update_one(
            {"_id": run_id, "status": "running"},
            {"$set": {"status": "failed", "error": _INTERRUPTED, "completed_at": utcnow()}},
        )

    async def renew(self, lease: ReconcileLease) -> None:
        try:
            # `locks` holds one small document per shop: a filter beyond `_id` costs nothing.
            await self._locks.update_one(
                {"_id": _lease_id(lease.shop_id), "run_id": lease.run_id},
                {"$set": {"expires_at": utcnow() + timedelta(seconds=LEASE_SECONDS)}},
            )
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    async def release(
        self, lease: ReconcileLease, *, watermarks: Watermarks | None, fees_cursor: str | None
    ) -> None:
        fields: dict[str, Any] = {"run_id": None, "expires_at": None, "fees_cursor": fees_cursor}
        if watermarks is not None:
            fields |= {
                "orders_watermark": watermarks.orders,
                "requests_watermark": watermarks.requests,
                "products_watermark": watermarks.products,
            }
        try:
            await self._locks.update_one(
                {"_id": _lease_id(lease.shop_id), "run_id": lease.run_id}, {"$set": fields}
            )
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    async def insert(self, record: Reconciliation) -> None:
        try:
            await self._runs.insert_one(to_document(record))
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    async def finish(self, record: Reconciliation, events: Sequence[Event]) -> None:
        doc = to_document(record)
        doc.pop("_id")
        outbox = outbox_documents(events)
        update: dict[str, Any] = {"$set": doc}
        if outbox:
            update["$push"] = {"outbox": {"$each": outbox}}
        try:
            await self._runs.update_one({"_id": record.id}, update)
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        if outbox:
            self._handoff(outbox_entries(RECONCILIATIONS, record.id, outbox))

    async def get(self, shop_id: str, run_id: str) -> Reconciliation | None:
        try:
            doc = await self._runs.find_one({"_id": run_id})
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        if doc is None or doc.get("shop_id") != shop_id:
            return None
        return from_document(Reconciliation, doc)

    async def history(self, shop_id: str, page: PageRequest) -> tuple[list[Reconciliation], int]:
        query = {"shop_id": shop_id}
        try:
            total = await self._runs.count_documents(query)
            cursor = self._runs.find(query).sort(_NEWEST_FIRST).skip(page.skip).limit(page.limit)
            return [from_document(Reconciliation, d) async for d in cursor], total
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    async def shops(self) -> list[str]:
        try:
            cursor = self._db.collection(SHOPS).find(
                {"access_token": {"$exists": True, "$ne": None}}, {"_id": True}
            )
            return sorted([str(d["_id"]) async for d in cursor])
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    async def needing_refresh(self, shop_id: str, limit: int) -> list[str]:
        # Once per run and shop, not a hot path: the local database scans the shop's orders.
        return [
            str(d["external_order_id"])
            for d in await self._orders(
                {"shop_id": shop_id, "needs_refresh": True}, {"external_order_id": True}, limit
            )
        ]

    async def awaiting_settlement(
        self, shop_id: str, after: str | None, limit: int
    ) -> list[tuple[str, str]]:
        query: dict[str, Any] = {
            "shop_id": shop_id,
            "status": "delivered",
            "fees_settled": {"$ne": True},
        }
        if after is not None:
            query["_id"] = {"$gt": after}
        docs = await self._orders(query, {"external_order_id": True}, limit)
        return [(str(d["_id"]), str(d["external_order_id"])) for d in docs]

    async def _orders(
        self, query: dict[str, Any], projection: dict[str, Any], limit: int
    ) -> list[dict[str, Any]]:
        try:
            cursor = self._db.collection(ORDERS).find(query, projection).sort("_id", 1).limit(limit)
            return [d async for d in cursor]
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc
