"""How long stopping may take, and what holds every step of a stop to it.

Kubernetes sends SIGTERM, waits `terminationGracePeriodSeconds` (30 s by default; the chart
gives the ingress 20 s and the worker 25 s, the first 5 s of which a preStop pause while
Services stop routing), then kills. So a part must exit within `STOP_SECONDS` of the signal,
whatever is unreachable:

1. HTTP: no new connections; requests in hand get `HTTP_DRAIN_SECONDS` (uvicorn's graceful
   shutdown), then are cancelled.
2. Worker: the consumers stop fetching; the handlers in hand get `HANDLERS_SECONDS` (FastStream's
   `graceful_timeout`), then are cancelled. A cancelled or failed batch is not acknowledged, so
   Kafka delivers it again (to another worker, or after the restart) and it is applied once.
3. Then each closing step (the outbox relay, background jobs, the Kafka producer, the TikTok and
   database clients) gets a few seconds of its own (`step`), and is abandoned after them: with
   Kafka or the database gone, closing a consumer, flushing a producer or marking a job as
   interrupted would otherwise wait for them. What was abandoned is safe by design: offsets not
   committed are delivered again, events not published wait in their documents for the next
   start's outbox sweep, a job left running is closed as failed by the next start.
4. Last resort (`arm_deadline`): a thread that ends the process with exit code 3 once
   `STOP_SECONDS` have passed, for anything that ignored its cancellation. A second signal ends
   it at once (`exit_now`).
"""

import asyncio
import logging
import os
import threading
from collections.abc import Awaitable

import structlog

log = structlog.get_logger(__name__)

#: From SIGTERM (or Ctrl-C) to the exit of the process, at most, seconds.
STOP_SECONDS = 15.0
#: Requests in hand when the stop begins: uvicorn's `timeout_graceful_shutdown`, seconds.
HTTP_DRAIN_SECONDS = 2
#: Handlers in hand when the consumers stop: FastStream's `graceful_timeout`, seconds.
HANDLERS_SECONDS = 5.0
#: Exit code of a stop that ran out of time.
OUT_OF_TIME = 3


async def step(name: str, work: Awaitable[object], seconds: float) -> bool:
    """Run one step of a stop for at most `seconds`; cancel it after that, or when it fails.

    Returns whether it finished. Never raises (but for the stop's own cancellation): a stop goes
    on to its next step whatever this one met, and says so in the log. (aiokafka's consumer,
    closed while Kafka is away, raises the CancelledError of its own fetch task.)
    """
    try:
        await asyncio.wait_for(work, seconds)
    except asyncio.CancelledError:
        current = asyncio.current_task()
        if current is not None and current.cancelling():
            raise  # the stop itself is being cancelled
        log.warning("stopping: a step ended cancelled; going on", step=name)
        return False
    except TimeoutError:
        log.warning("stopping: a step ran out of time; left as it was", step=name, seconds=seconds)
        return False
    except Exception as exc:
        log.warning("stopping: a step failed; going on", step=name, error=repr(exc))
        return False
    return True


_armed = threading.Lock()


def arm_deadline(seconds: float = STOP_SECONDS) -> None:
    """Called when the stop begins: end the process with `OUT_OF_TIME` if it is still running
    after `seconds` (a thread, so a blocked event loop cannot hold it). Later calls do nothing."""
    if not _armed.acquire(blocking=False):
        return
    timer = threading.Timer(seconds, exit_now, args=(f"{seconds:g} s",))
    timer.daemon = True
    timer.start()


def exit_now(why: str) -> None:
    """End the process at once with `OUT_OF_TIME` (a second signal, or the deadline)."""
    log.error(
        "stopping took too long; exiting now (unacknowledged messages are delivered again)",
        after=why,
    )
    logging.shutdown()
    os._exit(OUT_OF_TIME)
