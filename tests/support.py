"""Test helpers: polling with a deadline, serving an ASGI app on a free port, the services."""

import asyncio
import os
import socket
import subprocess
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import uvicorn
from starlette.types import ASGIApp

if TYPE_CHECKING:
    from contracts.entities import ChannelOrder, Listing
    from service.application.ports import UnitOfWork
    from service.bootstrap import Worker

ROOT = Path(__file__).resolve().parent.parent
T = TypeVar("T")


async def eventually(
    probe: Callable[[], Awaitable[T]],
    *,
    until: Callable[[T], bool] = bool,
    timeout: float = 20.0,
    interval: float = 0.1,
) -> T:
    """Poll `probe` until `until(result)` holds; fail with the last result at the deadline."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while True:
        result = await probe()
        if until(result):
            return result
        if loop.time() > deadline:
            raise AssertionError(f"condition not met within {timeout}s; last result: {result!r}")
        await asyncio.sleep(interval)


async def holds(
    probe: Callable[[], Awaitable[T]],
    *,
    until: Callable[[T], bool],
    seconds: float,
    why: str,
    interval: float = 0.2,
) -> T:
    """Watch `probe` for `seconds` and fail at the first result for which `until` is false.

    For what must NOT happen within a known time (an offset committed by aiokafka's 5 s
    auto-commit, say): the watch lasts longer than the thing that would break it.
    """
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while True:
        result = await probe()
        if not until(result):
            raise AssertionError(f"{why}; found: {result!r}")
        if loop.time() > deadline:
            return result
        await asyncio.sleep(interval)


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@asynccontextmanager
async def serve(
    app: ASGIApp, port: int | None = None, *, access_log: bool = True
) -> AsyncIterator[str]:
    """Serve an ASGI app with uvicorn on 127.0.0.1 (lifespan included); yields its base URL."""
    port = port or free_port()
    server = uvicorn.Server(
        uvicorn.Config(
            app,
            host="127.0.0.1",
            port=port,
            log_config=None,
            lifespan="on",
            access_log=access_log,
        )
    )
    task = asyncio.create_task(server.serve())
    try:
        await eventually(lambda: _started(server, task), timeout=30)
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def _started(server: uvicorn.Server, task: asyncio.Task[None]) -> bool:
    if task.done():
        task.result()  # raises what made start-up fail
        raise AssertionError("server exited during start-up")
    return server.started


def service_env() -> dict[str, str]:
    """Kafka and database addresses: the environment's, else the local services (started)."""
    if os.environ.get("KAFKA_BOOTSTRAP_SERVERS") and os.environ.get("MONGODB_URI"):
        return {
            "KAFKA_BOOTSTRAP_SERVERS": os.environ["KAFKA_BOOTSTRAP_SERVERS"],
            "MONGODB_URI": os.environ["MONGODB_URI"],
        }
    script = str(ROOT / "deploy" / "local" / "services.sh")
    subprocess.run([script, "up"], check=True)
    out = subprocess.run([script, "env"], check=True, capture_output=True, text=True)
    return dict(line.split("=", 1) for line in out.stdout.split())


def fresh(worker: "Worker") -> "UnitOfWork":
    """A unit of work of the worker's own kind, for reading what the service stored now."""
    return worker.bus.context().uow


async def store(worker: "Worker", *entities: "ChannelOrder | Listing") -> None:
    """Write entities as the service would (one commit)."""
    from contracts.entities import ChannelOrder

    uow = fresh(worker)
    for entity in entities:
        if isinstance(entity, ChannelOrder):
            uow.orders.add(entity)
        else:
            uow.listings.add(entity)
    await uow.commit()


async def events_published(worker: "Worker", *documents: tuple[str, str]) -> None:
    """Wait until the relay has published (and cleared) every event the documents hold:
    `(collection, _id)` pairs. After this, a read of the events topic to its end sees them."""

    async def left() -> list[tuple[str, str]]:
        waiting = []
        for collection, doc_id in documents:
            doc = await worker.db.collection(collection).find_one({"_id": doc_id}, {"outbox": 1})
            if doc is None or doc.get("outbox"):
                waiting.append((collection, doc_id))
        return waiting

    await eventually(left, until=lambda waiting: not waiting)
