"""The webhook ingress through real HTTP and the real Kafka broker.

Every test has its own topic, read back from the earliest offset without a consumer group.
A bad request must publish nothing: each one is followed by a good "marker" webhook, which must
then be the only message on the topic.
"""

import asyncio
import hashlib
import json
import logging
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition
from aiokafka.errors import OutOfOrderSequenceNumber
from faststream.kafka import KafkaBroker

from contracts.webhooks import WebhookMessage
from service.adapters.kafka import headers
from service.adapters.kafka.topics import ensure_topics
from service.adapters.tiktok.signing import seed_webhook_signature, webhook_signature
from service.entrypoints.ingress.app import ingress_app
from service.entrypoints.ingress.webhook import PATH
from service.settings import Settings
from tests import outage
from tests.conftest import make_settings, run_topic
from tests.kafka_tools import delete_topics
from tests.processes import ServiceProcess
from tests.support import ROOT, eventually, serve

pytestmark = pytest.mark.integration

APP_KEY, APP_SECRET = "testkey", "testsecret"
SHOP = "7494049642642441621"
PARTITIONS = 6


# --- requests -------------------------------------------------------------------------------


def tiktok_event(notification_id: str, data: dict[str, Any], type_: int = 1) -> dict[str, Any]:
    return {
        "type": type_,
        "tts_notification_id": notification_id,
        "shop_id": SHOP,
        "timestamp": 1_700_000_000,
        "data": data,
    }


def order_event(notification_id: str, order_id: str, status: str = "AWAITING_SHIPMENT") -> bytes:
    data = {"order_id": order_id, "order_status": status, "update_time": 1_700_000_000}
    return encode(tiktok_event(notification_id, data))


def encode(document: object) -> bytes:
    # Non-ASCII stays as UTF-8 bytes: the signature covers the bytes as sent.
    return json.dumps(document, ensure_ascii=False).encode()


def tiktok_headers(raw: bytes, secret: str = APP_SECRET) -> dict[str, str]:
    signature = webhook_signature(APP_KEY, secret, raw)
    return {"Authorization": signature, "Content-Type": "application/json"}


def seed_params(raw: bytes, extra: dict[str, str] | None = None) -> dict[str, str]:
    params = dict(extra or {})
    return {**params, "sign": seed_webhook_signature(APP_SECRET, PATH, params, raw)}


async def post_marker(http: httpx.AsyncClient, url: str) -> None:
    raw = order_event("marker", "M-1")
    response = await http.post(url + PATH, content=raw, headers=tiktok_headers(raw))
    assert response.status_code == 200, response.text


# --- the ingress and the topic --------------------------------------------------------------


@dataclass(frozen=True)
class Ingress:
    url: str
    settings: Settings


def ingress_settings(services: dict[str, str], topic: str, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "topic_webhooks": topic,
        "tiktok_app_key": APP_KEY,
        "tiktok_app_secret": APP_SECRET,
    }
    return make_settings(services, **{**values, **overrides})


@asynccontextmanager
async def running(settings: Settings) -> AsyncIterator[str]:
    async with serve(ingress_app(settings)) as url, httpx.AsyncClient() as http:

        async def ready() -> bool:
            return (await http.get(url + "/readyz")).status_code == 200

        await eventually(ready, timeout=30)
        yield url


@pytest.fixture
async def topic(services: dict[str, str]) -> AsyncIterator[str]:
    """A topic of the test's own, deleted after it."""
    name = run_topic(f"ingress.{uuid.uuid4().hex[:10]}")
    await ensure_topics(services["KAFKA_BOOTSTRAP_SERVERS"], {name: PARTITIONS})
    yield name
    await delete_topics(services["KAFKA_BOOTSTRAP_SERVERS"], names=[name])


@pytest.fixture
async def ingress(services: dict[str, str], topic: str) -> AsyncIterator[Ingress]:
    settings = ingress_settings(services, topic)
    async with running(settings) as url:
        yield Ingress(url, settings)


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(timeout=10) as client:
        yield client


async def read_topic(bootstrap: str, topic: str) -> list[ConsumerRecord[bytes, bytes]]:
    """Every record now on the topic, from the earliest offset, without a consumer group."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False)
    await consumer.start()
    try:
        # Every topic here is made by ensure_topics with PARTITIONS partitions.
        partitions = [TopicPartition(topic, p) for p in range(PARTITIONS)]
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        end = await consumer.end_offsets(partitions)
        records: list[ConsumerRecord[bytes, bytes]] = []

        async def caught_up() -> bool:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                records.extend(batch)
            return all([await consumer.position(tp) >= end[tp] for tp in partitions])

        await eventually(caught_up, timeout=20, interval=0)
        return records
    finally:
        await consumer.stop()


def header_map(record: ConsumerRecord[bytes, bytes]) -> dict[str, str]:
    return {name: value.decode() for name, value in record.headers}


def message_of(record: ConsumerRecord[bytes, bytes]) -> WebhookMessage:
    return WebhookMessage.model_validate_json(record.value)


async def only_the_marker_was_published(ingress: Ingress) -> None:
    records = await read_topic(
        ingress.settings.kafka_bootstrap_servers, ingress.settings.topic_webhooks
    )
    assert [message_of(r).notification_id for r in records] == ["marker"]


# --- accepted webhooks ----------------------------------------------------------------------


@pytest.mark.parametrize("notification", [None, "  "], ids=["no id", "blank id"])
async def test_a_webhook_without_a_notification_id_is_accepted_under_an_id_from_its_body(
    ingress: Ingress, http: httpx.AsyncClient, notification: str | None
) -> None:
    """Older shops and some SDK samples send no tts_notification_id: TikTok's webhook is still
    taken, under the sha256 of its exact bytes, so a redelivery of it is a duplicate."""
    document: dict[str, Any] = {
        "type": 1,
        "shop_id": SHOP,
        "timestamp": 1796000010,
        "data": {"order_id": "O", "order_status": "AWAITING_SHIPMENT", "update_time": 1796000000},
    }
    if notification is not None:
        document["tts_notification_id"] = notification
    raw = encode(document)
    ids = []
    for _ in range(2):
        response = await http.post(ingress.url + PATH, content=raw, headers=tiktok_headers(raw))
        assert response.status_code == 200, response.text
        ids.append(response.json()["id"])
    assert ids == [hashlib.sha256(raw).hexdigest()] * 2


async def test_a_signed_tiktok_webhook_is_published_once_with_its_key_headers_and_body(
    ingress: Ingress, http: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    document = tiktok_event(
        "7310000000000000001",
        {
            "order_id": "576461413038785752",
            "order_status": "AWAITING_SHIPMENT",
            "update_time": 1_700_000_123,
            "note": "Grüße, 收件人",
        },
    )
    raw = encode(document)
    request_headers = {**tiktok_headers(raw), "X-Correlation-Id": "corr-abc-1"}
    with caplog.at_level(logging.INFO, logger="service.entrypoints.ingress"):
        response = await http.post(ingress.url + PATH, content=raw, headers=request_headers)

    assert response.status_code == 200, response.text
    assert response.json() == {"received": True, "id": "7310000000000000001"}
    assert response.headers["x-correlation-id"] == "corr-abc-1"
    [record] = await read_topic(
        ingress.settings.kafka_bootstrap_servers, ingress.settings.topic_webhooks
    )
    assert record.key == f"{SHOP}:576461413038785752".encode()
    found = header_map(record)
    assert found.pop("content-type") == "application/json"
    assert found == {
        headers.NOTIFICATION_ID: "7310000000000000001",
        headers.WEBHOOK_TYPE: "1",
        headers.SHOP_ID: SHOP,
        "correlation_id": "corr-abc-1",
    }
    message = message_of(record)
    assert message.model_dump(by_alias=False, exclude={"received_at"}) == {
        "notification_id": "7310000000000000001",
        "source": "tiktok",
        "webhook_type": "1",
        "shop_id": SHOP,
        "correlation_id": "corr-abc-1",
        "body": document,
    }
    assert message.received_at.utcoffset() is not None
    accepted = [r.getMessage() for r in caplog.records if "webhook accepted" in r.getMessage()]
    assert len(accepted) == 1
    assert "7310000000000000001" in accepted[0]
    assert "corr-abc-1" in accepted[0]
    assert all(APP_SECRET not in r.getMessage() for r in caplog.records)


async def test_the_seed_form_signed_in_the_query_is_published_with_the_body_hash_as_its_id(
    ingress: Ingress, http: httpx.AsyncClient
) -> None:
    document = {
        "type": "order.created",
        "payload": {
            "externalOrderId": "EXT-1001",
            "status": "pending",
            "total": 2599,
            "customerName": "Zoë Ångström",
        },
    }
    raw = encode(document)
    params = seed_params(raw, {"timestamp": "1700000000", "app_key": APP_KEY})
    response = await http.post(ingress.url + PATH, params=params, content=raw)

    body_hash = hashlib.sha256(raw).hexdigest()
    assert response.status_code == 200, response.text
    assert response.json() == {"received": True, "id": body_hash}
    [record] = await read_topic(
        ingress.settings.kafka_bootstrap_servers, ingress.settings.topic_webhooks
    )
    # The seed names no shop: the key uses the deployment's default shop.
    assert record.key == f"{ingress.settings.default_shop_id}:EXT-1001".encode()
    message = message_of(record)
    assert (message.notification_id, message.source, message.webhook_type) == (
        body_hash,
        "seed",
        "order.created",
    )
    assert message.body == document
    # Without X-Correlation-Id the ingress makes one, and says which.
    correlation_id = response.headers["x-correlation-id"]
    assert uuid.UUID(correlation_id).version == 4
    assert message.correlation_id == correlation_id
    found = header_map(record)
    assert found[headers.NOTIFICATION_ID] == body_hash
    assert found[headers.WEBHOOK_TYPE] == "order.created"
    assert found["correlation_id"] == correlation_id


async def test_events_of_one_order_land_in_one_partition_in_the_order_they_were_sent(
    ingress: Ingress, http: httpx.AsyncClient
) -> None:
    sent: list[tuple[str, bytes]] = []  # (expected key, raw body)
    statuses = ["UNPAID", "AWAITING_SHIPMENT", "AWAITING_COLLECTION", "IN_TRANSIT", "DELIVERED"]
    for order in ("O-1", "O-2", "O-3", "O-4"):
        for n, status in enumerate(statuses):
            sent.append((f"{SHOP}:{order}", order_event(f"{order}-{n}", order, status)))
    for n in range(3):
        product = tiktok_event(f"P-{n}", {"product_id": "P-77", "status": "ACTIVATE"}, type_=5)
        sent.append((f"{SHOP}:P-77", encode(product)))
    deauthorized = tiktok_event("D-1", {"reason": "seller revoked"}, type_=6)
    sent.append(("D-1", encode(deauthorized)))
    for _, raw in sent:
        response = await http.post(ingress.url + PATH, content=raw, headers=tiktok_headers(raw))
        assert response.status_code == 200, response.text

    records = await read_topic(
        ingress.settings.kafka_bootstrap_servers, ingress.settings.topic_webhooks
    )
    assert sorted(r.key for r in records) == sorted(key.encode() for key, _ in sent)
    by_key: dict[bytes, list[ConsumerRecord[bytes, bytes]]] = {}
    for record in records:
        by_key.setdefault(record.key, []).append(record)
    for key, group in by_key.items():
        assert len({r.partition for r in group}) == 1, f"{key!r} spread over partitions"
        ids = [message_of(r).notification_id for r in sorted(group, key=lambda r: r.offset)]
        expected = [json.loads(raw)["tts_notification_id"] for k, raw in sent if k.encode() == key]
        assert ids == expected


# --- refused requests -----------------------------------------------------------------------

Request = Callable[[], tuple[dict[str, str], dict[str, str], bytes]]  # params, headers, body


def _tiktok(raw: bytes, secret: str = APP_SECRET) -> Request:
    return lambda: ({}, tiktok_headers(raw, secret), raw)


def _seed(raw: bytes) -> Request:
    return lambda: (seed_params(raw), {}, raw)


GOOD = order_event("bad-1", "O-9")
REFUSED: dict[str, tuple[Request, int, str]] = {
    "no signature": (lambda: ({}, {}, GOOD), 401, "signature_missing"),
    "empty Authorization": (lambda: ({}, {"Authorization": ""}, GOOD), 401, "signature_missing"),
    "TikTok form, wrong secret": (_tiktok(GOOD, "not-the-secret"), 401, "signature_invalid"),
    "TikTok form, body changed after signing": (
        lambda: ({}, tiktok_headers(GOOD), GOOD + b" "),
        401,
        "signature_invalid",
    ),
    "seed form, wrong sign": (
        lambda: ({"sign": "0" * 64}, {}, encode({"type": "order.sync", "payload": {}})),
        401,
        "signature_invalid",
    ),
    "seed form, extra query parameter after signing": (
        lambda: ({**seed_params(GOOD), "shop": "x"}, {}, GOOD),
        401,
        "signature_invalid",
    ),
    "not JSON": (_tiktok(b'{"type": 1, "tts_notification_id": '), 400, "invalid_json"),
    "not UTF-8": (_tiktok(b'{"type": 1, "note": "\xff"}'), 400, "invalid_json"),
    "NaN": (_tiktok(b'{"type": 1, "tts_notification_id": "x", "n": NaN}'), 400, "invalid_json"),
    # JSON text the service could not carry as it is through Kafka to the worker:
    "a lone surrogate": (_tiktok(b'{"type": 1, "n": "\\ud800"}'), 400, "invalid_json"),
    "a number beyond a double": (_tiktok(b'{"type": 1, "n": 1e400}'), 400, "invalid_json"),
    "nested 65 deep": (
        _tiktok(b'{"type": 1, "n": ' + b"[" * 64 + b"]" * 64 + b"}"),
        400,
        "invalid_json",
    ),
    "an array": (_tiktok(b"[1, 2, 3]"), 400, "not_an_object"),
    "a string": (_tiktok(b'"hello"'), 400, "not_an_object"),
    "TikTok form, no type": (
        _tiktok(encode({"tts_notification_id": "x", "shop_id": SHOP, "data": {}})),
        400,
        "invalid_webhook",
    ),
    "TikTok form, a boolean type": (
        _tiktok(encode({"type": True, "tts_notification_id": "x", "shop_id": SHOP, "data": {}})),
        400,
        "invalid_webhook",
    ),
    "seed form, no payload": (_seed(encode({"type": "order.created"})), 400, "invalid_webhook"),
    "seed form, no type": (_seed(encode({"payload": {"orderId": "1"}})), 400, "invalid_webhook"),
}


@pytest.mark.parametrize(("build", "status", "code"), REFUSED.values(), ids=REFUSED.keys())
async def test_a_bad_request_gets_its_status_and_publishes_nothing(
    ingress: Ingress, http: httpx.AsyncClient, build: Request, status: int, code: str
) -> None:
    params, request_headers, raw = build()
    response = await http.post(
        ingress.url + PATH, params=params, headers=request_headers, content=raw
    )

    assert response.status_code == status, response.text
    answer = response.json()
    assert answer["code"] == code
    assert isinstance(answer["error"], str)
    assert len(answer["error"]) > 20
    await post_marker(http, ingress.url)
    await only_the_marker_was_published(ingress)


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH", "OPTIONS"])
async def test_another_method_on_the_webhook_path_gets_a_json_405_and_publishes_nothing(
    ingress: Ingress, http: httpx.AsyncClient, method: str
) -> None:
    response = await http.request(
        method, ingress.url + PATH, headers=tiktok_headers(GOOD), content=GOOD
    )

    assert response.status_code == 405, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["allow"] == "POST"
    assert response.json() == {
        "error": f"{method} is not taken here: this path takes POST only",
        "code": "method_not_allowed",
    }
    await post_marker(http, ingress.url)
    await only_the_marker_was_published(ingress)


@pytest.mark.parametrize(
    ("method", "path", "status", "code"),
    [
        ("POST", "/readyz", 405, "method_not_allowed"),
        ("POST", "/tiktok-shop/webhook", 404, "not_found"),
        ("GET", "/", 404, "not_found"),
    ],
)
async def test_every_path_and_method_the_ingress_does_not_serve_is_answered_in_json(
    ingress: Ingress, http: httpx.AsyncClient, method: str, path: str, status: int, code: str
) -> None:
    response = await http.request(
        method, ingress.url + path, headers=tiktok_headers(GOOD), content=GOOD
    )

    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    answer = response.json()
    assert answer["code"] == code
    assert set(answer) == {"error", "code"}
    await post_marker(http, ingress.url)
    await only_the_marker_was_published(ingress)


async def test_without_an_app_secret_every_webhook_gets_503_and_nothing_is_published(
    services: dict[str, str], ingress: Ingress, http: httpx.AsyncClient
) -> None:
    unconfigured = ingress_settings(services, ingress.settings.topic_webhooks, tiktok_app_secret="")
    async with running(unconfigured) as url:
        for params, request_headers in (({}, tiktok_headers(GOOD)), (seed_params(GOOD), {})):
            response = await http.post(
                url + PATH, params=params, headers=request_headers, content=GOOD
            )
            assert response.status_code == 503, response.text
            assert response.json()["code"] == "not_configured"
            assert "TIKTOK_APP_SECRET" in response.json()["error"]
    await post_marker(http, ingress.url)
    await only_the_marker_was_published(ingress)


# --- bodies over the limit ------------------------------------------------------------------


async def raw_exchange(url: str, request: bytes) -> tuple[int, dict[str, Any]]:
    """Send bytes as they are and read one response, even though the request never finishes."""
    parts = urlsplit(url)
    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
    try:
        writer.write(request)
        await writer.drain()
        head = await asyncio.wait_for(reader.readuntil(b"\r\n\r\n"), 10)
        lines = head.decode("latin-1").split("\r\n")
        fields = dict(line.split(": ", 1) for line in lines[1:] if line)
        length = int({k.lower(): v for k, v in fields.items()}["content-length"])
        body = await asyncio.wait_for(reader.readexactly(length), 10)
        return int(lines[0].split()[1]), json.loads(body)
    finally:
        writer.close()


def request_head(url: str, signature: str, framing: str) -> bytes:
    host = urlsplit(url).netloc
    return (
        f"POST {PATH} HTTP/1.1\r\nHost: {host}\r\nAuthorization: {signature}\r\n"
        f"Content-Type: application/json\r\n{framing}\r\n\r\n"
    ).encode()


async def test_a_declared_length_over_the_limit_is_refused_before_the_body_is_sent(
    ingress: Ingress, http: httpx.AsyncClient
) -> None:
    limit = ingress.settings.webhook_max_bytes
    assert limit == 1024 * 1024
    head = request_head(ingress.url, "0" * 64, f"Content-Length: {limit + 1}")
    # Not a byte of the body is sent: the answer can only come from the declared length.
    status, answer = await raw_exchange(ingress.url, head)

    assert (status, answer["code"]) == (413, "body_too_large")
    await post_marker(http, ingress.url)
    await only_the_marker_was_published(ingress)


async def test_a_chunked_body_is_refused_at_the_limit_without_waiting_for_its_end(
    ingress: Ingress, http: httpx.AsyncClient
) -> None:
    limit = ingress.settings.webhook_max_bytes
    # Exactly one byte past the limit, so the ingress reads all that is sent; no final chunk.
    chunks = [b" " * 65536] * (limit // 65536) + [b" " * (limit % 65536 + 1)]
    body = b"".join(b"%x\r\n%s\r\n" % (len(chunk), chunk) for chunk in chunks)
    assert sum(map(len, chunks)) == limit + 1
    head = request_head(ingress.url, "0" * 64, "Transfer-Encoding: chunked")
    status, answer = await raw_exchange(ingress.url, head + body)

    assert (status, answer["code"]) == (413, "body_too_large")
    await post_marker(http, ingress.url)
    await only_the_marker_was_published(ingress)


async def five_mebibytes() -> AsyncIterator[bytes]:
    for _ in range(80):
        yield b" " * 65536


@pytest.mark.parametrize("framing", ["content-length", "chunked"])
async def test_an_ordinary_client_sending_an_oversize_body_hears_413(
    ingress: Ingress, http: httpx.AsyncClient, framing: str
) -> None:
    content = b" " * (5 * 1024 * 1024) if framing == "content-length" else five_mebibytes()
    signed = {"Authorization": "0" * 64}
    response = await http.post(ingress.url + PATH, content=content, headers=signed)

    assert (response.status_code, response.json()["code"]) == (413, "body_too_large")
    await post_marker(http, ingress.url)
    await only_the_marker_was_published(ingress)


async def test_a_body_of_exactly_the_limit_is_read_and_one_byte_more_is_refused(
    services: dict[str, str], topic: str, http: httpx.AsyncClient
) -> None:
    settings = ingress_settings(services, topic, webhook_max_bytes=2048)
    base = order_event("at-limit", "O-L")
    at_limit = base[:-1] + b" " * (2048 - len(base)) + base[-1:]  # padding inside the object
    over = at_limit[:-1] + b" " + at_limit[-1:]
    assert (len(at_limit), len(over)) == (2048, 2049)
    async with running(settings) as url:
        refused = await http.post(url + PATH, content=over, headers=tiktok_headers(over))
        accepted = await http.post(url + PATH, content=at_limit, headers=tiktok_headers(at_limit))

    assert (refused.status_code, refused.json()["code"]) == (413, "body_too_large")
    assert accepted.status_code == 200, accepted.text
    records = await read_topic(settings.kafka_bootstrap_servers, topic)
    assert [message_of(r).notification_id for r in records] == ["at-limit"]


class BreaksOnce(KafkaBroker):
    """A broker whose producer fails for good on its first publish, as a fenced one would."""

    connects = 0
    broken = True

    async def connect(self) -> Any:
        self.connects += 1
        return await super().connect()

    async def publish(self, *args: Any, **kwargs: Any) -> Any:
        if self.broken:
            self.broken = False
            raise OutOfOrderSequenceNumber()
        return await super().publish(*args, **kwargs)


async def test_a_producer_that_fails_for_good_is_replaced_without_a_restart(
    services: dict[str, str], topic: str, http: httpx.AsyncClient
) -> None:
    settings = ingress_settings(services, topic)
    broker = BreaksOnce(settings.kafka_bootstrap_servers, acks="all", enable_idempotence=True)
    raw = order_event("fenced-1", "O-F")

    async def deliver() -> httpx.Response:
        return await http.post(url + PATH, content=raw, headers=tiktok_headers(raw))

    async with serve(ingress_app(settings, broker=broker)) as url:
        first = await deliver()
        assert (first.status_code, first.json()["code"]) == (503, "broker_unavailable")
        again = await eventually(deliver, until=lambda r: r.status_code == 200)

    assert again.json() == {"received": True, "id": "fenced-1"}
    assert broker.connects == 2
    records = await read_topic(settings.kafka_bootstrap_servers, topic)
    assert [message_of(r).notification_id for r in records] == ["fenced-1"]


# --- Kafka down -----------------------------------------------------------------------------

SERVICES = str(ROOT / "deploy" / "local" / "services.sh")


def outage_kafka(command: str) -> str:
    """Drive the second, separate local Kafka broker; the shared one stays up for other tests."""
    done = subprocess.run(
        [SERVICES, command],
        env={**os.environ, **outage.ports(), "KAFKA_INSTANCE": "outage"},
        check=True,
        capture_output=True,
        text=True,
        # The script waits up to 120 s for a start itself; this is the backstop.
        timeout=150,
    )
    return done.stdout


@pytest.fixture
async def outage_bootstrap() -> AsyncIterator[str]:
    env_line = await asyncio.to_thread(outage_kafka, "env")
    await asyncio.to_thread(outage_kafka, "down")
    try:
        yield env_line.strip().split("=", 1)[1]
    finally:
        await asyncio.to_thread(outage_kafka, "down")


@pytest.mark.timeout(300)
async def test_with_kafka_down_webhooks_get_503_and_the_same_request_succeeds_once_it_is_back(
    services: dict[str, str], outage_bootstrap: str, http: httpx.AsyncClient
) -> None:
    topic = run_topic(f"ingress.outage.{uuid.uuid4().hex[:10]}")
    settings = ingress_settings(services, topic, kafka_bootstrap_servers=outage_bootstrap)
    raw = order_event("outage-1", "O-OUT")
    request_headers = tiktok_headers(raw)

    async def deliver() -> tuple[httpx.Response, float]:
        started = time.monotonic()
        response = await http.post(url + PATH, content=raw, headers=request_headers)
        return response, time.monotonic() - started

    async def readiness() -> int:
        return (await http.get(url + "/readyz")).status_code

    def accepted(result: tuple[httpx.Response, float]) -> bool:
        return result[0].status_code == 200

    # The ingress starts without Kafka: alive, not ready, and webhooks are left for redelivery.
    async with serve(ingress_app(settings)) as url:
        assert (await http.get(url + "/healthz")).status_code == 200
        assert await readiness() == 503
        response, elapsed = await deliver()
        assert (response.status_code, response.json()["code"]) == (503, "broker_unavailable")
        assert elapsed < 3

        await asyncio.to_thread(outage_kafka, "up")
        await ensure_topics(outage_bootstrap, {topic: PARTITIONS})
        response, _ = await eventually(deliver, until=accepted, timeout=60, interval=0.2)
        assert response.json() == {"received": True, "id": "outage-1"}
        assert await eventually(readiness, until=lambda s: s == 200) == 200

        # Kafka lost while connected: publishing is bounded, so TikTok hears 503 in time.
        await asyncio.to_thread(outage_kafka, "down")
        response, elapsed = await deliver()
        assert (response.status_code, response.json()["code"]) == (503, "broker_unavailable")
        assert elapsed < 3
        assert await readiness() == 503

        await asyncio.to_thread(outage_kafka, "up")
        await eventually(deliver, until=accepted, timeout=60, interval=0.2)
        assert await eventually(readiness, until=lambda s: s == 200) == 200

    records = await read_topic(outage_bootstrap, topic)
    await delete_topics(outage_bootstrap, names=[topic])
    # A publish that timed out may still land later: at least once, and the worker dedupes.
    assert records
    assert {message_of(r).notification_id for r in records} == {"outage-1"}
    assert {r.key for r in records} == {f"{SHOP}:O-OUT".encode()}


async def test_a_webhook_of_a_full_mebibyte_reaches_kafka(
    services: dict[str, str], topic: str, http: httpx.AsyncClient
) -> None:
    """The body limit is 1 MiB; the envelope around it must still fit in a Kafka message."""
    settings = ingress_settings(services, topic)
    base = order_event("full-mib", "O-M")
    body = base[:-1] + b" " * (settings.webhook_max_bytes - len(base)) + base[-1:]
    assert len(body) == 1024 * 1024
    async with running(settings) as url:
        response = await http.post(url + PATH, content=body, headers=tiktok_headers(body))
    assert response.status_code == 200, response.text
    records = await read_topic(settings.kafka_bootstrap_servers, topic)
    assert [message_of(r).notification_id for r in records] == ["full-mib"]


# --- the ingress as its own process ---------------------------------------------------------


async def test_the_ingress_runs_alone_as_python_m_service_ingress_and_stops_on_sigterm(
    services: dict[str, str], topic: str, http: httpx.AsyncClient
) -> None:
    """The ingress part on its own, as its container runs it: no database setting at all."""
    settings = ingress_settings(services, topic)
    async with ServiceProcess("ingress", settings) as ingress:
        await ingress.ready()
        assert (await http.get(ingress.url + "/healthz")).json() == {"status": "ok"}
        raw = order_event("alone-1", "O-ALONE")
        response = await http.post(ingress.url + PATH, content=raw, headers=tiktok_headers(raw))
        assert response.status_code == 200, response.text
        assert response.json() == {"received": True, "id": "alone-1"}
        code = await ingress.stop(timeout=30)
        output = ingress.output()
    assert code == 0, output
    assert "Traceback" not in output
    [record] = await read_topic(settings.kafka_bootstrap_servers, topic)
    assert message_of(record).notification_id == "alone-1"
    assert record.key == f"{SHOP}:O-ALONE".encode()
