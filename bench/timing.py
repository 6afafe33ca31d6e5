"""Small helpers: run a measurement several times and report medians and their ratio."""

import statistics
import time
import tracemalloc
from collections.abc import Awaitable, Callable


async def median_seconds(run: Callable[[], Awaitable[None]], *, rounds: int) -> float:
    times = []
    for _ in range(rounds):
        start = time.perf_counter()
        await run()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


async def peak_bytes(run: Callable[[], Awaitable[None]]) -> int:
    """Peak Python heap allocated while `run` runs (tracemalloc)."""
    tracemalloc.start()
    try:
        await run()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def report(name: str, subject: str, subject_s: float, baseline: str, baseline_s: float) -> str:
    return (
        f"{name}: {subject} {subject_s * 1000:,.1f} ms, {baseline} {baseline_s * 1000:,.1f} ms, "
        f"time ratio {subject_s / baseline_s:.2f}x (subject / baseline, medians)"
    )
