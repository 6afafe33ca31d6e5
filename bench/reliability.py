"""`make reliability`: the fault table. Kills each part of the service mid-load and counts what
became of every webhook that got a 200.

The ingress and the worker run as their own processes (`python -m service ingress`, `worker`)
on a Kafka broker and a database of this run's own (`KAFKA_INSTANCE=reliability`,
`MONGO_INSTANCE=reliability` of deploy/local/services.sh, never the shared ones). No TikTok is
needed: the orders come from webhooks alone (without TikTok credentials the worker stores each
order with `needsRefresh`).

For each fault in turn (the worker, the ingress, Kafka, the database), a load of signed
ORDER_STATUS_CHANGE webhooks for a shop of the fault's own is sent by concurrent senders:
several statuses per order, a share of them delivered twice, all shuffled. Once a share of the
load was answered, the part is killed with SIGKILL, left dead a few seconds, and started again.
A sender retries a 503 or a missing answer later, as TikTok does (TikTok waits minutes; here
1 s, doubling, at most 8 s). Then the run waits for the worker to drain and counts, per fault:

- lost: orders with a webhook answered 200 that have no document;
- duplicated: orders with more than one document;
- wrong: orders whose status is not that of their newest webhook answered 200;
- unapplied: webhooks answered 200 that the worker's inbox does not hold;

all of which must be 0. The time to drain runs from the last 200 to the moment every order is
right and every accepted webhook is in the inbox.

Bounded: the whole run stops at `--deadline` seconds (15 minutes by default; a run takes about
five here), every wait has its own limit, and whatever happens the processes it started are
stopped and its Kafka and database instances are stopped and deleted. Exits 1 when any count is
off or the deadline cut the run short.
"""

import argparse
import asyncio
import contextlib
import heapq
import json
import os
import random
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections import Counter, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Literal

import httpx
from pymongo import AsyncMongoClient
from pymongo.errors import PyMongoError

from service.adapters.tiktok.signing import webhook_signature

ROOT = Path(__file__).resolve().parent.parent
SERVICES = ROOT / "deploy" / "local" / "services.sh"
PATH = "/tiktok-shop/webhooks"
APP_KEY = "reliability-app-key"

Part = Literal["worker", "ingress", "kafka", "database"]
PARTS: tuple[Part, ...] = ("worker", "ingress", "kafka", "database")
#: TikTok's order statuses in the order they happen; a webhook's `update_time` follows it.
STATUSES = ("UNPAID", "AWAITING_SHIPMENT", "IN_TRANSIT", "DELIVERED", "COMPLETED")
#: TikTok needs an answer within 3 s; a slower one counts as undelivered.
ANSWER_TIMEOUT = 3.0
#: Seconds before a sender delivers again after a 503 or no answer: 1, 2, 4, 8, 8, ...
RETRY_FIRST, RETRY_MAX = 1.0, 8.0
#: Seconds a process or service may take to become ready after a (re)start.
START_TIMEOUT = 120.0


@dataclass(frozen=True)
class Plan:
    """What one fault's load is made of, and when the fault strikes."""

    orders: int = 150
    statuses: int = 4  # webhooks per order, one per status
    duplicates: float = 0.25  # share of webhooks delivered twice
    senders: int = 12  # concurrent senders
    rate: float = 40.0  # new deliveries started per second (retries come on top)
    kill_after: float = 0.3  # share of deliveries answered 200 before the kill
    down_for: float = 3.0  # seconds the killed part stays dead
    drain_timeout: float = 180.0  # seconds the worker gets to drain after the last 200
    seed: int = 14


@dataclass
class Row:
    """One fault's line of the table."""

    fault: str
    orders: int = 0
    webhooks: int = 0  # distinct notifications
    deliveries: int = 0  # with the duplicates
    requests: int = 0  # with the retries
    accepted: int = 0  # answered 200
    unavailable: int = 0  # answered 503
    unanswered: int = 0  # no answer: connection refused or reset, or slower than 3 s
    refused: int = 0  # any other answer (must be 0: every webhook is valid)
    unaccepted: int = 0  # deliveries never answered 200 before the deadline (must be 0)
    lost: int = 0
    duplicated: int = 0
    wrong: int = 0
    unapplied: int = 0
    downtime: float | None = None  # seconds from the kill until the part was ready again
    drain: float | None = None  # seconds from the last 200 until all was applied; None: never

    @property
    def ok(self) -> bool:
        counts = (self.refused, self.unaccepted, self.lost, self.duplicated, self.wrong)
        return not any(counts) and not self.unapplied and self.drain is not None


COLUMNS = (
    ("fault", "fault killed (SIGKILL)"),
    ("orders", "orders"),
    ("webhooks", "webhooks"),
    ("deliveries", "sent (with duplicates)"),
    ("requests", "requests (with retries)"),
    ("accepted", "200"),
    ("unavailable", "503"),
    ("unanswered", "no answer"),
    ("refused", "other answers"),
    ("lost", "orders lost"),
    ("duplicated", "orders duplicated"),
    ("wrong", "orders wrong"),
    ("unapplied", "200s not applied"),
    ("downtime", "down (s)"),
    ("drain", "drain (s)"),
)


def table(rows: Sequence[Row]) -> str:
    """The rows as a Markdown table."""

    def cell(value: object) -> str:
        if value is None:
            return "never"
        return f"{value:.1f}" if isinstance(value, float) else str(value)

    lines = [
        "| " + " | ".join(title for _, title in COLUMNS) + " |",
        "|" + "|".join(" --- " for _ in COLUMNS) + "|",
    ]
    lines += ["| " + " | ".join(cell(getattr(r, name)) for name, _ in COLUMNS) + " |" for r in rows]
    return "\n".join(lines)


# --- the webhooks -------------------------------------------------------------------------


@dataclass(frozen=True)
class Webhook:
    notification_id: str
    order_id: str
    status: str
    update_time: int
    raw: bytes


def webhooks(shop: str, plan: Plan, now: int) -> list[Webhook]:
    """Every order's status changes, in TikTok's form, each with its own notification id."""
    made = []
    for n in range(plan.orders):
        order_id = f"{shop}-o{n}"
        for step, status in enumerate(STATUSES[: plan.statuses]):
            notification_id = f"{order_id}-{step}"
            body = {
                "type": 1,
                "tts_notification_id": notification_id,
                "shop_id": shop,
                "timestamp": now,
                "data": {"order_id": order_id, "order_status": status, "update_time": now + step},
            }
            raw = json.dumps(body, separators=(",", ":")).encode()
            made.append(Webhook(notification_id, order_id, status, now + step, raw))
    return made


# --- the services and the service's processes ---------------------------------------------


class Services:
    """Kafka and the database: this run's own instances (started, killed, restarted, then
    deleted), or given ones, which are never touched (only the worker and the ingress can then
    be killed)."""

    def __init__(self, given: Mapping[str, str] | None = None) -> None:
        self.own = given is None
        self.env = dict(given or {})

    async def start(self) -> None:
        if self.own:
            for part in ("kafka", "database"):
                self.env.update(await _services(part, "env"))
                await _services(part, "purge")  # what a killed earlier run left behind
                await _services(part, "up")

    async def kill(self, part: Part) -> None:
        self._check(part)
        await _services(part, "kill")

    async def restart(self, part: Part) -> None:
        self._check(part)
        await _services(part, "up")

    async def close(self) -> None:
        if self.own:
            for part in ("kafka", "database"):
                with contextlib.suppress(Exception):
                    await _services(part, "purge")

    def _check(self, part: Part) -> None:
        if not self.own:
            raise ValueError(f"the {part} was given, not started by this run: it is not killed")


async def _services(part: str, command: str) -> dict[str, str]:
    instance = "KAFKA_INSTANCE" if part == "kafka" else "MONGO_INSTANCE"
    env = {k: v for k, v in os.environ.items() if k not in ("KAFKA_INSTANCE", "MONGO_INSTANCE")}
    env[instance] = "reliability"
    done = await asyncio.to_thread(
        subprocess.run,
        [str(SERVICES), command],
        env=env,
        capture_output=True,
        text=True,
        timeout=START_TIMEOUT + 30,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"services.sh {command} ({part}) failed: {done.stderr.strip()}")
    return dict(line.split("=", 1) for line in done.stdout.split() if "=" in line)


def free_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Stack:
    """The ingress and the worker as processes of their own, on the given services."""

    services: Services
    logs: Path
    run: str
    app_secret: str = field(default_factory=lambda: uuid.uuid4().hex)
    ingress_port: int = field(default_factory=free_port)
    admin_port: int = field(default_factory=free_port)
    processes: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    @property
    def database(self) -> str:
        return f"reliability_{self.run}"

    @property
    def ingress_url(self) -> str:
        return f"http://127.0.0.1:{self.ingress_port}"

    def env(self) -> dict[str, str]:
        # Nothing of the caller's service settings leaks in: this run's own, explicitly.
        prefixes = ("TIKTOK_", "KAFKA_", "MONGODB_", "TOPIC_", "ADMIN_", "INGRESS_", "WEBHOOK_")
        env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
        env.update(
            KAFKA_BOOTSTRAP_SERVERS=self.services.env["KAFKA_BOOTSTRAP_SERVERS"],
            MONGODB_URI=self.services.env["MONGODB_URI"],
            MONGODB_DATABASE=self.database,
            KAFKA_GROUP_ID=f"reliability-{self.run}",
            TOPIC_WEBHOOKS=f"reliability.{self.run}.webhooks",
            TOPIC_ADMIN_COMMANDS=f"reliability.{self.run}.commands",
            TOPIC_EVENTS=f"reliability.{self.run}.events",
            TOPIC_DEAD_LETTER=f"reliability.{self.run}.dead-letter",
            TIKTOK_APP_KEY=APP_KEY,
            TIKTOK_APP_SECRET=self.app_secret,
            ADMIN_API_TOKEN=uuid.uuid4().hex,
            INGRESS_PORT=str(self.ingress_port),
            ADMIN_PORT=str(self.admin_port),
            LOG_LEVEL="INFO",
        )
        return env

    async def start(self, part: Literal["ingress", "worker"]) -> None:
        """Start the part and wait until it is ready."""
        self.spawn(part)
        await self.ready(part)

    def spawn(self, part: Literal["ingress", "worker"]) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        with (self.logs / f"{part}.log").open("ab") as log:
            # Our own interpreter running our own module.
            self.processes[part] = subprocess.Popen(
                [sys.executable, "-m", "service", part],
                cwd=ROOT,
                env=self.env(),
                stdout=log,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # a Ctrl-C of the run reaches the run, not them
            )

    def kill(self, part: Literal["ingress", "worker"]) -> None:
        process = self.processes.pop(part)
        process.kill()
        process.wait(timeout=30)

    async def ready(self, part: str) -> None:
        """Wait until the part answers /readyz 200; raise after START_TIMEOUT seconds."""
        port = self.ingress_port if part == "ingress" else self.admin_port
        deadline = time.monotonic() + START_TIMEOUT
        async with httpx.AsyncClient(timeout=2.0) as http:
            while time.monotonic() < deadline:
                process = self.processes.get(part)
                if process is not None and process.poll() is not None:
                    raise RuntimeError(f"the {part} exited ({process.returncode}); see {self.logs}")
                with contextlib.suppress(httpx.HTTPError):
                    if (await http.get(f"http://127.0.0.1:{port}/readyz")).status_code == 200:
                        return
                await asyncio.sleep(0.2)
        raise RuntimeError(f"the {part} was not ready within {START_TIMEOUT:.0f}s")

    async def all_ready(self) -> None:
        await asyncio.gather(self.ready("ingress"), self.ready("worker"))

    async def stop(self) -> None:
        """SIGTERM to the processes this run started, then SIGKILL after 30 s."""
        for part, process in list(self.processes.items()):
            if process.poll() is None:
                process.terminate()
            try:
                await asyncio.to_thread(process.wait, 30)
            except subprocess.TimeoutExpired:
                process.kill()
                await asyncio.to_thread(process.wait, 30)
            del self.processes[part]

    async def fault(self, part: Part, down_for: float) -> float:
        """Kill `part` with SIGKILL, leave it dead `down_for` seconds, start it again; the
        seconds until the ingress and the worker are both ready again."""
        killed = time.monotonic()
        if part in ("ingress", "worker"):
            self.kill(part)
        else:
            await self.services.kill(part)
        await asyncio.sleep(down_for)
        if part in ("ingress", "worker"):
            await self.start(part)
        else:
            await self.services.restart(part)
        await self.all_ready()
        return time.monotonic() - killed


# --- one fault ----------------------------------------------------------------------------


class Load:
    """Concurrent senders delivering every webhook until it is answered 200 (or the deadline),
    retrying a 503 or a missing answer later."""

    def __init__(self, stack: Stack, deliveries: list[Webhook], plan: Plan, deadline: float):
        self.stack = stack
        self.plan = plan
        self.deadline = deadline
        self.waiting = deque(deliveries)
        self.retries: list[tuple[float, int, int, Webhook]] = []  # (due, seq, attempt, webhook)
        self.in_flight = 0
        self.counts: Counter[str] = Counter()
        self.accepted_ids: set[str] = set()
        self.last_accepted = time.monotonic()
        self._seq = 0
        self._started = time.monotonic()
        self._new = 0

    async def run(self) -> None:
        limits = httpx.Limits(max_connections=self.plan.senders)
        async with httpx.AsyncClient(timeout=ANSWER_TIMEOUT, limits=limits) as http:
            await asyncio.gather(*(self._sender(http) for _ in range(self.plan.senders)))

    def _next(self) -> tuple[int, Webhook] | None:
        if self.retries and self.retries[0][0] <= time.monotonic():
            _, _, attempt, webhook = heapq.heappop(self.retries)
            return attempt, webhook
        # New deliveries at the plan's pace, so that the load goes on before, during and
        # after the fault.
        if self.waiting and self._new < (time.monotonic() - self._started) * self.plan.rate:
            self._new += 1
            return 1, self.waiting.popleft()
        return None

    async def _sender(self, http: httpx.AsyncClient) -> None:
        while time.monotonic() < self.deadline:
            taken = self._next()
            if taken is None:
                if not self.waiting and not self.retries and not self.in_flight:
                    return
                await asyncio.sleep(0.05)
                continue
            attempt, webhook = taken
            self.in_flight += 1
            try:
                outcome = await self._send(http, webhook)
            finally:
                self.in_flight -= 1
            self.counts["requests"] += 1
            self.counts[outcome] += 1
            if outcome == "accepted":
                self.accepted_ids.add(webhook.notification_id)
                self.last_accepted = time.monotonic()
            elif outcome in ("unavailable", "unanswered"):
                wait = min(RETRY_MAX, RETRY_FIRST * 2 ** (attempt - 1))
                self._seq += 1
                heapq.heappush(
                    self.retries, (time.monotonic() + wait, self._seq, attempt + 1, webhook)
                )

    async def _send(self, http: httpx.AsyncClient, webhook: Webhook) -> str:
        signature = webhook_signature(APP_KEY, self.stack.app_secret, webhook.raw)
        try:
            answer = await http.post(
                self.stack.ingress_url + PATH,
                content=webhook.raw,
                headers={"Authorization": signature, "Content-Type": "application/json"},
            )
        except httpx.HTTPError:
            return "unanswered"
        if answer.status_code == 200:
            return "accepted"
        return "unavailable" if answer.status_code == 503 else "refused"

    @property
    def answered(self) -> int:
        return self.counts["accepted"]

    @property
    def unaccepted(self) -> int:
        return len(self.waiting) + len(self.retries)


async def run_fault(
    stack: Stack, db: Any, part: Part, plan: Plan, deadline: float, log: Any = print
) -> Row:
    """Send one load with `part` killed mid-way; the fault's row of the table."""
    shop = f"rel-{part}-{uuid.uuid4().hex[:6]}"
    rng = random.Random(plan.seed)
    made = webhooks(shop, plan, now=int(time.time()))
    deliveries = made + rng.sample(made, k=int(len(made) * plan.duplicates))
    rng.shuffle(deliveries)
    row = Row(fault=part, orders=plan.orders, webhooks=len(made), deliveries=len(deliveries))
    load = Load(stack, deliveries, plan, deadline)
    log(f"[{part}] sending {len(deliveries)} webhooks for {plan.orders} orders")

    async def strike() -> float:
        trigger = plan.kill_after * len(deliveries)
        while load.answered < trigger:
            if time.monotonic() > deadline:
                raise TimeoutError("the deadline came before the fault")
            await asyncio.sleep(0.02)
        log(f"[{part}] killing it with SIGKILL after {load.answered} answers")
        return await stack.fault(part, plan.down_for)

    striking = asyncio.create_task(strike())
    await load.run()
    row.downtime = await striking
    log(f"[{part}] back after {row.downtime:.1f}s; waiting for the worker to drain")
    for name in ("requests", "accepted", "unavailable", "unanswered", "refused"):
        setattr(row, name, load.counts[name])
    row.unaccepted = load.unaccepted

    newest: dict[str, Webhook] = {}
    for webhook in made:
        if webhook.notification_id in load.accepted_ids:
            best = newest.get(webhook.order_id)
            if best is None or webhook.update_time > best.update_time:
                newest[webhook.order_id] = webhook
    drain_deadline = min(deadline, time.monotonic() + plan.drain_timeout)
    while True:
        with contextlib.suppress(PyMongoError):  # the database may be starting again
            await _count(db, shop, newest, load.accepted_ids, row)
            if not (row.lost or row.wrong or row.unapplied):
                row.drain = max(0.0, time.monotonic() - load.last_accepted)
                break
        if time.monotonic() > drain_deadline:
            break
        await asyncio.sleep(0.25)
    return row


async def _count(
    db: Any, shop: str, newest: Mapping[str, Webhook], accepted: set[str], row: Row
) -> None:
    orders = await db.orders.find(
        {"shop_id": shop}, {"external_order_id": True, "external_status": True}
    ).to_list()
    per_order: dict[str, list[str]] = {}
    for doc in orders:
        per_order.setdefault(str(doc["external_order_id"]), []).append(
            str(doc.get("external_status"))
        )
    row.lost = sum(1 for order_id in newest if order_id not in per_order)
    row.duplicated = sum(1 for statuses in per_order.values() if len(statuses) > 1)
    row.wrong = sum(
        1
        for order_id, webhook in newest.items()
        if order_id in per_order and webhook.status not in per_order[order_id]
    )
    found = await db.webhook_events.find(
        {"_id": {"$in": sorted(accepted)}}, {"_id": True}
    ).to_list()
    row.unapplied = len(accepted - {str(doc["_id"]) for doc in found})


# --- the run ------------------------------------------------------------------------------


async def run(
    faults: Sequence[Part],
    plan: Plan,
    *,
    deadline_seconds: float,
    given: Mapping[str, str] | None = None,
    log: Any = print,
) -> list[Row]:
    """Start the services (this run's own unless `given`), the ingress and the worker; one row
    per fault; stop and delete everything this run started, whatever happened."""
    deadline = time.monotonic() + deadline_seconds
    run_id = uuid.uuid4().hex[:8]
    services = Services(given)
    logs = ROOT / ".local" / "logs" / f"reliability-{run_id}"
    stack = Stack(services, logs, run_id)
    rows: list[Row] = []
    ok = False
    try:
        log("starting Kafka and the database" if services.own else "using the given services")
        await services.start()
        # Both start together; no webhook is sent before the worker (which creates the
        # topics) is ready.
        stack.spawn("worker")
        stack.spawn("ingress")
        await stack.all_ready()
        db: Any = AsyncMongoClient(services.env["MONGODB_URI"], serverSelectionTimeoutMS=2000)
        try:
            for part in faults:
                rows.append(await run_fault(stack, db[stack.database], part, plan, deadline, log))
                log(table(rows[-1:]))
        finally:
            with contextlib.suppress(PyMongoError):
                await db.drop_database(stack.database)
            await db.close()
        ok = len(rows) == len(faults) and all(r.ok for r in rows)
    finally:
        await stack.stop()
        await services.close()
        if ok:
            shutil.rmtree(logs, ignore_errors=True)
        else:
            log(f"the service's logs are kept in {logs}")
    return rows


def record(path: Path, rows: Sequence[Row], plan: Plan, command: str, seconds: float) -> None:
    """The last run's table as a Markdown page, with the command and the date."""
    load = ", ".join(f"{f.name}={getattr(plan, f.name)}" for f in fields(plan))
    verdict = "every count is 0" if all(r.ok for r in rows) else "SOME COUNTS ARE OFF"
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    page = [
        "# Reliability: the fault table",
        "",
        "Each part of the service is killed with SIGKILL in the middle of a load of signed",
        f"webhooks, left dead {plan.down_for:.0f} s and started again; then the worker drains",
        "and every order is checked against the newest of its webhooks that got a 200.",
        "`bench/reliability.py` says how each count is made.",
        "",
        f"Rerun it with `{command}`: it starts Kafka and a database of its own (never the",
        "shared ones), the ingress and the worker as processes, and deletes them all at the end;",
        "it takes a few minutes and is stopped after 15 whatever happens. It exits non-zero when",
        "a count is off.",
        "",
        f"Last run: {when}, {seconds:.0f} s, on the project's local services (Kafka 4 in KRaft",
        "mode, mongo-java-server over an H2 file) on a 2-core machine shared with other work:",
        f"{verdict}.",
        "",
        table(rows),
        "",
        '- "no answer": connection refused or reset while the ingress was dead, or no answer',
        '  within 3 s; "503": the ingress was up but Kafka was not. Senders deliver both again',
        "  later, as TikTok does (here after 1 s, doubling to 8 s).",
        '- "down": from the kill until the ingress and the worker both answered `/readyz`',
        "  again (a process's start takes most of it).",
        '- "drain": from the last 200 until every order was right and every webhook answered 200',
        "  was in the worker's inbox. After the worker is killed, most of it is Kafka waiting",
        "  for the dead consumer's session (10 s) before it hands its partitions over.",
        "",
        f"Load per fault: {load}.",
        "",
    ]
    path.write_text("\n".join(page))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.reliability", description=__doc__)
    parser.add_argument("--faults", default=",".join(PARTS), help="comma-separated, in order")
    parser.add_argument("--orders", type=int, default=Plan.orders)
    parser.add_argument("--statuses", type=int, default=Plan.statuses)
    parser.add_argument("--senders", type=int, default=Plan.senders)
    parser.add_argument("--rate", type=float, default=Plan.rate, help="new webhooks per second")
    parser.add_argument("--deadline", type=float, default=900.0, help="seconds for the whole run")
    parser.add_argument("--record", type=Path, help="write the table to this Markdown file")
    args = parser.parse_args(argv)
    faults: list[Part] = []
    for name in args.faults.split(","):
        if name not in PARTS:
            parser.error(f"unknown fault {name!r}; choose among {', '.join(PARTS)}")
        faults.append(name)
    plan = Plan(orders=args.orders, statuses=args.statuses, senders=args.senders, rate=args.rate)
    started = time.monotonic()

    async def guarded() -> list[Row]:
        # SIGTERM cancels the run like Ctrl-C does, so that the clean-up still happens.
        task = asyncio.current_task()
        assert task is not None
        asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
        return await run(faults, plan, deadline_seconds=args.deadline)

    try:
        rows = asyncio.run(guarded())
    except (asyncio.CancelledError, KeyboardInterrupt):
        print("stopped before the end; what the run started is stopped and deleted")
        return 1
    print(table(rows))
    ok = len(rows) == len(faults) and all(r.ok for r in rows)
    if args.record:
        command = "make reliability"
        record(args.record, rows, plan, command, time.monotonic() - started)
    print("every count is 0" if ok else "SOME COUNTS ARE OFF (or the run was cut short)")
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
