"""The retry policies end at once when their task is cancelled (a stop), whatever they retry."""

import asyncio
import re
from pathlib import Path

import pytest

from service import retries


@pytest.mark.parametrize("on", [lambda exc: True, Exception], ids=["predicate", "class"])
async def test_a_cancelled_retry_loop_stops_instead_of_trying_again(on: retries.RetryOn) -> None:
    attempts = 0
    in_hand = asyncio.Event()

    async def keep_failing() -> None:
        nonlocal attempts
        async for attempt in retries.KAFKA_CONNECT.context(on=on):
            with attempt:
                attempts += 1
                in_hand.set()
                await asyncio.sleep(3600)  # the call in hand when the stop comes

    task = asyncio.create_task(keep_failing())
    await in_hand.wait()
    task.cancel()
    await asyncio.wait({task}, timeout=1.0)
    assert task.cancelled(), "the retry loop went on after its task was cancelled"
    assert attempts == 1


def test_the_readme_states_the_attempts_the_policies_make() -> None:
    readme = (Path(__file__).parents[2] / "README.md").read_text()
    stated = re.findall(r"`retries\.([A-Z_]+)`:\s+(\d+)\s+attempts", readme)
    assert stated, "the README names no policy's attempts"
    for name, attempts in stated:
        assert getattr(retries, name).attempts == int(attempts), name
    # Every count of attempts the README gives is one of those, named by its policy.
    assert len(re.findall(r"\d+\s+attempts", readme)) == len(stated)
