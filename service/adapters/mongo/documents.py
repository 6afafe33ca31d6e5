"""Entities to documents and back: the entity's id is the document's `_id`.

Beside the entity's own fields a document keeps what only storage needs: `version` (a guarded
write's filter is `{_id, version}`), `write_id` (which commit wrote it last), `outbox` (events
written with the change, until published) and, for listings, `external_key`.
"""

from collections.abc import Mapping, Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from contracts.entities import ChannelOrder
from contracts.events import Event
from service.adapters.mongo.database import Document
from service.application.ports import OutboxEntry

M = TypeVar("M", bound=BaseModel)

STORAGE_FIELDS = frozenset(
    {"version", "write_id", "outbox", "outbox_unreadable", "external_key", "push_pending"}
)
#: Fields an earlier version of an entity stored and the entity no longer has: left out when a
#: document is read, so that documents written before still load. An order's reverse flows are
#: now only its `reverse_requests`.
RETIRED_FIELDS: Mapping[type[BaseModel], frozenset[str]] = {
    ChannelOrder: frozenset(
        {
            "returns",
            "cancellation_status",
            "cancellation_updated_at",
            "return_status",
            "return_updated_at",
        }
    )
}


def to_document(entity: BaseModel) -> Document:
    doc = entity.model_dump(mode="python", by_alias=False)
    doc["_id"] = doc.pop("id")
    return doc


def from_document(model: type[M], doc: Document) -> M:
    left_out = STORAGE_FIELDS | RETIRED_FIELDS.get(model, frozenset())
    data: dict[str, Any] = {k: v for k, v in doc.items() if k not in left_out}
    data["id"] = data.pop("_id")
    return model.model_validate(data)


def key_of(event: Event) -> str:
    """The Kafka key of an event: the id of the entity it is about (else the shop)."""
    for name in ("order", "listing", "sync"):
        entity = getattr(event, name, None)
        if entity is not None:
            return str(entity.id)
    return event.shop_id


def outbox_documents(events: Sequence[Event]) -> list[Document]:
    """Events as they wait in a document's `outbox` until the relay has published them."""
    return [
        {
            "event_id": e.event_id,
            "type": str(getattr(e, "type", "")),
            "key": key_of(e),
            "shop_id": e.shop_id,
            "payload": e.model_dump_json(by_alias=True),
        }
        for e in events
    ]


def outbox_entries(collection: str, doc_id: str, outbox: Sequence[Document]) -> list[OutboxEntry]:
    return [
        OutboxEntry(
            collection=collection,
            doc_id=doc_id,
            event_id=str(entry["event_id"]),
            type=str(entry.get("type", "")),
            key=str(entry.get("key", doc_id)),
            shop_id=str(entry.get("shop_id", "")),
            payload=str(entry["payload"]),
        )
        for entry in outbox
    ]
