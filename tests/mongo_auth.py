"""A MongoDB-wire proxy that asks for a password: the local database has no authentication, so
this stands in front of it and takes PLAIN authentication (`authMechanism=PLAIN`, MongoDB's
LDAP mechanism), forwarding every other message untouched.

It lets a test run the service with a password in its MONGODB_URI that is really checked
(a wrong one is refused with MongoDB's code 18), and see that the password reached the driver.
"""

import asyncio
import contextlib
import struct
from collections.abc import AsyncIterator
from dataclasses import dataclass, field

import bson

from tests.support import free_port

OP_MSG = 2013
_HEADER = struct.Struct("<iiii")  # messageLength, requestID, responseTo, opCode


@dataclass
class PlainAuthProxy:
    backend_port: int
    user: str
    password: str
    port: int = field(default_factory=free_port)
    accepted: int = 0  # authentications with the right password
    refused: int = 0

    def uri(self, password: str | None = None) -> str:
        secret = self.password if password is None else password
        return (
            f"mongodb://{self.user}:{secret}@127.0.0.1:{self.port}/"
            "?authMechanism=PLAIN&authSource=%24external"
        )

    async def _serve(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", self.backend_port)
        lock = asyncio.Lock()  # the client's answers and the backend's must not interleave

        async def downstream() -> None:
            with contextlib.suppress(ConnectionError, asyncio.IncompleteReadError):
                while message := await _read_message(up_reader):
                    async with lock:
                        writer.write(message)
                        await writer.drain()

        pumping = asyncio.create_task(downstream())
        try:
            while message := await _read_message(reader):
                answer = self._answer(message)
                if answer is None:
                    up_writer.write(message)
                    await up_writer.drain()
                else:
                    async with lock:
                        writer.write(answer)
                        await writer.drain()
        except (ConnectionError, asyncio.IncompleteReadError):
            pass
        finally:
            pumping.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await pumping
            for w in (writer, up_writer):
                w.close()
                with contextlib.suppress(ConnectionError):
                    await w.wait_closed()

    def _answer(self, message: bytes) -> bytes | None:
        """The proxy's own answer to an authentication command; None to forward the message."""
        _, request_id, _, op_code = _HEADER.unpack_from(message)
        if op_code != OP_MSG or message[20] != 0:  # only a body section first is a command
            return None
        (size,) = struct.unpack_from("<i", message, 21)  # the body document; sections follow
        command = bson.decode(message[21 : 21 + size])
        if "saslStart" not in command:
            return None
        expected = f"\x00{self.user}\x00{self.password}".encode()
        if command.get("mechanism") == "PLAIN" and bytes(command.get("payload", b"")) == expected:
            self.accepted += 1
            reply = {"conversationId": 1, "done": True, "payload": b"", "ok": 1.0}
        else:
            self.refused += 1
            reply = {
                "ok": 0.0,
                "errmsg": "Authentication failed.",
                "code": 18,
                "codeName": "AuthenticationFailed",
            }
        body = struct.pack("<I", 0) + b"\x00" + bson.encode(reply)
        return _HEADER.pack(16 + len(body), request_id + 1_000_000, request_id, OP_MSG) + body


async def _read_message(reader: asyncio.StreamReader) -> bytes:
    """One whole wire message, or b"" at the end of the stream."""
    try:
        header = await reader.readexactly(4)
    except asyncio.IncompleteReadError as exc:
        if not exc.partial:
            return b""
        raise
    (length,) = struct.unpack("<i", header)
    return header + await reader.readexactly(length - 4)


@contextlib.asynccontextmanager
async def plain_auth_proxy(
    backend_uri: str, user: str, password: str
) -> AsyncIterator[PlainAuthProxy]:
    """A proxy in front of the database at `backend_uri` (`mongodb://host:port/`)."""
    port = int(backend_uri.rstrip("/").rsplit(":", 1)[1])
    proxy = PlainAuthProxy(port, user, password)
    server = await asyncio.start_server(proxy._serve, "127.0.0.1", proxy.port)
    try:
        yield proxy
    finally:
        server.close()
        await server.wait_closed()
