"""One way to call an admin operation, over Kafka request/reply or over HTTP, for tests that
must hold for both."""

import re
import uuid
from typing import Any, Protocol

import httpx

from contracts import commands as c
from contracts.client import AdminClient
from contracts.replies import REPLY_TYPES, ErrorReply, FieldError, parse_reply
from contracts.wire import WireModel
from service.entrypoints.admin_http.routes import ROUTES

PREFIX = "/admin/tiktok-shop"


class AdminApi(Protocol):
    name: str

    async def call(self, command: c.Command) -> WireModel | ErrorReply: ...


class KafkaAdmin:
    name = "kafka"

    def __init__(self, client: AdminClient) -> None:
        self.client = client

    async def call(self, command: c.Command) -> WireModel | ErrorReply:
        key = (getattr(command, "id", None) or uuid.uuid4().hex).encode()
        raw = await self.client.send(command.to_json(), key=key)
        assert raw is not None
        return parse_reply(raw.payload, REPLY_TYPES[type(command)])


class HttpAdmin:
    name = "http"

    def __init__(self, http: httpx.AsyncClient) -> None:
        self.http = http

    async def call(self, command: c.Command) -> WireModel | ErrorReply:
        methods, path, _, source = next(r for r in ROUTES if r[2] is type(command))
        data: dict[str, Any] = command.model_dump(
            by_alias=True, exclude_none=True, exclude={"command"}
        )
        for name in re.findall(r"{(\w+)}", path):
            path = path.replace(f"{{{name}}}", str(data.pop(name)))
        if source == "body":
            response = await self.http.request(methods[0], PREFIX + path, json=data)
        else:
            response = await self.http.request(methods[0], PREFIX + path, params=data)
        body = response.json()
        if response.status_code >= 400:
            return ErrorReply(
                code=body["code"],
                message=body["error"],
                fields=[FieldError.model_validate(f) for f in body["fields"]],
            )
        return parse_reply(body, REPLY_TYPES[type(command)])
