"""The fault table's quick variant (`make reliability` runs the whole one): the worker process is
killed with SIGKILL in the middle of a load of signed webhooks and started again; every webhook
that got a 200 is applied, once, and every order ends in the status of its newest webhook."""

import pytest

from bench.reliability import Plan, run

pytestmark = pytest.mark.integration


async def test_killing_the_worker_mid_load_loses_nothing(services: dict[str, str]) -> None:
    plan = Plan(orders=12, statuses=3, duplicates=0.3, senders=4, rate=20.0, down_for=1.0)
    (row,) = await run(["worker"], plan, deadline_seconds=100, given=services, log=lambda _: None)
    assert row.downtime is not None  # the worker was killed and came back
    assert (row.webhooks, row.deliveries) == (36, 46)
    assert (row.accepted, row.refused, row.unaccepted) == (46, 0, 0)
    assert (row.lost, row.duplicated, row.wrong, row.unapplied) == (0, 0, 0, 0)
    assert row.drain is not None
