"""A small async client for the admin commands over Kafka (request/reply with a timeout).

    async with AdminClient("127.0.0.1:29092") as admin:
        reply = await admin.ask(CreateListing(local_product_id="sku-1", title="Mug"), ListingReply)

Replies come back on one shared reply topic; each client reads all of its partitions (no
consumer group) from the end as it was when the client started, and keeps the replies whose
correlation id it is waiting for.

On a cluster that wants TLS or SASL, pass its FastStream security object, e.g. read from the
same environment variables as the service (`contracts.kafka_security`):

    async with AdminClient(servers, security=KafkaSecurity().security()) as admin: ...
"""

import asyncio
import contextlib
import json
import uuid
from types import TracebackType
from typing import TYPE_CHECKING, Any, Self, TypeVar

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.errors import KafkaConnectionError
from pydantic import BaseModel

from contracts import topics
from contracts.commands import Command
from contracts.kafka_security import client_options, diagnose
from contracts.replies import REPLY_TYPES, ErrorReply, parse_reply

if TYPE_CHECKING:
    from faststream.security import BaseSecurity

R = TypeVar("R", bound=BaseModel)


class CommandError(Exception):
    """The service answered the command with an error reply."""

    def __init__(self, reply: ErrorReply) -> None:
        super().__init__(f"{reply.code}: {reply.message}")
        self.reply = reply
        self.code = reply.code


class Reply:
    """A raw reply: its JSON payload and headers."""

    def __init__(self, payload: dict[str, Any], headers: dict[str, str]) -> None:
        self.payload = payload
        self.headers = headers


class AdminClient:
    def __init__(
        self,
        bootstrap_servers: str,
        *,
        command_topic: str = topics.ADMIN_COMMANDS,
        reply_topic: str = topics.ADMIN_REPLIES,
        timeout: float = 15.0,
        client_id: str = "tiktok-shop-admin-client",
        security: "BaseSecurity | None" = None,
    ) -> None:
        """`security`: FastStream's security object of the cluster (None: an open one)."""
        self.command_topic = command_topic
        self.reply_topic = reply_topic
        self.timeout = timeout
        self._servers = bootstrap_servers
        self._security = security
        options = client_options(security)
        self._producer = AIOKafkaProducer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            acks="all",
            enable_idempotence=True,
            **options,
        )
        self._consumer = AIOKafkaConsumer(
            bootstrap_servers=bootstrap_servers,
            client_id=client_id,
            group_id=None,
            enable_auto_commit=False,
            **options,
        )
        self._waiting: dict[str, asyncio.Future[Reply]] = {}
        self._reader: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Connect; raises `CredentialsRefused` when Kafka refuses the credentials, aiokafka's
        KafkaConnectionError when it cannot be reached."""
        try:
            await self._producer.start()
            await self._consumer.start()
        except KafkaConnectionError as exc:
            await self._consumer.stop()
            await self._producer.stop()
            reason = await diagnose(self._servers, self._security, exc)
            if reason is exc:
                raise
            raise reason from exc
        partitions = await self._reply_partitions()
        self._consumer.assign(partitions)
        await self._consumer.seek_to_end(*partitions)
        # Pin each position now, so a reply that arrives early is read, not skipped.
        for partition in partitions:
            await self._consumer.position(partition)
        self._reader = asyncio.create_task(self._read(), name="admin-client-replies")

    async def _reply_partitions(self) -> list[TopicPartition]:
        ids = await asyncio.wait_for(self._producer.partitions_for(self.reply_topic), self.timeout)
        return [TopicPartition(self.reply_topic, p) for p in sorted(ids)]

    async def close(self) -> None:
        if self._reader is not None:
            self._reader.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._reader
        await self._consumer.stop()
        await self._producer.stop()

    async def __aenter__(self) -> Self:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        await self.close()

    async def _read(self) -> None:
        async for record in self._consumer:
            headers = {k: v.decode("utf-8", "replace") for k, v in record.headers or ()}
            future = self._waiting.pop(headers.get("correlation_id", ""), None)
            if future is None or future.done():
                continue
            try:
                payload = json.loads(record.value or b"null")
            except ValueError:
                payload = None
            if isinstance(payload, dict):
                future.set_result(Reply(payload, headers))
            else:
                future.set_exception(ValueError(f"unreadable reply: {record.value!r}"))

    async def send(
        self,
        body: bytes,
        *,
        key: bytes | None = None,
        timeout: float | None = None,
        reply: bool = True,
    ) -> Reply | None:
        """Send raw bytes as a command and wait for the raw reply (None when reply=False)."""
        correlation_id = str(uuid.uuid4())
        headers = [("correlation_id", correlation_id.encode())]
        future: asyncio.Future[Reply] | None = None
        if reply:
            headers.append(("reply_to", self.reply_topic.encode()))
            future = asyncio.get_running_loop().create_future()
            self._waiting[correlation_id] = future
        headers.append(("content-type", b"application/json"))
        try:
            await self._producer.send_and_wait(self.command_topic, body, key=key, headers=headers)
            if future is None:
                return None
            return await asyncio.wait_for(future, timeout or self.timeout)
        finally:
            self._waiting.pop(correlation_id, None)

    async def ask(
        self, command: Command, reply_type: type[R], *, timeout: float | None = None
    ) -> R:
        """Send a command and return its reply; raises CommandError for an error reply."""
        expected = REPLY_TYPES[type(command)]
        if expected is not reply_type:
            raise TypeError(f"{type(command).__name__} is answered by {expected.__name__}")
        key = getattr(command, "id", None) or command.shop_id
        raw = await self.send(command.to_json(), key=key.encode() if key else None, timeout=timeout)
        assert raw is not None
        result = parse_reply(raw.payload, reply_type)
        if isinstance(result, ErrorReply):
            raise CommandError(result)
        return result
