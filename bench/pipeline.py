"""End to end, from the webhooks topic to the database: the worker against raw bulk writes.

For each collection size (1,000, 10,000, 100,000 orders stored), a thousand orders not touched
before each get three ORDER_STATUS_CHANGE webhooks (a round per status, orders shuffled within
a round), published to a topic of the run's own as the ingress publishes them. Then a worker
(the service's `Worker`, in this process) starts on that topic, and the clock runs from its
first batch until every webhook is applied, its order written and its events published to
Kafka and cleared from the documents.

The ceiling beside it: the same documents the worker stores, written by raw unordered
`bulk_write` of `ReplaceOne(upsert=True)` by `_id`, one command per collection per batch of the
worker's batch size, on the same collections, right after the worker: each webhook's order as
the webhook leaves it and its inbox record as the worker inserts it. The ratio of the two rates
is the figure; the worker also reads its inbox and orders, decides, publishes the events and
clears them from the documents, which the ceiling does not. The orders alone are written too,
a second ceiling for comparison.

A first round on a quarter of the orders, not reported, warms the database and this process.

Database commands are counted with PyMongo's command monitoring (every command the worker's
client sends to the run's database while the clock runs), per webhook, for several batch sizes.
"""

import asyncio
import json
import os
import random
import statistics
import time
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from pymongo import ReplaceOne, monitoring

from bench import data
from contracts.webhooks import Delivery
from service.adapters.mongo.database import Database
from service.adapters.mongo.documents import outbox_documents
from service.application.messagebus import received_event
from service.application.ports import OutboxEntry
from service.bootstrap import Worker
from service.settings import Settings

SIZES = (1_000, 10_000, 100_000)
ORDERS_PER_RUN = 1_000  # x 3 statuses = 3,000 webhooks per measurement
BATCH_SIZES = (100, 500)  # besides the service's default, for commands per webhook
RAW_ROUNDS = 3
SHOP = "bench-shop"
TIMEOUT = 600.0


class CommandCounter(monitoring.CommandListener):
    """Counts the commands sent to one database while switched on (all clients of the
    process, so the benchmark sends none of its own meanwhile)."""

    def __init__(self) -> None:
        self.database = ""
        self.on = False
        self.counts: Counter[str] = Counter()
        # Milliseconds the database took, by command and collection ("update orders").
        self.millis: Counter[str] = Counter()
        self._targets: dict[int, str] = {}

    def started(self, event: monitoring.CommandStartedEvent) -> None:
        if self.on and event.database_name == self.database:
            self.counts[event.command_name] += 1
            target = event.command.get(event.command_name)
            self._targets[event.request_id] = f"{event.command_name} {target}"

    def succeeded(self, event: monitoring.CommandSucceededEvent) -> None:
        target = self._targets.pop(event.request_id, None)
        if target is not None:
            self.millis[target] += event.duration_micros / 1000

    def failed(self, event: monitoring.CommandFailedEvent) -> None:
        return None


_COUNTER: CommandCounter | None = None


def counter() -> CommandCounter:
    """The process's counter, registered once, before the clients it must see are made."""
    global _COUNTER
    if _COUNTER is None:
        _COUNTER = CommandCounter()
        monitoring.register(_COUNTER)
    return _COUNTER


@dataclass
class WorkerRun:
    webhooks: int
    seconds: float
    batches: list[int]
    commands: Counter[str]
    millis: Counter[str]
    sweep_seconds: float = 0.0

    @property
    def rate(self) -> float:
        return self.webhooks / self.seconds

    @property
    def commands_per_webhook(self) -> float:
        return sum(self.commands.values()) / self.webhooks


@dataclass(frozen=True)
class Raw:
    """Seconds of each round of raw upserts: orders and inbox records, then orders alone."""

    with_inbox: list[float]
    orders_only: list[float]


@dataclass
class SizeFigures:
    stored: int
    worker: WorkerRun
    raw: Raw

    @property
    def raw_rate(self) -> float:
        """Webhooks per second at the ceiling: the same orders and inbox records written."""
        return self.worker.webhooks / statistics.median(self.raw.with_inbox)

    @property
    def orders_rate(self) -> float:
        return self.worker.webhooks / statistics.median(self.raw.orders_only)


async def run_worker(settings: Settings, webhooks: int, expected: set[str]) -> WorkerRun:
    """Start a worker on the pre-filled topic; time it from its first batch until the events
    of every webhook are published and cleared (`expected`: their `tiktok.webhook.received`
    event ids; leftovers of an earlier run that its start-up sweep publishes do not count)."""
    count = counter()
    count.database, count.counts, count.millis = settings.mongodb_database, Counter(), Counter()
    worker = Worker(settings)
    loop = asyncio.get_running_loop()
    marks: dict[str, float] = {}
    batches: list[int] = []
    done = asyncio.Event()
    received = 0
    apply, clear, sweep = worker.bus.apply, worker.relay.store.clear, worker.relay.sweep

    async def timed_apply(messages: Sequence[Any]) -> Any:
        if "first" not in marks:
            marks["first"] = loop.time()
            count.on = True
        batches.append(len(messages))
        return await apply(messages)

    async def counted_clear(entries: Sequence[OutboxEntry]) -> None:
        nonlocal received
        await clear(entries)
        received += sum(1 for e in entries if e.event_id in expected)
        if received >= webhooks and not done.is_set():
            marks["last"] = loop.time()
            count.on = False
            done.set()

    async def timed_sweep() -> int:
        start = loop.time()
        found = await sweep()
        marks.setdefault("sweep", loop.time() - start)
        return found

    worker.bus.apply = timed_apply  # type: ignore[method-assign]
    worker.relay.store.clear = counted_clear  # type: ignore[method-assign]
    worker.relay.sweep = timed_sweep  # type: ignore[method-assign]
    await worker.start()
    try:
        await asyncio.wait_for(done.wait(), TIMEOUT)
    finally:
        count.on = False
        await worker.stop()
    return WorkerRun(
        webhooks=webhooks,
        seconds=marks["last"] - marks["first"],
        batches=batches,
        commands=Counter(count.counts),
        millis=Counter(count.millis),
        sweep_seconds=marks.get("sweep", 0.0),
    )


def _delivery(hook: data.OrderWebhook) -> Delivery:
    m = hook.message
    return Delivery(
        notification_id=m.notification_id,
        source=m.source,
        webhook_type=m.webhook_type,
        shop_id=m.shop_id or SHOP,
        received_at=m.received_at,
        correlation_id=m.correlation_id,
        body=m.body,
    )


def inbox_document(hook: data.OrderWebhook) -> dict[str, Any]:
    """The webhook's inbox record as the worker inserts it (`_Inbox.record`), its
    `tiktok.webhook.received` event waiting in `outbox`."""
    m = hook.message
    delivery = _delivery(hook)
    return {
        "_id": m.notification_id,
        "source": m.source,
        "webhook_type": m.webhook_type,
        "shop_id": delivery.shop_id,
        "received_at": m.received_at,
        "correlation_id": m.correlation_id,
        "body_json": json.dumps(m.body, separators=(",", ":")),
        "outcome": f"order {data.order_document(SHOP, hook.order)['_id']} updated",
        "processed_at": datetime.now(UTC),
        "outbox": outbox_documents([received_event(delivery)]),
    }


async def raw_upserts(
    db: Database, hooks: Sequence[data.OrderWebhook], batch: int, *, inbox: bool
) -> float:
    """Seconds to write the webhooks' order documents (and with `inbox`, their inbox records)
    by raw unordered bulk upserts by `_id`, one command per collection per batch."""
    batches = []
    for chunk in data.chunks(hooks, batch):
        orders = [
            ReplaceOne({"_id": d["_id"]}, d, upsert=True)
            for d in (data.applied_document(SHOP, h) for h in chunk)
        ]
        records = [
            ReplaceOne({"_id": d["_id"]}, d, upsert=True)
            for d in (inbox_document(h) for h in chunk)
        ]
        batches.append((orders, records if inbox else []))
    start = time.perf_counter()
    for orders, records in batches:
        await db.collection("orders").bulk_write(orders, ordered=False)
        if records:
            await db.collection("webhook_events").bulk_write(records, ordered=False)
    return time.perf_counter() - start


async def measure(
    base: Settings, *, orders: Sequence[int], batch_size: int, db: Database, database: str
) -> tuple[WorkerRun, "Raw"]:
    settings = data.own_settings(base, mongodb_database=database, webhook_batch_size=batch_size)
    hooks = data.status_webhooks(SHOP, orders)
    try:
        await data.publish_all(settings.kafka_bootstrap_servers, settings.topic_webhooks, hooks)
        expected = {received_event(_delivery(h)).event_id for h in hooks}
        worker = await run_worker(settings, len(hooks), expected)
        raw = Raw(
            [await raw_upserts(db, hooks, batch_size, inbox=True) for _ in range(RAW_ROUNDS)],
            [await raw_upserts(db, hooks, batch_size, inbox=False) for _ in range(RAW_ROUNDS)],
        )
        # The ceiling's inbox records carry an event as the worker's do; cleared, so that the
        # next worker's start-up sweep does not publish them as leftovers.
        ids = [h.message.notification_id for h in hooks]
        for chunk in data.chunks(ids, 1_000):
            await db.collection("webhook_events").update_many(
                {"_id": {"$in": chunk}}, {"$set": {"outbox": []}}
            )
    finally:
        await data.delete_topics(settings.kafka_bootstrap_servers, data.own_topics(settings))
    return worker, raw


async def run(
    base: Settings,
    *,
    sizes: Sequence[int] = SIZES,
    orders_per_run: int = ORDERS_PER_RUN,
    batch_sizes: Sequence[int] = BATCH_SIZES,
) -> tuple[list[SizeFigures], dict[int, WorkerRun]]:
    """The figures per collection size (at the service's batch size), then per batch size at
    the largest collection size."""
    settings = data.own_settings(base)
    database = settings.mongodb_database
    db = Database(settings.mongodb_uri.get_secret_value(), database)
    rng = random.Random(11)
    try:
        await db.ensure_indexes()
        figures: list[SizeFigures] = []
        stored = 0
        fresh: list[int] = []
        for n, size in enumerate(sizes):
            await data.store_orders(db, SHOP, stored, size)
            if n == 0:
                # A first, unreported round: the database's JIT and caches, this process's
                # imports and connections are then as warm for every size.
                await measure(
                    base,
                    orders=range(min(size, orders_per_run) // 4),
                    batch_size=settings.webhook_batch_size,
                    db=db,
                    database=database,
                )
            # Orders no earlier run touched: a webhook for one of those would be older than
            # what is stored and change nothing.
            fresh = list(range(stored if n else min(size, orders_per_run) // 4, size))
            rng.shuffle(fresh)
            stored = size
            picked, fresh = fresh[:orders_per_run], fresh[orders_per_run:]
            worker, raw = await measure(
                base,
                orders=picked,
                batch_size=settings.webhook_batch_size,
                db=db,
                database=database,
            )
            figures.append(SizeFigures(size, worker, raw))
        by_batch: dict[int, WorkerRun] = {settings.webhook_batch_size: figures[-1].worker}
        for batch in batch_sizes:
            picked, fresh = fresh[:orders_per_run], fresh[orders_per_run:]
            if not picked:
                break
            by_batch[batch], _ = await measure(
                base, orders=picked, batch_size=batch, db=db, database=database
            )
    finally:
        await db.client.drop_database(database)
        await db.close()
    return figures, dict(sorted(by_batch.items()))


def report(figures: Sequence[SizeFigures], by_batch: dict[int, WorkerRun]) -> str:
    first = figures[0].worker.rate
    lines = [
        f"end to end (load average {os.getloadavg()[0]:.1f}): webhooks topic -> worker -> "
        "orders, inbox, events published",
        "| orders stored | webhooks | worker webhooks/s | raw: orders + inbox /s | worker / raw "
        "| raw: orders alone /s | worker / that | rate / rate at the smallest | mean batch "
        "| start-up sweep |",
        "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for f in figures:
        w = f.worker
        lines.append(
            f"| {f.stored:,} | {w.webhooks:,} | {w.rate:,.0f} | {f.raw_rate:,.0f} "
            f"| {w.rate / f.raw_rate:.2f} | {f.orders_rate:,.0f} | {w.rate / f.orders_rate:.2f} "
            f"| {w.rate / first:.2f} | {statistics.mean(w.batches):.0f} "
            f"| {w.sweep_seconds * 1000:,.0f} ms |"
        )
    lines += ["", "the worker's database time while the clock ran (ms, by command and collection)"]
    for f in figures:
        w = f.worker
        spent = ", ".join(f"{name} {ms:,.0f}" for name, ms in w.millis.most_common())
        lines.append(f"- {f.stored:,} stored, {w.seconds * 1000:,.0f} ms in all: {spent}")
    lines += [
        "",
        f"database commands per webhook at {figures[-1].stored:,} orders stored",
        "| batch size | mean batch | commands per webhook | worker webhooks/s | commands |",
        "| --- | --- | --- | --- | --- |",
    ]
    for batch, w in by_batch.items():
        kinds = ", ".join(f"{name} {n}" for name, n in w.commands.most_common())
        lines.append(
            f"| {batch} | {statistics.mean(w.batches):.0f} | {w.commands_per_webhook:.3f} "
            f"| {w.rate:,.0f} | {kinds} |"
        )
    return "\n".join(lines)


async def main() -> None:
    data.production_logs()
    figures, by_batch = await run(Settings())
    print(report(figures, by_batch))


if __name__ == "__main__":
    asyncio.run(main())
