"""The worker: consumers, repositories, the outbox relay and the admin API, wired together."""

from faststream.kafka import KafkaBroker

from contracts import topics
from service.adapters.kafka.broker import make_broker
from service.adapters.kafka.outbox_relay import OutboxRelay
from service.adapters.kafka.topics import ensure_topics
from service.adapters.mongo.database import Database
from service.adapters.mongo.listings import MongoListings
from service.adapters.mongo.orders import MongoOrders
from service.adapters.mongo.shops import MongoShops
from service.adapters.mongo.syncs import MongoSyncs
from service.adapters.mongo.webhook_log import MongoWebhookLog
from service.application.deps import AppConfig, Deps
from service.entrypoints.worker.commands import command_router
from service.entrypoints.worker.spawner import TaskSpawner
from service.entrypoints.worker.tiktok import tiktok_wiring
from service.entrypoints.worker.webhooks import webhook_router
from service.settings import Settings


def topic_partitions(settings: Settings) -> dict[str, int]:
    return {
        settings.topic_webhooks: topics.PARTITIONS[topics.WEBHOOKS],
        settings.topic_admin_commands: topics.PARTITIONS[topics.ADMIN_COMMANDS],
        topics.ADMIN_REPLIES: topics.PARTITIONS[topics.ADMIN_REPLIES],
        settings.topic_events: topics.PARTITIONS[topics.EVENTS],
        settings.topic_dead_letter: topics.PARTITIONS[topics.DEAD_LETTER],
    }


class Worker:
    def __init__(self, settings: Settings, *, broker: KafkaBroker | None = None) -> None:
        self.settings = settings
        self.db = Database(settings.mongodb_uri.get_secret_value(), settings.mongodb_database)
        self.broker = broker or make_broker(settings, role="worker")
        self.relay = OutboxRelay(self.db, self.broker, settings.topic_events)
        self.spawner = TaskSpawner()
        self.tiktok = tiktok_wiring(settings, self.db)
        self.deps = Deps(
            listings=MongoListings(self.db, self.relay.notify),
            orders=MongoOrders(self.db, self.relay.notify),
            syncs=MongoSyncs(self.db, self.relay.notify),
            tiktok=self.tiktok.gateway,
            spawner=self.spawner,
            webhooks=MongoWebhookLog(self.db, self.relay.notify),
            shops=MongoShops(self.db, self.relay.notify),
            config=AppConfig(
                default_shop_id=settings.default_shop_id,
                shop_id=settings.tiktok_shop_id,
                currency=settings.tiktok_currency,
                app_key=settings.tiktok_app_key,
                sandbox=settings.sandbox,
                configured=settings.configured,
            ),
        )
        self.broker.include_router(
            command_router(
                self.broker,
                lambda: self.deps,
                topic=settings.topic_admin_commands,
                group_id=settings.kafka_group_id,
            )
        )

        self.broker.include_router(
            webhook_router(
                self.broker,
                lambda: self.deps,
                topic=settings.topic_webhooks,
                group_id=settings.kafka_group_id,
                dead_letter_topic=settings.topic_dead_letter,
            )
        )

    async def start(self) -> None:
        await ensure_topics(
            self.settings.kafka_bootstrap_servers,
            topic_partitions(self.settings),
            replication=self.settings.kafka_topic_replication,
        )
        await self.db.ensure_indexes()
        await self.tiktok.start()
        await self.broker.start()
        self.relay.start()

    async def stop(self) -> None:
        await self.broker.stop()
        await self.spawner.close()
        await self.tiktok.close()
        await self.relay.stop()
        await self.db.close()

    async def ready(self) -> bool:
        return await self.db.ping() and await self.broker.ping(timeout=2.0)
