"""Stopping is bounded: `python -m service worker` exits in time on SIGTERM even when Kafka and
the database are gone under it, and what it had not committed is processed after a restart.

The worker runs as a process of its own on the outage broker and database (`tests.outage`),
never on the shared ones, which other tests use meanwhile.
"""

import asyncio
import json
import os
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiokafka import AIOKafkaProducer
from pymongo import AsyncMongoClient

from service.settings import Settings
from service.stopping import STOP_SECONDS
from tests import outage
from tests.conftest import make_settings
from tests.kafka_tools import TopicReader, tiktok_webhook
from tests.support import ROOT, eventually, free_port

pytestmark = pytest.mark.integration

BATCH_FAILED = "batch failed; applying its webhooks one at a time"


@pytest.fixture
def services_under_the_worker() -> Iterator[dict[str, str]]:
    """The outage broker and database, up; both stopped again at the end."""
    outage.kafka("up")
    outage.mongo("up")
    try:
        yield {**outage.kafka("env"), **outage.mongo("env")}
    finally:
        outage.kafka("down")
        outage.mongo("down")


def worker_environment(settings: Settings, admin_port: int) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "MONGODB_"))}
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
            "KAFKA_GROUP_ID": settings.kafka_group_id,
            "MONGODB_URI": settings.mongodb_uri.get_secret_value(),
            "MONGODB_DATABASE": settings.mongodb_database,
            "TOPIC_WEBHOOKS": settings.topic_webhooks,
            "TOPIC_ADMIN_COMMANDS": settings.topic_admin_commands,
            "TOPIC_EVENTS": settings.topic_events,
            "TOPIC_DEAD_LETTER": settings.topic_dead_letter,
            "ADMIN_API_TOKEN": "stop-test-token",
            "ADMIN_PORT": str(admin_port),
            "LOG_JSON": "true",
            "PYTHONUNBUFFERED": "1",
        }
    )
    for name in ("TIKTOK_APP_KEY", "TIKTOK_APP_SECRET", "TIKTOK_ACCESS_TOKEN", "TIKTOK_SHOP_ID"):
        env[name] = ""
    return env


@asynccontextmanager
async def worker_process(env: dict[str, str], log: Path) -> AsyncIterator[subprocess.Popen[bytes]]:
    """`python -m service worker`, ready (its /readyz answered 200); killed if still running."""
    with log.open("ab") as out:
        process = subprocess.Popen(
            [sys.executable, "-m", "service", "worker"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{env['ADMIN_PORT']}/readyz"
        async with httpx.AsyncClient() as http:

            async def ready() -> bool:
                if process.poll() is not None:
                    raise AssertionError(f"the worker exited with {process.returncode}; see {log}")
                try:
                    return (await http.get(url)).status_code == 200
                except httpx.HTTPError:
                    return False

            await eventually(ready, timeout=90, interval=0.3)
        yield process
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def log_events(log: Path) -> list[dict[str, Any]]:
    events = []
    for line in log.read_text().splitlines():
        try:
            events.append(json.loads(line))
        except ValueError:
            continue
    return events


@pytest.mark.timeout(600)
async def test_sigterm_stops_the_worker_in_time_with_kafka_and_the_database_gone(
    services_under_the_worker: dict[str, str], tmp_path: Path
) -> None:
    run = uuid.uuid4().hex[:8]
    settings = make_settings(
        services_under_the_worker,
        mongodb_database=f"stop_{run}",
        kafka_group_id=f"stop-{run}",
        topic_webhooks=f"stop.{run}.webhooks",
        topic_admin_commands=f"stop.{run}.commands",
        topic_events=f"stop.{run}.events",
        topic_dead_letter=f"stop.{run}.dead-letter",
    )
    env = worker_environment(settings, free_port())
    log = tmp_path / "worker.log"
    shop = f"shop-{run}"
    database: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        settings.mongodb_uri.get_secret_value(), serverSelectionTimeoutMS=30_000
    )

    async def send(order_ids: list[str]) -> None:
        """One burst, so that the worker fetches them in one batch."""
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers, acks="all")
        await producer.start()
        try:
            status = {"order_status": "AWAITING_SHIPMENT", "update_time": 1}
            sent = [
                await producer.send(
                    settings.topic_webhooks,
                    tiktok_webhook(1, shop, {"order_id": order_id, **status}).to_json(),
                    key=f"{shop}:{order_id}".encode(),
                )
                for order_id in order_ids
            ]
            await asyncio.gather(*sent)
        finally:
            await producer.stop()

    async def stored() -> set[str]:
        orders = database[settings.mongodb_database]["orders"]
        return {doc["external_order_id"] async for doc in orders.find({"shop_id": shop})}

    before = [f"A{i}" for i in range(5)]
    in_hand = [f"B{i}" for i in range(5)]
    try:
        async with worker_process(env, log) as worker:
            await send(before)
            assert await eventually(stored, until=lambda got: got == set(before), timeout=60)
            # The inbox is the unit of work's last write: once the first batch is recorded
            # there, taking the database away fails the next batch, not this one.
            inbox = database[settings.mongodb_database]["webhook_events"]
            await eventually(
                lambda: inbox.count_documents({"shop_id": shop}),
                until=lambda n: n == len(before),
                timeout=60,
            )

            # The database goes away; the next webhooks are fetched and cannot be stored.
            await asyncio.to_thread(outage.mongo, "down")
            await send(in_hand)
            await eventually(
                lambda: asyncio.to_thread(log_events, log),
                until=lambda events: any(e.get("event") == BATCH_FAILED for e in events),
                timeout=60,
            )
            # Kafka goes, the database comes back: the webhooks in hand are stored, but their
            # offsets cannot be committed nor their events published.
            await asyncio.to_thread(outage.kafka, "down")
            await asyncio.to_thread(outage.mongo, "up")
            await eventually(stored, until=lambda got: bool(got & set(in_hand)), timeout=120)
            # Then the database goes again: both are gone under the worker.
            await asyncio.to_thread(outage.mongo, "down")

            started = time.monotonic()
            worker.send_signal(signal.SIGTERM)
            code = await asyncio.to_thread(worker.wait, STOP_SECONDS + 30)
            took = time.monotonic() - started
        assert took < STOP_SECONDS, f"stopped in {took:.1f}s: {log.read_text()[-3000:]}"
        assert code == 0, log.read_text()[-3000:]

        # Everything back: what the first worker had in hand is processed, nothing twice.
        await asyncio.to_thread(outage.kafka, "up")
        await asyncio.to_thread(outage.mongo, "up")
        async with (
            TopicReader(settings.kafka_bootstrap_servers, settings.topic_events) as events,
            worker_process(env, log),
        ):
            # The events the first worker could not publish are published from the documents
            # (at least once: an event may come twice, with the same eventId).
            async def announced() -> set[str]:
                await events.poll()
                received = events.json(
                    lambda e: e["type"] == "tiktok.order.received" and e["shopId"] == shop
                )
                return {e["order"]["externalOrderId"] for e in received}

            everything = set(before) | set(in_hand)
            assert await eventually(announced, until=lambda got: got == everything, timeout=120)
        orders = database[settings.mongodb_database]["orders"]
        assert await orders.count_documents({"shop_id": shop}) == len(before) + len(in_hand)
    finally:
        await database.drop_database(settings.mongodb_database)
        await database.close()


@pytest.mark.timeout(300)
async def test_sigterm_stops_the_ingress_in_time_with_kafka_gone(
    services_under_the_worker: dict[str, str], tmp_path: Path
) -> None:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("KAFKA_", "MONGODB_"))}
    env.update(
        {
            "KAFKA_BOOTSTRAP_SERVERS": services_under_the_worker["KAFKA_BOOTSTRAP_SERVERS"],
            "TOPIC_WEBHOOKS": f"stop.{uuid.uuid4().hex[:8]}.webhooks",
            "INGRESS_PORT": str(port),
            "TIKTOK_APP_KEY": "stop-key",
            "TIKTOK_APP_SECRET": "stop-secret",
            "LOG_JSON": "true",
        }
    )
    log = tmp_path / "ingress.log"
    with log.open("ab") as out:
        ingress = subprocess.Popen(
            [sys.executable, "-m", "service", "ingress"],
            cwd=ROOT,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
        )
    try:
        url = f"http://127.0.0.1:{port}"
        async with httpx.AsyncClient() as http:

            async def readiness() -> int:
                try:
                    return (await http.get(url + "/readyz")).status_code
                except httpx.HTTPError:
                    return 0

            await eventually(readiness, until=lambda status: status == 200, timeout=60)
            await asyncio.to_thread(outage.kafka, "down")
            await eventually(readiness, until=lambda status: status == 503, timeout=30)
            answer = await http.post(url + "/tiktok-shop/webhooks", content=b"{}")
            assert answer.status_code == 401  # still answering, Kafka or not

        started = time.monotonic()
        ingress.send_signal(signal.SIGTERM)
        code = await asyncio.to_thread(ingress.wait, STOP_SECONDS + 30)
        took = time.monotonic() - started
        assert took < STOP_SECONDS, f"stopped in {took:.1f}s"
        assert code == 0
    finally:
        if ingress.poll() is None:
            ingress.kill()
            ingress.wait()
