"""Each benchmark of `make bench`, run at a tiny size so that it keeps working. Only that each
produces its figures is checked: no time is asserted (the machine's load decides those)."""

import pytest

from bench import admin, goal, ingress, pipeline, workers
from service.settings import Settings

pytestmark = pytest.mark.integration


@pytest.mark.timeout(300)
async def test_the_end_to_end_benchmark_measures_the_worker_against_raw_writes(
    settings: Settings,
) -> None:
    figures, by_batch = await pipeline.run(
        settings, sizes=(60, 120), orders_per_run=20, batch_sizes=(10,)
    )
    assert [f.stored for f in figures] == [60, 120]
    for f in figures:
        assert f.worker.webhooks == 60
        assert f.worker.rate > 0
        assert f.raw_rate > 0
        assert f.orders_rate > 0
        assert sum(f.worker.commands.values()) > 0
    assert set(by_batch) == {10, settings.webhook_batch_size}
    assert all(run.commands_per_webhook > 0 for run in by_batch.values())
    text = pipeline.report(figures, by_batch)
    assert "| 120 | 60 |" in text
    assert "commands per webhook" in text


@pytest.mark.timeout(300)
async def test_the_admin_benchmark_times_pages_and_stats_against_loading_everything(
    settings: Settings,
) -> None:
    timings = await admin.run(settings, orders=200, listings=30, rounds=3, baseline_rounds=1)
    assert [t.name.split(" ")[0] for t in timings] == ["orders", "listings", "stats"]
    for t in timings:
        assert len(t.service_ms) == 3
        assert len(t.baseline_ms) == 1
        assert t.p(0.99) >= t.p(0.5) > 0
    assert "| stats |" in admin.report(timings, 200, 30)


@pytest.mark.timeout(300)
async def test_the_ingress_benchmark_loads_both_servers_and_the_broker(settings: Settings) -> None:
    figures, kafka = await ingress.run(settings, seconds=1, bodies=200)
    assert [f.server for f in figures] == ["uvicorn", "granian"]
    for f in figures:
        assert f.webhooks.requests > 0
        assert f.webhooks.failed == 0
        assert f.healthz.requests > 0
        assert f.webhooks.p99_ms >= f.webhooks.p50_ms > 0
    assert kafka.requests > 0
    assert "| granian |" in ingress.report(figures, kafka)


@pytest.mark.timeout(300)
async def test_the_workers_benchmark_runs_one_then_two_worker_processes(
    settings: Settings,
) -> None:
    one, two = await workers.run(settings, stored=200, orders=30)
    assert (one.workers, two.workers) == (1, 2)
    assert one.webhooks == two.webhooks == 89
    assert one.rate > 0
    assert two.rate > 0
    assert "| 2 |" in workers.report(one, two, 200)


@pytest.mark.timeout(300)
async def test_the_goal_scenario_applies_every_webhook_the_ingress_accepted(
    settings: Settings,
) -> None:
    run = await goal.run(settings, orders=30)
    assert run.requests == 99  # 90 webhooks and 9 sent twice
    assert run.distinct == 90
    assert run.refused == 0
    assert run.delivered == 30
    assert run.ingress_seconds > 0
    assert run.ratio > 0
    assert "applied / accepted time" in goal.report(run)
