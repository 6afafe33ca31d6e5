"""The ingress's producer, connected in the background, and the errors its publish raises.

FastStream's `broker.connect()` raises when Kafka is down, so the ingress does not connect in
its start-up: it starts, answers 503 to webhooks and to /readyz, and keeps trying until Kafka
answers (`retries.KAFKA_CONNECT`). Once connected, aiokafka reconnects by itself after an
outage; every publish is bounded by a timeout, so a lost broker costs a 503, never a hung
request. A producer that fails for good (a non-retriable error) is replaced by connecting
afresh.
"""

import asyncio
import contextlib
from typing import TYPE_CHECKING

import structlog
from aiokafka import AIOKafkaClient
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
)
from faststream.exceptions import IncorrectState
from faststream.kafka import KafkaBroker

from contracts.kafka_security import CredentialsRefused, client_options, diagnose
from contracts.webhooks import WebhookMessage
from service import retries
from service.adapters.kafka import headers

if TYPE_CHECKING:
    from faststream.security import BaseSecurity

log = structlog.get_logger(__name__)


class PublishUnavailable(Exception):
    """Kafka is down or did not acknowledge in time: the sender should deliver again later."""


class PublishTooLarge(Exception):
    """Kafka will never take this message, however often it is delivered."""


class KafkaLink:
    def __init__(
        self,
        broker: KafkaBroker,
        *,
        servers: str,
        topic: str,
        publish_timeout: float,
        security: "BaseSecurity | None" = None,
    ) -> None:
        """`security` is the cluster's (`Settings.security()`), for the probe; the broker
        carries its own."""
        self._broker = broker
        self._servers = servers
        self._security = security
        self._probe_options = client_options(security)
        self._topic = topic
        self._publish_timeout = publish_timeout
        self._up = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        if self._task is None or self._task.done():
            self._up.clear()
            self._task = asyncio.create_task(self._connect(), name="ingress-kafka-connect")

    async def wait_connected(self, timeout: float) -> bool:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._up.wait(), timeout)
        return self._up.is_set()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task
        self._up.clear()
        await self._broker.stop()

    async def ready(self) -> bool:
        return self._up.is_set() and await self._broker.ping(timeout=1.0)

    async def publish(self, message: WebhookMessage, *, key: str) -> None:
        """Return once Kafka acknowledged; raise PublishUnavailable or PublishTooLarge."""
        if not self._up.is_set():
            raise PublishUnavailable(f"not connected to Kafka at {self._servers}")
        kafka_headers = {
            headers.NOTIFICATION_ID: message.notification_id,
            headers.WEBHOOK_TYPE: message.webhook_type,
            "content-type": "application/json",
        }
        if message.shop_id:
            kafka_headers[headers.SHOP_ID] = message.shop_id
        sending = self._broker.publish(
            message.to_json(),
            self._topic,
            key=key.encode(),
            headers=kafka_headers,
            correlation_id=message.correlation_id,
        )
        try:
            await asyncio.wait_for(sending, self._publish_timeout)
        except TimeoutError as exc:
            # The record may still reach Kafka later: at least once, and the worker dedupes.
            raise PublishUnavailable(f"no acknowledgement in {self._publish_timeout}s") from exc
        except MessageSizeTooLargeError as exc:
            raise PublishTooLarge(str(exc)) from exc
        except IncorrectState as exc:  # the producer is being replaced
            raise PublishUnavailable("reconnecting to Kafka") from exc
        except KafkaError as exc:
            if not exc.retriable and not isinstance(exc, KafkaTimeoutError):
                log.warning("Kafka producer failed; connecting afresh", error=type(exc).__name__)
                self.start()
            raise PublishUnavailable(type(exc).__name__) from exc

    async def _connect(self) -> None:
        warned = False

        def down(exc: Exception) -> bool:
            nonlocal warned
            if not warned:  # once per outage: the 503s say the rest
                if isinstance(exc, CredentialsRefused):
                    log.error(
                        "Kafka refused the credentials (KAFKA_SASL_USERNAME/PASSWORD,"
                        " KAFKA_SASL_MECHANISM); webhooks get 503 until they are fixed",
                        servers=self._servers,
                        error=str(exc),
                    )
                else:
                    log.warning(
                        "Kafka unreachable; webhooks get 503 until it is back",
                        servers=self._servers,
                        error=repr(exc),
                    )
                warned = True
            return True

        async for attempt in retries.KAFKA_CONNECT.context(on=down):
            with attempt:
                await self._broker.stop()  # drop what a failed connection left behind
                await self._kafka_answers()
                await self._broker.connect()
        self._up.set()
        log.info("connected to Kafka", servers=self._servers)

    async def _kafka_answers(self) -> None:
        # A failed broker.connect() leaves an unclosed aiokafka producer behind (warned about
        # when collected), so a throwaway client checks that Kafka answers first.
        client = AIOKafkaClient(
            bootstrap_servers=self._servers, request_timeout_ms=2_000, **self._probe_options
        )
        try:
            await client.bootstrap()
        except KafkaConnectionError as exc:
            reason = await diagnose(self._servers, self._security, exc)
            if reason is exc:
                raise
            raise reason from exc
        finally:
            await client.close()
