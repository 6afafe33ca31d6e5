"""The service's parts started as their own processes, as the README runs them, and the
events topic read from outside: what the process benchmarks share."""

import asyncio
import json
import os
import signal
import subprocess
from collections.abc import Sequence
from dataclasses import dataclass, field

import httpx
from aiokafka import AIOKafkaConsumer

from service.settings import Settings
from tests.support import ROOT, eventually

APP_KEY, APP_SECRET = "bench-key", "bench-secret"
ADMIN_TOKEN = "bench-admin-token"


def service_env(settings: Settings, **extra: str) -> dict[str, str]:
    """The environment of a service process on the run's own topics and database, logging as
    in production (INFO, JSON lines; thrown away here)."""
    return {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "MONGODB_URI": settings.mongodb_uri.get_secret_value(),
        "MONGODB_DATABASE": settings.mongodb_database,
        "KAFKA_GROUP_ID": settings.kafka_group_id,
        "TOPIC_WEBHOOKS": settings.topic_webhooks,
        "TOPIC_ADMIN_COMMANDS": settings.topic_admin_commands,
        "TOPIC_EVENTS": settings.topic_events,
        "TOPIC_DEAD_LETTER": settings.topic_dead_letter,
        "WEBHOOK_BATCH_SIZE": str(settings.webhook_batch_size),
        "TIKTOK_APP_KEY": APP_KEY,
        "TIKTOK_APP_SECRET": APP_SECRET,
        "TIKTOK_ACCESS_TOKEN": "",
        "TIKTOK_SHOP_ID": "",
        "ADMIN_API_TOKEN": ADMIN_TOKEN,
        "LOG_LEVEL": "INFO",
        "LOG_JSON": "true",
        **extra,
    }


async def ready(url: str) -> bool:
    try:
        async with httpx.AsyncClient(timeout=2) as http:
            return (await http.get(url + "/readyz")).status_code == 200
    except httpx.TransportError:
        return False


async def start(
    command: Sequence[str], env: dict[str, str], url: str, *, timeout: float = 90
) -> subprocess.Popen[bytes]:
    """Start a process and wait until `url`/readyz answers 200."""
    proc = subprocess.Popen(  # noqa: ASYNC220
        list(command), cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL
    )
    try:
        await eventually(lambda: _ready_or_dead(proc, url), timeout=timeout, interval=0.2)
    except BaseException:
        await stop(proc)
        raise
    return proc


async def _ready_or_dead(proc: subprocess.Popen[bytes], url: str) -> bool:
    if proc.poll() is not None:
        raise RuntimeError(f"{proc.args} exited with {proc.returncode} during start-up")
    return await ready(url)


async def stop(proc: subprocess.Popen[bytes]) -> None:
    """SIGTERM, as an orchestrator stops it; SIGKILL after 30 s."""
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
    try:
        await asyncio.to_thread(proc.wait, 30)
    except subprocess.TimeoutExpired:
        proc.kill()
        await asyncio.to_thread(proc.wait)


@dataclass
class ReceivedEvents:
    """`tiktok.webhook.received` events on the events topic: which notifications, and the
    Kafka timestamps (milliseconds, the publishing worker's clock) of the first and last."""

    notifications: set[str] = field(default_factory=set)
    first_ms: int | None = None
    last_ms: int | None = None


async def watch_received(
    bootstrap: str, topic: str, expected: int, *, timeout: float
) -> ReceivedEvents:
    """Read the events topic from its start until `expected` distinct notifications were
    announced received; raise TimeoutError after `timeout` seconds."""
    consumer = AIOKafkaConsumer(
        topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest"
    )
    await consumer.start()
    seen = ReceivedEvents()
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    try:
        while len(seen.notifications) < expected:
            if loop.time() > deadline:
                raise TimeoutError(
                    f"{len(seen.notifications)} of {expected} webhooks applied in {timeout} s"
                )
            batches = await consumer.getmany(timeout_ms=200)
            for records in batches.values():
                for record in records:
                    event = json.loads(record.value or b"{}")
                    if event.get("type") != "tiktok.webhook.received":
                        continue
                    seen.notifications.add(str(event.get("notificationId")))
                    stamp = int(record.timestamp)
                    seen.first_ms = stamp if seen.first_ms is None else min(seen.first_ms, stamp)
                    seen.last_ms = stamp if seen.last_ms is None else max(seen.last_ms, stamp)
    finally:
        await consumer.stop()
    return seen
