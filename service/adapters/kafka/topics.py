"""Topic creation with the partition counts the service needs (Kafka's default is one)."""

import contextlib
from collections.abc import Mapping

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from service.adapters.kafka.broker import MAX_MESSAGE_BYTES


async def ensure_topics(
    bootstrap_servers: str, partitions: Mapping[str, int], *, replication: int = 1
) -> None:
    """Create the topics that are missing; existing ones are left as they are."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="tiktok-shop-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name=name,
                num_partitions=count,
                replication_factor=replication,
                topic_configs={"max.message.bytes": str(MAX_MESSAGE_BYTES)},
            )
            for name, count in partitions.items()
            if name not in existing
        ]
        if missing:
            # Another process may create them between our look and our create.
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(missing)
    finally:
        await admin.close()
