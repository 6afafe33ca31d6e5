"""The message bus over in-memory ports: batches, the inbox, newest-update-wins, isolation of a
bad webhook, and one handler table for commands and webhooks alike."""

import asyncio
import uuid
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from contracts import commands as c
from contracts import webhooks as w
from contracts.events import OrderReceived, WebhookReceived
from service.application import catalog, orders
from service.application.errors import NotFound
from service.application.messagebus import HANDLERS
from service.domain.orders import order_id_for
from service.domain.remote import RemoteOrder
from tests.unit.fakes import CONFIG, OfflineTikTok, Stored, fake_bus

SHOP = "shop-1"
NOW = datetime(2026, 11, 30, tzinfo=UTC)


def tiktok(type_: int, data: dict[str, Any], nid: str | None = None) -> w.WebhookMessage:
    return w.WebhookMessage(
        notification_id=nid or uuid.uuid4().hex,
        source="tiktok",
        webhook_type=str(type_),
        shop_id=SHOP,
        received_at=NOW,
        correlation_id="c-1",
        body={"type": type_, "shop_id": SHOP, "data": data},
    )


def tiktok_hook(type_: int, order_id: str) -> w.WebhookMessage:
    return tiktok(type_, {"order_id": order_id, "update_time": 100})


def status_change(
    order_id: str, status: str, when: int, nid: str | None = None
) -> w.WebhookMessage:
    return tiktok(1, {"order_id": order_id, "order_status": status, "update_time": when}, nid)


def order(stored: Stored, external: str) -> Any:
    found = stored.orders.get(order_id_for(SHOP, external))
    return None if found is None else found[0]


async def test_a_batch_is_loaded_once_and_committed_once() -> None:
    bus, stored = fake_bus()
    batch = [status_change(f"o{n}", "AWAITING_SHIPMENT", 100) for n in range(50)]
    outcomes = await bus.apply(batch)
    assert {o.status for o in outcomes} == {"applied"}
    assert (stored.loads, stored.commits) == (1, 1)
    assert len(stored.orders) == 50


async def test_repeated_deliveries_in_and_across_batches_apply_once() -> None:
    bus, stored = fake_bus()
    first = status_change("o1", "AWAITING_SHIPMENT", 100, nid="n-1")
    outcomes = await bus.apply([first, first, status_change("o2", "UNPAID", 100)])
    assert [o.status for o in outcomes] == ["applied", "duplicate", "applied"]
    again = await bus.apply([first])
    assert [o.status for o in again] == ["duplicate"]
    received = [e for e in stored.events if isinstance(e, OrderReceived)]
    assert sorted(e.order.external_order_id for e in received) == ["o1", "o2"]
    hooks = [e for e in stored.events if isinstance(e, WebhookReceived)]
    assert sorted(e.notification_id for e in hooks).count("n-1") == 1


async def test_within_a_batch_the_newest_update_wins_whatever_the_order() -> None:
    bus, stored = fake_bus()
    await bus.apply(
        [
            status_change("o1", "IN_TRANSIT", 300),
            status_change("o1", "UNPAID", 100),
            status_change("o1", "AWAITING_SHIPMENT", 200),
        ]
    )
    assert order(stored, "o1").status == "shipped"


async def test_a_webhook_that_can_never_apply_is_rejected_and_the_rest_of_the_batch_applies() -> (
    None
):
    bus, stored = fake_bus()
    bad = tiktok(1, {"order_status": "UNPAID"}, nid="bad")  # no order_id
    outcomes = await bus.apply(
        [status_change("o1", "UNPAID", 1), bad, status_change("o2", "UNPAID", 1)]
    )
    assert [o.status for o in outcomes] == ["applied", "rejected", "applied"]
    assert outcomes[1].set_aside
    assert "order_id" in stored.inbox["bad"]
    assert order(stored, "o2") is not None


async def test_a_failing_handler_is_isolated_and_the_others_apply(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import stamina

    stamina.set_testing(True, attempts=2)
    bus, stored = fake_bus()
    real = orders.on_order_status_change

    async def flaky(webhook: w.OrderStatusChange, ctx: Any) -> str:
        if webhook.data.order_id == "poison":
            raise RuntimeError("boom")
        return await real(webhook, ctx)

    monkeypatch.setitem(
        bus.handlers,  # type: ignore[arg-type]
        w.OrderStatusChange,
        HANDLERS[w.OrderStatusChange].__class__(flaky, orders.order_keys),
    )
    try:
        outcomes = await bus.apply(
            [
                status_change("o1", "UNPAID", 1),
                status_change("poison", "UNPAID", 1),
                status_change("o3", "UNPAID", 1),
            ]
        )
    finally:
        stamina.set_testing(False)
    assert [o.status for o in outcomes] == ["applied", "failed", "applied"]
    assert order(stored, "o1") is not None
    assert order(stored, "o3") is not None
    assert order(stored, "poison") is None


async def test_a_conflicting_commit_is_run_again() -> None:
    bus, stored = fake_bus()
    stored.fail_next_commits = 2  # the batch commit, then the first single attempt
    outcomes = await bus.apply([status_change("o1", "UNPAID", 1), status_change("o2", "UNPAID", 1)])
    assert [o.status for o in outcomes] == ["applied", "applied"]
    assert len(stored.orders) == 2


async def test_the_seed_sync_webhooks_run_the_same_handlers_as_their_commands() -> None:
    assert HANDLERS[w.SeedOrderSync].handler is HANDLERS[c.SyncOrders].handler is orders.sync_orders
    assert HANDLERS[w.SeedProductSync].handler is catalog.sync_products
    assert HANDLERS[w.SeedCatalogSync].handler is HANDLERS[c.StartCatalogSync].handler


def test_every_command_and_every_typed_webhook_has_a_handler() -> None:
    commands = c.AdminCommand.__origin__.__args__  # type: ignore[attr-defined]
    for command in commands:
        assert command in HANDLERS, command
    for model in (*w.TIKTOK_MODELS.values(), *w.SEED_MODELS.values()):
        assert model in HANDLERS, model


async def test_a_command_answers_its_reply_or_raises_the_answer_that_is_an_error() -> None:
    bus, _ = fake_bus()
    created = await bus.handle(c.CreateListing(local_product_id="sku-1", title="Mug", price=100))
    listing = created.listing  # type: ignore[attr-defined]
    got = await bus.handle(c.GetListing(id=listing.id))
    assert got.listing == listing  # type: ignore[attr-defined]
    with pytest.raises(NotFound):
        await bus.handle(c.GetListing(id="nope"))


class SlowTikTok(OfflineTikTok):
    """TikTok taking `seconds` to detail each order (a throttled call being retried)."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.calls = 0

    def enabled(self, shop_id: str) -> bool:
        return True

    async def order_details(self, shop_id: str, ids: Sequence[str]) -> list[RemoteOrder]:
        self.calls += 1
        await asyncio.sleep(self.seconds)  # stands for TikTok's slowness, not a wait for an effect
        return [
            RemoteOrder(
                external_order_id=i,
                status="confirmed",
                external_status="AWAITING_SHIPMENT",
                updated_at=NOW,
            )
            for i in ids
        ]


async def test_a_batch_spends_a_bounded_time_on_tiktok_and_flags_the_rest_for_refresh() -> None:
    slow = SlowTikTok(0.3)
    bus, stored = fake_bus(tiktok=slow, config=replace(CONFIG, webhook_tiktok_seconds=0.5))
    batch = [tiktok_hook(3, f"o{n}") for n in range(10)]
    loop = asyncio.get_running_loop()
    started = loop.time()
    outcomes = await bus.apply(batch)
    assert loop.time() - started < 1.5  # not ten calls of 0.3 s
    assert {o.status for o in outcomes} == {"applied"}
    assert outcomes[0].detail == "refreshed 1 of 1 orders"
    assert all("marked for refresh" in o.detail for o in outcomes[2:])
    assert slow.calls <= 2
    flagged = [order(stored, f"o{n}") for n in range(2, 10)]
    assert all(o.needs_refresh for o in flagged)
