"""An order's three clocks: its status by update_time, each reverse flow by its request's time
and then its stage; a completed reverse flow holds the order's status."""

import uuid
from datetime import UTC, datetime
from typing import Any

from contracts import webhooks as w
from service.domain.orders import order_id_for
from tests.unit.fakes import Stored, fake_bus

SHOP = "shop-1"
T = 1_796_000_000


def hook(type_: int, data: dict[str, Any]) -> w.WebhookMessage:
    return w.WebhookMessage(
        notification_id=uuid.uuid4().hex,
        source="tiktok",
        webhook_type=str(type_),
        shop_id=SHOP,
        received_at=datetime(2026, 11, 30, tzinfo=UTC),
        correlation_id="c",
        body={"type": type_, "shop_id": SHOP, "data": data},
    )


def order(stored: Stored) -> Any:
    return stored.orders[order_id_for(SHOP, "O")][0]


async def apply_each(*messages: w.WebhookMessage) -> Stored:
    bus, stored = fake_bus()
    for message in messages:  # each applied before the next, as on the running service
        [outcome] = await bus.apply([message])
        assert outcome.status == "applied", outcome
    return stored


async def test_a_cancellation_completes_even_after_the_order_status_said_cancel() -> None:
    stored = await apply_each(
        hook(1, {"order_id": "O", "order_status": "AWAITING_SHIPMENT", "update_time": T}),
        hook(
            11,
            {
                "order_id": "O",
                "cancel_status": "CANCELLATION_REQUEST_PENDING",
                "create_time": T + 100,
            },
        ),
        hook(1, {"order_id": "O", "order_status": "CANCEL", "update_time": T + 200}),
        hook(
            11,
            {
                "order_id": "O",
                "cancel_status": "CANCELLATION_REQUEST_COMPLETE",
                "create_time": T + 100,
            },
        ),
    )
    assert (order(stored).status, order(stored).cancellation_status) == (
        "cancelled",
        "CANCELLATION_REQUEST_COMPLETE",
    )


async def test_an_earlier_stage_arriving_late_does_not_undo_a_later_one() -> None:
    stored = await apply_each(
        hook(
            11,
            {"order_id": "O", "cancel_status": "CANCELLATION_REQUEST_COMPLETE", "create_time": T},
        ),
        hook(
            11, {"order_id": "O", "cancel_status": "CANCELLATION_REQUEST_PENDING", "create_time": T}
        ),
    )
    assert order(stored).cancellation_status == "CANCELLATION_REQUEST_COMPLETE"
    assert order(stored).status == "cancelled"


async def test_a_completed_refund_is_not_undone_by_a_later_order_status() -> None:
    stored = await apply_each(
        hook(1, {"order_id": "O", "order_status": "DELIVERED", "update_time": T}),
        hook(
            12,
            {
                "order_id": "O",
                "return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE",
                "create_time": T + 10,
                "update_time": T + 20,
            },
        ),
        hook(1, {"order_id": "O", "order_status": "COMPLETED", "update_time": T + 30}),
    )
    assert order(stored).status == "refunded"
    assert order(stored).external_status == "COMPLETED"


async def test_two_statuses_in_the_same_second_end_in_the_one_further_along() -> None:
    stored = await apply_each(
        hook(1, {"order_id": "O", "order_status": "IN_TRANSIT", "update_time": T}),
        hook(1, {"order_id": "O", "order_status": "AWAITING_SHIPMENT", "update_time": T}),
    )
    assert order(stored).status == "shipped"
