"""The order lifecycle's pure rules: request versions and decisions, carriers, fees, watermarks,
webhook registration, statistics, and the after-sales webhook models."""

from datetime import UTC, datetime, timedelta

import pytest

from contracts import webhooks as w
from contracts.entities import ChannelOrder, ReconcileCounts, ReverseRequest
from service.application.messagebus import HANDLERS, keep
from service.domain import reverse_requests as rules
from service.domain.carriers import Provider, UnknownCarrier, choose_provider
from service.domain.fees import Settlement, settled
from service.domain.reconciliation import advance, drift, search_from
from service.domain.stats import OrderGroup, channel_stats
from service.domain.webhook_registration import (
    RemoteWebhook,
    needed_event_types,
    partner_center_types,
    registrations,
    to_register,
)

T0 = datetime(2026, 5, 1, 12, tzinfo=UTC)


def at(seconds: int) -> datetime:
    return T0 + timedelta(seconds=seconds)


def cancel(status: str, **fields: object) -> rules.RemoteRequest:
    values: dict[str, object] = {
        "kind": "cancellation",
        "id": "c1",
        "order_id": "o1",
        "status": status,
        "created_at": at(0),
    }
    values.update(fields)
    return rules.RemoteRequest(**values)  # type: ignore[arg-type]


def ret(status: str, **fields: object) -> rules.RemoteRequest:
    values: dict[str, object] = {
        "kind": "return",
        "id": "r1",
        "order_id": "o1",
        "status": status,
        "type": "REFUND",
        "created_at": at(0),
        "updated_at": at(0),
    }
    values.update(fields)
    return rules.RemoteRequest(**values)  # type: ignore[arg-type]


# --- request versions -------------------------------------------------------------------------


def test_a_new_request_is_added_awaiting_the_seller_until_its_deadline() -> None:
    searched = cancel(
        "CANCELLATION_REQUEST_PENDING",
        next_action="SELLER_RESPOND_BUYER_CANCEL",
        deadline=at(86400),
        knows_next_action=True,
    )
    [entry] = rules.merge_request([], searched) or []
    assert (entry.awaiting_seller, entry.deadline) == (True, at(86400))
    assert rules.merge_request([entry], searched) is None  # the same copy again: nothing


def test_a_later_stage_wins_whatever_order_the_copies_arrive_in() -> None:
    pending = cancel("CANCELLATION_REQUEST_PENDING")
    done = cancel("CANCELLATION_REQUEST_SUCCESS", updated_at=at(10))
    forward = rules.merge_request(rules.merge_request([], pending) or [], done)
    assert forward is not None
    backward_start = rules.merge_request([], done) or []
    assert rules.merge_request(backward_start, pending) is None  # a stale copy changes nothing
    assert forward[0].status == backward_start[0].status == "CANCELLATION_REQUEST_SUCCESS"
    assert not forward[0].awaiting_seller


def test_the_webhooks_spelling_of_a_rejected_cancellation_is_the_searchs() -> None:
    [entry] = rules.merge_request([], cancel("CANCELLATION_REQUEST_CANCELLED")) or []
    assert entry.status == "CANCELLATION_REQUEST_CANCEL"
    searched = cancel("CANCELLATION_REQUEST_CANCEL", knows_next_action=True)
    assert rules.merge_request([entry], searched) is None


def test_a_webhook_keeps_the_deadline_a_search_gave_and_a_search_fills_one_in() -> None:
    told = rules.merge_request([], ret("RETURN_OR_REFUND_REQUEST_PENDING")) or []
    assert (told[0].awaiting_seller, told[0].deadline) == (True, None)
    searched = ret(
        "RETURN_OR_REFUND_REQUEST_PENDING",
        next_action="SELLER_RESPOND_REFUND",
        deadline=at(172800),
        knows_next_action=True,
        reason="damaged",
    )
    filled = rules.merge_request(told, searched)
    assert filled is not None
    assert (filled[0].deadline, filled[0].reason) == (at(172800), "damaged")
    shipped = ret("BUYER_SHIPPED_ITEM", type="RETURN_AND_REFUND", updated_at=at(50))
    moved = rules.merge_request(filled, shipped)
    assert moved is not None
    assert moved[0].status == "BUYER_SHIPPED_ITEM"
    assert moved[0].reason == "damaged"  # what the webhook does not say is kept


def test_within_a_stage_the_newer_update_wins() -> None:
    first = rules.merge_request([], ret("BUYER_SHIPPED_ITEM", updated_at=at(10))) or []
    review = ret(
        "BUYER_SHIPPED_ITEM",
        updated_at=at(20),
        next_action="SELLER_RESPOND_RECEIVE_PACKAGE",
        deadline=at(999),
        knows_next_action=True,
    )
    later = rules.merge_request(first, review)
    assert later is not None
    assert later[0].awaiting_seller
    assert rules.merge_request(later, ret("BUYER_SHIPPED_ITEM", updated_at=at(10))) is None


def test_rma_statuses_go_by_their_own_clock_and_spelling() -> None:
    base = rules.RemoteRequest(kind="aftersales", id="a1", order_id="o1", status="INIT")
    held = rules.merge_request([], base) or []
    newer = rules.RemoteRequest(
        kind="aftersales",
        id="a1",
        order_id="o1",
        status="",
        rma_id="m1",
        rma_status="AWAITING_BUYER_SHIPPED",
        rma_updated_at=at(5),
    )
    moved = rules.merge_request(held, newer) or []
    assert (moved[0].status, moved[0].rma_status) == ("INIT", "AWAITING_BUYER_RETURN")
    older = rules.RemoteRequest(
        kind="aftersales",
        id="a1",
        order_id="o1",
        status="",
        rma_status="INIT",
        rma_updated_at=at(1),
    )
    assert rules.merge_request(moved, older) is None


def paid(amount: int, when: datetime) -> rules.RemoteRequest:
    return rules.RemoteRequest(
        kind="aftersales",
        id="a1",
        order_id="o1",
        status=rules.AFTERSALES_DONE,
        refund_total=amount,
        currency="USD",
        refunded_at=when,
    )


def test_a_refund_is_recorded_once() -> None:
    once = rules.merge_request([], paid(2000, at(0)))
    assert once is not None
    assert (once[0].refund_total, once[0].refunded_at) == (2000, at(0))
    assert rules.merge_request(once, paid(2000, at(5))) is None
    # Reported on a request already known: its amount and time are added, its RMA kept.
    held = (
        rules.merge_request(
            [],
            rules.RemoteRequest(
                kind="aftersales",
                id="a1",
                order_id="o1",
                status="PENDING_REQUEST_REVIEW",
                rma_id="m1",
                rma_status="PENDING_PACKAGE_REVIEW",
            ),
        )
        or []
    )
    refunded = rules.merge_request(held, paid(1500, at(9))) or []
    assert (refunded[0].refund_total, refunded[0].refunded_at, refunded[0].rma_id) == (
        1500,
        at(9),
        "m1",
    )


# --- decisions --------------------------------------------------------------------------------


def entry(status: str, type_: str | None = "REFUND") -> ReverseRequest:
    return ReverseRequest(kind="return", id="r1", status=status, type=type_)


PENDING, SHIPPED = "RETURN_OR_REFUND_REQUEST_PENDING", "BUYER_SHIPPED_ITEM"
SUCCESS, REJECTED = "RETURN_OR_REFUND_REQUEST_SUCCESS", "REFUND_OR_RETURN_REQUEST_REJECT"
BOTH = "RETURN_AND_REFUND"


@pytest.mark.parametrize(
    ("status", "type_", "approve", "keep_item", "decision", "next_status"),
    [
        (PENDING, "REFUND", True, False, "APPROVE_REFUND", SUCCESS),
        (PENDING, "REFUND", False, False, "REJECT_REFUND", REJECTED),
        (PENDING, BOTH, True, False, "APPROVE_RETURN", "AWAITING_BUYER_SHIP"),
        (PENDING, BOTH, True, True, "APPROVE_RETURN", SUCCESS),
        (PENDING, BOTH, False, False, "REJECT_RETURN", REJECTED),
        (SHIPPED, BOTH, True, False, "APPROVE_RECEIVED_PACKAGE", SUCCESS),
        (SHIPPED, BOTH, False, False, "REJECT_RECEIVED_PACKAGE", "REJECT_RECEIVE_PACKAGE"),
    ],
)
def test_the_return_decision_follows_the_requests_state(
    status: str, type_: str, approve: bool, keep_item: bool, decision: str, next_status: str
) -> None:
    chosen = rules.return_decision(entry(status, type_), approve=approve, buyer_keep_item=keep_item)
    assert (chosen.decision, chosen.next_status) == (decision, next_status)


@pytest.mark.parametrize(
    "status", ["AWAITING_BUYER_SHIP", "RETURN_OR_REFUND_REQUEST_SUCCESS", "REJECT_RECEIVE_PACKAGE"]
)
def test_nothing_is_decided_where_tiktok_waits_for_no_one_or_the_buyer(status: str) -> None:
    with pytest.raises(rules.NotDecidable):
        rules.return_decision(entry(status), approve=True, buyer_keep_item=False)


def test_only_a_pending_cancellation_is_decidable_and_which_one_is_meant() -> None:
    rules.cancellation_decidable(
        ReverseRequest(kind="cancellation", id="c", status="CANCELLATION_REQUEST_PENDING")
    )
    with pytest.raises(rules.NotDecidable):
        rules.cancellation_decidable(
            ReverseRequest(kind="cancellation", id="c", status="CANCELLATION_REQUEST_SUCCESS")
        )
    two = [
        ReverseRequest(kind="return", id="a", status="x", awaiting_seller=True),
        ReverseRequest(kind="return", id="b", status="x", awaiting_seller=True),
    ]
    assert rules.open_request(two, "return", None) is None  # ambiguous: name one
    assert rules.open_request(two, "return", "b") == two[1]
    assert rules.open_request(two[:1], "return", None) == two[0]
    assert rules.open_request(two, "cancellation", None) is None


# --- carriers ---------------------------------------------------------------------------------

PROVIDERS = [
    Provider("6617", "USPS"),
    Provider("7117858858072016686", "UPS"),
    Provider("7117859084333745966", "FedEx"),
    Provider("7129736293602330373", "DHL eCommerce"),
]


@pytest.mark.parametrize(
    ("carrier", "expected"),
    [
        ("UPS", "7117858858072016686"),
        ("ups", "7117858858072016686"),
        ("Fed-Ex", "7117859084333745966"),
        ("dhl", "7129736293602330373"),  # one provider contains the name
        ("United Parcel Service", "7117858858072016686"),  # mapped to a name
        ("Post office", "6617"),  # mapped to an id
    ],
)
def test_a_carrier_is_mapped_or_matched_to_one_of_the_orders_providers(
    carrier: str, expected: str
) -> None:
    carrier_map = {"united parcel service": "UPS", "POST OFFICE": "6617"}
    assert choose_provider(PROVIDERS, carrier=carrier, carrier_map=carrier_map).id == expected


def test_an_unknown_or_ambiguous_carrier_names_the_choices() -> None:
    with pytest.raises(UnknownCarrier) as unknown:
        choose_provider(PROVIDERS, carrier="Pony Express")
    assert "USPS (6617)" in str(unknown.value)
    with pytest.raises(UnknownCarrier, match="several"):
        choose_provider(PROVIDERS, carrier="ps")  # USPS and UPS both contain it
    with pytest.raises(UnknownCarrier, match="not one TikTok offers"):
        choose_provider(PROVIDERS, provider_id="42")
    assert choose_provider(PROVIDERS, provider_id="6617").name == "USPS"


# --- fees ---------------------------------------------------------------------------------------


def order(**fields: object) -> ChannelOrder:
    values: dict[str, object] = {
        "id": "o",
        "shop_id": "s",
        "external_order_id": "e",
        "status": "delivered",
        "total": 2000,
        "currency": "USD",
        "created_at": T0,
        "updated_at": T0,
    }
    values.update(fields)
    return ChannelOrder.model_validate(values)


def test_a_settlement_sets_the_fee_and_net_once() -> None:
    settlement = Settlement("e", "USD", settlement_amount=1822, fee_and_tax_amount=-178)
    done = settled(order(), settlement, at(5))
    assert done is not None
    assert (done.platform_fee, done.net_amount, done.fees_settled) == (178, 1822, True)
    assert settled(done, settlement, at(9)) is None
    with pytest.raises(ValueError, match="EUR"):
        settled(order(), Settlement("e", "EUR", 1, -1), at(5))


# --- watermarks -------------------------------------------------------------------------------


def test_a_run_searches_from_the_watermark_less_the_overlap_and_never_moves_it_back() -> None:
    assert search_from(None, timedelta(minutes=5)) is None
    assert search_from(at(600), timedelta(minutes=5)) == at(300)
    assert advance(None, None) is None
    assert advance(at(10), None) == at(10)
    assert advance(at(10), at(5)) == at(10)
    assert advance(at(10), at(20)) == at(20)
    # A record stamped ahead of the run's start does not carry the watermark past it.
    assert advance(at(10), at(900), started=at(100)) == at(100)
    assert (
        drift(ReconcileCounts(created=2, changed=1, unchanged=9), ReconcileCounts(changed=1)) == 4
    )


# --- webhook registration ---------------------------------------------------------------------


def test_the_needed_types_are_the_handled_ones_the_event_api_can_register() -> None:
    assert needed_event_types() == [
        "ORDER_STATUS_CHANGE",
        "RECIPIENT_ADDRESS_UPDATE",
        "PACKAGE_UPDATE",
        "PRODUCT_STATUS_CHANGE",
        "SELLER_DEAUTHORIZATION",
        "UPCOMING_AUTHORIZATION_EXPIRATION",
        "CANCELLATION_STATUS_CHANGE",
        "RETURN_STATUS_CHANGE",
        "PRODUCT_AUDIT_STATUS_CHANGE",
    ]
    assert partner_center_types() == [
        "INVENTORY_STATUS_CHANGE",
        "SKU_STATUS_CHANGE",
        "AFTERSALES_REQUEST_STATUS_UPDATE",
        "RMA_STATUS_UPDATE",
        "REFUND_SUCCESS",
        "INVENTORY_CHANGED_BY_SHOP",
    ]


def test_every_handled_tiktok_type_is_subscribed_to() -> None:
    handled = {
        model.model_fields["type"].annotation.__args__[0]  # type: ignore[union-attr]
        for model, route in HANDLERS.items()
        if isinstance(model, type)
        and issubclass(model, w.Notification)
        and route.handler is not keep
        and "type" in model.model_fields
        and hasattr(model.model_fields["type"].annotation, "__args__")
    }
    assert handled - {w.REVERSE_STATUS_UPDATE} == set(w.SUBSCRIBED_TYPES)


def test_registration_goes_only_to_types_missing_or_sent_elsewhere() -> None:
    url = "https://shop.example/tiktok-shop/webhooks"
    held = [
        RemoteWebhook("ORDER_STATUS_CHANGE", url + "/"),  # the same place
        RemoteWebhook("PACKAGE_UPDATE", "https://old.example/hooks"),
        RemoteWebhook("NEW_MESSAGE", url),  # not needed: left alone
    ]
    wanted = to_register(held, url)
    assert "ORDER_STATUS_CHANGE" not in wanted
    assert "PACKAGE_UPDATE" in wanted
    assert "NEW_MESSAGE" not in wanted
    assert len(wanted) == len(needed_event_types()) - 1
    assert not any(r.registered for r in registrations(held, None))


# --- statistics ---------------------------------------------------------------------------------


def test_stats_report_gross_refunds_fees_and_net_per_currency_without_lost_orders() -> None:
    groups = [
        OrderGroup("delivered", "USD", 2, 5000, fees=300, net=3600, refunded=1000),
        OrderGroup("confirmed", "USD", 1, 1000, fees=0, net=1000),
        OrderGroup("cancelled", "USD", 1, 9999, fees=0, net=9999),
        OrderGroup("refunded", "USD", 1, 800, fees=0, net=0, refunded=800),
        OrderGroup("delivered", "EUR", 1, 700, fees=50, net=650),
    ]
    stats = channel_stats([], groups, "USD")
    money = {m.currency: (m.gross, m.refunds, m.fees, m.net) for m in stats.money_by_currency}
    # Gross is the order totals; the refunds are beside it, taken off only in the revenue.
    assert money == {"USD": (6000, 1000, 300, 4600), "EUR": (700, 0, 50, 650)}
    revenue = {r.currency: r.amount for r in stats.revenue_by_currency}
    assert revenue == {"USD": 5000, "EUR": 700}


# --- after-sales webhook models ---------------------------------------------------------------


def parsed(webhook_type: int, data: dict[str, object]) -> w.Webhook:
    message = w.WebhookMessage(
        notification_id="n1",
        source="tiktok",
        webhook_type=str(webhook_type),
        shop_id="s",
        received_at=T0,
        correlation_id="c",
        body={"type": webhook_type, "shop_id": "s", "data": data},
    )
    return w.parse_webhook(message, default_shop_id="s")


def test_the_after_sales_webhooks_are_read_loosely_and_keep_what_they_do_not_name() -> None:
    request = parsed(
        64,
        {
            "aftersales_request_id": 4038000000000052,
            "aftersales_request_status": "PENDING_REQUEST_REVIEW",
            "aftersales_request_update_time": "1796011022",
            "something_new": {"a.b": 1},
        },
    )
    assert isinstance(request, w.AftersalesRequestStatusUpdate)
    assert request.data.aftersales_request_id == "4038000000000052"
    assert request.data.aftersales_request_update_time == 1796011022
    assert request.data.model_extra == {"something_new": {"a.b": 1}}
    rma = parsed(65, {"rma_id": "m1"})
    assert isinstance(rma, w.RmaStatusUpdate)
    assert rma.data.rma_status is None
    refund = parsed(
        67,
        {
            "aftersales_request_id": "a1",
            "refund_total": "20.00",
            "refund_currency": "USD",
            "line_items": [{"main_order_id": 576400}, {"main_order_id": "576400"}, {}],
        },
    )
    assert isinstance(refund, w.RefundSuccess)
    assert refund.data.order_ids() == ["576400"]
    with pytest.raises(w.UnreadableWebhook):
        parsed(64, {"aftersales_request_status": "INIT"})  # names no request
