"""`make bench`'s catalog measurement at a small size, so that it keeps working; no timing is
asserted, only what coalescing promises: fewer calls than changes, every SKU at its last
quantity."""

import pytest

from bench.catalog_pushes import measure
from service.settings import Settings

pytestmark = pytest.mark.integration


async def test_the_catalog_benchmark_runs_small(settings: Settings) -> None:
    figures = await measure(settings, events=300, skus=5, baseline_events=20, lone=1)
    assert figures.baseline_calls == 20  # the baseline makes one call per change
    assert 5 <= figures.calls < 300 / 5  # at least one per SKU, far fewer than one per change
    assert len(figures.lone_s) == len(figures.lone_baseline_s) == 1
