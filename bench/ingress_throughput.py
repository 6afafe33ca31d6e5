"""Signed webhooks through the ingress against two baselines run beside it:

- the HTTP floor: as many `GET /healthz` to the same ingress process, same client, same
  concurrency (what any HTTP endpoint of ours costs here);
- the broker floor: the same messages published straight to Kafka with the same producer
  settings (acks=all, idempotent) and concurrency.

The ingress runs as its own process (`python -m service ingress`), as in production.
"""

import asyncio
import json
import os
import statistics
import subprocess
import sys
import time
import uuid
from collections.abc import Awaitable, Callable
from functools import partial

import httpx

from bench.timing import median_seconds
from service.adapters.kafka.broker import make_broker
from service.adapters.kafka.topics import ensure_topics
from service.adapters.tiktok.signing import webhook_signature
from service.settings import Settings
from tests.support import ROOT, eventually, free_port

COUNT = 600
CONCURRENCY = 24
ROUNDS = 3
KEY, SECRET = "bench-key", "bench-secret"


def body(n: int) -> bytes:
    return json.dumps(
        {
            "type": 1,
            "tts_notification_id": f"bench-{uuid.uuid4().hex}",
            "shop_id": "bench-shop",
            "timestamp": 1700000000,
            "data": {"order_id": f"o{n % 50}", "order_status": "UNPAID", "update_time": n},
        }
    ).encode()


def bodies() -> list[bytes]:
    return [body(n) for n in range(COUNT)]


async def _bounded(jobs: list[Callable[[], Awaitable[None]]]) -> None:
    slots = asyncio.Semaphore(CONCURRENCY)

    async def one(job: Callable[[], Awaitable[None]]) -> None:
        async with slots:
            await job()

    await asyncio.gather(*(one(j) for j in jobs))


async def run(settings: Settings) -> str:
    topic = f"bench.webhooks.{uuid.uuid4().hex[:8]}"
    await ensure_topics(settings.kafka_bootstrap_servers, {topic: 6})
    port = free_port()
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "TOPIC_WEBHOOKS": topic,
        "TIKTOK_APP_KEY": KEY,
        "TIKTOK_APP_SECRET": SECRET,
        "INGRESS_PORT": str(port),
        "LOG_LEVEL": "WARNING",
    }
    proc = subprocess.Popen(  # noqa: ASYNC220
        [sys.executable, "-m", "service", "ingress"], cwd=ROOT, env=env
    )
    url = f"http://127.0.0.1:{port}"
    try:
        async with httpx.AsyncClient(timeout=30) as http:
            await eventually(lambda: _ready(http, url), timeout=60, interval=0.3)

            latencies: dict[str, list[float]] = {"webhook": [], "healthz": []}

            async def post(raw: bytes) -> None:
                start = time.perf_counter()
                answer = await http.post(
                    url + "/tiktok-shop/webhooks",
                    content=raw,
                    headers={"Authorization": webhook_signature(KEY, SECRET, raw)},
                )
                assert answer.status_code == 200, answer.text
                latencies["webhook"].append(time.perf_counter() - start)

            async def health() -> None:
                start = time.perf_counter()
                assert (await http.get(url + "/healthz")).status_code == 200
                latencies["healthz"].append(time.perf_counter() - start)

            async def webhooks() -> None:
                await _bounded([partial(post, raw) for raw in bodies()])

            async def healthz() -> None:
                await _bounded([health for _ in range(COUNT)])

            subject = await median_seconds(webhooks, rounds=ROUNDS)
            http_floor = await median_seconds(healthz, rounds=ROUNDS)
    finally:
        proc.terminate()
        await asyncio.to_thread(proc.wait, 30)

    broker = make_broker(settings, role="bench")
    await broker.connect()
    try:

        async def publish(raw: bytes) -> None:
            await broker.publish(raw, topic, key=b"bench-shop")

        async def direct() -> None:
            await _bounded([partial(publish, raw) for raw in bodies()])

        broker_floor = await median_seconds(direct, rounds=ROUNDS)
    finally:
        await broker.stop()

    def rate(seconds: float) -> str:
        return f"{COUNT / seconds:,.0f}/s"

    def p(kind: str, q: int) -> str:
        return f"{statistics.quantiles(latencies[kind], n=100)[q - 1] * 1000:.0f} ms"

    return (
        f"ingress latency under that load: webhook p50 {p('webhook', 50)}, p99 {p('webhook', 99)}"
        f" (TikTok allows 3 s); healthz p50 {p('healthz', 50)}, p99 {p('healthz', 99)}\n"
        f"ingress, {COUNT} webhooks {CONCURRENCY} at a time: webhooks {rate(subject)}, "
        f"GET /healthz {rate(http_floor)}, direct Kafka publish {rate(broker_floor)}; "
        f"time ratio webhook/healthz {subject / http_floor:.2f}x, "
        f"webhook/direct publish {subject / broker_floor:.2f}x"
    )


async def _ready(http: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await http.get(url + "/readyz")).status_code == 200
    except httpx.TransportError:
        return False
