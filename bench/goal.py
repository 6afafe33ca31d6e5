"""The goal scenario of the data path: does the worker keep pace with the ingress?

`python -m bench.goal`. The ingress and one worker run as the README starts them, as separate
processes (`python -m service ingress`, `python -m service worker`), on a database and topics of
the run's own. wrk posts 1,000 orders x 3 ORDER_STATUS_CHANGE webhooks, signed as TikTok signs
them, plus 10% of them again (duplicates), all shuffled (so an order's statuses arrive in any
order), 64 connections at a time, each body once.

- ingress time: from wrk's start until every webhook was answered 200;
- applied time: from the same start until every distinct webhook was applied (its
  `tiktok.webhook.received` event is on the events topic, published after its commit).

The goal: applied time within 1.5 x the ingress time. The orders are then checked: each ends
delivered (its newest status), and no webhook was refused.
"""

import asyncio
import json
import os
import random
import signal
import sys
import tempfile
import time
import uuid
from dataclasses import dataclass
from pathlib import Path

from bench import data, ingress
from bench.processes import APP_KEY, APP_SECRET, service_env, start, stop, watch_received
from service.adapters.kafka.topics import ensure_topics
from service.adapters.mongo.database import Database
from service.adapters.tiktok.signing import webhook_signature
from service.bootstrap import topic_partitions
from service.settings import Settings
from tests.support import eventually, free_port

ORDERS = 1_000
DUPLICATES = 0.10
CONNECTIONS = 64
THREADS = 2
SHOP = "bench-goal-shop"
GOAL = 1.5


@dataclass(frozen=True)
class GoalRun:
    orders: int
    requests: int
    distinct: int
    ingress_seconds: float
    applied_seconds: float
    refused: int
    delivered: int

    @property
    def ratio(self) -> float:
        return self.applied_seconds / self.ingress_seconds


def bodies(orders: int, run: str) -> list[str]:
    """Signed "<signature>\\t<body>" lines: every order through three statuses, 10% of the
    webhooks twice (the same bytes), shuffled."""
    lines = []
    for n in range(orders):
        for step in range(3):
            hook = data.status_webhook(SHOP, n, step, f"{run}-{n}-{step}")
            raw = json.dumps(hook.message.body, separators=(",", ":")).encode()
            lines.append(f"{webhook_signature(APP_KEY, APP_SECRET, raw)}\t{raw.decode()}")
    rng = random.Random(17)
    lines += rng.sample(lines, round(len(lines) * DUPLICATES))
    rng.shuffle(lines)
    return lines


async def post_once(url: str, lines: list[str], directory: Path) -> tuple[float, int]:
    """wrk posting each line once; answers when (time.time()) the last was answered and how
    many were refused."""
    path = ingress.write_lines(lines, directory)
    markers = directory / "markers"
    markers.mkdir()
    proc = await asyncio.create_subprocess_exec(
        ingress.wrk(),
        "-t",
        str(THREADS),
        "-c",
        str(CONNECTIONS),
        "-d",
        "600s",
        # Far above any answer time here: a request wrk gave up on would be posted no more.
        "--timeout",
        "120s",
        "-s",
        str(ingress.SCRIPT),
        url,
        "--",
        str(path),
        "once",
        str(THREADS),
        str(markers),
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.STDOUT,
    )

    async def finished() -> list[str]:
        if proc.returncode is not None:
            raise RuntimeError(f"wrk exited early: {(await proc.communicate())[0].decode()}")
        return [p.read_text() for p in markers.iterdir() if p.read_text().endswith("\n")]

    try:
        done = await eventually(
            finished, until=lambda found: len(found) == THREADS, timeout=600, interval=0.05
        )
    finally:
        if proc.returncode is None:
            proc.send_signal(signal.SIGINT)
        await proc.communicate()
    stamps = [line.split() for line in done]
    return max(float(s[0]) for s in stamps), sum(int(s[2]) for s in stamps)


async def run(base: Settings, *, orders: int = ORDERS) -> GoalRun:
    settings = data.own_settings(base)
    await ensure_topics(settings.kafka_bootstrap_servers, topic_partitions(settings))
    ingress_port, admin_port = free_port(), free_port()
    procs = []
    db = Database(settings.mongodb_uri.get_secret_value(), settings.mongodb_database)
    run_id = uuid.uuid4().hex[:8]
    lines = bodies(orders, run_id)
    distinct = orders * 3
    try:
        env = service_env(settings, INGRESS_PORT=str(ingress_port), ADMIN_PORT=str(admin_port))
        procs.append(
            await start(
                [sys.executable, "-m", "service", "ingress"],
                env,
                f"http://127.0.0.1:{ingress_port}",
            )
        )
        procs.append(
            await start(
                [sys.executable, "-m", "service", "worker"],
                env,
                f"http://127.0.0.1:{admin_port}",
            )
        )
        watching = asyncio.create_task(
            watch_received(
                settings.kafka_bootstrap_servers, settings.topic_events, distinct, timeout=900
            )
        )
        with tempfile.TemporaryDirectory(prefix="bench-goal-") as tmp:
            began = time.time()
            accepted_at, refused = await post_once(
                f"http://127.0.0.1:{ingress_port}", lines, Path(tmp)
            )
        seen = await watching
        if seen.last_ms is None:
            raise RuntimeError("no webhook was announced received")
        delivered = await db.collection("orders").count_documents(
            {"shop_id": SHOP, "status": "delivered"}
        )
    finally:
        await asyncio.gather(*(stop(p) for p in procs))
        await data.delete_topics(settings.kafka_bootstrap_servers, data.own_topics(settings))
        await db.client.drop_database(settings.mongodb_database)
        await db.close()
    return GoalRun(
        orders=orders,
        requests=len(lines),
        distinct=len(seen.notifications),
        ingress_seconds=accepted_at - began,
        applied_seconds=seen.last_ms / 1000 - began,
        refused=refused,
        delivered=delivered,
    )


def report(goal: GoalRun) -> str:
    verdict = "met" if goal.ratio <= GOAL else "missed"
    return (
        f"goal scenario (load average {os.getloadavg()[0]:.1f}): {goal.requests:,} signed "
        f"webhooks ({goal.orders:,} orders x 3, 10% sent twice, shuffled), {CONNECTIONS} at a "
        f"time, ingress and worker as separate processes\n"
        f"- ingress accepted all in {goal.ingress_seconds:.1f} s "
        f"({goal.requests / goal.ingress_seconds:,.0f}/s), {goal.refused} refused\n"
        f"- worker applied all {goal.distinct:,} distinct webhooks {goal.applied_seconds:.1f} s "
        f"after the start; {goal.delivered:,} of {goal.orders:,} orders end delivered\n"
        f"- applied / accepted time: {goal.ratio:.2f} (goal <= {GOAL}: {verdict})"
    )


async def main() -> None:
    print(report(await run(Settings())))


if __name__ == "__main__":
    asyncio.run(main())
