"""Topic creation with the partition counts the service needs (Kafka's default is one)."""

import contextlib
from collections.abc import Mapping

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import TopicAlreadyExistsError

from service.adapters.kafka.broker import MAX_MESSAGE_BYTES


async def ensure_topics(
    bootstrap_servers: str,
    partitions: Mapping[str, int],
    *,
    replication: int = 1,
    configs: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Create the topics that are missing, each with its partition count and the topic
    settings `configs` names for it (Kafka's names, e.g. `retention.ms`); existing topics are
    left as they are."""
    configs = configs or {}
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap_servers, client_id="tiktok-shop-admin")
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = [
            NewTopic(
                name=name,
                num_partitions=count,
                replication_factor=replication,
                topic_configs={
                    "max.message.bytes": str(MAX_MESSAGE_BYTES),
                    **configs.get(name, {}),
                },
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
