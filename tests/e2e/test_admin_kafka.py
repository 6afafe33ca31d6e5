"""The command consumer on the real broker: malformed input, no reply_to, a group of workers."""

import asyncio
import json
import os
import subprocess
import sys
import uuid

import pytest

from contracts import commands as c
from contracts import replies as r
from contracts.client import AdminClient, CommandError
from service.bootstrap import Worker
from service.entrypoints.worker.subscribers import SERVED_BY
from service.settings import Settings
from tests.support import ROOT, eventually, free_port, fresh

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


async def test_the_typed_client_raises_the_error_reply(admin: AdminClient, shop: str) -> None:
    with pytest.raises(CommandError) as raised:
        await admin.ask(c.GetOrder(shop_id=shop, id="missing"), r.OrderReply)
    assert raised.value.code == "not_found"
    with pytest.raises(TypeError):
        await admin.ask(c.GetOrder(shop_id=shop, id="missing"), r.ListingReply)


async def test_two_worker_processes_in_one_group_share_the_requests(settings: Settings) -> None:
    """Two `python -m service worker` processes, one consumer group: both answer requests."""
    topic = f"test.group.{uuid.uuid4().hex[:8]}"
    env = {
        **os.environ,
        "KAFKA_BOOTSTRAP_SERVERS": settings.kafka_bootstrap_servers,
        "MONGODB_URI": settings.mongodb_uri.get_secret_value(),
        "MONGODB_DATABASE": settings.mongodb_database,
        "KAFKA_GROUP_ID": f"group-{uuid.uuid4().hex[:8]}",
        "TOPIC_ADMIN_COMMANDS": topic,
        "TOPIC_WEBHOOKS": settings.topic_webhooks,
        "TOPIC_EVENTS": settings.topic_events,
        "TOPIC_DEAD_LETTER": settings.topic_dead_letter,
        "ADMIN_API_TOKEN": "group-token",
    }
    procs = [
        subprocess.Popen(
            [sys.executable, "-m", "service", "worker"],
            cwd=ROOT,
            env={**env, "ADMIN_PORT": str(free_port())},
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        async with AdminClient(
            settings.kafka_bootstrap_servers, command_topic=topic, timeout=60
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
            result = await eventually(ask_many, until=lambda s: len(s) == 2, timeout=90, interval=1)
            assert {s.rsplit(":", 1)[1] for s in result} == {str(p.pid) for p in procs}
    finally:
        for p in procs:
            p.terminate()
        for p in procs:
            await asyncio.to_thread(p.wait, 60)
    assert [p.returncode for p in procs] == [0, 0]


def test_error_reply_json_is_told_apart_from_replies() -> None:
    error = r.parse_reply(json.loads(b'{"code": "not_found", "message": "x"}'), r.OrderReply)
    assert isinstance(error, r.ErrorReply)
