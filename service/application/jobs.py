"""Long operations as jobs: accepted at once with an id, run in the background with their
progress recorded, one per shop and kind, closed as failed if their worker stops.

A Kafka handler never runs a pull itself: a large shop's pull outlasts the consumer's poll
limit (5 minutes by default), the consumer leaves its group, the offset is not committed and
the same command runs again, forever. A command waits for its job at most
`AppConfig.command_wait_seconds` (`COMMAND_WAIT`, or a third of the consumer's poll limit when
that is lower) and answers the progress so far.
"""

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from typing import TypeVar

import structlog

from contracts import commands as c
from contracts import replies as r
from contracts.entities import Job, JobFailure, JobKind
from service.application.context import Context
from service.application.errors import GatewayError, NotFound
from service.application.ports import DatabaseUnavailable, PageRequest, Unreadable
from service.domain.ids import new_id
from service.domain.time import utcnow

log = structlog.get_logger(__name__)

T = TypeVar("T")

#: How long a command waits for its job before answering the progress so far (seconds), at
#: most: `AppConfig.command_wait_seconds` keeps it below the consumer's poll limit.
COMMAND_WAIT = 10.0
#: Records applied per unit of work.
PAGE = 100
#: Seconds between heartbeats of a running job.
HEARTBEAT_SECONDS = 15.0

#: Applies one page of records in a unit of work; answers the failures among them.
ApplyPage = Callable[[Context, list[T]], Awaitable[list[JobFailure]]]


async def run_pull(
    ctx: Context,
    kind: JobKind,
    shop_id: str,
    records: Callable[[], AsyncIterator[T | Unreadable]],
    apply_page: "ApplyPage[T]",
    *,
    wait: float,
) -> r.SyncedReply:
    """Start (or join) the shop's job of this kind and answer its progress after at most
    `wait` seconds."""
    job = Job(id=new_id(), shop_id=shop_id, kind=kind, status="running", started_at=utcnow())
    running = await ctx.jobs.start(job)
    if running is not None:
        log.info("job already running", kind=kind, shop_id=shop_id, job_id=running.id)
        return _reply(running)
    finished = asyncio.Event()
    ctx.spawner.spawn(
        _run(ctx, job, records, apply_page, finished), name=f"{kind}-{shop_id}-{job.id}"
    )
    if wait > 0:
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(finished.wait(), wait)
    return _reply(await ctx.jobs.job(shop_id, job.id) or job)


def _reply(job: Job) -> r.SyncedReply:
    return r.SyncedReply(synced=job.done, failed=job.failed, job=job)


async def _run(
    ctx: Context,
    job: Job,
    records: Callable[[], AsyncIterator[T | Unreadable]],
    apply_page: "ApplyPage[T]",
    finished: asyncio.Event,
) -> None:
    done = failed = 0
    beating = asyncio.create_task(_beat(ctx, job))
    with structlog.contextvars.bound_contextvars(job_id=job.id, shop_id=job.shop_id):
        try:
            page: list[T] = []
            failures: list[JobFailure] = []

            async def flush() -> None:
                nonlocal done, failed
                applied = await ctx.in_own_unit(lambda unit: apply_page(unit, list(page)))
                failures.extend(applied)
                done += len(page) - len(applied)
                failed += len(failures)
                await ctx.jobs.progress(job, len(page) - len(applied), failures)
                page.clear()
                failures.clear()

            async for record in records():
                if isinstance(record, Unreadable):
                    failures.append(JobFailure(ref=record.ref, error=record.reason))
                    log.warning("record skipped", ref=record.ref, reason=record.reason)
                else:
                    page.append(record)
                if len(page) >= PAGE:
                    await flush()
            await flush()
            outcome = job.model_copy(update={"status": "completed"})
        except asyncio.CancelledError:
            await _end(ctx, job, done, failed, "Interrupted: the worker stopped during the job")
            raise
        except GatewayError as exc:
            outcome = job.model_copy(update={"status": "failed", "error": exc.message})
        except Exception as exc:
            log.exception("job failed")
            outcome = job.model_copy(update={"status": "failed", "error": repr(exc)})
        finally:
            beating.cancel()
            finished.set()
        final = outcome.model_copy(update={"done": done, "failed": failed})
        await ctx.jobs.end(final.model_copy(update={"completed_at": utcnow()}))
        log.info("job ended", kind=job.kind, status=final.status, done=done, failed=failed)


async def _end(ctx: Context, job: Job, done: int, failed: int, error: str) -> None:
    with contextlib.suppress(Exception):
        await ctx.jobs.end(
            job.model_copy(
                update={
                    "status": "failed",
                    "error": error,
                    "done": done,
                    "failed": failed,
                    "completed_at": utcnow(),
                }
            )
        )


async def _beat(ctx: Context, job: Job) -> None:
    while True:
        await asyncio.sleep(HEARTBEAT_SECONDS)
        with contextlib.suppress(DatabaseUnavailable):
            await ctx.jobs.progress(job, 0, ())


async def get_job(cmd: c.GetJob, ctx: Context) -> r.JobReply:
    """`jobs.get`: a job and its progress."""
    job = await ctx.jobs.job(ctx.shop(cmd.shop_id), cmd.id)
    if job is None:
        raise NotFound("Job not found")
    return r.JobReply(job=job)


async def list_jobs(cmd: c.ListJobs, ctx: Context) -> r.JobsReply:
    """`jobs.list`: the shop's jobs, newest first."""
    jobs, total = await ctx.jobs.jobs(
        ctx.shop(cmd.shop_id), PageRequest(cmd.page, cmd.limit), cmd.kind, cmd.status
    )
    return r.JobsReply(jobs=jobs, total=total)


def failures_of(results: Sequence[tuple[str, Exception | None]]) -> list[JobFailure]:
    """The failures among (ref, error) results, each with a one-line reason."""
    return [
        JobFailure(ref=ref, error=getattr(error, "message", None) or str(error) or repr(error))
        for ref, error in results
        if error is not None
    ]
