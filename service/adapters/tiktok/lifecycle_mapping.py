"""TikTok's reverse-flow and finance shapes onto the domain's: cancellations and returns
(return_refund 202602 searches), after-sales requests (202603, 202604) and an order's statement
transactions (finance 202501). Money leaves as minor units, times as UTC datetimes."""

from datetime import UTC, datetime

from service.adapters.tiktok.models import (
    AftersalesRequest,
    Cancellation,
    NextAction,
    OrderTransactions,
    RefundAmount,
    ReturnOrder,
    Rma,
)
from service.domain.fees import Settlement
from service.domain.money import normalise_currency, optional_minor_units, to_minor_units
from service.domain.reverse_requests import RemoteRequest


def _time(unix_seconds: int | None) -> datetime | None:
    return datetime.fromtimestamp(unix_seconds, UTC) if unix_seconds and unix_seconds > 0 else None


def _next(actions: list[NextAction]) -> tuple[str | None, datetime | None]:
    """The first action TikTok waits for, and its deadline."""
    first = next((a for a in actions if a.action), None)
    return (first.action, _time(first.deadline)) if first is not None else (None, None)


def _refund(amount: RefundAmount | None) -> tuple[int | None, str | None]:
    if amount is None or not amount.currency:
        return None, None
    currency = normalise_currency(amount.currency)
    return optional_minor_units(amount.refund_total, currency), currency


def cancellation_request(c: Cancellation) -> RemoteRequest:
    """Raises ValueError for an amount finer than its currency allows."""
    action, deadline = _next(c.seller_next_action_response)
    total, currency = _refund(c.refund_amount)
    return RemoteRequest(
        kind="cancellation",
        id=c.cancel_id,
        order_id=c.order_id,
        status=c.cancel_status,
        type=c.cancel_type,
        role=c.role,
        reason=c.cancel_reason,
        reason_text=c.cancel_reason_text,
        next_action=action,
        deadline=deadline,
        refund_total=total,
        currency=currency,
        created_at=_time(c.create_time),
        updated_at=_time(c.update_time),
        knows_next_action=True,
    )


def return_request(r: ReturnOrder) -> RemoteRequest:
    """The return with its refund (``refund_amount.refund_total``) in minor units of its own
    currency and the order line items it covers.

    Raises ValueError for an amount finer than its currency allows."""
    action, deadline = _next(r.seller_next_action_response)
    total, currency = _refund(r.refund_amount)
    return RemoteRequest(
        kind="return",
        id=r.return_id,
        order_id=r.order_id,
        status=r.return_status,
        type=r.return_type,
        role=r.role,
        reason=r.return_reason,
        reason_text=r.return_reason_text,
        next_action=action,
        deadline=deadline,
        refund_total=total,
        currency=currency,
        line_item_ids=tuple(
            i.order_line_item_id for i in r.return_line_items if i.order_line_item_id
        ),
        created_at=_time(r.create_time),
        updated_at=_time(r.update_time),
        knows_next_action=True,
    )


def aftersales_request(a: AftersalesRequest) -> RemoteRequest | None:
    """The after-sales request with its order (from its SKU return requests); None when it
    names no order."""
    order_id = next((s.order_id for s in a.sku_return_requests if s.order_id), None)
    if order_id is None:
        return None
    rma = a.return_merchandise_authorizations[0] if a.return_merchandise_authorizations else None
    return RemoteRequest(
        kind="aftersales",
        id=a.id,
        order_id=order_id,
        status=a.status,
        rma_id=rma.id if rma else None,
        rma_status=rma.status if rma else None,
    )


def rma_request(rma: Rma) -> RemoteRequest | None:
    """The after-sales request an RMA belongs to, with its order; None when it names none."""
    order_id = next((s.order_id for s in rma.sku_return_requests if s.order_id), None)
    if order_id is None or not rma.aftersales_request_id:
        return None
    return RemoteRequest(
        kind="aftersales",
        id=rma.aftersales_request_id,
        order_id=order_id,
        status="",
        rma_id=rma.id,
        rma_status=rma.status,
    )


def settlement(t: OrderTransactions) -> Settlement | None:
    """The order's settled figures, or None while TikTok lists no transaction for it.

    Raises ValueError for an amount finer than its currency allows.
    """
    if not t.sku_transactions or not t.currency or t.settlement_amount is None:
        return None
    currency = normalise_currency(t.currency)

    # A statement writes what TikTok withheld as negative amounts.
    def minor(amount: str | None) -> int:
        return to_minor_units(amount, currency, signed=True) if amount and amount.strip() else 0

    return Settlement(
        order_id=t.order_id,
        currency=currency,
        settlement_amount=minor(t.settlement_amount),
        fee_and_tax_amount=minor(t.fee_and_tax_amount),
        revenue_amount=minor(t.revenue_amount),
        shipping_cost_amount=minor(t.shipping_cost_amount),
    )
