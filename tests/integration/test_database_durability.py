"""An acknowledged write survives the database process being killed.

Runs on the second, separate local database (`MONGO_INSTANCE=outage`, see
deploy/local/services.sh) so that killing it disturbs no other test; like the Kafka outage test,
it needs the local services' Java and Maven even when MONGODB_URI points elsewhere.
"""

import asyncio
import os
import subprocess
import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest
from pymongo import AsyncMongoClient

from tests import outage
from tests.support import ROOT

pytestmark = pytest.mark.integration

SERVICES = str(ROOT / "deploy" / "local" / "services.sh")
INSERTS = 1500
INCREMENTS = 500


def outage_database(command: str) -> str:
    """Drive the outage database instance: install, up, down, kill (SIGKILL) or env."""
    done = subprocess.run(
        [SERVICES, command],
        env={**os.environ, **outage.ports(), "MONGO_INSTANCE": "outage"},
        check=True,
        capture_output=True,
        text=True,
        # The script waits up to 120 s for a start itself; this is the backstop.
        timeout=150,
    )
    return done.stdout


@pytest.fixture
async def outage_uri() -> AsyncIterator[str]:
    env_line = await asyncio.to_thread(outage_database, "env")
    await asyncio.to_thread(outage_database, "up")
    try:
        yield env_line.strip().split("=", 1)[1]
    finally:
        await asyncio.to_thread(outage_database, "down")


@pytest.mark.timeout(300)
async def test_every_acknowledged_write_survives_a_kill_9(outage_uri: str) -> None:
    client: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(
        outage_uri, serverSelectionTimeoutMS=30_000
    )
    name = f"durability_{uuid.uuid4().hex[:8]}"
    docs, counter = client[name]["docs"], client[name]["counter"]
    try:
        # One write at a time, each acknowledged before the next: what a consumer does before
        # it commits its Kafka offset. The process is killed right after the last answer, so
        # anything the database acknowledged but kept only in memory would be lost.
        for n in range(INSERTS):
            await docs.insert_one({"_id": n, "payload": "x" * 200})
        for _ in range(INCREMENTS):
            await counter.update_one({"_id": "c"}, {"$inc": {"n": 1}}, upsert=True)
        await asyncio.to_thread(outage_database, "kill")

        started = time.monotonic()
        await asyncio.to_thread(outage_database, "up")
        print(f"restart after kill -9: {time.monotonic() - started:.1f} s (shown with -s)")

        kept = sorted([d["_id"] async for d in docs.find({}, {"_id": 1})])
        missing = sorted(set(range(INSERTS)) - set(kept))
        assert missing == [], f"{len(missing)} acknowledged inserts lost"
        assert await counter.find_one({"_id": "c"}) == {"_id": "c", "n": INCREMENTS}
    finally:
        await client.drop_database(name)
        await client.close()
