"""Settings that cannot work stop `python -m service` at start, with the reason, rather than
later at the first event they spoil."""

import subprocess
import sys

import pytest

from service.settings import Settings
from tests.processes import env_for
from tests.support import ROOT

pytestmark = pytest.mark.integration

MAIN = "7068517275539719942"


def test_two_platform_warehouses_on_one_tiktok_warehouse_stop_the_start(
    settings: Settings,
) -> None:
    env = env_for(settings, TIKTOK_WAREHOUSE_MAP=f"wh-main:{MAIN},wh-east:{MAIN}")
    worker = subprocess.Popen(
        [sys.executable, "-m", "service", "worker"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        output, _ = worker.communicate(timeout=60)
    except subprocess.TimeoutExpired:
        worker.kill()
        output, _ = worker.communicate()
        raise AssertionError(f"the worker started with the map:\n{output[-2000:]}") from None
    assert worker.returncode != 0
    assert "TIKTOK_WAREHOUSE_MAP" in output.upper()
    assert f"'wh-main' and 'wh-east' are both mapped to TikTok warehouse '{MAIN}'" in output
