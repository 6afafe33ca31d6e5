"""A worker process killed in the middle of a webhook: nothing of it was committed, so the next
worker of the group gets the webhook again and applies it.

This runs the real thing: `python -m service worker` processes (the subscribers of
`service/bootstrap.py` with their acknowledgement policy), the real broker and database, and
the simulator in place of TikTok. The simulator holds the worker's order-details call, which
keeps the webhook's handler running while the test watches the consumer group's offset and
then kills the process with SIGKILL.

With FastStream's default acknowledgement (ACK_FIRST: aiokafka commits on its own every 5 s,
whatever the handler is doing) this test fails at the watch: the offset is committed while the
handler is still waiting for TikTok.
"""

import uuid

import httpx
import pytest

from contracts.webhooks import WebhookMessage
from service.adapters.mongo.database import Database
from service.domain.orders import order_id_for
from simulator.app import create_app
from tests.conftest import run_topic
from tests.kafka_tools import committed_offset, delete_topics, publish_raw, tiktok_webhook
from tests.processes import ServiceProcess
from tests.sim_worker import seed_order, sim_settings, simulator_config
from tests.support import eventually, holds, serve

pytestmark = pytest.mark.integration

#: aiokafka's auto-commit interval is 5 s: a watch longer than that sees an ACK_FIRST commit.
WATCH_SECONDS = 7.0
#: How long the simulator holds every call while the first worker is to be killed: longer than
#: the watch, shorter than the TikTok client's 30 s timeout (no retry muddles the picture).
HELD_MS = 25_000


@pytest.mark.timeout(180)
async def test_a_worker_killed_mid_handler_leaves_the_webhook_to_the_next_worker(
    services: dict[str, str],
) -> None:
    run = uuid.uuid4().hex[:8]
    shop = f"crash-shop-{run}"
    async with (
        serve(create_app(simulator_config(shop))) as sim_url,
        httpx.AsyncClient(base_url=sim_url, timeout=10) as sim,
    ):
        settings = sim_settings(services, sim_url, shop, run)
        db = Database(settings.mongodb_uri.get_secret_value(), settings.mongodb_database)
        try:
            external = await seed_order(sim, shop, "AWAITING_SHIPMENT", "7.25")
            message = tiktok_webhook(
                1,
                shop,
                {"order_id": external, "order_status": "AWAITING_SHIPMENT", "update_time": 1},
            )

            async def stored() -> dict[str, object] | None:
                return await db.collection("orders").find_one({"_id": order_id_for(shop, external)})

            async with ServiceProcess("worker", settings) as first:
                await first.ready()
                # From now on TikTok answers nothing for a minute: the handler that asks for
                # the order's details is held inside its call.
                await sim.delete("/_sim/requests")
                held = await sim.post("/_sim/faults", json={"latency_ms": HELD_MS})
                assert held.status_code == 200, held.text
                landed = await publish_raw(
                    settings,
                    settings.topic_webhooks,
                    message.to_json(),
                    key=f"{shop}:{external}".encode(),
                )
                await eventually(lambda: _calls_in_flight(sim), timeout=30)

                async def committed() -> int | None:
                    return await committed_offset(
                        settings.kafka_bootstrap_servers,
                        f"{settings.kafka_group_id}-webhooks",
                        landed.topic,
                        landed.partition,
                    )

                await holds(
                    committed,
                    until=lambda offset: offset is None or offset <= landed.offset,
                    seconds=WATCH_SECONDS,
                    why="the webhook's offset was committed while its handler was still running",
                )
                assert await _calls_in_flight(sim), "the handler finished before the kill"
                await first.kill()
            assert await stored() is None  # the killed handler wrote nothing

            await sim.delete("/_sim/faults")
            async with ServiceProcess("worker", settings) as second:
                await second.ready()
                # The group notices the killed member after its session timeout (10 s); then
                # the second worker reads from the last committed offset: the webhook again.
                order = await eventually(stored, timeout=60, interval=0.5)
                assert order["needs_refresh"] is False  # applied from TikTok's details
                assert isinstance(order["total"], int)
                assert order["total"] > 0
                assert await eventually(
                    committed, until=lambda offset: offset == landed.offset + 1, timeout=20
                ) == (landed.offset + 1)
                assert await second.stop() == 0, second.output()[-4000:]
            await _applied_once(db, message)
            # TikTok saw the killed worker's call (held, never answered), then the second
            # worker's calls for the same webhook, answered.
            calls = (await sim.get("/_sim/requests")).json()["requests"]
            assert calls[0]["status"] is None
            assert [c["status"] for c in calls if c["path"] == "/order/202507/orders"] == [200]
        finally:
            await db.client.drop_database(settings.mongodb_database)
            await db.close()
            await delete_topics(settings.kafka_bootstrap_servers, prefix=run_topic(f"sim-{run}."))


async def _calls_in_flight(sim: httpx.AsyncClient) -> bool:
    """Whether TikTok (the simulator) holds a call it has not answered yet."""
    log = (await sim.get("/_sim/requests")).json()["requests"]
    return any(entry["status"] is None for entry in log)


async def _applied_once(db: Database, message: WebhookMessage) -> None:
    record = await db.collection("webhook_events").find_one({"_id": message.notification_id})
    assert record is not None
    assert str(record["outcome"]).endswith("created")
