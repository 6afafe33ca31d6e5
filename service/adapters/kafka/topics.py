"""Topic creation with the partition counts the service needs (Kafka's default is one)."""

import contextlib
from collections.abc import Mapping
from typing import TYPE_CHECKING

from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaConnectionError, TopicAlreadyExistsError

from contracts.kafka_security import client_options, diagnose
from service.adapters.kafka.broker import MAX_MESSAGE_BYTES

if TYPE_CHECKING:
    from faststream.security import BaseSecurity


async def ensure_topics(
    bootstrap_servers: str,
    partitions: Mapping[str, int],
    *,
    replication: int = 1,
    security: "BaseSecurity | None" = None,
    configs: Mapping[str, Mapping[str, str]] | None = None,
) -> None:
    """Create the topics that are missing, each with its partition count and the topic
    settings `configs` names for it (Kafka's names, e.g. `retention.ms`); existing topics are
    left as they are.

    `security` is the cluster's (`Settings.security()`). Raises `CredentialsRefused` when the
    cluster refuses the credentials, aiokafka's KafkaConnectionError when it cannot be reached.
    """
    configs = configs or {}
    admin = AIOKafkaAdminClient(
        bootstrap_servers=bootstrap_servers,
        client_id="tiktok-shop-admin",
        **client_options(security),
    )
    try:
        await admin.start()
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
    except KafkaConnectionError as exc:
        reason = await diagnose(bootstrap_servers, security, exc)
        if reason is exc:
            raise
        raise reason from exc
    finally:
        await admin.close()
