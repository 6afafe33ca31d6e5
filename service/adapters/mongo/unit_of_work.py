"""The unit of work over MongoDB: keyed reads through an identity map, writes held until commit.

A commit writes one unordered bulk per collection (listings, orders, shops, then the inbox), so
a batch of a hundred webhooks costs a handful of database commands. Guarded writes filter on
`{_id, version}` and stamp `write_id`: a write that matched nothing met a concurrent change,
and re-reading the `write_id`s of those documents tells which. Events travel inside the
document write they belong to (`outbox`), so a change and its events are stored atomically;
after each bulk the new events are handed to the relay, which publishes and clears them.
"""

import json
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal, TypeVar

from pydantic import BaseModel
from pymongo import DeleteOne, InsertOne, ReplaceOne, UpdateOne
from pymongo.errors import BulkWriteError, ConnectionFailure, PyMongoError

from contracts.entities import ChannelOrder, Listing
from contracts.events import Event
from contracts.webhooks import Delivery
from service import telemetry
from service.adapters.mongo.database import (
    LISTINGS,
    ORDERS,
    REFRESH_MARKS,
    SHOPS,
    WEBHOOK_EVENTS,
    Database,
    Document,
)
from service.adapters.mongo.documents import (
    from_document,
    outbox_documents,
    outbox_entries,
    to_document,
)
from service.application.ports import (
    DatabaseUnavailable,
    Keys,
    OutboxEntry,
    ShopState,
    WriteConflict,
)
from service.domain.listings import external_key
from service.domain.orders import order_id_for
from service.domain.time import utcnow

M = TypeVar("M", bound=BaseModel)
Handoff = Callable[[list[OutboxEntry]], None]
Key = tuple[str, str]  # (collection, _id)

# Entities first, the inbox last: a webhook is recorded as applied only after its change is.
COMMIT_ORDER = (LISTINGS, ORDERS, SHOPS, WEBHOOK_EVENTS)
#: Collections whose documents may be flagged `needs_refresh` (kept in `REFRESH_MARKS` too).
FLAGGED = (ORDERS, LISTINGS)
_DUPLICATE = 11000
_SHOP_FIELDS = ("deauthorized_at", "authorization_expires_at")


def no_handoff(entries: list[OutboxEntry]) -> None:
    return None


@dataclass
class _Change:
    kind: Literal["insert", "replace", "patch", "upsert", "delete", "record"]
    fields: set[str] = field(default_factory=set)
    events: list[Document] = field(default_factory=list)


class MongoUnitOfWork:
    """One message's (or one batch's) reads and writes. Not shared between tasks."""

    def __init__(self, db: Database, handoff: Handoff = no_handoff) -> None:
        self._db = db
        self._handoff = handoff
        self.write_id = uuid.uuid4().hex
        # The documents as this unit of work sees them: loaded, then changed in memory.
        # None: known to be absent. A key missing: never asked.
        self._docs: dict[Key, Document | None] = {}
        self._versions: dict[Key, Any] = {}
        # Whether each document read was flagged `needs_refresh` (its mark exists).
        self._flagged: dict[Key, bool] = {}
        self._changes: dict[Key, _Change] = {}
        self._after: list[Callable[[], None]] = []
        self.orders = _Orders(self)
        self.listings = _Listings(self)
        self.shops = _Shops(self)
        self.inbox = _Inbox(self)

    # --- reads ---------------------------------------------------------------------------

    async def load(self, keys: Keys) -> None:
        await self._load_ids(ORDERS, keys.order_ids)
        await self._load_ids(WEBHOOK_EVENTS, keys.notification_ids, {"outcome": True})
        wanted = {external_key(s, p) for s, p in keys.listing_products}
        wanted -= self.listings.by_external.keys()
        if wanted:
            found = await self._find(LISTINGS, {"external_key": {"$in": sorted(wanted)}})
            for doc in found:
                self._remember(LISTINGS, doc)
                self.listings.by_external[str(doc["external_key"])] = str(doc["_id"])
            for key in wanted - self.listings.by_external.keys():
                self.listings.by_external[key] = None

    async def _load_ids(
        self, collection: str, ids: Iterable[str], projection: Document | None = None
    ) -> None:
        missing = sorted({i for i in ids if (collection, i) not in self._docs})
        if not missing:
            return
        for doc in await self._find(collection, {"_id": {"$in": missing}}, projection):
            self._remember(collection, doc)
        for doc_id in missing:
            self._docs.setdefault((collection, doc_id), None)

    async def _find(
        self, collection: str, query: Document, projection: Document | None = None
    ) -> list[Document]:
        try:
            return await self._db.collection(collection).find(query, projection).to_list()
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    async def _find_one(self, collection: str, query: Document) -> Document | None:
        found = await self._find(collection, query)
        return found[0] if found else None

    def _remember(self, collection: str, doc: Document) -> None:
        key = (collection, str(doc["_id"]))
        if key not in self._docs:
            self._docs[key] = doc
            self._versions[key] = doc.get("version")
            self._flagged[key] = bool(doc.get("needs_refresh"))

    async def _doc(self, collection: str, doc_id: str) -> Document | None:
        key = (collection, doc_id)
        if key not in self._docs:
            doc = await self._find_one(collection, {"_id": doc_id})
            if doc is None:
                self._docs[key] = None
            else:
                self._remember(collection, doc)
        return self._docs[key]

    # --- writes (held until commit) --------------------------------------------------------

    def _change(self, key: Key, kind: str) -> _Change:
        change = self._changes.get(key)
        if change is None:
            change = self._changes[key] = _Change(kind)  # type: ignore[arg-type]
        return change

    def _put(self, collection: str, entity: BaseModel, events: Sequence[Event]) -> None:
        doc = to_document(entity)
        key = (collection, str(doc["_id"]))
        if self._docs.get(key) is not None:
            raise ValueError(f"{collection} {key[1]} exists: save it, do not add it")
        self._docs[key] = doc
        self._change(key, "insert").events += outbox_documents(events)

    def _replace(self, collection: str, entity: BaseModel, events: Sequence[Event]) -> None:
        doc = to_document(entity)
        key = (collection, str(doc["_id"]))
        if key not in self._docs or self._docs[key] is None:
            raise ValueError(f"{collection} {key[1]} was not read through this unit of work")
        previous = self._docs[key] or {}
        kept: Document = {k: previous[k] for k in ("outbox", "outbox_unreadable") if k in previous}
        self._docs[key] = {**doc, "outbox": [], **kept}
        change = self._change(key, "replace")
        if change.kind == "patch":
            change.kind = "replace"
        change.events += outbox_documents(events)

    def _patch(
        self, collection: str, entity: BaseModel, names: Sequence[str], events: Sequence[Event]
    ) -> None:
        doc = to_document(entity)
        key = (collection, str(doc["_id"]))
        current = self._docs.get(key) or {}
        self._docs[key] = {**current, **{n: doc[n] for n in names}, "_id": key[1]}
        change = self._change(key, "patch")
        change.fields |= set(names)
        change.events += outbox_documents(events)

    def _delete(self, collection: str, doc_id: str) -> None:
        key = (collection, doc_id)
        self._docs[key] = None
        previous = self._changes.get(key)
        if previous is not None and previous.kind == "insert":
            del self._changes[key]
        else:
            self._changes[key] = _Change("delete")

    def after_commit(self, action: Callable[[], None]) -> None:
        self._after.append(action)

    # --- commit ----------------------------------------------------------------------------

    async def commit(self) -> None:
        # A span of its own: the database write of a message's (or a batch's) trace.
        with telemetry.tracer().start_as_current_span(
            "unit_of_work commit",
            attributes={"db.system": "mongodb", "tiktok_shop.changes": len(self._changes)},
        ):
            await self._commit()

    async def _commit(self) -> None:
        conflicts: list[str] = []
        for collection in COMMIT_ORDER:
            if collection == WEBHOOK_EVENTS and conflicts:
                break  # the messages behind the conflicts run again, and are recorded then
            conflicts += await self._write(collection)
        self._changes.clear()
        if conflicts:
            raise WriteConflict(f"changed meanwhile: {', '.join(sorted(conflicts)[:10])}")
        actions, self._after = self._after, []
        for action in actions:
            action()

    async def _write(self, collection: str) -> list[str]:
        keys = [k for k in self._changes if k[0] == collection]
        if not keys:
            return []
        ops: list[Any] = []
        guarded: list[str] = []
        for key in keys:
            op = self._operation(key, self._changes[key])
            ops.append(op)
            if isinstance(op, ReplaceOne):
                guarded.append(key[1])
        refused: set[str] = set()
        matched = 0
        try:
            result = await self._db.collection(collection).bulk_write(ops, ordered=False)
            matched = result.matched_count
        except BulkWriteError as exc:
            matched = int(exc.details.get("nMatched", 0))
            for error in exc.details.get("writeErrors", []):
                if error.get("code") != _DUPLICATE:
                    raise
                # A duplicate inbox record is a redelivery recorded meanwhile: nothing lost.
                if collection != WEBHOOK_EVENTS:
                    refused.add(keys[int(error["index"])][1])
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc
        except PyMongoError:
            raise
        expected = sum(1 for k in keys if self._changes[k].kind in ("replace", "patch"))
        if guarded and matched < expected:
            refused |= await self._overwritten(collection, guarded)
        if collection == LISTINGS:
            await self._settle_push_flags(keys)
        handed = [
            entry
            for key in keys
            if key[1] not in refused
            for entry in outbox_entries(collection, key[1], self._changes[key].events)
        ]
        if handed:
            self._handoff(handed)
        if collection in FLAGGED:
            await self._mark([k for k in keys if k[1] not in refused])
        return [f"{collection} {doc_id}" for doc_id in refused]

    async def _mark(self, keys: list[Key]) -> None:
        """Keep `REFRESH_MARKS` in step with the `needs_refresh` flags just written."""
        ops: list[Any] = []
        now = utcnow()
        for key in keys:
            change, doc = self._changes[key], self._docs.get(key)
            if change.kind == "patch" and "needs_refresh" not in change.fields:
                continue  # the flag was not written
            needs = doc is not None and change.kind != "delete" and bool(doc.get("needs_refresh"))
            was = self._flagged.get(key, False)
            mark = f"{key[0]}/{key[1]}"
            if needs and not was:
                assert doc is not None
                ops.append(
                    UpdateOne(
                        {"_id": mark},
                        {
                            "$set": {"kind": key[0], "doc_id": key[1], "shop_id": doc["shop_id"]},
                            "$setOnInsert": {"since": now},
                        },
                        upsert=True,
                    )
                )
            elif was and not needs:
                ops.append(DeleteOne({"_id": mark}))
            self._flagged[key] = needs
        if not ops:
            return
        try:
            await self._db.collection(REFRESH_MARKS).bulk_write(ops, ordered=False)
        except ConnectionFailure as exc:
            raise DatabaseUnavailable(str(exc)) from exc

    async def _settle_push_flags(self, keys: list[Key]) -> None:
        """A patch (the pusher's record of what TikTok took) leaves `push_pending` as it was,
        since a change may have been stored meanwhile. It is cleared only where nothing else
        wrote the listing since it was read: the version is then exactly one above."""
        clears = []
        for key in keys:
            doc = self._docs.get(key)
            version = self._versions.get(key)
            if self._changes[key].kind != "patch" or doc is None or version is None:
                continue
            if not _storage(LISTINGS, doc)["push_pending"]:
                clears.append(
                    UpdateOne(
                        {"_id": key[1], "version": version + 1}, {"$set": {"push_pending": False}}
                    )
                )
        if clears:
            try:
                await self._db.collection(LISTINGS).bulk_write(clears, ordered=False)
            except ConnectionFailure as exc:
                raise DatabaseUnavailable(str(exc)) from exc

    async def _overwritten(self, collection: str, ids: list[str]) -> set[str]:
        """Which guarded writes did not land: their documents carry another commit's mark."""
        docs = await self._find(collection, {"_id": {"$in": ids}}, {"write_id": True})
        ours = {str(d["_id"]) for d in docs if d.get("write_id") == self.write_id}
        return set(ids) - ours

    def _operation(self, key: Key, change: _Change) -> Any:
        collection, doc_id = key
        doc = self._docs.get(key)
        if change.kind == "delete" or doc is None:
            return DeleteOne({"_id": doc_id})
        stored = _storage(collection, doc)
        if change.kind == "insert":
            return InsertOne(
                {**stored, "version": 1, "write_id": self.write_id, "outbox": change.events}
            )
        if change.kind == "record":
            return InsertOne({**stored, "outbox": change.events})
        if change.kind == "replace":
            version = self._versions.get(key)
            outbox = [*doc.get("outbox", []), *change.events]
            return ReplaceOne(
                {"_id": doc_id, "version": version},
                {
                    **stored,
                    "version": (version or 0) + 1,
                    "write_id": self.write_id,
                    "outbox": outbox,
                },
            )
        names = set(change.fields)
        if collection == LISTINGS and "external_product_id" in names:
            # The key webhooks find a listing by follows the id it is made of.
            names.add("external_key")
        if stored.get("push_pending"):
            names.add("push_pending")  # never cleared here: see _settle_push_flags
        update: Document = {
            "$set": {**{n: stored[n] for n in names if n in stored}, "write_id": self.write_id},
            "$inc": {"version": 1},
        }
        unset = {n: "" for n in names if n not in stored}
        if unset:
            update["$unset"] = unset
        if change.events:
            update["$push"] = {"outbox": {"$each": change.events}}
        return UpdateOne({"_id": doc_id}, update, upsert=change.kind == "upsert")


def _storage(collection: str, doc: Document) -> Document:
    """The document as stored: storage fields recomputed from the entity's."""
    stored = {k: v for k, v in doc.items() if k not in ("outbox", "version", "write_id")}
    if collection == LISTINGS:
        stored.pop("external_key", None)
        if doc.get("external_product_id"):
            stored["external_key"] = external_key(doc["shop_id"], doc["external_product_id"])
        # Stock or price TikTok lacks: what a starting worker looks for (`pending_pushes`).
        stored["push_pending"] = doc.get("stock_revision", 0) > doc.get(
            "stock_pushed_revision", 0
        ) or doc.get("price_revision", 0) > doc.get("price_pushed_revision", 0)
    return stored


class _Orders:
    def __init__(self, uow: MongoUnitOfWork) -> None:
        self._uow = uow

    async def get(self, shop_id: str, order_id: str) -> ChannelOrder | None:
        doc = await self._uow._doc(ORDERS, order_id)
        if doc is None or doc.get("shop_id") != shop_id:
            return None
        return from_document(ChannelOrder, doc)

    async def get_by_external(self, shop_id: str, external_order_id: str) -> ChannelOrder | None:
        return await self.get(shop_id, order_id_for(shop_id, external_order_id))

    def add(self, order: ChannelOrder, events: Sequence[Event] = ()) -> None:
        self._uow._put(ORDERS, order, events)

    def save(self, order: ChannelOrder, events: Sequence[Event] = ()) -> None:
        self._uow._replace(ORDERS, order, events)

    def patch(self, order: ChannelOrder, fields: Sequence[str], events: Sequence[Event]) -> None:
        self._uow._patch(ORDERS, order, fields, events)


class _Listings:
    def __init__(self, uow: MongoUnitOfWork) -> None:
        self._uow = uow
        # external_key -> listing id (None: known to link no listing)
        self.by_external: dict[str, str | None] = {}

    async def get(self, shop_id: str, listing_id: str) -> Listing | None:
        doc = await self._uow._doc(LISTINGS, listing_id)
        if doc is None or doc.get("shop_id") != shop_id:
            return None
        return from_document(Listing, doc)

    async def get_by_product(self, shop_id: str, local_product_id: str) -> Listing | None:
        for (collection, _), doc in self._uow._docs.items():
            if (
                collection == LISTINGS
                and doc is not None
                and doc.get("shop_id") == shop_id
                and doc.get("local_product_id") == local_product_id
            ):
                return from_document(Listing, doc)
        doc = await self._uow._find_one(
            LISTINGS, {"shop_id": shop_id, "local_product_id": local_product_id}
        )
        if doc is None:
            return None
        self._uow._remember(LISTINGS, doc)
        return from_document(Listing, self._uow._docs[(LISTINGS, str(doc["_id"]))] or doc)

    async def get_by_external(self, shop_id: str, external_product_id: str) -> Listing | None:
        key = external_key(shop_id, external_product_id)
        if key not in self.by_external:
            doc = await self._uow._find_one(LISTINGS, {"external_key": key})
            self.by_external[key] = None if doc is None else str(doc["_id"])
            if doc is not None:
                self._uow._remember(LISTINGS, doc)
        listing_id = self.by_external[key]
        if listing_id is None:
            return None
        listing = await self.get(shop_id, listing_id)
        # A listing relinked in this unit of work no longer answers to the old key.
        if listing is None or listing.external_product_id != external_product_id:
            return None
        return listing

    def add(self, listing: Listing, events: Sequence[Event] = ()) -> None:
        self._uow._put(LISTINGS, listing, events)
        self._link(listing)

    def save(self, listing: Listing, events: Sequence[Event] = ()) -> None:
        self._uow._replace(LISTINGS, listing, events)
        self._link(listing)

    def patch(self, listing: Listing, fields: Sequence[str], events: Sequence[Event]) -> None:
        self._uow._patch(LISTINGS, listing, fields, events)
        self._link(listing)

    def delete(self, listing: Listing) -> None:
        self._uow._delete(LISTINGS, listing.id)

    def _link(self, listing: Listing) -> None:
        if listing.external_product_id:
            self.by_external[external_key(listing.shop_id, listing.external_product_id)] = (
                listing.id
            )


class _Shops:
    def __init__(self, uow: MongoUnitOfWork) -> None:
        self._uow = uow

    async def get(self, shop_id: str) -> ShopState:
        doc = await self._uow._doc(SHOPS, shop_id) or {}
        return ShopState(
            shop_id=shop_id,
            deauthorized_at=doc.get("deauthorized_at"),
            authorization_expires_at=doc.get("authorization_expires_at"),
        )

    def save(self, state: ShopState, events: Sequence[Event] = ()) -> None:
        # The shop's document also holds its tokens (ShopDirectory): set only these fields.
        key = (SHOPS, state.shop_id)
        current = self._uow._docs.get(key) or {"_id": state.shop_id}
        values = {name: getattr(state, name) for name in _SHOP_FIELDS}
        self._uow._docs[key] = {**current, **values}
        change = self._uow._change(key, "upsert")
        change.fields |= set(_SHOP_FIELDS)
        change.events += outbox_documents(events)


class _Inbox:
    def __init__(self, uow: MongoUnitOfWork) -> None:
        self._uow = uow

    async def outcome(self, notification_id: str) -> str | None:
        doc = await self._uow._doc(WEBHOOK_EVENTS, notification_id)
        return None if doc is None else str(doc.get("outcome", ""))

    def record(self, delivery: Delivery, outcome: str, events: Sequence[Event]) -> None:
        key = (WEBHOOK_EVENTS, delivery.notification_id)
        self._uow._docs[key] = {
            "_id": delivery.notification_id,
            "source": delivery.source,
            "webhook_type": delivery.webhook_type,
            "shop_id": delivery.shop_id,
            "received_at": delivery.received_at,
            "correlation_id": delivery.correlation_id,
            # As JSON text: a body may hold keys MongoDB cannot store (`a.b`, `$x`).
            "body_json": _json_text(delivery.body),
            "outcome": outcome,
            "processed_at": utcnow(),
        }
        self._uow._changes[key] = _Change("record", events=outbox_documents(events))


def _json_text(body: dict[str, Any]) -> str:
    return json.dumps(body, ensure_ascii=False, separators=(",", ":"))
