"""An order's clocks: its status by update_time, each of its requests on its own (a request
told without an id by its time, then its stage); a completed reverse flow holds the order's
status, and the amount refunded is what its completed returns state."""

import uuid
from datetime import UTC, datetime
from typing import Any

from contracts import webhooks as w
from service.domain.orders import order_id_for
from service.domain.remote import RemoteOrder
from service.domain.reverse_requests import RemoteRequest
from tests.unit.fakes import OfflineTikTok, Stored, fake_bus

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


def request(stored: Stored, kind: str) -> Any:
    """The order's one request of `kind`."""
    [found] = [r for r in order(stored).reverse_requests if r.kind == kind]
    return found


class TikTokWithReturns(OfflineTikTok):
    """TikTok answering for the order: its details (a total of 20.00 USD) and its returns."""

    def __init__(self, *returns: RemoteRequest) -> None:
        self._returns = list(returns)

    def enabled(self, shop_id: str) -> bool:
        return True

    async def order_details(self, shop_id: str, ids: Any) -> list[RemoteOrder]:
        return [
            RemoteOrder(
                external_order_id="O",
                status="delivered",
                external_status="DELIVERED",
                updated_at=datetime.fromtimestamp(T, UTC),
                total=2000,
            )
        ]

    async def order_requests(self, shop_id: str, external_order_id: str) -> list[RemoteRequest]:
        return self._returns


def refund(return_id: str, amount: int, status: str = "RETURN_OR_REFUND_REQUEST_COMPLETE") -> Any:
    return RemoteRequest(
        kind="return",
        id=return_id,
        order_id="O",
        type="REFUND",
        status=status,
        currency="USD",
        refund_total=amount,
        line_item_ids=(f"line-{return_id}",),
        created_at=datetime.fromtimestamp(T + 10, UTC),
        updated_at=datetime.fromtimestamp(T + 20, UTC),
        knows_next_action=True,
    )


def completed(return_id: str = "R1", when: int = T + 20) -> w.WebhookMessage:
    return hook(
        12,
        {
            "order_id": "O",
            "return_id": return_id,
            "return_type": "REFUND",
            "return_status": "RETURN_OR_REFUND_REQUEST_COMPLETE",
            "create_time": T + 10,
            "update_time": when,
        },
    )


async def apply_each(*messages: w.WebhookMessage, tiktok: Any = None) -> Stored:
    bus, stored = fake_bus(**({"tiktok": tiktok} if tiktok is not None else {}))
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
    assert (order(stored).status, request(stored, "cancellation").status) == (
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
    assert request(stored, "cancellation").status == "CANCELLATION_REQUEST_COMPLETE"
    assert order(stored).status == "cancelled"


async def test_a_completed_full_refund_is_not_undone_by_a_later_order_status() -> None:
    stored = await apply_each(
        hook(1, {"order_id": "O", "order_status": "DELIVERED", "update_time": T}),
        completed(),
        hook(1, {"order_id": "O", "order_status": "COMPLETED", "update_time": T + 30}),
        tiktok=TikTokWithReturns(refund("R1", 2000)),
    )
    assert order(stored).status == "refunded"
    assert order(stored).refunded_amount == 2000


async def test_a_partial_refund_keeps_the_order_and_counts_what_was_refunded() -> None:
    stored = await apply_each(completed(), tiktok=TikTokWithReturns(refund("R1", 750)))
    got = order(stored)
    assert (got.status, got.refunded_amount, got.needs_refresh) == ("delivered", 750, False)
    assert [(r.id, r.refund_total, r.line_item_ids) for r in got.reverse_requests] == [
        ("R1", 750, ["line-R1"])
    ]


async def test_two_partial_refunds_that_add_up_to_the_total_refund_the_order() -> None:
    both = TikTokWithReturns(refund("R1", 750), refund("R2", 1250))
    stored = await apply_each(completed("R1"), completed("R2", T + 40), tiktok=both)
    assert (order(stored).status, order(stored).refunded_amount) == ("refunded", 2000)


async def test_a_refund_requested_is_not_counted_until_it_completes() -> None:
    pending = TikTokWithReturns(refund("R1", 2000, "RETURN_OR_REFUND_REQUEST_PENDING"))
    requested = hook(
        12,
        {
            "order_id": "O",
            "return_id": "R1",
            "return_status": "RETURN_OR_REFUND_REQUEST_PENDING",
            "create_time": T + 10,
        },
    )
    stored = await apply_each(requested, tiktok=pending)
    assert (order(stored).status, order(stored).refunded_amount) == ("delivered", 0)


async def test_an_api_copy_behind_the_webhook_keeps_the_later_stage_and_gives_the_amount() -> None:
    pending = TikTokWithReturns(refund("R1", 2000, "RETURN_OR_REFUND_REQUEST_PENDING"))
    stored = await apply_each(completed("R1"), tiktok=pending)
    # The webhook said complete, the API copy is behind: the later stage is kept, with the
    # API's amount.
    got = order(stored)
    assert request(stored, "return").status == "RETURN_OR_REFUND_REQUEST_COMPLETE"
    assert (got.status, got.refunded_amount) == ("refunded", 2000)


async def test_without_credentials_a_completed_refund_is_recorded_and_flagged_not_guessed() -> None:
    stored = await apply_each(
        hook(1, {"order_id": "O", "order_status": "DELIVERED", "update_time": T}), completed()
    )
    got = order(stored)
    assert (got.status, got.refunded_amount, got.needs_refresh) == ("delivered", 0, True)
    assert [(r.id, r.status, r.refund_total) for r in got.reverse_requests] == [
        ("R1", "RETURN_OR_REFUND_REQUEST_COMPLETE", None)
    ]


async def test_a_legacy_completed_refund_without_credentials_is_flagged_too() -> None:
    stored = await apply_each(
        hook(1, {"order_id": "O", "order_status": "DELIVERED", "update_time": T}),
        hook(2, {"order_id": "O", "reverse_type": 2, "reverse_order_status": 100}),
    )
    got = order(stored)
    assert (got.status, request(stored, "return").status, got.needs_refresh) == (
        "delivered",
        "REVERSE_100",
        True,
    )


async def test_a_closed_cancellation_request_is_the_last_stage() -> None:
    stored = await apply_each(
        hook(
            11,
            {"order_id": "O", "cancel_status": "CANCELLATION_REQUEST_CANCELLED", "create_time": T},
        ),
        hook(
            11, {"order_id": "O", "cancel_status": "CANCELLATION_REQUEST_PENDING", "create_time": T}
        ),
    )
    # Kept in the search's spelling of the webhook's CANCELLATION_REQUEST_CANCELLED.
    assert request(stored, "cancellation").status == "CANCELLATION_REQUEST_CANCEL"
    assert order(stored).status != "cancelled"


async def test_two_statuses_in_the_same_second_end_in_the_one_further_along() -> None:
    stored = await apply_each(
        hook(1, {"order_id": "O", "order_status": "IN_TRANSIT", "update_time": T}),
        hook(1, {"order_id": "O", "order_status": "AWAITING_SHIPMENT", "update_time": T}),
    )
    assert order(stored).status == "shipped"
