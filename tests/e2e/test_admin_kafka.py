"""The command consumer on the real broker: malformed input, no reply_to, a group of workers."""

import asyncio
import json
import uuid

import pytest
from aiokafka import AIOKafkaProducer
from pydantic import SecretStr

from contracts import commands as c
from contracts import replies as r
from contracts.client import AdminClient, CommandError
from service.bootstrap import Worker
from service.entrypoints.worker.subscribers import SERVED_BY
from service.settings import Settings
from tests.conftest import run_topic
from tests.kafka_tools import delete_topics
from tests.processes import ServiceProcess
from tests.support import eventually, fresh

pytestmark = pytest.mark.integration


@pytest.mark.parametrize(
    ("body", "message_part"),
    [
        (b"{not json", "Unreadable"),
        (b"[1, 2]", "Invalid"),
        (b'{"command": "listings.explode"}', "command"),
        (b'{"title": "no command"}', "command"),
        (b"", "Unreadable"),
    ],
)
async def test_a_malformed_request_gets_an_error_reply_and_the_next_one_is_served(
    admin: AdminClient, shop: str, body: bytes, message_part: str
) -> None:
    raw = await admin.send(body)
    assert raw is not None
    error = r.ErrorReply.model_validate(raw.payload)
    assert error.code == "validation_failed"
    assert message_part in error.message + " ".join(f.field for f in error.fields)
    # The consumer is still there: the next request is answered.
    reply = await admin.ask(c.GetStats(shop_id=shop), r.StatsReply)
    assert reply.stats.total_listings == 0


async def test_a_request_without_reply_to_is_still_carried_out(
    admin: AdminClient, worker: Worker, shop: str
) -> None:
    command = c.CreateListing(shop_id=shop, local_product_id="quiet", title="No reply wanted")
    assert await admin.send(command.to_json(), reply=False) is None
    listing = await eventually(lambda: fresh(worker).listings.get_by_product(shop, "quiet"))
    assert listing is not None
    assert listing.title == "No reply wanted"


@pytest.mark.parametrize("reply_to", ["not a topic!!", "the webhooks topic"])
async def test_a_request_whose_reply_to_cannot_take_the_reply_is_not_run_and_stops_nothing(
    admin: AdminClient, worker: Worker, settings: Settings, shop: str, reply_to: str
) -> None:
    target = settings.topic_webhooks if reply_to == "the webhooks topic" else reply_to
    command = c.CreateListing(shop_id=shop, local_product_id="unanswerable", title="No one hears")
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap_servers)
    await producer.start()
    try:
        await producer.send_and_wait(
            settings.topic_admin_commands,
            command.to_json(),
            key=shop.encode(),  # the key the next request uses: the same partition, after it
            headers=[("reply_to", target.encode()), ("correlation_id", b"unanswerable")],
        )
    finally:
        await producer.stop()
    # The request behind it is served (a reply that cannot be delivered used to hand the
    # command back to Kafka forever), and the unanswerable command did not run.
    reply = await admin.ask(c.GetStats(shop_id=shop), r.StatsReply)
    assert reply.stats.total_listings == 0
    assert await fresh(worker).listings.get_by_product(shop, "unanswerable") is None


async def test_the_typed_client_raises_the_error_reply(admin: AdminClient, shop: str) -> None:
    with pytest.raises(CommandError) as raised:
        await admin.ask(c.GetOrder(shop_id=shop, id="missing"), r.OrderReply)
    assert raised.value.code == "not_found"
    with pytest.raises(TypeError):
        await admin.ask(c.GetOrder(shop_id=shop, id="missing"), r.ListingReply)


# Each wait is bounded inside the test's limit: two starts (40 s), the group settling (45 s,
# one round of requests at most 15 s more) and two stops (20 s each).
@pytest.mark.timeout(170)
async def test_two_worker_processes_in_one_group_share_the_requests(settings: Settings) -> None:
    """Two `python -m service worker` processes, one consumer group: both answer requests."""
    name = uuid.uuid4().hex[:8]
    group_settings = settings.model_copy(
        update={
            "kafka_group_id": f"group-{name}",
            "topic_admin_commands": run_topic(f"group-{name}.commands"),
            "admin_api_token": SecretStr("group-token"),
        }
    )
    async with (
        ServiceProcess("worker", group_settings) as one,
        ServiceProcess("worker", group_settings) as two,
    ):
        await asyncio.gather(one.ready(), two.ready())
        async with AdminClient(
            settings.kafka_bootstrap_servers,
            command_topic=group_settings.topic_admin_commands,
            timeout=15,
        ) as client:
            served_by: set[str] = set()

            async def ask_many() -> set[str]:
                # Keys spread the requests over the topic's six partitions.
                replies = await asyncio.gather(
                    *(
                        client.send(c.GetStats(shop_id=f"s{n}").to_json(), key=f"k{n}".encode())
                        for n in range(24)
                    )
                )
                for reply in replies:
                    assert reply is not None
                    assert "stats" in reply.payload
                    served_by.add(reply.headers[SERVED_BY])
                return served_by

            # Until both have joined the group, one of them may answer everything.
            result = await eventually(ask_many, until=lambda s: len(s) == 2, timeout=45, interval=1)
        assert {s.rsplit(":", 1)[1] for s in result} == {str(one.pid), str(two.pid)}
        codes = await asyncio.gather(one.stop(20), two.stop(20))
        assert codes == [0, 0], one.output()[-2000:] + two.output()[-2000:]
    await delete_topics(
        settings.kafka_bootstrap_servers, names=[group_settings.topic_admin_commands]
    )


def test_error_reply_json_is_told_apart_from_replies() -> None:
    error = r.parse_reply(json.loads(b'{"code": "not_found", "message": "x"}'), r.OrderReply)
    assert isinstance(error, r.ErrorReply)
