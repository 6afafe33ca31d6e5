"""The retry policies end at once when their task is cancelled (a stop), whatever they retry."""

import asyncio

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
