"""`make bench`: each benchmark prints its figures and its ratio against a baseline run beside it
on the same machine and services. Absolute numbers depend on the machine; the ratios travel.

`python -m bench [name ...]` runs the named ones only: ingress, goal, workers, pipeline, admin,
catalog.
"""

import asyncio
import os
import sys
import time
from collections.abc import Awaitable, Callable

from bench import admin, catalog_pushes, data, goal, ingress, pipeline, workers
from service.settings import Settings


async def run_ingress(settings: Settings) -> str:
    return ingress.report(*await ingress.run(settings))


async def run_goal(settings: Settings) -> str:
    return goal.report(await goal.run(settings))


async def run_workers(settings: Settings) -> str:
    return workers.report(*await workers.run(settings))


async def run_pipeline(settings: Settings) -> str:
    return pipeline.report(*await pipeline.run(settings))


async def run_admin(settings: Settings) -> str:
    return admin.report(await admin.run(settings))


BENCHMARKS: dict[str, Callable[[Settings], Awaitable[str]]] = {
    "ingress": run_ingress,
    "goal": run_goal,
    "workers": run_workers,
    "pipeline": run_pipeline,
    "admin": run_admin,
    "catalog": catalog_pushes.run,
}


async def main(names: list[str]) -> None:
    data.production_logs()
    settings = Settings()
    unknown = [n for n in names if n not in BENCHMARKS]
    if unknown:
        raise SystemExit(f"unknown benchmark(s) {unknown}; known: {', '.join(BENCHMARKS)}")
    for name in names or BENCHMARKS:
        start = time.perf_counter()
        print(f"## {name} (load average before: {os.getloadavg()[0]:.1f})", flush=True)
        print(await BENCHMARKS[name](settings), flush=True)
        print(f"({time.perf_counter() - start:,.0f} s)\n", flush=True)


asyncio.run(main(sys.argv[1:]))
