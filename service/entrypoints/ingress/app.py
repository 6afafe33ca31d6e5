"""The webhook ingress: verifies TikTok's signature and publishes to Kafka. No database here."""

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from aiokafka import AIOKafkaClient
from aiokafka.errors import KafkaError, KafkaTimeoutError, MessageSizeTooLargeError
from faststream.exceptions import IncorrectState
from faststream.kafka import KafkaBroker
from starlette.applications import Starlette
from starlette.routing import Route

from contracts.webhooks import WebhookMessage
from service.adapters.kafka import headers
from service.adapters.kafka.broker import make_broker
from service.entrypoints.health import health_routes
from service.entrypoints.ingress.webhook import (
    PATH,
    PublishTooLarge,
    PublishUnavailable,
    webhook_endpoint,
)
from service.settings import Settings

log = logging.getLogger(__name__)

# Well inside TikTok's 3 s: a webhook that waited longer counts as undelivered anyway.
PUBLISH_TIMEOUT = 2.0
# How long start-up waits for Kafka before serving without it (then readiness says so).
STARTUP_WAIT = 3.0
RETRY_FIRST, RETRY_MAX = 0.2, 2.0


class KafkaLink:
    """The ingress's producer, connected in the background.

    FastStream's `broker.connect()` raises when Kafka is down, so the ingress does not connect
    in its start-up: it starts, answers 503 to webhooks and to /readyz, and keeps trying until
    Kafka answers. Once connected, aiokafka reconnects by itself after an outage; every publish
    is bounded by a timeout, so a lost broker costs a 503, never a hung request. A producer
    that fails for good (a non-retriable error) is replaced by connecting afresh.
    """

    def __init__(self, broker: KafkaBroker, settings: Settings, *, publish_timeout: float) -> None:
        self._broker = broker
        self._servers = settings.kafka_bootstrap_servers
        self._topic = settings.topic_webhooks
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
                log.warning("Kafka producer failed (%s); connecting afresh", type(exc).__name__)
                self.start()
            raise PublishUnavailable(type(exc).__name__) from exc

    async def _connect(self) -> None:
        delay, warned = RETRY_FIRST, False
        while True:
            try:
                await self._broker.stop()  # drop what a failed or broken connection left behind
                if await self._kafka_answers():
                    await self._broker.connect()
                    self._up.set()
                    log.info("connected to Kafka at %s", self._servers)
                    return
                problem = "does not answer"
            except Exception as exc:
                problem = f"refused the connection ({type(exc).__name__})"
            if not warned:  # once per outage: the 503s say the rest
                log.warning(
                    "Kafka at %s %s; webhooks get 503 until it is back", self._servers, problem
                )
                warned = True
            await asyncio.sleep(delay)
            delay = min(delay * 2, RETRY_MAX)

    async def _kafka_answers(self) -> bool:
        # A failed broker.connect() leaves an unclosed aiokafka producer behind (warned about
        # when collected), so a throwaway client checks that Kafka answers first.
        client = AIOKafkaClient(bootstrap_servers=self._servers, request_timeout_ms=2_000)
        try:
            await client.bootstrap()
        except (KafkaError, OSError):
            return False
        finally:
            await client.close()
        return True


def ingress_app(
    settings: Settings,
    *,
    broker: KafkaBroker | None = None,
    publish_timeout: float = PUBLISH_TIMEOUT,
) -> Starlette:
    link = KafkaLink(
        broker or make_broker(settings, role="ingress"), settings, publish_timeout=publish_timeout
    )

    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[None]:
        link.start()
        await link.wait_connected(STARTUP_WAIT)
        try:
            yield
        finally:
            await link.stop()

    routes = [
        *health_routes(link.ready),
        Route(PATH, webhook_endpoint(settings, link), methods=["POST"]),
    ]
    return Starlette(routes=routes, lifespan=lifespan)
