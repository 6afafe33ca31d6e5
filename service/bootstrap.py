"""The one place that wires adapters into the message bus (cosmicpython's `bootstrap.py`).

`Worker` is the running worker: the database, the Kafka broker with its subscribers, the outbox
relay, the TikTok gateway and the bus they serve. `python -m service worker` runs one; the
admin HTTP API and the AsyncAPI document use the same wiring.
"""

from faststream.kafka import KafkaBroker

from contracts import topics
from service.adapters.kafka.broker import make_broker
from service.adapters.kafka.dead_letter_archive import KafkaDeadLetterArchive
from service.adapters.kafka.dead_letters import DeadLetters
from service.adapters.kafka.events import KafkaEventBus
from service.adapters.kafka.topics import ensure_topics
from service.adapters.mongo.database import Database
from service.adapters.mongo.jobs import MongoJobs
from service.adapters.mongo.outbox import MongoOutbox
from service.adapters.mongo.unit_of_work import MongoUnitOfWork
from service.adapters.mongo.views import MongoViews
from service.application.context import AppConfig
from service.application.messagebus import MessageBus
from service.application.outbox import OutboxRelay
from service.entrypoints.worker.spawner import TaskSpawner
from service.entrypoints.worker.subscribers import command_subscriber, webhook_subscriber
from service.entrypoints.worker.tiktok import tiktok_gateway
from service.settings import Settings


def topic_partitions(settings: Settings) -> dict[str, int]:
    """Every topic the service uses, with the partition count it is created with."""
    return {
        settings.topic_webhooks: topics.PARTITIONS[topics.WEBHOOKS],
        settings.topic_admin_commands: topics.PARTITIONS[topics.ADMIN_COMMANDS],
        topics.ADMIN_REPLIES: topics.PARTITIONS[topics.ADMIN_REPLIES],
        settings.topic_events: topics.PARTITIONS[topics.EVENTS],
        settings.topic_dead_letter: topics.PARTITIONS[topics.DEAD_LETTER],
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
        self.spawner = TaskSpawner()
        self.jobs = MongoJobs(self.db, self.relay.hand)
        self.tiktok = tiktok_gateway(settings, self.db)
        self.bus = MessageBus(
            new_uow=lambda: MongoUnitOfWork(self.db, self.relay.hand),
            views=MongoViews(self.db),
            tiktok=self.tiktok,
            jobs=self.jobs,
            spawner=self.spawner,
            config=app_config(settings),
            dead_letters=KafkaDeadLetterArchive(
                settings.kafka_bootstrap_servers,
                settings.topic_dead_letter,
                client_id=f"{settings.kafka_client_id}-dead-letters",
            ),
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
        )

    async def start(self) -> None:
        await ensure_topics(
            self.settings.kafka_bootstrap_servers,
            topic_partitions(self.settings),
            replication=self.settings.kafka_topic_replication,
            configs=topic_configs(self.settings),
        )
        await self.db.ensure_indexes()
        await self.jobs.reap()  # jobs whose worker died are closed as failed, not left running
        await self.tiktok.refresh()
        await self.broker.start()
        self.relay.start()

    async def ready(self) -> bool:
        return await self.db.ping() and await self.broker.ping(timeout=1.0)

    async def stop(self) -> None:
        await self.broker.stop()
        await self.spawner.close()
        await self.relay.stop()
        await self.tiktok.aclose()
        await self.db.close()
