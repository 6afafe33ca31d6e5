"""Cancellations, returns and refunds: TikTok's reverse flows, their state machines and webhooks.

Cancellations (search spelling of ``cancel_status``)::

    buyer asks (AWAITING_SHIPMENT, AWAITING_COLLECTION, PARTIALLY_SHIPPING)
        -> CANCELLATION_REQUEST_PENDING --approve, or nobody answers for 24 h--> _SUCCESS
                                        --reject--> _CANCEL (webhook: _CANCELLED)
    buyer cancels while UNPAID or ON_HOLD (no approval needed)  -> _SUCCESS
    seller cancels (not yet collected by the carrier)           -> _SUCCESS
    _SUCCESS --refund paid, 10 min later--> _COMPLETE

Returns (``return_status``)::

    buyer asks: RETURN_OR_REFUND_REQUEST_PENDING (refund-only once shipped, return-and-refund once
    delivered; a COMPLETED order takes none)
      REFUND:            APPROVE_REFUND -> _SUCCESS
                         REJECT_REFUND -> REFUND_OR_RETURN_REQUEST_REJECT
      RETURN_AND_REFUND: APPROVE_RETURN -> AWAITING_BUYER_SHIP (an RMA opens)
                         APPROVE_RETURN + buyer_keep_item, DIRECT_REFUND -> _SUCCESS
                         REJECT_RETURN -> REFUND_OR_RETURN_REQUEST_REJECT
      buyer ships -> BUYER_SHIPPED_ITEM (RMA RETURN_IN_TRANSIT, then PENDING_PACKAGE_REVIEW)
                         APPROVE_RECEIVED_PACKAGE -> _SUCCESS
                         REJECT_RECEIVED_PACKAGE -> REJECT_RECEIVE_PACKAGE
                         OFFER_PARTIAL_REFUND_AFTER_RECEIVING_PKG -> _SUCCESS for the part
      nobody answers a pending request (or an arrived package) for 48 h -> approved by the system
    _SUCCESS --refund paid, 10 min later--> RETURN_OR_REFUND_REQUEST_COMPLETE

Every change pushes its webhook after the answer: 11 CANCELLATION_STATUS_CHANGE (with the
request's ``create_time``, no ``update_time``), 12 RETURN_STATUS_CHANGE, 64 after-sales request
status, 65 RMA status (webhook spelling AWAITING_BUYER_SHIPPED where the search says
AWAITING_BUYER_RETURN), 67 refund success; and the order's own change (type 1, type 4 for a
partial cancellation). An order whose every line item is cancelled, or refunded in full, becomes
CANCELLED. Refunds: the line items' sale prices; a request covering every line item of the order
refunds the order's whole ``total_amount`` (shipping fee and tax included, discounts deducted).
"""

from decimal import Decimal
from typing import Any, Final

from simulator import envelope as env
from simulator import fulfillment, money, webhooks
from simulator import order_codes as codes
from simulator.core import Simulator
from simulator.order_books import Cancellation, Refund, ReturnRequest
from simulator.world import Order

HOUR: Final = 3600
CANCEL_RESPONSE_SECONDS: Final = 24 * HOUR
RETURN_RESPONSE_SECONDS: Final = 48 * HOUR
REFUND_SECONDS: Final = 600

PENDING: Final = "CANCELLATION_REQUEST_PENDING"
C_SUCCESS: Final = "CANCELLATION_REQUEST_SUCCESS"
C_CANCEL: Final = "CANCELLATION_REQUEST_CANCEL"
C_COMPLETE: Final = "CANCELLATION_REQUEST_COMPLETE"
CANCEL_STATUSES: Final = frozenset({PENDING, C_SUCCESS, C_CANCEL, C_COMPLETE})

R_PENDING: Final = "RETURN_OR_REFUND_REQUEST_PENDING"
R_REJECT: Final = "REFUND_OR_RETURN_REQUEST_REJECT"
R_AWAITING_SHIP: Final = "AWAITING_BUYER_SHIP"
R_SHIPPED: Final = "BUYER_SHIPPED_ITEM"
R_REJECT_PACKAGE: Final = "REJECT_RECEIVE_PACKAGE"
R_SUCCESS: Final = "RETURN_OR_REFUND_REQUEST_SUCCESS"
R_CANCEL: Final = "RETURN_OR_REFUND_REQUEST_CANCEL"
R_COMPLETE: Final = "RETURN_OR_REFUND_REQUEST_COMPLETE"
RETURN_TYPES: Final = ("REFUND", "RETURN_AND_REFUND")
# Requests whose line items cannot be asked for again.
_TAKEN = frozenset({R_PENDING, R_AWAITING_SHIP, R_SHIPPED, R_SUCCESS, R_COMPLETE})

# Reason names and their English texts (``*_reason`` / ``*_reason_text`` in the answers).
SELLER_CANCEL_REASONS: Final = {
    "seller_cancel_reason_out_of_stock": "Out of stock",
    "seller_cancel_reason_wrong_price": "Pricing error",
    "seller_cancel_paid_reason_address_not_deliver": "Unable to deliver to buyer address",
    "seller_cancel_paid_reason_buyer_requested_cancellation": "Buyer requested cancellation",
}
BUYER_CANCEL_REASONS: Final = {
    "ecom_order_to_ship_cancel_reason_change_of_mind": "No longer needed",
    "ecom_order_to_ship_cancel_reason_better_price": "Found a better price",
    "ecom_order_to_ship_cancel_reason_wrong_address": "Need to change shipping address",
}
RETURN_REASONS: Final = {
    "ecom_order_delivered_refund_and_return_reason_wrong_product_seller": "Wrong item sent",
    "ecom_order_delivered_refund_and_return_reason_damaged": "Damaged item",
    "ecom_order_delivered_refund_reason_missing_item": "Missing item",
    "ecom_order_shipped_refund_reason_not_received": "Package not received",
}
REJECT_CANCEL_REASONS: Final = {
    "reverse_reject_request_reason_package_already_shipped": "The package has been shipped",
    "reverse_reject_request_reason_buyer_agreed_to_keep": "Buyer agreed to keep the order",
}
REJECT_REQUEST_REASONS: Final = {
    "reverse_reject_request_reason_product_used": "The item has been used",
    "reverse_reject_request_reason_outside_return_window": "Outside the return window",
    "reverse_reject_request_reason_no_evidence": "Not enough evidence provided",
}
REJECT_PACKAGE_REASONS: Final = {
    "reverse_reject_receive_reason_item_damaged_by_buyer": "Returned item damaged by buyer",
    "reverse_reject_receive_reason_wrong_item_returned": "Wrong item returned",
}

_CANCEL_WEBHOOK_SPELLING: Final = {C_CANCEL: "CANCELLATION_REQUEST_CANCELLED"}
_RMA_WEBHOOK_SPELLING: Final = {"AWAITING_BUYER_RETURN": "AWAITING_BUYER_SHIPPED"}
_CANCELLABLE_STATUSES: Final = frozenset(
    {"UNPAID", "ON_HOLD", "AWAITING_SHIPMENT", "AWAITING_COLLECTION", "PARTIALLY_SHIPPING"}
)
_ROLE_TYPES: Final = {"BUYER": "ROLE_USER", "SELLER": "ROLE_SELLER", "SYSTEM": "ROLE_SYSTEM"}


def _refused(code: int, message: str) -> env.ApiFailure:
    return env.ApiFailure(200, code, message)


def _bad(message: str) -> env.ApiFailure:
    return env.ApiFailure(400, env.INVALID_PARAMETER, message)


# --- line items and refunds ----------------------------------------------------------------


def _live_lines(order: Order) -> list[dict[str, Any]]:
    return [i for i in order.line_items if i.get("display_status") != "CANCELLED"]


def cancellable_line_ids(sim: Simulator, order: Order) -> list[str]:
    """Line items not cancelled whose package the carrier has not collected yet."""
    collected = {
        line
        for p in sim.world.books.packages_of(order.id)
        if p.status in ("FULFILLING", "COMPLETED")
        for line in p.line_item_ids
    }
    if order.status not in _CANCELLABLE_STATUSES:
        return []
    return [i["id"] for i in _live_lines(order) if i["id"] not in collected]


def returnable_line_ids(sim: Simulator, order: Order, return_type: str) -> list[str]:
    """Line items a buyer may ask ``return_type`` for: shipped, delivered for a return."""
    allowed = ("IN_TRANSIT", "DELIVERED") if return_type == "REFUND" else ("DELIVERED",)
    if order.status not in allowed:
        return []
    taken = {
        line for r in sim.world.books.returns_of(order.id) if r.status in _TAKEN for line in r.lines
    }
    return [i["id"] for i in _live_lines(order) if i["id"] not in taken]


def refund_for(order: Order, line_ids: list[str]) -> Refund:
    """What refunding ``line_ids`` gives back: sale prices, or the whole payment for all lines."""
    currency = order.currency
    items = {i["id"]: i for i in order.line_items}
    per_line = {line: items[line]["sale_price"] for line in line_ids}
    zero = money.fmt(Decimal(0), currency)
    if set(line_ids) >= {i["id"] for i in order.line_items}:
        payment = order.payment()
        subtotal = Decimal(payment["total_amount"]) - Decimal(order.shipping_fee)
        subtotal -= Decimal(order.tax)
        return Refund(
            currency,
            money.fmt(max(subtotal, Decimal(0)), currency),
            order.shipping_fee,
            order.tax,
            payment["total_amount"],
            per_line,
        )
    subtotal_parts = money.total(list(per_line.values()))
    total = money.fmt(subtotal_parts, currency)
    return Refund(currency, total, zero, zero, total, per_line)


def refund_amount(refund: Refund, total: str | None = None) -> dict[str, str]:
    """TikTok's ``RefundAmount``; ``total`` replaces the sums (a partial refund)."""
    if total is not None:
        zero = money.fmt(Decimal(0), refund.currency)
        return {
            "currency": refund.currency,
            "refund_total": total,
            "refund_subtotal": total,
            "refund_shipping_fee": zero,
            "refund_tax": zero,
        }
    return {
        "currency": refund.currency,
        "refund_total": refund.total,
        "refund_subtotal": refund.subtotal,
        "refund_shipping_fee": refund.shipping_fee,
        "refund_tax": refund.tax,
    }


def line_refund_amount(refund: Refund, line_id: str) -> dict[str, str]:
    """One line item's ``RefundAmount`` (its sale price; shipping and tax stay order-level)."""
    zero = money.fmt(Decimal(0), refund.currency)
    part = refund.per_line.get(line_id, zero)
    return {
        "currency": refund.currency,
        "refund_total": part,
        "refund_subtotal": part,
        "refund_shipping_fee": zero,
        "refund_tax": zero,
    }


def pick_lines(
    order: Order,
    allowed: list[str],
    line_ids: list[str] | None,
    *,
    refuse: int,
    what: str,
) -> list[str]:
    """The requested line items (all allowed ones if None), each of the order and allowed."""
    if line_ids is None:
        if not allowed:
            raise _refused(refuse, f"order {order.id} has no line items that can be {what}")
        return list(allowed)
    known = {i["id"] for i in order.line_items}
    unknown = [i for i in line_ids if i not in known]
    if unknown or not line_ids or len(set(line_ids)) != len(line_ids):
        raise _bad(f"line items {unknown or line_ids} do not belong to order {order.id}")
    refused = [i for i in line_ids if i not in allowed]
    if refused:
        raise _refused(refuse, f"line items {refused} of order {order.id} cannot be {what}")
    return list(line_ids)


# --- cancellations ----------------------------------------------------------------------------


def _cancel_webhook(sim: Simulator, c: Cancellation) -> None:
    webhooks.publish(
        sim,
        c.shop_id,
        webhooks.CANCELLATION_STATUS_CHANGE,
        {
            "order_id": c.order_id,
            "cancellations_role": c.role,
            "cancel_status": _CANCEL_WEBHOOK_SPELLING.get(c.status, c.status),
            "cancel_id": c.id,
            "create_time": c.create_time,
        },
    )


def _new_cancellation(
    sim: Simulator,
    order: Order,
    cancel_type: str,
    role: str,
    reason: str,
    text: str,
    lines: list[str],
) -> Cancellation:
    world = sim.world
    now = sim.now()
    c = Cancellation(
        id=world.next_id("5780"),
        shop_id=order.shop_id,
        order_id=order.id,
        cancel_type=cancel_type,
        role=role,
        status=PENDING,
        reason=reason,
        reason_text=text,
        lines={line: world.next_id("5781") for line in lines},
        refund=refund_for(order, lines),
        create_time=now,
        update_time=now,
    )
    world.books.add_cancellation(c)
    return c


def _open_cancellation(sim: Simulator, order: Order) -> Cancellation | None:
    return next(
        (c for c in sim.world.books.cancellations_of(order.id) if c.status == PENDING), None
    )


def buyer_requests_cancellation(
    sim: Simulator, order: Order, reason: str | None, line_ids: list[str] | None
) -> Cancellation:
    """The buyer cancels: at once while UNPAID or ON_HOLD, else a request awaiting the seller."""
    reason = reason or next(iter(BUYER_CANCEL_REASONS))
    if reason not in BUYER_CANCEL_REASONS:
        raise _refused(codes.INVALID_CANCEL_REASON, f"unknown buyer cancel reason {reason!r}")
    if _open_cancellation(sim, order) is not None:
        raise _refused(codes.CANCELLATION_ALREADY_PENDING, f"order {order.id} already has one")
    allowed = cancellable_line_ids(sim, order)
    lines = pick_lines(
        order, allowed, line_ids, refuse=codes.ORDER_NOT_CANCELLABLE, what="cancelled"
    )
    c = _new_cancellation(
        sim, order, "BUYER_CANCEL", "BUYER", reason, BUYER_CANCEL_REASONS[reason], lines
    )
    if order.status in ("UNPAID", "ON_HOLD"):
        _succeed_cancellation(sim, order, c)
        return c
    order.is_buyer_request_cancel = True
    order.request_cancel_time = c.create_time
    order.update_time = sim.bump(order.update_time)
    _cancel_webhook(sim, c)
    return c


def seller_cancels(
    sim: Simulator, order: Order, reason: str, line_ids: list[str] | None
) -> Cancellation:
    """``POST /return_refund/202602/cancellations``: effective at once (SUCCESS)."""
    if reason not in SELLER_CANCEL_REASONS:
        raise _refused(
            codes.INVALID_CANCEL_REASON,
            f"cancel_reason {reason!r} is not one of the order's available_reason_names",
        )
    if order.status == "CANCELLED":
        raise _refused(codes.ORDER_NOT_CANCELLABLE, f"order {order.id} is already cancelled")
    if _open_cancellation(sim, order) is not None:
        raise _refused(
            codes.CANCELLATION_ALREADY_PENDING,
            f"the buyer's cancellation request for order {order.id} awaits an answer",
        )
    allowed = cancellable_line_ids(sim, order)
    if not allowed:
        raise _refused(
            codes.ORDER_NOT_CANCELLABLE,
            f"order {order.id} is {order.status}: shipped orders cannot be cancelled",
        )
    lines = pick_lines(
        order, allowed, line_ids, refuse=codes.ORDER_NOT_CANCELLABLE, what="cancelled"
    )
    c = _new_cancellation(
        sim, order, "CANCEL", "SELLER", reason, SELLER_CANCEL_REASONS[reason], lines
    )
    _succeed_cancellation(sim, order, c)
    return c


def approve_cancellation(sim: Simulator, c: Cancellation) -> None:
    """The seller's approval (202309), or the system's after 24 h without an answer."""
    if c.status != PENDING:
        raise _refused(
            codes.CANCELLATION_NOT_PENDING, f"cancellation {c.id} is {c.status}, not pending"
        )
    order = sim.world.orders[c.order_id]
    still = set(cancellable_line_ids(sim, order))
    if not set(c.lines) <= still:
        raise _refused(
            codes.ORDER_NOT_CANCELLABLE,
            f"order {order.id} is {order.status}: shipped line items cannot be cancelled",
        )
    _succeed_cancellation(sim, order, c)


def reject_cancellation(sim: Simulator, c: Cancellation, reason: str, comment: str | None) -> None:
    """The seller refuses (202309): CANCEL, pushed as CANCELLATION_REQUEST_CANCELLED.

    Raises ``ApiFailure`` CANCELLATION_NOT_PENDING or INVALID_REJECT_REASON.
    """
    if c.status != PENDING:
        raise _refused(
            codes.CANCELLATION_NOT_PENDING, f"cancellation {c.id} is {c.status}, not pending"
        )
    if reason not in REJECT_CANCEL_REASONS:
        raise _refused(codes.INVALID_REJECT_REASON, f"unknown reject_reason {reason!r}")
    order = sim.world.orders[c.order_id]
    c.status = C_CANCEL
    c.reject_reason, c.reject_comment = reason, comment
    c.update_time = sim.now()
    order.is_buyer_request_cancel = False
    order.update_time = sim.bump(order.update_time)
    _cancel_webhook(sim, c)


def _succeed_cancellation(sim: Simulator, order: Order, c: Cancellation) -> None:
    c.status = C_SUCCESS
    c.update_time = sim.now()
    c.refund_due = c.update_time + REFUND_SECONDS
    order.is_buyer_request_cancel = False
    _cancel_webhook(sim, c)
    cancel_lines(sim, order, list(c.lines), c.reason, c.role)


def cancel_lines(sim: Simulator, order: Order, line_ids: list[str], reason: str, role: str) -> None:
    """Cancel line items; the whole order when none is left, else a package update."""
    for item in order.line_items:
        if item["id"] in line_ids:
            item["display_status"] = "CANCELLED"
            item["cancel_reason"] = reason
            item["cancel_user"] = role
    changed = fulfillment.remove_lines(sim, order, set(line_ids))
    if not _live_lines(order):
        order.cancel_reason = reason
        order.cancellation_initiator = role
        fulfillment.set_order_status(sim, order, "CANCELLED", notify=True)
        return
    if changed:
        fulfillment.publish_package_update(
            sim, order, changed, "PARTLY_CANCEL_SPLIT", _ROLE_TYPES.get(role, "ROLE_SYSTEM")
        )
    if order.status == "PARTIALLY_SHIPPING":
        after = fulfillment.status_after_shipping(sim, order)
        if after != order.status:
            fulfillment.set_order_status(sim, order, after, notify=True)
            return
    order.update_time = sim.bump(order.update_time)


def complete_cancellation(sim: Simulator, c: Cancellation) -> None:
    """The refund reached the buyer: COMPLETE (push 11)."""
    c.status = C_COMPLETE
    c.refund_due = None
    c.update_time = sim.now()
    _cancel_webhook(sim, c)


def cancellation_deadline(c: Cancellation) -> int | None:
    """When the system approves a buyer's request nobody answered (24 h), while pending."""
    if c.status == PENDING and c.cancel_type == "BUYER_CANCEL":
        return c.create_time + CANCEL_RESPONSE_SECONDS
    return None


def cancellation_api(sim: Simulator, c: Cancellation) -> dict[str, Any]:
    """One entry of ``POST /return_refund/202602/cancellations/search``."""
    order = sim.world.orders[c.order_id]
    items = {i["id"]: i for i in order.line_items}
    deadline = cancellation_deadline(c)
    return {
        "cancel_id": c.id,
        "order_id": c.order_id,
        "cancel_type": c.cancel_type,
        "cancel_status": c.status,
        "role": c.role,
        "cancel_reason": c.reason,
        "cancel_reason_text": c.reason_text,
        "create_time": c.create_time,
        "update_time": c.update_time,
        "seller_next_action_response": (
            [{"action": "SELLER_RESPOND_BUYER_CANCEL", "deadline": deadline}] if deadline else []
        ),
        "refund_amount": refund_amount(c.refund),
        "cancel_line_items": [
            {
                "cancel_line_item_id": cancel_line,
                "order_line_item_id": line,
                "sku_id": items[line].get("sku_id"),
                "sku_name": items[line].get("sku_name"),
                "product_name": items[line].get("product_name"),
                "seller_sku": items[line].get("seller_sku"),
                "refund_amount": line_refund_amount(c.refund, line),
            }
            for line, cancel_line in c.lines.items()
        ],
        "should_replenish_stock": c.status in (C_SUCCESS, C_COMPLETE),
    }


# --- returns ----------------------------------------------------------------------------------


def _return_webhook(sim: Simulator, r: ReturnRequest) -> None:
    webhooks.publish(
        sim,
        r.shop_id,
        webhooks.RETURN_STATUS_CHANGE,
        {
            "order_id": r.order_id,
            "return_role": r.role,
            "return_type": r.return_type,
            "return_status": r.status,
            "return_id": r.id,
            "create_time": r.create_time,
            "update_time": r.update_time,
        },
    )


def _aftersales_webhook(sim: Simulator, r: ReturnRequest) -> None:
    webhooks.publish(
        sim,
        r.shop_id,
        webhooks.AFTERSALES_REQUEST_STATUS_UPDATE,
        {
            "aftersales_request_id": r.aftersales_id,
            "return_role": r.role,
            "aftersales_request_status": r.aftersales_status,
            "aftersales_request_create_time": r.create_time,
            "aftersales_request_update_time": r.aftersales_update_time,
        },
    )


def _rma_webhook(sim: Simulator, r: ReturnRequest) -> None:
    assert r.rma_id is not None
    assert r.rma_status is not None
    webhooks.publish(
        sim,
        r.shop_id,
        webhooks.RMA_STATUS_UPDATE,
        {
            "rma_id": r.rma_id,
            "aftersales_request_id": r.aftersales_id,
            "return_role": r.role,
            "rma_status": _RMA_WEBHOOK_SPELLING.get(r.rma_status, r.rma_status),
            "rma_request_create_time": r.rma_create_time,
            "rma_request_update_time": r.rma_update_time,
        },
    )


def _touch(sim: Simulator, r: ReturnRequest, status: str) -> None:
    r.status = status
    r.update_time = max(sim.now(), r.update_time)


def _review_done(sim: Simulator, r: ReturnRequest) -> None:
    """The after-sales request leaves PENDING_REQUEST_REVIEW (push 64)."""
    if r.aftersales_status != "REQUEST_REVIEW_COMPLETED":
        r.aftersales_status = "REQUEST_REVIEW_COMPLETED"
        r.aftersales_update_time = sim.now()
        _aftersales_webhook(sim, r)


def _rma(sim: Simulator, r: ReturnRequest, status: str) -> None:
    now = sim.now()
    if r.rma_id is None:
        r.rma_id = sim.world.next_id("4035")
        r.rma_create_time = now
    r.rma_status = status
    r.rma_update_time = now
    _rma_webhook(sim, r)


def buyer_requests_return(
    sim: Simulator,
    order: Order,
    return_type: str,
    line_ids: list[str] | None,
    reason: str | None,
) -> ReturnRequest:
    """A buyer's refund-only or return-and-refund request for some (default all) line items."""
    if return_type not in RETURN_TYPES:
        raise _bad(f"return_type must be one of {', '.join(RETURN_TYPES)}")
    reason = reason or next(iter(RETURN_REASONS))
    if reason not in RETURN_REASONS:
        raise _bad(f"unknown return reason {reason!r}")
    allowed = returnable_line_ids(sim, order, return_type)
    what = "refunded" if return_type == "REFUND" else "returned"
    lines = pick_lines(
        order, allowed, line_ids, refuse=codes.RETURN_DECISION_NOT_ALLOWED, what=what
    )
    world = sim.world
    now = sim.now()
    r = ReturnRequest(
        id=world.next_id("4036"),
        shop_id=order.shop_id,
        order_id=order.id,
        return_type=return_type,
        role="BUYER",
        status=R_PENDING,
        reason=reason,
        reason_text=RETURN_REASONS[reason],
        lines={line: world.next_id("4037") for line in lines},
        refund=refund_for(order, lines),
        create_time=now,
        update_time=now,
        aftersales_id=world.next_id("4038"),
        aftersales_status="PENDING_REQUEST_REVIEW",
        aftersales_update_time=now,
    )
    world.books.add_return(r)
    order.update_time = sim.bump(order.update_time)
    _return_webhook(sim, r)
    _aftersales_webhook(sim, r)
    return r


def return_deadline(r: ReturnRequest) -> int | None:
    """When the system answers for a silent seller (48 h), if an answer is awaited."""
    if r.status == R_PENDING:
        return r.create_time + RETURN_RESPONSE_SECONDS
    if r.status == R_SHIPPED and r.rma_status == "PENDING_PACKAGE_REVIEW":
        assert r.rma_update_time is not None
        return r.rma_update_time + RETURN_RESPONSE_SECONDS
    return None


def _not_allowed(r: ReturnRequest, decision: str) -> env.ApiFailure:
    return _refused(
        codes.RETURN_DECISION_NOT_ALLOWED,
        f"decision {decision} does not apply to {r.return_type} return {r.id} in {r.status}",
    )


def approve_return(
    sim: Simulator, r: ReturnRequest, decision: str, *, buyer_keep_item: bool = False
) -> None:
    """``POST /return_refund/202309/returns/{return_id}/approve`` decisions."""
    if r.status == R_PENDING and r.return_type == "REFUND" and decision == "APPROVE_REFUND":
        _succeed_return(sim, r)
    elif r.status == R_PENDING and r.return_type == "RETURN_AND_REFUND":
        if decision == "APPROVE_RETURN" and not buyer_keep_item:
            _touch(sim, r, R_AWAITING_SHIP)
            _return_webhook(sim, r)
            _review_done(sim, r)
            _rma(sim, r, "AWAITING_BUYER_RETURN")
        elif decision in ("APPROVE_RETURN", "DIRECT_REFUND"):
            r.buyer_keep_item = True
            _succeed_return(sim, r)
        else:
            raise _not_allowed(r, decision)
    elif r.status == R_SHIPPED and decision == "APPROVE_RECEIVED_PACKAGE":
        _rma(sim, r, "PACKAGE_REVIEW_COMPLETED")
        _succeed_return(sim, r)
    else:
        raise _not_allowed(r, decision)


def reject_reasons_for(sim: Simulator, request_id: str) -> dict[str, str] | None:
    """The reject reasons fitting a cancellation or return now; None for an unknown id."""
    books = sim.world.books
    c = books.cancellations.get(request_id)
    if c is not None:
        return dict(REJECT_CANCEL_REASONS) if c.status == PENDING else {}
    r = books.returns.get(request_id)
    if r is None:
        return None
    if r.status == R_PENDING:
        return dict(REJECT_REQUEST_REASONS)
    if r.status == R_SHIPPED:
        return dict(REJECT_PACKAGE_REASONS)
    return {}


def reject_return(
    sim: Simulator,
    r: ReturnRequest,
    decision: str,
    reason: str,
    comment: str | None,
    partial_refund: dict[str, Any] | None = None,
) -> None:
    """``POST /return_refund/202606/returns/{return_id}/reject`` decisions."""
    reasons = reject_reasons_for(sim, r.id) or {}
    fits = (
        (r.status == R_PENDING and r.return_type == "REFUND" and decision == "REJECT_REFUND")
        or (
            r.status == R_PENDING
            and r.return_type == "RETURN_AND_REFUND"
            and decision == "REJECT_RETURN"
        )
        or (
            r.status == R_SHIPPED
            and decision in ("REJECT_RECEIVED_PACKAGE", "OFFER_PARTIAL_REFUND_AFTER_RECEIVING_PKG")
        )
    )
    if not fits:
        raise _not_allowed(r, decision)
    if reason not in reasons:
        raise _refused(
            codes.INVALID_REJECT_REASON,
            f"reject_reason {reason!r} is not one of the reasons for return {r.id}",
        )
    if decision == "OFFER_PARTIAL_REFUND_AFTER_RECEIVING_PKG":
        total = _partial_total(r, partial_refund)
        r.reject_reason, r.reject_comment = reason, comment
        _rma(sim, r, "PACKAGE_REVIEW_COMPLETED")
        _succeed_return(sim, r, partial_total=total)
        return
    r.reject_reason, r.reject_comment = reason, comment
    r.close_time = sim.now()
    if r.status == R_SHIPPED:
        _touch(sim, r, R_REJECT_PACKAGE)
        _return_webhook(sim, r)
        _rma(sim, r, "PACKAGE_REVIEW_COMPLETED")
    else:
        _touch(sim, r, R_REJECT)
        _return_webhook(sim, r)
        _review_done(sim, r)
    order = sim.world.orders[r.order_id]
    order.update_time = sim.bump(order.update_time)


def _partial_total(r: ReturnRequest, partial: dict[str, Any] | None) -> str:
    if not isinstance(partial, dict):
        raise _bad("partial_refund_amount is required for this decision")
    total, currency = partial.get("partial_refund_total"), partial.get("currency")
    if currency != r.refund.currency:
        raise _refused(
            codes.REFUND_AMOUNT_INVALID,
            f"partial refund currency must be the order's, {r.refund.currency}",
        )
    if not money.valid_amount(total, r.refund.currency) or not isinstance(total, str):
        raise _refused(
            codes.REFUND_AMOUNT_INVALID,
            f"partial_refund_total must be a {r.refund.currency} amount such as "
            f"{money.fmt(Decimal(1), r.refund.currency)}",
        )
    if not Decimal(0) < Decimal(total) <= Decimal(r.refund.total):
        raise _refused(
            codes.REFUND_AMOUNT_INVALID,
            f"partial_refund_total must be above 0 and at most {r.refund.total}",
        )
    return money.fmt(Decimal(total), r.refund.currency)


def buyer_ships_return(
    sim: Simulator, r: ReturnRequest, tracking_number: str, provider_id: str, arrived: bool
) -> None:
    """The buyer sends the items back (and, if ``arrived``, the seller receives them)."""
    if r.status == R_AWAITING_SHIP:
        r.return_tracking_number = tracking_number
        r.return_provider_id = provider_id
        r.return_provider_name = "Sim return carrier"
        r.rma_package_id = sim.world.next_id("1154")
        _touch(sim, r, R_SHIPPED)
        _return_webhook(sim, r)
        _rma(sim, r, "RETURN_IN_TRANSIT")
    elif not (r.status == R_SHIPPED and r.rma_status == "RETURN_IN_TRANSIT"):
        raise _refused(
            codes.RETURN_DECISION_NOT_ALLOWED, f"return {r.id} is {r.status}: nothing to send"
        )
    if arrived:
        _rma(sim, r, "PENDING_PACKAGE_REVIEW")
        r.update_time = max(sim.now(), r.update_time)


def _succeed_return(sim: Simulator, r: ReturnRequest, partial_total: str | None = None) -> None:
    r.partial_refund_total = partial_total
    _touch(sim, r, R_SUCCESS)
    r.refund_due = sim.now() + REFUND_SECONDS
    _return_webhook(sim, r)
    _review_done(sim, r)
    order = sim.world.orders[r.order_id]
    order.update_time = sim.bump(order.update_time)


def refunded_total(r: ReturnRequest) -> str:
    """The decimal string refunded: the partial amount if the seller gave one, else the total."""
    return r.partial_refund_total or r.refund.total


def complete_return_refund(sim: Simulator, r: ReturnRequest) -> None:
    """The refund reached the buyer: COMPLETE, push 12 and 67; a full refund cancels the order."""
    now = sim.now()
    r.refund_due = None
    r.refund_time = r.close_time = now
    _touch(sim, r, R_COMPLETE)
    _return_webhook(sim, r)
    items = {i["id"]: i for i in sim.world.orders[r.order_id].line_items}
    refund: dict[str, Any] = {
        "aftersales_request_id": r.aftersales_id,
        "line_items": [
            {
                "main_order_id": r.order_id,
                "return_line_item_id": return_line,
                "sku_id": items[line].get("sku_id"),
                "sku_return_request_id": r.id,
            }
            for line, return_line in r.lines.items()
        ],
        "refund_currency": r.refund.currency,
        "refund_status": "REFUND_SUCCESS",
        "refund_timestamp": now,
        "refund_total": refunded_total(r),
    }
    if r.rma_id is not None:
        refund["rma_id"] = r.rma_id
    webhooks.publish(sim, r.shop_id, webhooks.REFUND_SUCCESS, refund)
    order = sim.world.orders[r.order_id]
    refunded = {
        line
        for other in sim.world.books.returns_of(order.id)
        if other.status == R_COMPLETE and other.partial_refund_total is None
        for line in other.lines
    }
    if order.status != "CANCELLED" and {i["id"] for i in _live_lines(order)} <= refunded:
        order.cancel_reason = r.reason
        order.cancellation_initiator = r.role
        fulfillment.set_order_status(sim, order, "CANCELLED", notify=True)
    else:
        order.update_time = sim.bump(order.update_time)


def return_next_action(r: ReturnRequest) -> list[dict[str, Any]]:
    """``seller_next_action_response``: what the seller must answer, and by when."""
    deadline = return_deadline(r)
    if deadline is None:
        return []
    if r.status == R_SHIPPED:
        action = "SELLER_RESPOND_RECEIVE_PACKAGE"
    elif r.return_type == "REFUND":
        action = "SELLER_RESPOND_REFUND"
    else:
        action = "SELLER_RESPOND_RETURN"
    return [{"action": action, "deadline": deadline}]


def _return_line_items(sim: Simulator, r: ReturnRequest) -> list[dict[str, Any]]:
    items = {i["id"]: i for i in sim.world.orders[r.order_id].line_items}
    return [
        {
            "return_line_item_id": return_line,
            "order_line_item_id": line,
            "sku_id": items[line].get("sku_id"),
            "sku_name": items[line].get("sku_name"),
            "product_name": items[line].get("product_name"),
            "seller_sku": items[line].get("seller_sku"),
            "refund_amount": line_refund_amount(r.refund, line),
        }
        for line, return_line in r.lines.items()
    ]


def return_api(sim: Simulator, r: ReturnRequest) -> dict[str, Any]:
    """One entry of ``POST /return_refund/202602/returns/search`` (``return_orders``)."""
    answer: dict[str, Any] = {
        "return_id": r.id,
        "order_id": r.order_id,
        "return_type": r.return_type,
        "return_status": r.status,
        "role": r.role,
        "return_reason": r.reason,
        "return_reason_text": r.reason_text,
        "create_time": r.create_time,
        "update_time": r.update_time,
        "seller_next_action_response": return_next_action(r),
        "return_line_items": _return_line_items(sim, r),
        "refund_amount": refund_amount(r.refund, r.partial_refund_total),
        "is_combined_return": False,
        "is_quick_refund": False,
    }
    if r.return_type == "RETURN_AND_REFUND":
        answer["return_method"] = "PLATFORM_SHIPPED"
        answer["shipment_type"] = "PLATFORM"
        answer["handover_method"] = "DROP_OFF"
    if r.return_tracking_number is not None:
        answer["return_tracking_number"] = r.return_tracking_number
        answer["return_provider_id"] = r.return_provider_id
        answer["return_provider_name"] = r.return_provider_name
    if r.partial_refund_total is not None:
        answer["seller_proposed_return_type"] = "PARTIAL_REFUND"
        answer["partial_refund"] = {"currency": r.refund.currency, "amount": r.partial_refund_total}
    return answer


def sku_return_request_api(sim: Simulator, r: ReturnRequest) -> dict[str, Any]:
    """The 202603/202604 ``SkuReturnRequest``: the return in the after-sales model's words."""
    answer = return_api(sim, r)
    for key in ("partial_refund", "is_combined_return"):
        answer.pop(key, None)
    if r.partial_refund_total is not None:
        answer["partial_refund_amount"] = {
            "partial_refund_total": r.partial_refund_total,
            "currency": r.refund.currency,
        }
    answer["buyer_keep_item"] = r.buyer_keep_item
    return answer


def aftersales_line_items(sim: Simulator, r: ReturnRequest) -> list[dict[str, Any]]:
    """The after-sales ``LineItem`` entries (one per returned unit)."""
    items = {i["id"]: i for i in sim.world.orders[r.order_id].line_items}
    return [
        {
            "return_line_item_id": return_line,
            "sku_id": items[line].get("sku_id"),
            "main_order_id": r.order_id,
            "sku_return_request_id": r.id,
        }
        for line, return_line in r.lines.items()
    ]


def rma_api(sim: Simulator, r: ReturnRequest, fields: set[str]) -> dict[str, Any]:
    """A ``return_merchandise_authorizations`` entry (202603 and 202604)."""
    answer: dict[str, Any] = {
        "id": r.rma_id,
        "aftersales_request_id": r.aftersales_id,
        "status": r.rma_status,
    }
    if r.rma_package_id is not None:
        answer["package_id"] = r.rma_package_id
    if "LINE_ITEMS" in fields:
        answer["line_items"] = aftersales_line_items(sim, r)
    if "SKU_RETURN_REQUESTS" in fields:
        answer["sku_return_requests"] = [sku_return_request_api(sim, r)]
    return answer


def aftersales_api(sim: Simulator, r: ReturnRequest, fields: set[str]) -> dict[str, Any]:
    """An ``aftersales_requests`` entry of ``POST /return_refund/202603/aftersales/search``."""
    answer: dict[str, Any] = {"id": r.aftersales_id, "status": r.aftersales_status}
    if "LINE_ITEMS" in fields:
        answer["line_items"] = aftersales_line_items(sim, r)
    if "SKU_RETURN_REQUESTS" in fields:
        answer["sku_return_requests"] = [sku_return_request_api(sim, r)]
    if "RETURN_MERCHANDISE_AUTHORIZATIONS" in fields and r.rma_id is not None:
        answer["return_merchandise_authorizations"] = [rma_api(sim, r, {"LINE_ITEMS"})]
    return answer
