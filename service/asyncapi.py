"""The AsyncAPI document of the service's Kafka interface, generated from the handlers' types.

`python -m service.asyncapi > contracts/asyncapi.json` (or `make asyncapi`); a test fails when the
committed document is out of date.
"""

import json
from typing import Any, Union

from faststream.specification import AsyncAPI
from pydantic import TypeAdapter

from contracts import topics
from contracts.commands import AdminCommand
from contracts.events import DomainEvent
from contracts.platform import PlatformEvent
from contracts.replies import REPLY_TYPES, ErrorReply
from contracts.webhooks import WebhookMessage
from service.bootstrap import Worker
from service.settings import Settings

DESCRIPTION = """\
TikTok Shop sales channel for the 86d commerce platform.

Admin commands go to the commands topic with `reply_to` and `correlation_id` headers; the reply
(the operation's reply model, or an ErrorReply with a code) comes back on `reply_to` with the
same correlation id. Domain events go out on the events topic keyed by entity id. Platform
services publish stock and price changes (inventory.changed, price.changed) to the
platform-catalog topic, keyed by product id.
"""


def document(settings: Settings | None = None) -> str:
    """The AsyncAPI 3 document (JSON text) of a worker with `settings`: its topics, servers
    and Kafka security scheme. None: the defaults, as committed in `contracts/asyncapi.json`.

    Builds the worker's broker and subscribers only to describe them: nothing connects.
    """
    # Explicit values, not the environment: the committed document describes the defaults.
    settings = settings or Settings.model_validate(
        {
            "kafka_bootstrap_servers": "127.0.0.1:29092",
            "kafka_group_id": "tiktok-shop-worker",
            "topic_webhooks": topics.WEBHOOKS,
            "topic_admin_commands": topics.ADMIN_COMMANDS,
            "topic_events": topics.EVENTS,
            "topic_dead_letter": topics.DEAD_LETTER,
            "topic_platform_catalog": topics.PLATFORM_CATALOG,
            "admin_api_token": "unused",  # never served
        }
    )
    broker = Worker(settings).broker
    broker.publisher(
        settings.topic_events,
        title="domain-events",
        description="tiktok.order.received, tiktok.order.shipped, tiktok.product.synced, ...",
        schema=DomainEvent,
    )
    replies = (*dict.fromkeys(REPLY_TYPES.values()), ErrorReply)
    broker.publisher(
        topics.ADMIN_REPLIES,
        title="admin-replies",
        description="Replies to admin commands, on each request's reply_to topic: the reply "
        "model of the command (contracts.replies.REPLY_TYPES), or an ErrorReply.",
        schema=Union[replies],  # noqa: UP007 (a runtime union of the reply models)
    )
    spec = AsyncAPI(
        broker,
        title="TikTok Shop channel",
        version="1.0.0",
        description=DESCRIPTION,
        schema_version="3.0.0",
    )
    doc = spec.to_specification().to_jsonable()
    # The subscribers take raw bytes (so that a malformed message is answered or set aside,
    # not lost before the handler); the document says what the topics carry.
    _describe(doc, "admin-commands:Message:Payload", AdminCommand)
    _describe(doc, "webhooks:Message:Payload", list[WebhookMessage])
    _describe(doc, "platform-catalog:Message:Payload", list[PlatformEvent])
    return json.dumps(doc, indent=2, sort_keys=True) + "\n"


def _describe(doc: dict[str, Any], name: str, carried: Any) -> None:
    schema = TypeAdapter(carried).json_schema(ref_template="#/components/schemas/{model}")
    schemas = doc["components"]["schemas"]
    for defined, definition in schema.pop("$defs", {}).items():
        schemas[defined] = _asyncapi(definition)
    schemas[name] = {**_asyncapi(schema), "title": name}


def _asyncapi(schema: Any) -> Any:
    """AsyncAPI 3 names a discriminator by its property, where JSON Schema tools nest it."""
    if isinstance(schema, dict):
        out = {k: _asyncapi(v) for k, v in schema.items()}
        if isinstance(out.get("discriminator"), dict):
            out["discriminator"] = out["discriminator"]["propertyName"]
        return out
    if isinstance(schema, list):
        return [_asyncapi(v) for v in schema]
    return schema


if __name__ == "__main__":
    print(document(), end="")
