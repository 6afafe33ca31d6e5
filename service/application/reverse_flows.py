"""Reverse flows and shipping: the seller's decisions on TikTok, and what TikTok's reverse-flow
webhooks (11, 12, 2 and the after-sales 64, 65, 67) record on the order.

A decision acts on TikTok first (return_refund 202309/202602/202606, fulfillment 202309/202610)
and records its outcome with a patch, so that a retry never acts twice; each emits its event.
Bad input is refused before TikTok is called and writes nothing; a refusal by TikTok is
answered with TikTok's code (`tiktok_error`, `tiktokCode`) and writes nothing either.

Requests are kept on the order (`reverseRequests`), the one record of its reverse flows: every
source, the webhooks, TikTok's searches (which carry the seller's deadline and the refund
amounts), a reconciliation and the seller's decisions, goes through
`domain.orders.record_requests`, which also derives what they mean for the order (the amount
refunded, a `cancelled` or `refunded` status).
"""

from decimal import InvalidOperation

import structlog

from contracts import commands as c
from contracts import replies as r
from contracts import webhooks as w
from contracts.entities import ChannelOrder, ReverseRequest, ReverseRequestKind
from contracts.events import (
    CancellationApproved,
    CancellationRejected,
    Event,
    OrderCancelledBySeller,
    OrderShipped,
    RefundSucceeded,
    ReturnApproved,
    ReturnRejected,
)
from service.application import budget, orders
from service.application.context import Context
from service.application.errors import GatewayError, InvalidRequest, tiktok_failed
from service.application.ports import Keys
from service.domain import reverse_requests as rules
from service.domain import webhooks as webhook_rules
from service.domain.carriers import UnknownCarrier, choose_provider
from service.domain.ids import new_id, stable_id
from service.domain.money import from_minor_units, normalise_currency, to_minor_units
from service.domain.orders import (
    order_id_for,
    record_requests,
    refund_amount_unknown,
    reverse_stub,
)
from service.domain.time import later, utcnow

log = structlog.get_logger(__name__)

#: What a decision changes on the order, the requests and what is derived from them: a patch,
#: so that a retry never decides twice.
DECISION_FIELDS = ("reverse_requests", "refunded_amount", "status", "updated_at")
SHIP_FIELDS = ("status", "tracking_number", "tracking_url", "updated_at")


# --- helpers ------------------------------------------------------------------------------


def _request(
    order: ChannelOrder, kind: ReverseRequestKind, request_id: str | None
) -> ReverseRequest:
    """The request a decision means, or InvalidRequest saying which ones there are."""
    found = rules.open_request(order.reverse_requests, kind, request_id)
    if found is not None:
        return found
    waiting = [q.id for q in order.reverse_requests if q.kind == kind and q.awaiting_seller]
    if request_id is not None:
        raise InvalidRequest(f"Order {order.id} has no {kind} request {request_id}")
    if not waiting:
        raise InvalidRequest(f"Order {order.id} has no open {kind} request")
    raise InvalidRequest(
        f"Order {order.id} has several open {kind} requests: name one as requestId "
        f"({', '.join(waiting)})"
    )


def _decided(
    ctx: Context, order: ChannelOrder, request: ReverseRequest, status: str, event: Event
) -> ChannelOrder:
    """Record an accepted decision (a patch) with its event; answers the order."""
    decided = rules.decided(request, order.external_order_id, status)
    change = record_requests(order, [decided], utcnow())
    updated = change.order if change is not None else order
    ctx.uow.orders.patch(updated, DECISION_FIELDS, [_with_order(event, updated)])
    log.info("seller decision recorded", order_id=order.id, request_id=request.id, status=status)
    return updated


def _with_order(event: Event, order: ChannelOrder) -> Event:
    return event.model_copy(update={"order": order})


async def _order(ctx: Context, shop_id: str, order_id: str) -> ChannelOrder:
    order = await orders.load(ctx, shop_id, order_id)
    ctx.require_tiktok(shop_id)
    return order


# --- cancellations --------------------------------------------------------------------------


async def approve_cancellation(cmd: c.ApproveCancellation, ctx: Context) -> r.OrderReply:
    """`orders.approveCancellation`: approve the buyer's cancellation request on TikTok."""
    shop_id = ctx.shop(cmd.shop_id)
    order = await _order(ctx, shop_id, cmd.id)
    request = _request(order, "cancellation", cmd.request_id)
    try:
        rules.cancellation_decidable(request)
    except rules.NotDecidable as exc:
        raise InvalidRequest(str(exc)) from exc
    try:
        await ctx.tiktok.approve_cancellation(
            shop_id, request.id, idempotency_key=stable_id("approve", shop_id, request.id)
        )
    except GatewayError as exc:
        raise tiktok_failed("TikTok did not approve the cancellation", exc) from exc
    event = CancellationApproved(
        event_id=new_id(), shop_id=shop_id, occurred_at=utcnow(), order=order, request_id=request.id
    )
    updated = _decided(ctx, order, request, rules.CANCELLATION_APPROVED, event)
    return r.OrderReply(order=updated)


async def reject_cancellation(cmd: c.RejectCancellation, ctx: Context) -> r.OrderReply:
    """`orders.rejectCancellation`: reject it on TikTok with one of its reject reasons."""
    shop_id = ctx.shop(cmd.shop_id)
    order = await _order(ctx, shop_id, cmd.id)
    request = _request(order, "cancellation", cmd.request_id)
    try:
        rules.cancellation_decidable(request)
    except rules.NotDecidable as exc:
        raise InvalidRequest(str(exc)) from exc
    try:
        await ctx.tiktok.reject_cancellation(
            shop_id,
            request.id,
            cmd.reason,
            cmd.comment,
            idempotency_key=stable_id("reject", shop_id, request.id, cmd.reason),
        )
    except GatewayError as exc:
        raise tiktok_failed("TikTok did not reject the cancellation", exc) from exc
    event = CancellationRejected(
        event_id=new_id(),
        shop_id=shop_id,
        occurred_at=utcnow(),
        order=order,
        request_id=request.id,
        reason=cmd.reason,
    )
    updated = _decided(ctx, order, request, rules.CANCELLATION_REJECTED, event)
    return r.OrderReply(order=updated)


async def cancel_order(cmd: c.CancelOrder, ctx: Context) -> r.OrderReply:
    """`orders.cancel`: cancel the whole order as the seller (return_refund 202602), with one of
    `orders.cancelReasons`. TikTok cancels at once; the order is cancelled here too."""
    shop_id = ctx.shop(cmd.shop_id)
    order = await _order(ctx, shop_id, cmd.id)
    if order.status in ("cancelled", "refunded"):
        raise InvalidRequest(f"Order {order.id} is already {order.status}")
    try:
        made = await ctx.tiktok.cancel_order(shop_id, order.external_order_id, cmd.reason)
    except GatewayError as exc:
        raise tiktok_failed("TikTok did not cancel the order", exc) from exc
    now = utcnow()
    # No times: TikTok's answer carries none, and ours would outrank its webhooks' (11 stamps
    # the request's create_time).
    remote = rules.RemoteRequest(
        kind=made.kind,
        id=made.id,
        order_id=made.order_id,
        status=made.status or rules.CANCELLATION_APPROVED,
        type=made.type,
        role=made.role,
        reason=made.reason,
    )
    change = record_requests(order, [remote], now)
    recorded = change.order if change is not None else order
    # TikTok cancels the whole order at once.
    updated = recorded.model_copy(
        update={"status": "cancelled", "updated_at": later(now, order.updated_at)}
    )
    event = OrderCancelledBySeller(
        event_id=new_id(),
        shop_id=shop_id,
        occurred_at=now,
        order=updated,
        request_id=made.id,
        reason=cmd.reason,
    )
    ctx.uow.orders.patch(updated, DECISION_FIELDS, [event])
    return r.OrderReply(order=updated)


async def cancel_reasons(cmd: c.ListCancelReasons, ctx: Context) -> r.ReasonsReply:
    """`orders.cancelReasons`: what a seller may give as the reason to cancel the order now
    (none once it cannot be cancelled)."""
    shop_id = ctx.shop(cmd.shop_id)
    order = await _order(ctx, shop_id, cmd.id)
    try:
        reasons = await ctx.tiktok.cancel_reasons(shop_id, order.external_order_id)
    except GatewayError as exc:
        raise tiktok_failed("TikTok did not list the cancel reasons", exc) from exc
    return r.ReasonsReply(reasons=[r.ReasonOption(name=x.name, text=x.text) for x in reasons])


# --- returns and refunds ---------------------------------------------------------------------


async def approve_return(cmd: c.ApproveReturn, ctx: Context) -> r.OrderReply:
    """`orders.approveReturn`: approve the return or refund request on TikTok, with the
    decision its state calls for."""
    shop_id = ctx.shop(cmd.shop_id)
    order = await _order(ctx, shop_id, cmd.id)
    request = _request(order, "return", cmd.request_id)
    try:
        decision = rules.return_decision(request, approve=True, buyer_keep_item=cmd.buyer_keep_item)
    except rules.NotDecidable as exc:
        raise InvalidRequest(str(exc)) from exc
    try:
        await ctx.tiktok.approve_return(
            shop_id,
            request.id,
            decision.decision,
            buyer_keep_item=cmd.buyer_keep_item,
            idempotency_key=stable_id("approve", shop_id, request.id, decision.decision),
        )
    except GatewayError as exc:
        raise tiktok_failed("TikTok did not approve the return", exc) from exc
    event = ReturnApproved(
        event_id=new_id(),
        shop_id=shop_id,
        occurred_at=utcnow(),
        order=order,
        request_id=request.id,
        decision=decision.decision,
    )
    return r.OrderReply(order=_decided(ctx, order, request, decision.next_status, event))


async def reject_return(cmd: c.RejectReturn, ctx: Context) -> r.OrderReply:
    """`orders.rejectReturn`: reject the return or refund request on TikTok with one of its
    reject reasons."""
    shop_id = ctx.shop(cmd.shop_id)
    order = await _order(ctx, shop_id, cmd.id)
    request = _request(order, "return", cmd.request_id)
    try:
        decision = rules.return_decision(request, approve=False, buyer_keep_item=False)
    except rules.NotDecidable as exc:
        raise InvalidRequest(str(exc)) from exc
    try:
        await ctx.tiktok.reject_return(
            shop_id,
            request.id,
            decision.decision,
            cmd.reason,
            cmd.comment,
            idempotency_key=stable_id("reject", shop_id, request.id, decision.decision),
        )
    except GatewayError as exc:
        raise tiktok_failed("TikTok did not reject the return", exc) from exc
    event = ReturnRejected(
        event_id=new_id(),
        shop_id=shop_id,
        occurred_at=utcnow(),
        order=order,
        request_id=request.id,
        decision=decision.decision,
        reason=cmd.reason,
    )
    return r.OrderReply(order=_decided(ctx, order, request, decision.next_status, event))


async def reject_reasons(cmd: c.ListRejectReasons, ctx: Context) -> r.ReasonsReply:
    """`orders.rejectReasons`: the reasons TikTok accepts now for rejecting the order's open
    cancellation or return request (the named one, else the one open request)."""
    shop_id = ctx.shop(cmd.shop_id)
    order = await _order(ctx, shop_id, cmd.id)
    waiting = [q for q in order.reverse_requests if q.kind != "aftersales" and q.awaiting_seller]
    if cmd.request_id is not None:
        named = next((q for q in order.reverse_requests if q.id == cmd.request_id), None)
        if named is None:
            raise InvalidRequest(f"Order {order.id} has no request {cmd.request_id}")
        request = named
    elif len(waiting) == 1:
        request = waiting[0]
    else:
        raise InvalidRequest(
            f"Order {order.id} has {'no' if not waiting else 'several'} open requests"
            + (f": name one as requestId ({', '.join(q.id for q in waiting)})" if waiting else "")
        )
    try:
        reasons = await ctx.tiktok.reject_reasons(shop_id, request.id)
    except GatewayError as exc:
        raise tiktok_failed("TikTok did not list the reject reasons", exc) from exc
    return r.ReasonsReply(reasons=[r.ReasonOption(name=x.name, text=x.text) for x in reasons])


# --- shipping ---------------------------------------------------------------------------------


async def shipping_providers(
    cmd: c.ListShippingProviders, ctx: Context
) -> r.ShippingProvidersReply:
    """`orders.shippingProviders`: the carriers TikTok accepts for the order."""
    shop_id = ctx.shop(cmd.shop_id)
    order = await _order(ctx, shop_id, cmd.id)
    try:
        providers = await ctx.tiktok.shipping_providers(shop_id, order.external_order_id)
    except GatewayError as exc:
        raise tiktok_failed("TikTok did not list the shipping providers", exc) from exc
    return r.ShippingProvidersReply(
        providers=[r.ShippingProvider(id=p.id, name=p.name) for p in providers]
    )


async def ship_order(cmd: c.ShipOrder, ctx: Context) -> r.OrderReply:
    """`orders.ship`: ship on TikTok with the tracking number and a carrier of the order's
    delivery option (the platform's name mapped, or TikTok's id), then record it."""
    shop_id = ctx.shop(cmd.shop_id)
    order = await _order(ctx, shop_id, cmd.id)
    if order.status in ("cancelled", "refunded", "delivered"):
        raise InvalidRequest(f"Order {order.id} is {order.status}: there is nothing to ship")
    try:
        providers = await ctx.tiktok.shipping_providers(shop_id, order.external_order_id)
    except GatewayError as exc:
        raise tiktok_failed("TikTok did not list the shipping providers", exc) from exc
    try:
        provider = choose_provider(
            providers,
            provider_id=cmd.shipping_provider_id,
            carrier=cmd.carrier,
            carrier_map=dict(ctx.config.carrier_map),
        )
    except UnknownCarrier as exc:
        raise InvalidRequest(str(exc)) from exc
    try:
        await ctx.tiktok.ship(
            shop_id, order.external_order_id, cmd.tracking_number, provider.id, cmd.package_id
        )
    except GatewayError as exc:
        raise tiktok_failed("TikTok did not ship the order", exc) from exc
    now = later(utcnow(), order.updated_at)
    changes: dict[str, object] = {"tracking_number": cmd.tracking_number, "updated_at": now}
    if cmd.tracking_url is not None:
        changes["tracking_url"] = cmd.tracking_url
    # Marking the order shipped puts it in transit; one package shipped waits for the carrier.
    if cmd.package_id is None:
        changes["status"] = "shipped"
    updated = order.model_copy(update=changes)
    events: list[Event] = []
    if updated.status == "shipped" and order.status != "shipped":
        events.append(
            OrderShipped(event_id=new_id(), shop_id=shop_id, occurred_at=now, order=updated)
        )
    ctx.uow.orders.patch(updated, SHIP_FIELDS, events)
    log.info("order shipped", order_id=order.id, carrier=provider.name, package_id=cmd.package_id)
    return r.OrderReply(order=updated)


# --- TikTok's reverse-flow webhooks -------------------------------------------------------------


async def _order_requests(
    ctx: Context, shop_id: str, external_order_id: str
) -> tuple[list[rules.RemoteRequest], str]:
    """TikTok's copies of the order's cancellations and returns (return_refund 202602
    searches, within the batch's budget), or none and why not."""
    if not ctx.tiktok.enabled(shop_id):
        return [], orders.NO_CREDENTIALS
    try:
        found = await budget.call(ctx.tiktok.order_requests(shop_id, external_order_id))
    except GatewayError as exc:
        log.warning("order requests unavailable", order_id=external_order_id, error=exc.message)
        return [], f"TikTok's return_refund searches failed: {exc.message}"
    return found, "TikTok's returns search does not state it"


async def on_reverse_webhook(
    webhook: w.CancellationStatusChange | w.ReturnStatusChange | w.ReverseStatusUpdate,
    ctx: Context,
) -> str:
    """Types 11, 12 and the legacy 2: the request the webhook tells, recorded on its order with
    TikTok's copies of the order's requests when the API can be asked (the seller's deadline,
    each return's lines and refund amount). With credentials the order's details are read
    first; an order still unknown is created from what the requests say, flagged
    `needsRefresh`. A completed cancellation makes the order `cancelled`; `refundedAmount` is
    what completed refunds paid back, and the order is `refunded` only once that is its whole
    total. A completed refund whose amount cannot be read leaves the order flagged
    `needsRefresh`, its status and revenue unchanged."""
    shop_id = webhook.delivery.shop_id
    data = webhook.data
    told = webhook_rules.reverse_request(data, webhook.delivery.received_at)
    details = (await orders.read_details(ctx, shop_id, [data.order_id])).found.get(data.order_id)
    if details is not None:
        await orders.apply_remote_order(ctx, shop_id, details)
    searched, why_unknown = await _order_requests(ctx, shop_id, data.order_id)
    order = await ctx.uow.orders.get_by_external(shop_id, data.order_id)
    now = utcnow()
    named = f"{told.kind} {told.id}" if told.id else told.kind
    if order is None:
        stub = reverse_stub(shop_id, data.order_id, [told, *searched], now)
        ctx.uow.orders.add(stub.order, stub.events)
        order = stub.order
        outcome = f"order {order.id} created from a {named}: {told.status}"
    else:
        moved = rules.merge_request(order.reverse_requests, told) is not None
        change = record_requests(order, [told, *searched], now, details_current=details is not None)
        if change is not None:
            ctx.uow.orders.save(change.order, change.events)
            order = change.order
        outcome = f"order {order.id}: {named} " + (told.status if moved else "already as far along")
    if searched:
        outcome += f"; {len(searched)} request(s) read from TikTok"
    if refund_amount_unknown(order):
        return f"{outcome}; refund amount unknown, marked for refresh: {why_unknown}"
    if order.refunded_amount:
        refunded = from_minor_units(order.refunded_amount, order.currency)
        total = from_minor_units(order.total, order.currency)
        return f"{outcome}; refunded {refunded} of {total} {order.currency}: {order.status}"
    return outcome


async def _record(
    ctx: Context, shop_id: str, external_order_id: str, remotes: list[rules.RemoteRequest]
) -> ChannelOrder | None:
    """Record TikTok's copies of an order's requests; answers the order when that changed it.
    The order must exist in this unit of work to record anything."""
    order = await ctx.uow.orders.get_by_external(shop_id, external_order_id)
    if order is None:
        return None
    change = record_requests(order, remotes, utcnow())
    if change is None:
        return None
    ctx.uow.orders.save(change.order, change.events)
    return change.order


async def _order_for(ctx: Context, shop_id: str, external_order_id: str) -> ChannelOrder | None:
    """The order, fetched from TikTok (and stored) when it is not known here yet."""
    order = await ctx.uow.orders.get_by_external(shop_id, external_order_id)
    if order is not None or not ctx.tiktok.enabled(shop_id):
        return order
    details = await orders.read_details(ctx, shop_id, [external_order_id])
    found = details.found.get(external_order_id)
    if found is None:
        return None
    await orders.apply_remote_order(ctx, shop_id, found)
    return await ctx.uow.orders.get_by_external(shop_id, external_order_id)


async def on_aftersales_webhook(
    webhook: w.AftersalesRequestStatusUpdate | w.RmaStatusUpdate, ctx: Context
) -> str:
    """Types 64 and 65: an after-sales request or its RMA moved. They name no order, so the
    request is looked up (after-sales search 202603, RMA search 202604) to find it; without the
    API the webhook is kept and reconciliation brings the order."""
    shop_id = webhook.delivery.shop_id
    at = webhook.delivery.received_at
    if isinstance(webhook, w.AftersalesRequestStatusUpdate):
        aftersales_id: str | None = webhook.data.aftersales_request_id
        rma_id: str | None = None
    else:
        aftersales_id, rma_id = webhook.data.aftersales_request_id, webhook.data.rma_id
    if not ctx.tiktok.enabled(shop_id):
        return f"stored: no API to find the order of after-sales request {aftersales_id or rma_id}"
    try:
        found = await ctx.tiktok.aftersales_request(
            shop_id, aftersales_id=aftersales_id, rma_id=None if aftersales_id else rma_id
        )
    except GatewayError as exc:
        return f"stored: the after-sales request could not be looked up: {exc.message}"
    if found is None:
        return f"stored: TikTok knows no order of after-sales request {aftersales_id or rma_id}"
    if isinstance(webhook, w.AftersalesRequestStatusUpdate):
        data = webhook.data
        remote = rules.RemoteRequest(
            kind="aftersales",
            id=found.id,
            order_id=found.order_id,
            status=data.aftersales_request_status or found.status,
            role=data.return_role,
            created_at=webhook_rules.event_time(data.aftersales_request_create_time, at),
            updated_at=webhook_rules.event_time(data.aftersales_request_update_time, at),
        )
    else:
        rma = webhook.data
        remote = rules.RemoteRequest(
            kind="aftersales",
            id=found.id,
            order_id=found.order_id,
            status=found.status,
            role=rma.return_role,
            rma_id=rma.rma_id,
            rma_status=rma.rma_status,
            rma_updated_at=webhook_rules.event_time(rma.rma_request_update_time, at),
        )
    if await _order_for(ctx, shop_id, found.order_id) is None:
        return f"stored: order {found.order_id} is not known yet"
    changed = await _record(ctx, shop_id, found.order_id, [remote])
    return f"order {order_id_for(shop_id, found.order_id)}: after-sales {found.id} " + (
        "updated" if changed is not None else "already as far along"
    )


def refund_keys(webhook: w.RefundSuccess) -> Keys:
    """The orders a refund-success webhook names (by our derived ids)."""
    shop_id = webhook.delivery.shop_id
    return Keys(order_ids={order_id_for(shop_id, i) for i in webhook.data.order_ids()})


def _refund_amount(data: w.RefundSuccessData) -> tuple[int | None, str | None, str | None]:
    """The refund in minor units and its currency; (None, currency, why) when TikTok's amount
    cannot be kept (not an amount of the currency, finer than it, beyond the largest taken)."""
    try:
        currency = normalise_currency(data.refund_currency) if data.refund_currency else None
    except ValueError as exc:
        return None, None, str(exc)
    if currency is None or data.refund_total is None:
        return None, currency, None
    try:
        return to_minor_units(str(data.refund_total), currency), currency, None
    except (ValueError, InvalidOperation) as exc:
        log.warning("refund amount unreadable", refund_total=data.refund_total, currency=currency)
        return None, currency, str(exc)


async def on_refund_success(webhook: w.RefundSuccess, ctx: Context) -> str:
    """Type 67: TikTok paid a refund. Recorded on each order it names (on the after-sales
    request's entry) and announced as `tiktok.refund.succeeded`, once per request and order.
    An amount that cannot be kept (`money.to_minor_units` refuses it) leaves the refund recorded
    with its amount unknown, the reason in the outcome."""
    shop_id = webhook.delivery.shop_id
    data = webhook.data
    request_id = data.aftersales_request_id or data.rma_id
    if not request_id:
        return "stored: the refund names no after-sales request"
    amount, currency, refused = _refund_amount(data)
    at = webhook_rules.event_time(data.refund_timestamp, webhook.delivery.received_at)
    recorded = []
    for external_id in data.order_ids():
        order = await _order_for(ctx, shop_id, external_id)
        if order is None:
            continue
        paid = rules.RemoteRequest(
            kind="aftersales",
            id=request_id,
            order_id=external_id,
            # TikTok pays once its review is done.
            status=rules.AFTERSALES_DONE,
            refund_total=amount,
            currency=currency,
            refunded_at=at,
        )
        change = record_requests(order, [paid], utcnow())
        if change is None:
            continue
        held = rules.find(order.reverse_requests, "aftersales", request_id)
        events: list[Event] = []
        if held is None or held.refunded_at is None:
            events.append(
                RefundSucceeded(
                    event_id=stable_id("refund.succeeded", shop_id, request_id, external_id),
                    shop_id=shop_id,
                    occurred_at=at,
                    order=change.order,
                    request_id=request_id,
                    amount=amount,
                    currency=currency,
                )
            )
            recorded.append(order.id)
        ctx.uow.orders.save(change.order, [*change.events, *events])
    # The refund happened whatever its amount says: it is recorded, its amount unknown.
    unknown = f"; its amount is unknown: {refused}" if refused else ""
    if not recorded:
        return f"refund of {request_id}: nothing new to record{unknown}"
    return f"refund of {request_id} recorded on {', '.join(recorded)}{unknown}"
