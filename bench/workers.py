"""Two worker processes in one consumer group against one, on this machine.

10,000 orders stored; 2,000 of them get three ORDER_STATUS_CHANGE webhooks each (6,000),
published beforehand to a topic of the run's own (six partitions, as the service creates it).
Then one `python -m service worker` process, or two in the same consumer group, consume them.
The rate is taken between the first and the last `tiktok.webhook.received` event on the events
topic (their Kafka timestamps), so start-up and the group's rebalance are left out. Each
variant gets orders no other touched.
"""

import asyncio
import os
import random
import sys
from collections.abc import Sequence
from dataclasses import dataclass

from bench import data
from bench.processes import service_env, start, stop, watch_received
from service.adapters.kafka.topics import ensure_topics
from service.adapters.mongo.database import Database
from service.settings import Settings
from tests.support import free_port

STORED = 10_000
ORDERS = 2_000
SHOP = "bench-shop"
TIMEOUT = 900.0


@dataclass(frozen=True)
class GroupRun:
    workers: int
    webhooks: int
    seconds: float

    @property
    def rate(self) -> float:
        return self.webhooks / self.seconds


async def run_group(base: Settings, database: str, orders: Sequence[int], workers: int) -> GroupRun:
    settings = data.own_settings(base, mongodb_database=database)
    hooks = data.status_webhooks(SHOP, orders)
    await ensure_topics(settings.kafka_bootstrap_servers, {settings.topic_webhooks: 6})
    procs = []
    try:
        await data.publish_all(settings.kafka_bootstrap_servers, settings.topic_webhooks, hooks)
        for _ in range(workers):
            port = free_port()
            env = service_env(settings, ADMIN_PORT=str(port))
            command = [sys.executable, "-m", "service", "worker"]
            procs.append(await start(command, env, f"http://127.0.0.1:{port}"))
        seen = await watch_received(
            settings.kafka_bootstrap_servers, settings.topic_events, len(hooks), timeout=TIMEOUT
        )
    finally:
        await asyncio.gather(*(stop(p) for p in procs))
        await data.delete_topics(settings.kafka_bootstrap_servers, data.own_topics(settings))
    if seen.first_ms is None or seen.last_ms is None:
        raise RuntimeError("no webhook was announced received")
    # Between the first and the last event: one webhook fewer than all were timed.
    return GroupRun(workers, len(hooks) - 1, (seen.last_ms - seen.first_ms) / 1000)


async def run(
    base: Settings, *, stored: int = STORED, orders: int = ORDERS
) -> tuple[GroupRun, GroupRun]:
    settings = data.own_settings(base)
    db = Database(settings.mongodb_uri.get_secret_value(), settings.mongodb_database)
    picked = random.Random(5).sample(range(stored), 2 * orders)
    try:
        await db.ensure_indexes()
        await data.store_orders(db, SHOP, 0, stored)
        one = await run_group(base, settings.mongodb_database, picked[:orders], 1)
        two = await run_group(base, settings.mongodb_database, picked[orders:], 2)
    finally:
        await db.client.drop_database(settings.mongodb_database)
        await db.close()
    return one, two


def report(one: GroupRun, two: GroupRun, stored: int = STORED) -> str:
    return "\n".join(
        [
            f"worker processes in one group (load average {os.getloadavg()[0]:.1f}), "
            f"{one.webhooks + 1:,} webhooks each, {stored:,} orders stored",
            "| workers | webhooks/s | against one |",
            "| --- | --- | --- |",
            f"| 1 | {one.rate:,.0f} | 1.00 |",
            f"| 2 | {two.rate:,.0f} | {two.rate / one.rate:.2f} |",
        ]
    )


async def main() -> None:
    print(report(*await run(Settings())))


if __name__ == "__main__":
    asyncio.run(main())
