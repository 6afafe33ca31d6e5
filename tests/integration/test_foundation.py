"""The ground everything stands on: a real Kafka broker, a real MongoDB-wire database."""

import asyncio
import uuid

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType
from faststream.kafka import KafkaBroker
from faststream.middlewares import AckPolicy
from pymongo import AsyncMongoClient
from pymongo.errors import DuplicateKeyError

from service.adapters.kafka.topics import ensure_topics
from service.settings import Settings
from tests.conftest import run_topic
from tests.kafka_tools import delete_topics
from tests.processes import ServiceProcess
from tests.support import eventually

pytestmark = pytest.mark.integration


async def test_the_broker_is_an_apache_kafka_kraft_node(settings: Settings) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap_servers)
    await admin.start()
    try:
        cluster = await admin.describe_cluster()
        broker_id = cluster["brokers"][0]["node_id"]
        [config] = await admin.describe_configs(
            [ConfigResource(ConfigResourceType.BROKER, str(broker_id))]
        )
    finally:
        await admin.close()
    entries = {e[0]: e[1] for e in config.resources[0][4]}
    # KRaft's process.roles and Kafka's own log.dirs key: an Apache Kafka node, not a look-alike.
    assert "broker" in entries["process.roles"]
    assert entries["log.dirs"]


async def test_faststream_nack_on_error_commits_the_offset_only_after_the_handler(
    settings: Settings,
) -> None:
    """The acknowledgement policy the worker's subscribers use, on a broker of the test's own:
    what FastStream does with it on this Kafka. The worker's own subscribers are proven by
    killing a worker process mid-handler (tests/e2e/test_worker_crash.py)."""
    topic = run_topic(f"foundation.{uuid.uuid4().hex[:8]}")
    group = f"g-{uuid.uuid4().hex[:8]}"
    await ensure_topics(settings.kafka_bootstrap_servers, {topic: 1})
    producer = KafkaBroker(settings.kafka_bootstrap_servers, acks="all", enable_idempotence=True)
    consumer = KafkaBroker(settings.kafka_bootstrap_servers, ack_policy=AckPolicy.NACK_ON_ERROR)
    received: list[dict[str, str]] = []
    entered = asyncio.Event()
    release = asyncio.Event()

    @consumer.subscriber(topic, group_id=group, auto_offset_reset="earliest")
    async def handle(body: dict[str, str]) -> None:
        received.append(body)
        entered.set()
        await release.wait()

    async def committed() -> int | None:
        probe = AIOKafkaConsumer(
            bootstrap_servers=settings.kafka_bootstrap_servers,
            group_id=group,
            enable_auto_commit=False,
        )
        await probe.start()
        try:
            return await probe.committed(TopicPartition(topic, 0))
        finally:
            await probe.stop()

    await consumer.start()
    await producer.connect()
    try:
        await producer.publish({"hello": "kafka"}, topic)
        await asyncio.wait_for(entered.wait(), 30)
        # The handler has the message but has not finished: nothing may be committed yet.
        assert await committed() is None
        release.set()
        assert await eventually(committed, until=lambda offset: offset == 1) == 1
        assert received == [{"hello": "kafka"}]
    finally:
        await producer.stop()
        await consumer.stop()
        await delete_topics(settings.kafka_bootstrap_servers, names=[topic])


async def test_the_database_answers_like_mongodb(
    mongo: AsyncMongoClient[dict[str, object]],
) -> None:
    build = await mongo.admin.command("buildInfo")
    hello = await mongo.admin.command("hello")
    assert build["ok"] == 1.0
    assert isinstance(build["versionArray"], list)
    assert hello["isWritablePrimary"] is True
    assert hello["maxWireVersion"] >= 17


async def test_insert_unique_index_and_read_back(
    mongo: AsyncMongoClient[dict[str, object]], settings: Settings
) -> None:
    things = mongo[settings.mongodb_database][f"things_{uuid.uuid4().hex[:6]}"]
    await things.create_index([("shop_id", 1), ("sku", 1)], unique=True)
    await things.insert_one({"_id": "a", "shop_id": "s", "sku": "1", "n": 1})
    with pytest.raises(DuplicateKeyError):
        await things.insert_one({"_id": "b", "shop_id": "s", "sku": "1", "n": 2})
    assert await things.find_one({"_id": "a"}) == {"_id": "a", "shop_id": "s", "sku": "1", "n": 1}
    assert await things.count_documents({}) == 1


async def test_testcontainers_path_needs_docker() -> None:
    docker = pytest.importorskip("docker")
    try:
        docker.from_env().ping()
    except Exception as exc:
        pytest.skip(f"no Docker engine here ({type(exc).__name__}); the native services are used")
    from testcontainers.mongodb import MongoDbContainer

    with MongoDbContainer("mongo:7") as container:
        client: AsyncMongoClient[dict[str, object]] = AsyncMongoClient(
            container.get_connection_url()
        )
        assert (await client.admin.command("ping"))["ok"] == 1.0
        await client.close()


async def test_the_service_starts_answers_ready_and_stops_cleanly_on_ctrl_c(
    settings: Settings,
) -> None:
    """`python -m service all`: the ingress and the worker in one process."""
    everything = settings.model_copy(update={"kafka_group_id": f"{settings.kafka_group_id}-cli"})
    async with ServiceProcess("all", everything, ADMIN_API_TOKEN="cli-token") as service:
        await service.ready(timeout=60)
        code = await service.interrupt(timeout=40)
        output = service.output()
    assert code == 0, output
    assert "Traceback" not in output
