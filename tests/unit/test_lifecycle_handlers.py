"""The order-lifecycle handlers over in-memory ports and a scripted TikTok: reconciliation runs,
seller decisions that TikTok refuses or that are refused before TikTok is asked, and refunds
announced once."""

from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from contracts import commands as c
from contracts import webhooks as w
from contracts.entities import ChannelOrder, ReverseRequest
from contracts.events import OrderReceived, RefundSucceeded
from service.application.errors import GatewayError, InvalidRequest, TikTokFailed
from service.application.observer import QUIET
from service.application.ports import Unreadable
from service.domain.carriers import Provider
from service.domain.fees import Settlement
from service.domain.orders import order_id_for
from service.domain.remote import RemoteOrder, RemoteProduct
from service.domain.reverse_requests import RemoteRequest
from tests.unit.fakes import CONFIG, FakeReconciliations, InlineSpawner, Stored, fake_bus

SHOP = CONFIG.default_shop_id
T0 = datetime(2026, 5, 1, 12, tzinfo=UTC)


def remote(external: str, status: str = "AWAITING_SHIPMENT", seconds: int = 0) -> RemoteOrder:
    return RemoteOrder(
        external_order_id=external,
        status="confirmed" if status == "AWAITING_SHIPMENT" else "delivered",
        external_status=status,
        updated_at=T0 + timedelta(seconds=seconds),
        created_at=T0,
        total=2000,
    )


@dataclass
class ScriptedTikTok:
    """TikTok as a test scripts it: its orders, requests and settlements, and what was asked."""

    orders: dict[str, RemoteOrder] = field(default_factory=dict)
    requests: list[RemoteRequest] = field(default_factory=list)
    settlements: dict[str, Settlement] = field(default_factory=dict)
    refuse: GatewayError | None = None
    fail_search: GatewayError | None = None
    asked: list[tuple[str, Any]] = field(default_factory=list)

    def enabled(self, shop_id: str) -> bool:
        return True

    async def orders_changed(
        self, shop_id: str, since: datetime | None
    ) -> AsyncIterator[RemoteOrder | Unreadable]:
        self.asked.append(("orders_changed", since))
        if self.fail_search is not None:
            raise self.fail_search
        for order in sorted(self.orders.values(), key=lambda o: o.updated_at):
            if since is None or order.updated_at >= since:
                yield order
        yield Unreadable(ref="bad-1", reason="an amount finer than USD allows")

    async def requests_changed(
        self, shop_id: str, since: datetime | None
    ) -> AsyncIterator[RemoteRequest | Unreadable]:
        for request in self.requests:
            yield request

    async def products_changed(
        self, shop_id: str, since: datetime | None
    ) -> AsyncIterator[RemoteProduct | Unreadable]:
        return
        yield

    async def order_details(self, shop_id: str, ids: Sequence[str]) -> list[RemoteOrder]:
        self.asked.append(("order_details", list(ids)))
        return [self.orders[i] for i in ids if i in self.orders]

    async def settlement(self, shop_id: str, external_order_id: str) -> Settlement | None:
        return self.settlements.get(external_order_id)

    async def approve_cancellation(
        self, shop_id: str, cancel_id: str, *, idempotency_key: str
    ) -> None:
        self.asked.append(("approve_cancellation", cancel_id))
        if self.refuse is not None:
            raise self.refuse

    async def shipping_providers(self, shop_id: str, external_order_id: str) -> list[Provider]:
        return [Provider("6617", "USPS"), Provider("7117858858072016686", "UPS")]

    async def ship(self, *args: Any, **kwargs: Any) -> None:
        self.asked.append(("ship", args))


class DriftRecorder:
    """The observer port (reporting nothing else), keeping each completed run's drift."""

    def __init__(self) -> None:
        self.reported: list[tuple[str, int]] = []

    def handled(self, kind: Any, handler: str, outcome: str, seconds: float) -> None:
        return None

    def reconciled(self, entity: str, drift: int) -> None:
        self.reported.append((entity, drift))

    def webhook(self, delivery: Any) -> Any:
        return QUIET.webhook(delivery)

    def batch(self, deliveries: Any) -> Any:
        return QUIET.batch(deliveries)

    def totals(self) -> list[int]:
        """Per completed run: orders plus requests that differed from TikTok's copy."""
        runs = [d for e, d in self.reported if e == "orders"]
        requests = [d for e, d in self.reported if e == "requests"]
        return [o + r for o, r in zip(runs, requests, strict=True)]


def bus_with(tiktok: ScriptedTikTok, stored: Stored | None = None) -> Any:
    stored = stored or Stored()
    drifts = DriftRecorder()
    bus, _ = fake_bus(stored, tiktok=tiktok, spawner=InlineSpawner(), observer=drifts)
    return bus, stored, drifts


async def reconcile(bus: Any) -> Any:
    reply = await bus.handle(c.ReconcileOrders())
    return reply.reconciliation


def order_of(stored: Stored, external: str) -> ChannelOrder:
    return stored.orders[order_id_for(SHOP, external)][0]


# --- reconciliation ---------------------------------------------------------------------------


async def test_a_run_brings_in_what_changed_and_a_second_run_finds_nothing_new() -> None:
    tiktok = ScriptedTikTok(orders={e: remote(e) for e in ("a", "b", "c")})
    bus, stored, drifts = bus_with(tiktok)
    first = await reconcile(bus)
    assert first.status == "completed"
    assert (first.orders.created, first.orders.failed, first.drift) == (3, 1, 3)
    assert first.failures[0].ref == "bad-1"
    assert first.watermark == T0
    received = [e for e in stored.events if isinstance(e, OrderReceived)]
    assert len(received) == 3

    tiktok.orders["b"] = remote("b", "DELIVERED", seconds=60)
    second = await reconcile(bus)
    # From the watermark less the overlap: all three again, one of them changed.
    assert ("orders_changed", T0 - timedelta(seconds=CONFIG.reconcile_overlap)) in tiktok.asked
    assert (second.orders.created, second.orders.changed, second.orders.unchanged) == (0, 1, 2)
    assert order_of(stored, "b").status == "delivered"
    assert len([e for e in stored.events if isinstance(e, OrderReceived)]) == 3  # no repeats
    assert drifts.totals() == [3, 1]
    reconciliations: FakeReconciliations = bus.context().reconciliations
    assert reconciliations.held == {}  # the lease is free again
    assert [e.type for e in reconciliations.published] == ["tiktok.reconciliation.finished"] * 2


async def test_orders_marked_needs_refresh_are_fetched_first() -> None:
    tiktok = ScriptedTikTok(orders={"a": remote("a")})
    bus, stored, _ = bus_with(tiktok)
    # What a type 3 webhook leaves when the API could not be asked: the status only.
    stub = ChannelOrder(
        id=order_id_for(SHOP, "a"),
        shop_id=SHOP,
        external_order_id="a",
        status="confirmed",
        external_status="AWAITING_SHIPMENT",
        external_updated_at=T0,
        needs_refresh=True,
        created_at=T0,
        updated_at=T0,
    )
    stored.orders[stub.id] = (stub, 1)
    run = await reconcile(bus)
    assert tiktok.asked[0] == ("order_details", ["a"])  # before any search
    assert run.refreshed == 1
    assert order_of(stored, "a").needs_refresh is False
    assert order_of(stored, "a").total == 2000


async def test_a_run_that_tiktok_fails_keeps_the_watermark() -> None:
    tiktok = ScriptedTikTok(orders={"a": remote("a")})
    bus, _, drifts = bus_with(tiktok)
    await reconcile(bus)
    tiktok.fail_search = GatewayError("TikTok failed with a server error", retryable=True)
    failed = await reconcile(bus)
    assert (failed.status, failed.error) == ("failed", "TikTok failed with a server error")
    reconciliations: FakeReconciliations = bus.context().reconciliations
    assert reconciliations.marks[SHOP].orders == T0
    assert reconciliations.held == {}
    assert len(drifts.totals()) == 1  # only completed runs feed the drift figure


async def test_requests_and_settled_fees_are_reconciled() -> None:
    deadline = T0 + timedelta(days=1)
    tiktok = ScriptedTikTok(
        orders={"a": remote("a"), "d": remote("d", "DELIVERED")},
        requests=[
            RemoteRequest(
                kind="cancellation",
                id="c1",
                order_id="a",
                status="CANCELLATION_REQUEST_PENDING",
                next_action="SELLER_RESPOND_BUYER_CANCEL",
                deadline=deadline,
                created_at=T0,
                updated_at=T0,
                knows_next_action=True,
            )
        ],
        settlements={"d": Settlement("d", "USD", settlement_amount=1822, fee_and_tax_amount=-178)},
    )
    bus, stored, _ = bus_with(tiktok)
    run = await reconcile(bus)
    assert (run.requests.created, run.fees_settled) == (1, 1)
    [request] = order_of(stored, "a").reverse_requests
    assert (request.awaiting_seller, request.deadline) == (True, deadline)
    settled = order_of(stored, "d")
    assert (settled.platform_fee, settled.net_amount, settled.fees_settled) == (178, 1822, True)
    again = await reconcile(bus)
    assert (again.requests.unchanged, again.fees_settled) == (1, 0)


def completed_refund(order_id: str, amount: int, seconds: int = 0) -> RemoteRequest:
    """A refund-only return TikTok's returns search states as paid back."""
    return RemoteRequest(
        kind="return",
        id=f"r-{order_id}",
        order_id=order_id,
        status="RETURN_OR_REFUND_REQUEST_COMPLETE",
        type="REFUND",
        refund_total=amount,
        currency="USD",
        line_item_ids=("line-1",),
        created_at=T0,
        updated_at=T0 + timedelta(seconds=seconds),
        knows_next_action=True,
    )


async def test_a_reconciled_return_counts_its_refund_like_a_webhook_would() -> None:
    tiktok = ScriptedTikTok(
        orders={"part": remote("part", "DELIVERED"), "all": remote("all", "DELIVERED")},
        requests=[completed_refund("part", 500), completed_refund("all", 2000)],
    )
    bus, stored, _ = bus_with(tiktok)
    run = await reconcile(bus)
    assert run.requests.created == 2
    part, whole = order_of(stored, "part"), order_of(stored, "all")
    assert (part.status, part.refunded_amount, part.needs_refresh) == ("delivered", 500, False)
    assert (whole.status, whole.refunded_amount) == ("refunded", 2000)
    [entry] = part.reverse_requests
    assert (entry.refund_total, entry.line_item_ids) == (500, ["line-1"])
    # TikTok's order copy, a second later, says DELIVERED again: the full refund holds.
    tiktok.orders["all"] = remote("all", "DELIVERED", seconds=1)
    await reconcile(bus)
    assert order_of(stored, "all").status == "refunded"


# --- seller decisions -------------------------------------------------------------------------


def waiting_order(stored: Stored) -> ChannelOrder:
    order = ChannelOrder(
        id=order_id_for(SHOP, "a"),
        shop_id=SHOP,
        external_order_id="a",
        status="confirmed",
        reverse_requests=[
            ReverseRequest(
                kind="cancellation",
                id="c1",
                status="CANCELLATION_REQUEST_PENDING",
                awaiting_seller=True,
                created_at=T0,
            )
        ],
        created_at=T0,
        updated_at=T0,
    )
    stored.orders[order.id] = (order, 1)
    return order


async def test_a_decision_tiktok_refuses_answers_its_code_and_writes_nothing() -> None:
    tiktok = ScriptedTikTok(
        refuse=GatewayError(
            "TikTok refused the call (25001001, request r): not pending", code=25001001
        )
    )
    bus, stored, _ = bus_with(tiktok)
    order = waiting_order(stored)
    with pytest.raises(TikTokFailed) as refused:
        await bus.handle(c.ApproveCancellation(id=order.id))
    assert refused.value.reply().tiktok_code == 25001001
    assert stored.orders[order.id] == (order, 1)
    assert stored.events == []


async def test_an_accepted_decision_is_recorded_with_its_event() -> None:
    tiktok = ScriptedTikTok()
    bus, stored, _ = bus_with(tiktok)
    order = waiting_order(stored)
    reply = await bus.handle(c.ApproveCancellation(id=order.id))
    [request] = reply.order.reverse_requests
    assert (request.status, request.awaiting_seller) == ("CANCELLATION_REQUEST_SUCCESS", False)
    [held] = order_of(stored, "a").reverse_requests
    assert (held.status, held.awaiting_seller) == ("CANCELLATION_REQUEST_SUCCESS", False)
    assert [e.type for e in stored.events] == ["tiktok.cancellation.approved"]
    with pytest.raises(InvalidRequest, match="nothing to decide"):
        await bus.handle(c.ApproveCancellation(id=order.id, request_id="c1"))
    assert tiktok.asked == [("approve_cancellation", "c1")]  # asked once


async def test_an_unknown_carrier_is_refused_before_tiktok_ships() -> None:
    tiktok = ScriptedTikTok()
    bus, stored, _ = bus_with(tiktok)
    order = waiting_order(stored)
    with pytest.raises(InvalidRequest, match="USPS"):
        await bus.handle(c.ShipOrder(id=order.id, tracking_number="1Z", carrier="Pony"))
    assert not [a for a in tiktok.asked if a[0] == "ship"]
    assert stored.orders[order.id] == (order, 1)


# --- refunds ----------------------------------------------------------------------------------


async def test_an_after_sales_refund_is_recorded_not_counted_twice() -> None:
    # The same refund as the after-sales model tells it (67) and as the returns search does.
    tiktok = ScriptedTikTok(
        orders={"d": remote("d", "DELIVERED")}, requests=[completed_refund("d", 2000)]
    )
    bus, stored, _ = bus_with(tiktok)
    await reconcile(bus)
    paid = w.WebhookMessage(
        notification_id="n-paid",
        source="tiktok",
        webhook_type="67",
        shop_id=SHOP,
        received_at=T0,
        correlation_id="c",
        body={
            "type": 67,
            "data": {
                "aftersales_request_id": "as-d",
                "refund_total": "20.00",
                "refund_currency": "USD",
                "line_items": [{"main_order_id": "d"}],
            },
        },
    )
    await bus.apply([paid])
    order = order_of(stored, "d")
    assert (order.status, order.refunded_amount) == ("refunded", 2000)
    assert {(r.kind, r.refund_total) for r in order.reverse_requests} == {
        ("return", 2000),
        ("aftersales", 2000),
    }
    assert [e.request_id for e in stored.events if isinstance(e, RefundSucceeded)] == ["as-d"]


async def test_a_refund_redelivered_under_another_id_is_announced_once() -> None:
    tiktok = ScriptedTikTok()
    bus, stored, _ = bus_with(tiktok)
    waiting_order(stored)

    def refund(nid: str) -> w.WebhookMessage:
        return w.WebhookMessage(
            notification_id=nid,
            source="tiktok",
            webhook_type="67",
            shop_id=SHOP,
            received_at=T0,
            correlation_id="c",
            body={
                "type": 67,
                "data": {
                    "aftersales_request_id": "as1",
                    "refund_total": "20.00",
                    "refund_currency": "USD",
                    "line_items": [{"main_order_id": "a"}],
                },
            },
        )

    await bus.apply([refund("n1")])
    await bus.apply([refund("n2")])
    refunds = [e for e in stored.events if isinstance(e, RefundSucceeded)]
    assert [(e.request_id, e.amount, e.currency) for e in refunds] == [("as1", 2000, "USD")]
    entry = next(r for r in order_of(stored, "a").reverse_requests if r.kind == "aftersales")
    assert (entry.refund_total, entry.refunded_at) == (2000, T0)
