"""Reverse flows and shipping: the seller's decisions on TikTok, and what TikTok's reverse-flow
webhooks (11, 12, 2 and the after-sales 64, 65, 67) record on the order.

A decision acts on TikTok first (return_refund 202309/202602/202606, fulfillment 202309/202610)
and records its outcome with a patch, so that a retry never acts twice; each emits its event.
Bad input is refused before TikTok is called and writes nothing; a refusal by TikTok is
answered with TikTok's code (`tiktok_error`, `tiktokCode`) and writes nothing either.

Requests are kept on the order (`reverseRequests`) from TikTok's searches and webhooks, newest
version winning per request (`domain.reverse_requests`); the searches carry the deadline by
which TikTok decides for a silent seller.
"""

from collections.abc import Sequence
from datetime import datetime
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
from service.application import orders
from service.application.context import Context
from service.application.errors import GatewayError, InvalidRequest, tiktok_failed
from service.application.ports import Keys
from service.domain import reverse_requests as rules
from service.domain import webhooks as webhook_rules
from service.domain.carriers import UnknownCarrier, choose_provider
from service.domain.ids import new_id, stable_id
from service.domain.money import normalise_currency, to_minor_units
from service.domain.orders import apply_reverse, order_id_for
from service.domain.time import later, utcnow

log = structlog.get_logger(__name__)

#: What a decision changes on the order: a patch, so that a retry never decides twice.
DECISION_FIELDS = (
    "reverse_requests",
    "cancellation_status",
    "cancellation_updated_at",
    "return_status",
    "return_updated_at",
    "status",
    "updated_at",
)
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


def _with_decision(order: ChannelOrder, request: ReverseRequest, now: datetime) -> ChannelOrder:
    """The order with the decided request in place and its reverse-flow fields moved on."""
    remote = rules.RemoteRequest(
        kind=request.kind,
        id=request.id,
        order_id=order.external_order_id,
        status=request.status,
        created_at=request.created_at,
        updated_at=request.updated_at,
    )
    moved = order
    reverse = rules.as_reverse(remote)
    when = rules.flow_time(remote)
    if reverse is not None and when is not None:
        change = apply_reverse(order, reverse, when, now)
        moved = change.order if change is not None else order
    return moved.model_copy(
        update={
            "reverse_requests": rules.replaced(order.reverse_requests, request),
            "updated_at": later(now, order.updated_at),
        }
    )


def _decided(
    ctx: Context, order: ChannelOrder, request: ReverseRequest, status: str, event: Event
) -> ChannelOrder:
    """Record an accepted decision (a patch) with its event; answers the order."""
    now = utcnow()
    updated = _with_decision(order, rules.decided(request, status), now)
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
    # the request's create_time, which then orders the flow's stages).
    remote = rules.RemoteRequest(
        kind=made.kind,
        id=made.id,
        order_id=made.order_id,
        status=made.status or rules.CANCELLATION_APPROVED,
        type=made.type,
        role=made.role,
        reason=made.reason,
    )
    merged = rules.merge_request(order.reverse_requests, remote) or order.reverse_requests
    updated = _with_decision(
        order.model_copy(update={"reverse_requests": merged}), rules.to_entry(remote), now
    ).model_copy(update={"status": "cancelled"})
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


def _webhook_request(
    webhook: w.CancellationStatusChange | w.ReturnStatusChange,
) -> rules.RemoteRequest | None:
    data = webhook.data
    at = webhook.delivery.received_at
    if isinstance(webhook, w.CancellationStatusChange):
        if not webhook.data.cancel_id:
            return None
        cancel = webhook.data
        return rules.RemoteRequest(
            kind="cancellation",
            id=cancel.cancel_id or "",
            order_id=data.order_id,
            status=cancel.cancel_status or "",
            role=cancel.cancellations_role,
            created_at=webhook_rules.event_time(cancel.create_time, at),
            updated_at=None,
        )
    ret = webhook.data
    if not ret.return_id:
        return None
    return rules.RemoteRequest(
        kind="return",
        id=ret.return_id,
        order_id=data.order_id,
        status=ret.return_status or "",
        type=ret.return_type,
        role=ret.return_role,
        created_at=webhook_rules.event_time(ret.create_time, at),
        updated_at=webhook_rules.event_time(ret.update_time, at) if ret.update_time else None,
    )


async def merge_requests(
    ctx: Context, shop_id: str, external_order_id: str, remotes: Sequence[rules.RemoteRequest]
) -> int:
    """Apply TikTok's copies of an order's requests (and their reverse-flow fields); answers
    how many changed. The order must exist in this unit of work to record anything."""
    order = await ctx.uow.orders.get_by_external(shop_id, external_order_id)
    if order is None:
        return 0
    changed = 0
    now = utcnow()
    current = order
    for remote in remotes:
        updated = apply_request(current, remote, now)
        if updated is not None:
            current = updated
            changed += 1
    if changed:
        ctx.uow.orders.save(current)
    return changed


def apply_request(
    order: ChannelOrder, remote: rules.RemoteRequest, now: datetime
) -> ChannelOrder | None:
    """The order with one of TikTok's request copies applied, and the order's flow fields moved
    as webhooks 11 and 12 move them; None when the order holds it already (newest wins)."""
    merged = rules.merge_request(order.reverse_requests, remote)
    moved = order
    reverse = rules.as_reverse(remote)
    when = rules.flow_time(remote)
    if reverse is not None and when is not None:
        change = apply_reverse(order, reverse, when, now)
        if change is not None:
            moved = change.order
    if merged is None and moved is order:
        return None
    return moved.model_copy(
        update={
            "reverse_requests": merged if merged is not None else order.reverse_requests,
            "updated_at": later(now, order.updated_at),
        }
    )


async def on_reverse_webhook(
    webhook: w.CancellationStatusChange | w.ReturnStatusChange | w.ReverseStatusUpdate,
    ctx: Context,
) -> str:
    """Types 11, 12 and the legacy 2: the order's reverse-flow fields (`orders`), then the
    request itself: as the webhook tells it, and with TikTok's searches (which carry the
    seller's deadline) when the API can be asked."""
    outcome = await orders.on_reverse_status(webhook, ctx)
    if isinstance(webhook, w.ReverseStatusUpdate):
        return outcome
    shop_id = webhook.delivery.shop_id
    order_id = webhook.data.order_id
    remotes: list[rules.RemoteRequest] = []
    told = _webhook_request(webhook)
    if told is not None:
        remotes.append(told)
    if ctx.tiktok.enabled(shop_id):
        try:
            remotes += await ctx.tiktok.order_requests(shop_id, order_id)
        except GatewayError as exc:
            log.info("order requests not fetched", order_id=order_id, error=exc.message)
    changed = await merge_requests(ctx, shop_id, order_id, remotes)
    return f"{outcome}; {changed} request(s) updated"


async def _order_for(ctx: Context, shop_id: str, external_order_id: str) -> ChannelOrder | None:
    """The order, fetched from TikTok (and stored) when it is not known here yet."""
    order = await ctx.uow.orders.get_by_external(shop_id, external_order_id)
    if order is not None or not ctx.tiktok.enabled(shop_id):
        return order
    try:
        found = await ctx.tiktok.order_details(shop_id, [external_order_id])
    except GatewayError:
        return None
    if not found:
        return None
    await orders.apply_remote_order(ctx, shop_id, found[0])
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
    changed = await merge_requests(ctx, shop_id, found.order_id, [remote])
    return f"order {order_id_for(shop_id, found.order_id)}: after-sales {found.id} " + (
        "updated" if changed else "already as far along"
    )


def refund_keys(webhook: w.RefundSuccess) -> Keys:
    """The orders a refund-success webhook names (by our derived ids)."""
    shop_id = webhook.delivery.shop_id
    return Keys(order_ids={order_id_for(shop_id, i) for i in webhook.data.order_ids()})


def _refund_amount(data: w.RefundSuccessData) -> tuple[int | None, str | None]:
    """The refund in minor units, or (None, currency) when TikTok's amount cannot be read."""
    try:
        currency = normalise_currency(data.refund_currency) if data.refund_currency else None
    except ValueError:
        return None, None
    if currency is None or data.refund_total is None:
        return None, currency
    try:
        return to_minor_units(str(data.refund_total), currency), currency
    except (ValueError, InvalidOperation):
        log.warning("refund amount unreadable", refund_total=data.refund_total, currency=currency)
        return None, currency


async def on_refund_success(webhook: w.RefundSuccess, ctx: Context) -> str:
    """Type 67: TikTok paid a refund. Recorded on each order it names (on the after-sales
    request's entry) and announced as `tiktok.refund.succeeded`, once per request and order."""
    shop_id = webhook.delivery.shop_id
    data = webhook.data
    request_id = data.aftersales_request_id or data.rma_id
    if not request_id:
        return "stored: the refund names no after-sales request"
    amount, currency = _refund_amount(data)
    at = webhook_rules.event_time(data.refund_timestamp, webhook.delivery.received_at)
    recorded = []
    for external_id in data.order_ids():
        order = await _order_for(ctx, shop_id, external_id)
        if order is None:
            continue
        updated = rules.refunded(
            order.reverse_requests, request_id, amount=amount, currency=currency, at=at
        )
        if updated is None:
            continue
        now = utcnow()
        changed = order.model_copy(
            update={"reverse_requests": updated, "updated_at": later(now, order.updated_at)}
        )
        event = RefundSucceeded(
            event_id=stable_id("refund.succeeded", shop_id, request_id, external_id),
            shop_id=shop_id,
            occurred_at=at,
            order=changed,
            request_id=request_id,
            amount=amount,
            currency=currency,
        )
        ctx.uow.orders.save(changed, [event])
        recorded.append(order.id)
    if not recorded:
        return f"refund of {request_id}: nothing new to record"
    return f"refund of {request_id} recorded on {', '.join(recorded)}"
