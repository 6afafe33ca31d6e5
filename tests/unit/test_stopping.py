"""Each step of a stop is bounded and cannot end the stop; the watchdog ends the process."""

import asyncio
import subprocess
import sys
import time

import pytest

from service import stopping
from tests.support import ROOT


async def test_a_step_that_hangs_is_abandoned_after_its_time() -> None:
    started = time.monotonic()
    assert not await stopping.step("hangs", asyncio.sleep(3600), 0.2)
    assert time.monotonic() - started < 1


async def test_a_step_that_fails_or_ends_cancelled_lets_the_stop_go_on() -> None:
    async def fails() -> None:
        raise ConnectionError("Kafka is gone")

    async def cancelled_inside() -> None:
        # What aiokafka's consumer does when closed while Kafka is away.
        inner = asyncio.create_task(asyncio.sleep(3600))
        await asyncio.sleep(0)
        inner.cancel()
        await inner

    assert not await stopping.step("fails", fails(), 1)
    assert not await stopping.step("cancelled inside", cancelled_inside(), 1)
    assert await stopping.step("quick", asyncio.sleep(0), 1)


async def test_cancelling_the_stop_itself_still_cancels_it() -> None:
    stop = asyncio.create_task(stopping.step("slow", asyncio.sleep(3600), 60))
    await asyncio.sleep(0.05)
    stop.cancel()
    with pytest.raises(asyncio.CancelledError):
        await stop


def test_the_deadline_ends_a_process_that_does_not_stop() -> None:
    script = (
        "import time\n"
        "from service import stopping\n"
        "stopping.arm_deadline(0.5)\n"
        "stopping.arm_deadline(60)  # a second arming changes nothing\n"
        "time.sleep(30)\n"
    )
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-c", script], cwd=ROOT, capture_output=True, text=True, timeout=20
    )
    assert done.returncode == stopping.OUT_OF_TIME
    assert time.monotonic() - started < 10
    assert "stopping took too long" in done.stdout + done.stderr
