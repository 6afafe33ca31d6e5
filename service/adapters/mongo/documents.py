"""Entities to documents and back: the entity's id is the document's `_id`."""

from collections.abc import Sequence
from typing import Any, TypeVar

from pydantic import BaseModel

from contracts.events import Event
from service.adapters.mongo.database import Document

M = TypeVar("M", bound=BaseModel)

# Fields the storage keeps beside an entity that the entity itself does not carry.
STORAGE_FIELDS = ("outbox",)


def to_document(entity: BaseModel) -> Document:
    doc = entity.model_dump(mode="python", by_alias=False)
    doc["_id"] = doc.pop("id")
    return doc


def from_document(model: type[M], doc: Document) -> M:
    data: dict[str, Any] = {k: v for k, v in doc.items() if k not in STORAGE_FIELDS}
    data["id"] = data.pop("_id")
    return model.model_validate(data)


def outbox_entries(events: Sequence[Event]) -> list[Document]:
    """Events kept in the document until the relay has published them."""
    return [
        {
            "event_id": e.event_id,
            "type": getattr(e, "type", ""),
            "key": key_of(e),
            "payload": e.model_dump_json(by_alias=True),
        }
        for e in events
    ]


def key_of(event: Event) -> str:
    """The Kafka key of an event: the id of the entity it is about."""
    for name in ("order", "listing", "sync"):
        entity = getattr(event, name, None)
        if entity is not None:
            return str(entity.id)
    return event.shop_id
