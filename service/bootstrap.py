"""The one place that wires adapters into the message bus (cosmicpython's `bootstrap.py`).

`Worker` is the running worker: the database, the Kafka broker with its subscribers, the outbox
relay, the TikTok gateway and the bus they serve. `python -m service worker` runs one; the
admin HTTP API and the AsyncAPI document use the same wiring.
"""

import asyncio

from faststream.kafka import KafkaBroker

from contracts import topics
from service import metrics, stopping
from service.adapters.kafka.broker import make_broker
from service.adapters.kafka.dead_letter_archive import KafkaDeadLetterArchive
from service.adapters.kafka.dead_letters import DeadLetters
from service.adapters.kafka.events import KafkaEventBus
from service.adapters.kafka.lag import LagReporter
from service.adapters.kafka.topics import ensure_topics
from service.adapters.mongo.database import Database
from service.adapters.mongo.jobs import MongoJobs
from service.adapters.mongo.outbox import MongoOutbox
from service.adapters.mongo.reconciliations import MongoReconciliations
from service.adapters.mongo.unit_of_work import MongoUnitOfWork
from service.adapters.mongo.views import MongoViews
from service.application import jobs, reconciliation
from service.application.context import AppConfig
from service.application.messagebus import MessageBus
from service.application.outbox import OutboxRelay
from service.application.pushing import CatalogPusher
from service.entrypoints.worker.spawner import TaskSpawner
from service.entrypoints.worker.subscribers import (
    command_subscriber,
    platform_subscriber,
    webhook_subscriber,
)
from service.entrypoints.worker.tiktok import tiktok_gateway
from service.observability import ServiceObserver
from service.settings import Settings


def topic_partitions(settings: Settings) -> dict[str, int]:
    """Every topic the service uses, with the partition count it is created with."""
    return {
        settings.topic_webhooks: topics.PARTITIONS[topics.WEBHOOKS],
        settings.topic_admin_commands: topics.PARTITIONS[topics.ADMIN_COMMANDS],
        topics.ADMIN_REPLIES: topics.PARTITIONS[topics.ADMIN_REPLIES],
        settings.topic_events: topics.PARTITIONS[topics.EVENTS],
        settings.topic_dead_letter: topics.PARTITIONS[topics.DEAD_LETTER],
        settings.topic_platform_catalog: topics.PARTITIONS[topics.PLATFORM_CATALOG],
    }


def topic_configs(settings: Settings) -> dict[str, dict[str, str]]:
    """Kafka topic settings beyond the broker's defaults. Dead letters are kept until an
    operator has dealt with them: the broker's default retention (7 days) could drop a letter
    before the fix that lets it be replayed is deployed."""
    return {settings.topic_dead_letter: {"retention.ms": "-1"}}


def app_config(settings: Settings) -> AppConfig:
    return AppConfig(
        default_shop_id=settings.default_shop_id,
        shop_id=settings.tiktok_shop_id,
        currency=settings.tiktok_currency,
        app_key=settings.tiktok_app_key,
        sandbox=settings.sandbox,
        configured=settings.configured,
        # A handler that waits longer than the poll limit makes the consumer leave its group
        # and the command run again: a third of it at most.
        command_wait_seconds=min(jobs.COMMAND_WAIT, settings.kafka_max_poll_interval_ms / 3000),
        webhook_tiktok_seconds=settings.kafka_max_poll_interval_ms / 3000,
        database_wait_seconds=settings.kafka_max_poll_interval_ms / 3000,
        public_webhook_url=settings.public_webhook_url,
        reconcile_interval=settings.reconcile_interval,
        reconcile_overlap=settings.reconcile_overlap,
        carrier_map=tuple(sorted(settings.tiktok_carrier_map.items())),
        warehouse_map=settings.warehouse_map,
        default_category_id=settings.tiktok_category_id or None,
    )


class Worker:
    """The worker's parts, wired; `start()` connects them, `stop()` lets go in order."""

    def __init__(self, settings: Settings, *, broker: KafkaBroker | None = None) -> None:
        self.settings = settings
        # The client connects lazily: building the worker (for the AsyncAPI document) opens
        # no connection.
        self.db = Database(settings.mongodb_uri.get_secret_value(), settings.mongodb_database)
        self.broker = broker or make_broker(settings, role="worker")
        self.relay = OutboxRelay(
            MongoOutbox(self.db),
            KafkaEventBus(self.broker, settings.topic_events),
            sweep_seconds=settings.outbox_sweep_seconds,
        )
        metrics.watch_outbox(self.relay)
        self.lag = LagReporter(self.broker)
        self.spawner = TaskSpawner()
        self.jobs = MongoJobs(self.db, self.relay.hand)
        self.tiktok = tiktok_gateway(settings, self.db)
        self.reconciliations = MongoReconciliations(self.db, self.relay.hand)
        self.bus = MessageBus(
            new_uow=lambda: MongoUnitOfWork(self.db, self.relay.hand),
            views=MongoViews(self.db),
            tiktok=self.tiktok,
            jobs=self.jobs,
            spawner=self.spawner,
            config=app_config(settings),
            reconciliations=self.reconciliations,
            observer=ServiceObserver(),
            dead_letters=KafkaDeadLetterArchive(
                settings.kafka_bootstrap_servers,
                settings.topic_dead_letter,
                client_id=f"{settings.kafka_client_id}-dead-letters",
                security=settings.security(),
            ),
        )
        self.bus.pusher = CatalogPusher(
            self.bus.context,
            quiet_seconds=settings.stock_push_quiet_seconds,
            max_delay_seconds=settings.stock_push_max_delay_seconds,
        )
        dead_letters = DeadLetters(self.broker, settings.topic_dead_letter)
        webhook_subscriber(
            self.broker,
            self.bus,
            dead_letters,
            topic=settings.topic_webhooks,
            group_id=f"{settings.kafka_group_id}-webhooks",
            batch_size=settings.webhook_batch_size,
            max_poll_interval_ms=settings.kafka_max_poll_interval_ms,
        )
        command_subscriber(
            self.broker,
            self.bus,
            topic=settings.topic_admin_commands,
            group_id=settings.kafka_group_id,
            max_poll_interval_ms=settings.kafka_max_poll_interval_ms,
            own_topics=frozenset(topic_partitions(settings)) - {topics.ADMIN_REPLIES},
        )
        platform_subscriber(
            self.broker,
            self.bus,
            dead_letters,
            topic=settings.topic_platform_catalog,
            group_id=f"{settings.kafka_group_id}-platform",
            batch_size=settings.platform_batch_size,
            max_poll_interval_ms=settings.kafka_max_poll_interval_ms,
        )

    async def start(self) -> None:
        await ensure_topics(
            self.settings.kafka_bootstrap_servers,
            topic_partitions(self.settings),
            replication=self.settings.kafka_topic_replication,
            security=self.settings.security(),
            configs=topic_configs(self.settings),
        )
        await self.db.ensure_indexes()
        await self.jobs.reap()  # jobs whose worker died are closed as failed, not left running
        await self.tiktok.refresh()
        # The producer first, so that leftover events are published before any consumer runs.
        await self.broker.connect()
        await self.relay.sweep_first()
        await self.broker.start()
        self.relay.start()
        # Every worker ticks; the database lease lets one of them reconcile each due shop.
        self.spawner.spawn(reconciliation.schedule(self.bus.context), name="reconcile-schedule")
        # Stock and price stored by a worker that stopped before pushing them.
        await self.bus.pusher.resume()
        self.lag.start()

    async def ready(self) -> bool:
        return await self.db.ping() and await self.broker.ping(timeout=1.0)

    async def stop(self) -> None:
        """Let go in order, each step bounded (`service.stopping`), so that the whole stop takes
        about 11 s at most even with Kafka and the database gone: the consumers stop fetching
        and the handlers in hand finish (or are cancelled and delivered again); background jobs
        are cancelled; events already handed over are published if Kafka takes them within
        1.5 s (the rest wait in their documents for the next sweep); then the clients close."""
        await stopping.step("consumer lag", self.lag.stop(), 0.5)
        handlers = stopping.HANDLERS_SECONDS + 1.5
        await asyncio.gather(
            *(
                stopping.step("consumer", subscriber.stop(), handlers)
                for subscriber in self.broker.subscribers
            ),
            stopping.step("background jobs", self.spawner.close(), handlers),
            stopping.step("catalog pusher", self.bus.pusher.close(), handlers),
        )
        await stopping.step("outbox relay", self.relay.stop(grace=1.5), 2.0)
        await stopping.step("kafka producer", self.broker.stop(), 1.5)
        await stopping.step("tiktok client", self.tiktok.aclose(), 0.5)
        await stopping.step("database client", self.db.close(), 0.5)
