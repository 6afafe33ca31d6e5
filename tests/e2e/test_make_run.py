"""`make run` without TikTok credentials (deploy/local/run.sh), as a newcomer starts it: the
service in one process beside the TikTok Shop simulator. README's examples must work there."""

import json
import os
import re
import signal
import subprocess
import uuid
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from pymongo import AsyncMongoClient

from service.settings import Settings
from simulator.catalog import DEFAULT_SALES_WAREHOUSE
from tests.conftest import run_topic
from tests.kafka_tools import publish_many
from tests.support import ROOT, eventually, free_port

pytestmark = pytest.mark.integration

ADMIN_TOKEN = "make-run-admin-token"
#: Names the service reads from the environment: only the test's own values reach run.sh.
_SETTING_NAMES = {name.upper() for name in Settings.model_fields}


def readme_platform_examples() -> list[dict[str, Any]]:
    """The JSON lines README's "Stock and price from the platform" shows, as written."""
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Stock and price from the platform", 1)[1]
    block = re.search(r"```json\n(.*?)```", section, re.DOTALL)
    assert block, "README's section has no JSON example"
    return [json.loads(line) for line in block[1].splitlines() if line.strip()]


class MakeRun:
    """deploy/local/run.sh with topics, database and ports of its own, and `.local` in
    `local_dir` (LOCAL_DIR); stopped as Ctrl-C would stop it."""

    def __init__(self, services: dict[str, str], local_dir: Path) -> None:
        run = uuid.uuid4().hex[:8]
        self.database = f"make_run_{run}"
        self.platform_topic = run_topic(f"make-run-{run}.platform-catalog")
        self.admin_url = f"http://127.0.0.1:{free_port()}/admin/tiktok-shop"
        self.log = local_dir / "run.log"
        names = ("webhooks", "admin_commands", "events", "dead_letter")
        self.env = {
            **{k: v for k, v in os.environ.items() if k not in _SETTING_NAMES},
            **services,
            "LOCAL_DIR": str(local_dir),
            "MONGODB_DATABASE": self.database,
            "KAFKA_GROUP_ID": f"make-run-{run}",
            **{f"TOPIC_{n.upper()}": run_topic(f"make-run-{run}.{n}") for n in names},
            "TOPIC_PLATFORM_CATALOG": self.platform_topic,
            "ADMIN_API_TOKEN": ADMIN_TOKEN,
            "ADMIN_PORT": self.admin_url.split(":")[2].split("/")[0],
            "INGRESS_PORT": str(free_port()),
            "SIM_PORT": str(free_port()),
        }
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with self.log.open("wb") as out:
            self.proc = subprocess.Popen(
                [str(ROOT / "deploy" / "local" / "run.sh")],
                cwd=ROOT,
                env=self.env,
                stdout=out,
                stderr=subprocess.STDOUT,
                start_new_session=True,  # its own process group: the service and the simulator
            )

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        os.killpg(self.proc.pid, signal.SIGINT)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()

    def output(self) -> str:
        return self.log.read_text(errors="replace")


@pytest.fixture
async def make_run(services: dict[str, str], tmp_path: Path) -> AsyncIterator[MakeRun]:
    running = MakeRun(services, tmp_path)
    running.start()
    try:
        yield running
    finally:
        running.stop()
        mongo: AsyncMongoClient[dict[str, Any]] = AsyncMongoClient(services["MONGODB_URI"])
        await mongo.drop_database(running.database)
        await mongo.close()


async def test_readme_s_stock_and_price_examples_apply_under_make_run(make_run: MakeRun) -> None:
    async with httpx.AsyncClient(
        base_url=make_run.admin_url, headers={"Authorization": f"Bearer {ADMIN_TOKEN}"}, timeout=30
    ) as admin:

        async def ready() -> bool:
            assert make_run.proc is not None
            assert make_run.proc.poll() is None, make_run.output()
            try:
                return (await admin.get("/settings")).json().get("status") == "connected"
            except httpx.HTTPError:
                return False

        await eventually(ready, timeout=90)
        examples = readme_platform_examples()
        product = examples[0]["localProductId"]
        created = await admin.post(
            "/listings/create", json={"localProductId": product, "title": "Mug"}
        )
        assert created.status_code == 200, created.text

        await publish_many(
            make_run.env["KAFKA_BOOTSTRAP_SERVERS"],
            make_run.platform_topic,
            [(product.encode(), json.dumps(example).encode()) for example in examples],
        )

        async def listing() -> dict[str, Any]:
            answer = await admin.get(f"/listings/by-product/{product}")
            found: dict[str, Any] = answer.json()["listing"]
            return found

        stocked = await eventually(listing, until=lambda got: got["stock"] and got["priceVersion"])
        inventory, price = examples
        assert stocked["stock"] == [
            {
                "warehouseId": DEFAULT_SALES_WAREHOUSE,
                "quantity": inventory["quantity"],
                "version": inventory["version"],
            }
        ]
        assert (stocked["price"], stocked["priceVersion"]) == (price["amount"], price["version"])
        letters = (await admin.get("/dead-letters")).json()
        assert letters["total"] == 0, letters
    assert f"wh-main:{DEFAULT_SALES_WAREHOUSE}" in make_run.output()
