"""Every Kafka client of ours over SASL: the local broker's SCRAM-SHA-512 listener.

The outage broker (`tests.outage`) has, beside its plain listener, a SASL_PLAINTEXT one with
SCRAM-SHA-512 whose user is created when its storage is formatted (deploy/local/services.sh).
The service is given only that listener and the security settings, so anything that ignored them
(the topic creation, the worker's consumers and producer, the ingress's probe and producer, the
platform's AdminClient) could not connect at all.
"""

import json
import logging
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from contracts.client import AdminClient
from contracts.commands import GetStats
from contracts.kafka_security import CredentialsRefused, KafkaSecurity
from contracts.replies import StatsReply
from service.adapters.tiktok.signing import webhook_signature
from service.bootstrap import Worker
from service.entrypoints.ingress.app import ingress_app
from service.entrypoints.ingress.webhook import PATH
from service.settings import Settings
from tests import outage
from tests.conftest import RUN, make_settings
from tests.support import eventually, serve

pytestmark = pytest.mark.integration

KEY, SECRET = "scramkey", "scramsecret"
SHOP = "7494049642642441621"


@pytest.fixture(scope="module")
def scram() -> Iterator[dict[str, str]]:
    """The outage broker, up; yields the service's settings for its SCRAM listener."""
    outage.kafka("up")
    try:
        yield outage.kafka("scram-env")
    finally:
        outage.kafka("down")


def scram_settings(
    services: dict[str, str], scram: dict[str, str], **overrides: object
) -> Settings:
    values = {key.lower(): value for key, value in scram.items()}
    return make_settings(
        services,
        **values,
        mongodb_database=f"test_{RUN}_scram",
        tiktok_app_key=KEY,
        tiktok_app_secret=SECRET,
        **overrides,
    )


@pytest.fixture(scope="module")
async def scram_worker(services: dict[str, str], scram: dict[str, str]) -> AsyncIterator[Worker]:
    worker = Worker(scram_settings(services, scram))
    await worker.start()
    try:
        yield worker
    finally:
        await worker.db.client.drop_database(worker.settings.mongodb_database)
        await worker.stop()


async def test_the_worker_ingress_and_admin_client_work_over_scram(
    scram: dict[str, str], scram_worker: Worker
) -> None:
    settings = scram_worker.settings
    assert settings.kafka_security_protocol == "SASL_PLAINTEXT"
    assert settings.kafka_sasl_mechanism == "SCRAM-SHA-512"
    # The platform reads the same variables without the service's settings.
    security = KafkaSecurity.model_validate(
        {key.lower(): value for key, value in scram.items()}
    ).security()

    async with AdminClient(
        settings.kafka_bootstrap_servers,
        command_topic=settings.topic_admin_commands,
        security=security,
    ) as admin:
        stats = await admin.ask(GetStats(), StatsReply)
        assert stats.stats.total_orders == 0

        # The ingress's producer and probe over SCRAM; the worker's batch consumer applies it.
        raw = json.dumps(
            {
                "type": 1,
                "tts_notification_id": "scram-1",
                "shop_id": SHOP,
                "timestamp": 1_700_000_000,
                "data": {
                    "order_id": "O-SCRAM",
                    "order_status": "AWAITING_SHIPMENT",
                    "update_time": 1_700_000_000,
                },
            }
        ).encode()
        async with serve(ingress_app(settings)) as url, httpx.AsyncClient() as http:
            await eventually(
                lambda: http.get(url + "/readyz"), until=lambda r: r.status_code == 200
            )
            response = await http.post(
                url + PATH,
                content=raw,
                headers={"Authorization": webhook_signature(KEY, SECRET, raw)},
            )
            assert response.status_code == 200, response.text

        async def orders() -> int:
            return (await admin.ask(GetStats(shop_id=SHOP), StatsReply)).stats.total_orders

        assert await eventually(orders, until=lambda n: n == 1, timeout=30) == 1


async def test_a_wrong_password_fails_clearly_and_says_so(
    services: dict[str, str], scram: dict[str, str], caplog: pytest.LogCaptureFixture
) -> None:
    wrong = {**scram, "KAFKA_SASL_PASSWORD": "not-the-password"}
    settings = scram_settings(services, wrong)

    worker = Worker(settings)
    with pytest.raises(CredentialsRefused) as refused:
        await worker.start()
    await worker.stop()
    message = str(refused.value)
    assert "refused the credentials of user 'tiktok-shop' (SCRAM-SHA-512)" in message
    assert "not-the-password" not in message

    with pytest.raises(CredentialsRefused):
        async with AdminClient(
            settings.kafka_bootstrap_servers, security=settings.security(), timeout=10
        ):
            pass

    # The ingress stays up, unready, answering 503 so that TikTok delivers again later, and
    # its log says why.
    with caplog.at_level(logging.ERROR, logger="service.adapters.kafka.link"):
        async with serve(ingress_app(settings)) as url, httpx.AsyncClient() as http:
            assert (await http.get(url + "/readyz")).status_code == 503
            raw = b'{"type": 1, "shop_id": "s", "data": {}}'
            response = await http.post(
                url + PATH,
                content=raw,
                headers={"Authorization": webhook_signature(KEY, SECRET, raw)},
            )
            assert response.status_code == 503
            assert response.json()["code"] == "broker_unavailable"
    assert any("Kafka refused the credentials" in r.getMessage() for r in caplog.records)
