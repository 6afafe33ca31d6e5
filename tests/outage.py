"""The separate local Kafka broker and database that tests may stop, kill and restart.

`deploy/local/services.sh` runs them (`KAFKA_INSTANCE=outage`, `MONGO_INSTANCE=outage`) with
their own data, pid files and logs; here they also get ports of their own, picked free once per
test session, so that other checkouts running the same tests on the default outage ports are not
disturbed, and the shared broker and database never are.
"""

import os
import subprocess
from functools import cache

from tests.support import ROOT, free_port

SERVICES = str(ROOT / "deploy" / "local" / "services.sh")


@cache
def ports() -> dict[str, str]:
    """The outage instances' ports, as the variables services.sh reads."""
    return {
        "LOCAL_OUTAGE_KAFKA_PORT": str(free_port()),
        "LOCAL_OUTAGE_KAFKA_CONTROLLER_PORT": str(free_port()),
        "LOCAL_OUTAGE_KAFKA_SCRAM_PORT": str(free_port()),
        "LOCAL_OUTAGE_MONGO_PORT": str(free_port()),
    }


def _run(instance: str, command: str) -> dict[str, str]:
    done = subprocess.run(
        [SERVICES, command],
        env={**os.environ, **ports(), instance: "outage"},
        check=True,
        capture_output=True,
        text=True,
    )
    return dict(line.split("=", 1) for line in done.stdout.split())


def kafka(command: str) -> dict[str, str]:
    """`services.sh <command>` on the outage broker: up, down, env or scram-env (whose
    printed variables are returned)."""
    return _run("KAFKA_INSTANCE", command)


def mongo(command: str) -> dict[str, str]:
    """`services.sh <command>` on the outage database: up, down, kill or env."""
    return _run("MONGO_INSTANCE", command)
