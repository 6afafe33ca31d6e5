"""The time a batch of webhooks may spend on TikTok's API, shared by every call it makes.

A webhook handler reads TikTok's copy of what it names (order details, returns, product
detail), and the gateway retries a throttled or failing call for up to two minutes
(`retries.TIKTOK_CALL`). A batch of a hundred such webhooks could then outlast Kafka's poll
limit: the consumer would leave its group and the batch run again, forever. So the bus gives
each batch a budget (`AppConfig.webhook_tiktok_seconds`, a third of the poll limit) and every
handler call to TikTok goes through `call`: once the budget is spent a call fails at once as a
retryable `GatewayError`, and the handler flags what it could not read `needsRefresh`, as for
any other failed call.

The budget is a context variable set around the batch, so work that outlives the message (a
job it spawned, which copies the context) never uses `call` and is not bounded by it.
"""

import asyncio
from collections.abc import Awaitable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import TypeVar

from service.application.errors import GatewayError

T = TypeVar("T")

_deadline: ContextVar[float | None] = ContextVar("tiktok_deadline", default=None)


@contextmanager
def bounded(seconds: float) -> Iterator[None]:
    """TikTok calls made through `call` within the block share `seconds` in all."""
    token = _deadline.set(asyncio.get_running_loop().time() + seconds)
    try:
        yield
    finally:
        _deadline.reset(token)


async def call(work: Awaitable[T]) -> T:
    """Await a TikTok call within the current budget (unbounded outside `bounded`).

    Raises GatewayError (retryable) when the budget is spent, before or during the call.
    """
    deadline = _deadline.get()
    if deadline is None:
        return await work
    left = deadline - asyncio.get_running_loop().time()
    if left <= 0:
        if asyncio.iscoroutine(work):
            work.close()  # never started: no "never awaited" warning
        raise GatewayError(_SPENT, retryable=True)
    try:
        async with asyncio.timeout(left):
            return await work
    except TimeoutError as exc:
        raise GatewayError(_SPENT, retryable=True) from exc


_SPENT = "this batch of webhooks spent its time on TikTok's API; the rest waits for a refresh"
