"""Signed webhooks through the ingress, from a compiled load generator, against two floors.

wrk (Debian's package; installed with apt-get when missing) posts pre-signed TikTok webhooks
(`bench/wrk_webhooks.lua`), CONCURRENCY connections at once, for SECONDS, to the ingress app
served by uvicorn and by granian in turn (`bench/ingress_server.py`: one process, one event loop
each, as `python -m service ingress` runs). Beside each:

- the HTTP floor: wrk asking the same process for `GET /healthz` at the same concurrency;
- the broker floor: the same messages published straight to Kafka by the service's producer
  (acks=all, idempotent, as the ingress publishes) at the same concurrency, from Python.

Every figure is requests (or messages) per second and wrk's p50/p99 latency.
"""

import asyncio
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from bench import data
from bench.processes import APP_KEY, APP_SECRET, service_env, start, stop
from service.adapters.kafka.broker import make_broker
from service.adapters.kafka.topics import ensure_topics
from service.adapters.tiktok.signing import webhook_signature
from service.settings import Settings
from tests.support import free_port

CONCURRENCY = 64
SECONDS = 10
THREADS = 2
SERVERS = ("uvicorn", "granian")
SCRIPT = Path(__file__).with_name("wrk_webhooks.lua")


@dataclass(frozen=True)
class Load:
    """What one load run measured."""

    requests: int
    seconds: float
    p50_ms: float
    p99_ms: float
    failed: int = 0

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def wrk() -> str:
    """The wrk binary; installed from Debian if missing (needs root, as on these machines)."""
    found = shutil.which("wrk")
    if found:
        return found
    # A fresh machine has no package lists yet: fetch them once when the install fails.
    if subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=False).returncode != 0:
        subprocess.run(["apt-get", "update", "-q"], check=True)
        subprocess.run(["apt-get", "install", "-y", "-q", "wrk"], check=True)
    found = shutil.which("wrk")
    if not found:
        raise RuntimeError("wrk is not installed and apt-get did not install it")
    return found


def signed_lines(count: int, shop_id: str = "bench-shop") -> list[str]:
    """`count` distinct ORDER_STATUS_CHANGE webhooks as the ingress receives them (TikTok's
    body, signed in the Authorization header), one "<signature>\\t<body>" line each."""
    lines = []
    run = uuid.uuid4().hex[:8]
    for n in range(count):
        hook = data.status_webhook(shop_id, n % 10_000, n % 3, f"{run}-{n}")
        raw = json.dumps(hook.message.body, separators=(",", ":")).encode()
        lines.append(f"{webhook_signature(APP_KEY, APP_SECRET, raw)}\t{raw.decode()}")
    return lines


def write_lines(lines: Sequence[str], directory: Path) -> Path:
    path = directory / "webhooks.tsv"
    path.write_text("\n".join(lines) + "\n")
    return path


def parse_result(output: str) -> dict[str, int]:
    for line in output.splitlines():
        if line.startswith("RESULT "):
            result: dict[str, int] = json.loads(line[len("RESULT ") :])
            return result
    raise RuntimeError(f"wrk printed no RESULT line:\n{output}")


async def run_wrk(url: str, *, seconds: float, webhooks: Path | None) -> Load:
    """wrk for `seconds` against `url` (webhooks cycled from the file, else GET `url`)."""
    args = [wrk(), "-t", str(THREADS), "-c", str(CONCURRENCY), "-d", f"{seconds:g}s", "--latency"]
    if webhooks is not None:
        args += ["-s", str(SCRIPT), url, "--", str(webhooks), "cycle", str(THREADS), "-"]
    else:
        args += ["-s", str(SCRIPT), url, "--", os.devnull, "cycle", str(THREADS), "-"]
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT
    )
    out, _ = await proc.communicate()
    result = parse_result(out.decode())
    return Load(
        requests=result["requests"],
        seconds=result["duration_us"] / 1e6,
        p50_ms=result["p50_us"] / 1000,
        p99_ms=result["p99_us"] / 1000,
        failed=result["status_errors"] + result["socket_errors"],
    )


async def direct_kafka(settings: Settings, lines: Sequence[str], seconds: float) -> Load:
    """The broker floor: the messages the ingress would publish, published straight to Kafka
    with the ingress's producer settings, CONCURRENCY at a time, for `seconds`."""
    broker = make_broker(settings, role="bench")
    await broker.connect()
    bodies = [line.split("\t", 1)[1].encode() for line in lines]
    latencies: list[float] = []
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    counter = iter(range(10**9))

    async def publisher() -> None:
        while loop.time() < deadline:
            body = bodies[next(counter) % len(bodies)]
            start = time.perf_counter()
            await broker.publish(body, settings.topic_webhooks, key=b"bench-shop:1")
            latencies.append(time.perf_counter() - start)

    try:
        began = loop.time()
        await asyncio.gather(*(publisher() for _ in range(CONCURRENCY)))
        took = loop.time() - began
    finally:
        await broker.stop()
    q = statistics.quantiles(latencies, n=100)
    return Load(len(latencies), took, q[49] * 1000, q[98] * 1000)


@dataclass(frozen=True)
class ServerFigures:
    server: str
    webhooks: Load
    healthz: Load


async def run(
    base: Settings,
    *,
    seconds: float = SECONDS,
    servers: Sequence[str] = SERVERS,
    bodies: int = 50_000,
) -> tuple[list[ServerFigures], Load]:
    settings = data.own_settings(base)
    await ensure_topics(settings.kafka_bootstrap_servers, {settings.topic_webhooks: 6})
    lines = signed_lines(bodies)
    figures = []
    try:
        with tempfile.TemporaryDirectory(prefix="bench-ingress-") as tmp:
            webhooks = write_lines(lines, Path(tmp))
            for server in servers:
                port = free_port()
                url = f"http://127.0.0.1:{port}"
                command = [sys.executable, "-m", "bench.ingress_server", server]
                env = service_env(settings, INGRESS_PORT=str(port))
                proc = await start(command, env, url)
                try:
                    await run_wrk(url + "/healthz", seconds=1, webhooks=None)  # warm up
                    hooks = await run_wrk(url, seconds=seconds, webhooks=webhooks)
                    health = await run_wrk(url + "/healthz", seconds=seconds, webhooks=None)
                finally:
                    await stop(proc)
                figures.append(ServerFigures(server, hooks, health))
        broker_floor = await direct_kafka(settings, lines, seconds)
    finally:
        await data.delete_topics(settings.kafka_bootstrap_servers, [settings.topic_webhooks])
    return figures, broker_floor


def report(figures: Sequence[ServerFigures], kafka: Load) -> str:
    lines = [
        f"ingress, wrk with {CONCURRENCY} connections (load average {os.getloadavg()[0]:.1f}); "
        "requests/s and latency in ms",
        "| server | signed webhooks/s | p50 | p99 | GET /healthz/s | p50 | p99 "
        "| webhooks / healthz | webhooks / direct Kafka | failed |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in figures:
        w, h = f.webhooks, f.healthz
        lines.append(
            f"| {f.server} | {w.rate:,.0f} | {w.p50_ms:.1f} | {w.p99_ms:.1f} | {h.rate:,.0f} "
            f"| {h.p50_ms:.1f} | {h.p99_ms:.1f} | {w.rate / h.rate:.2f} "
            f"| {w.rate / kafka.rate:.2f} | {w.failed + h.failed} |"
        )
    lines.append(
        f"| direct Kafka publish (Python, {CONCURRENCY} at a time) | {kafka.rate:,.0f} "
        f"| {kafka.p50_ms:.1f} | {kafka.p99_ms:.1f} | | | | | | |"
    )
    return "\n".join(lines)


async def main() -> None:
    figures, kafka = await run(Settings())
    print(report(figures, kafka))


if __name__ == "__main__":
    asyncio.run(main())
