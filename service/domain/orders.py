"""Order rules: TikTok's newest update wins, and which changes make which events.

An order has three clocks. Its status and details are versioned by TikTok's `update_time`
(same second: the status further along wins). Each reverse flow, cancellation and return, is
versioned on its own clock, the request's time then its stage, so a later stage never loses to
an earlier one (TikTok's cancellation webhook repeats the request's `create_time` at every
stage). A completed cancellation or full refund decides the order's status whatever an order
status event says afterwards: a reverse-flow event never loses to an order-status event.

Refunds: every return request is kept by TikTok's return id (`returns`), each on its own clock.
`refunded_amount` is the sum of the completed ones' amounts as TikTok's returns API states them
(minor units of the order's currency); the order is `refunded` only once that reaches its total.
A completed refund whose amount is not known yet keeps the order flagged `needs_refresh`.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from contracts.entities import ChannelOrder, OrderReturn, OrderStatus
from contracts.events import Event, OrderReceived, OrderShipped
from service.domain.ids import new_id, stable_id
from service.domain.remote import RemoteOrder, RemoteReturn
from service.domain.tiktok_status import (
    CANCELLATION_STAGE,
    RETURN_STAGE,
    map_order_status,
    order_status_rank,
)
from service.domain.time import later
from service.domain.webhooks import CANCELLATION_COMPLETE, REFUND_DONE, Reverse

# Before any TikTok time: the version of an order known only by its id.
_EPOCH = datetime.fromtimestamp(0, UTC)


def order_id_for(shop_id: str, external_order_id: str) -> str:
    """Our id of the order TikTok knows as `external_order_id` in `shop_id`.

    Derived, not drawn: every worker and every redelivery arrives at the same id, so the order
    is found (and a batch of orders loaded) by `_id` alone, and no two copies can be made.
    """
    return stable_id("order", shop_id, external_order_id)


@dataclass(frozen=True)
class OrderChange:
    order: ChannelOrder
    events: list[Event]


def _details(remote: RemoteOrder) -> dict[str, Any]:
    return {
        "external_status": remote.external_status,
        "external_updated_at": remote.updated_at,
        "currency": remote.currency,
        "subtotal": remote.subtotal,
        "shipping_fee": remote.shipping_fee,
        "platform_fee": remote.platform_fee,
        "total": remote.total,
        "customer_name": remote.customer_name,
        "shipping_address": remote.shipping_address,
        "items": list(remote.items),
    }


def _transition_events(
    before: ChannelOrder | None, after: ChannelOrder, now: datetime
) -> list[Event]:
    events: list[Event] = []
    if before is None:
        events.append(
            OrderReceived(event_id=new_id(), shop_id=after.shop_id, occurred_at=now, order=after)
        )
    if after.status == "shipped" and (before is None or before.status != "shipped"):
        events.append(
            OrderShipped(event_id=new_id(), shop_id=after.shop_id, occurred_at=now, order=after)
        )
    return events


def new_order(
    shop_id: str, remote: RemoteOrder, now: datetime, *, needs_refresh: bool
) -> OrderChange:
    order = ChannelOrder(
        id=order_id_for(shop_id, remote.external_order_id),
        shop_id=shop_id,
        external_order_id=remote.external_order_id,
        status=remote.status or "pending",
        tracking_number=remote.tracking_number,
        tracking_url=remote.tracking_url,
        needs_refresh=needs_refresh,
        created_at=remote.created_at or now,
        updated_at=now,
        **_details(remote),
    )
    return OrderChange(order, _transition_events(None, order, now))


def _newer(existing: ChannelOrder, remote: RemoteOrder, *, needs_refresh: bool) -> bool:
    held = existing.external_updated_at
    if held is None or remote.updated_at > held:
        return True
    if remote.updated_at < held:
        return False
    rank, held_rank = (
        order_status_rank(remote.external_status),
        order_status_rank(existing.external_status),
    )
    if rank != held_rank:
        return rank > held_rank
    # The same version again: worth writing only when it brings the details a webhook lacked.
    return existing.needs_refresh and not needs_refresh


def fully_refunded(order: ChannelOrder) -> bool:
    """Whether TikTok refunded the whole order (its total, in minor units)."""
    return order.total > 0 and order.refunded_amount >= order.total


def refund_amount_unknown(order: ChannelOrder) -> bool:
    """A completed refund whose amount TikTok's returns API has not stated to us yet."""
    done = [r for r in order.returns if r.status in REFUND_DONE]
    if any(r.refund_amount is None for r in done):
        return True
    return order.return_status in REFUND_DONE and not done


def reverse_outcome(order: ChannelOrder) -> OrderStatus | None:
    """The status a completed reverse flow holds the order at (else None)."""
    if order.cancellation_status in CANCELLATION_COMPLETE:
        return "cancelled"
    if fully_refunded(order):
        return "refunded"
    return None


def _settled(order: ChannelOrder) -> ChannelOrder:
    """The order with what its returns imply: the amount refunded, the status a completed
    reverse flow holds, and the refresh flag while a refund's amount is unknown."""
    refunded = sum(r.refund_amount or 0 for r in order.returns if r.status in REFUND_DONE)
    changes: dict[str, Any] = {"refunded_amount": refunded}
    settled = order.model_copy(update=changes)
    held = reverse_outcome(settled)
    if held is not None:
        changes["status"] = held
    elif order.status == "refunded" and order.returns:
        # Its returns refund part of the order, not all: TikTok's status holds.
        changes["status"] = map_order_status(order.external_status) or "delivered"
    if refund_amount_unknown(settled):
        changes["needs_refresh"] = True
    return ChannelOrder.model_validate({**order.model_dump(by_alias=False), **changes})


def merge_remote(
    existing: ChannelOrder, remote: RemoteOrder, now: datetime, *, needs_refresh: bool
) -> OrderChange | None:
    """The order with TikTok's copy (or a webhook's knowledge) applied, or None when the copy is
    not newer than what we hold."""
    if not _newer(existing, remote, needs_refresh=needs_refresh):
        return None
    changes = _details(remote)
    if needs_refresh:
        # A webhook knows the status only: keep the details we already have.
        changes = {k: changes[k] for k in ("external_status", "external_updated_at")}
    changes["needs_refresh"] = needs_refresh
    changes["updated_at"] = later(now, existing.updated_at)
    if remote.status is not None:
        changes["status"] = remote.status
    for name in ("tracking_number", "tracking_url"):
        if getattr(remote, name):
            changes[name] = getattr(remote, name)
    merged = _settled(
        ChannelOrder.model_validate({**existing.model_dump(by_alias=False), **changes})
    )
    return OrderChange(merged, _transition_events(existing, merged, now))


def _stage(kind: str, status: str) -> int:
    stages = CANCELLATION_STAGE if kind == "cancellation" else RETURN_STAGE
    return stages.get(status, 0)


def _return_version(entry: OrderReturn) -> tuple[datetime, int]:
    return entry.updated_at, _stage("return", entry.status)


def _with_return(returns: list[OrderReturn], incoming: OrderReturn) -> list[OrderReturn]:
    """`returns` with `incoming` recorded: a later (time, stage) of the same return wins; an
    amount or line items already known are kept when the newer report lacks them."""
    held = next((r for r in returns if r.return_id == incoming.return_id), None)
    if held is None:
        return [*returns, incoming]
    newer, older = (
        (incoming, held) if _return_version(incoming) > _return_version(held) else (held, incoming)
    )
    merged = newer.model_copy(
        update={
            "return_type": newer.return_type or older.return_type,
            "refund_amount": (
                incoming.refund_amount if incoming.refund_amount is not None else held.refund_amount
            ),
            "line_item_ids": incoming.line_item_ids or held.line_item_ids,
        }
    )
    return [merged if r.return_id == incoming.return_id else r for r in returns]


def apply_reverse(
    existing: ChannelOrder, reverse: Reverse, when: datetime, now: datetime
) -> OrderChange | None:
    """The order with a cancellation or return stage recorded, or None when it changes nothing.

    The order keeps the newest request's stage on the flow's clock (a later request time wins;
    the same time, a later stage). A return is also kept by its id in `returns`, on its own
    clock, so that one return's stage never hides another's.
    """
    if reverse.kind == "cancellation":
        held_status, held_at = existing.cancellation_status, existing.cancellation_updated_at
    else:
        held_status, held_at = existing.return_status, existing.return_updated_at
    newer = held_at is None or (when, _stage(reverse.kind, reverse.status_text)) > (
        held_at,
        _stage(reverse.kind, held_status or ""),
    )
    changes: dict[str, Any] = {}
    if newer:
        if reverse.kind == "cancellation":
            changes |= {"cancellation_status": reverse.status_text, "cancellation_updated_at": when}
        else:
            changes |= {"return_status": reverse.status_text, "return_updated_at": when}
        if reverse.order_status is not None:
            changes["status"] = reverse.order_status
    if reverse.kind == "return" and reverse.return_id:
        entry = OrderReturn(
            return_id=reverse.return_id,
            return_type=reverse.return_type,
            status=reverse.status_text,
            updated_at=when,
        )
        returns = _with_return(existing.returns, entry)
        if returns != existing.returns:
            changes["returns"] = returns
    if not changes:
        return None
    changes["updated_at"] = later(now, existing.updated_at)
    merged = _settled(
        ChannelOrder.model_validate({**existing.model_dump(by_alias=False), **changes})
    )
    return OrderChange(merged, _transition_events(existing, merged, now))


def record_returns(
    existing: ChannelOrder, remotes: list[RemoteReturn], now: datetime, *, details_current: bool
) -> OrderChange | None:
    """The order with TikTok's copies of its returns (returns search 202602) recorded: their
    stages, line items and refund amounts; None when that changes nothing. An amount in another
    currency than the order's is not counted (it stays unknown). `details_current`: the order's
    details were just read from TikTok too, so only an unknown refund can keep it flagged."""
    returns = existing.returns
    for remote in remotes:
        same_currency = remote.currency is None or remote.currency == existing.currency
        entry = OrderReturn(
            return_id=remote.return_id,
            return_type=remote.return_type,
            status=remote.status,
            refund_amount=remote.refund_total if same_currency else None,
            line_item_ids=list(remote.line_item_ids),
            updated_at=remote.updated_at or remote.created_at or _EPOCH,
        )
        returns = _with_return(returns, entry)
    flagged = existing.needs_refresh and not details_current
    merged = _settled(existing.model_copy(update={"returns": returns, "needs_refresh": flagged}))
    if merged == existing:
        return None
    merged = merged.model_copy(update={"updated_at": later(now, existing.updated_at)})
    return OrderChange(merged, _transition_events(existing, merged, now))


def flag_for_refresh(existing: ChannelOrder, now: datetime) -> OrderChange | None:
    """The order flagged `needs_refresh` (its details could not be read from TikTok), or None
    when it is flagged already."""
    if existing.needs_refresh:
        return None
    flagged = existing.model_copy(
        update={"needs_refresh": True, "updated_at": later(now, existing.updated_at)}
    )
    return OrderChange(flagged, [])


def refresh_stub(shop_id: str, external_order_id: str, now: datetime) -> OrderChange:
    """An order known only by its id (a webhook named it and TikTok could not be asked):
    `pending`, flagged `needs_refresh`, the oldest version so that any real one wins."""
    stub = RemoteOrder(
        external_order_id=external_order_id, status=None, external_status="", updated_at=_EPOCH
    )
    return new_order(shop_id, stub, now, needs_refresh=True)


def reverse_stub(
    shop_id: str, external_order_id: str, reverse: Reverse, when: datetime, now: datetime
) -> OrderChange:
    """An order first heard of through a reverse-flow webhook: what it says, details to fetch."""
    stub = RemoteOrder(
        external_order_id=external_order_id,
        status=reverse.order_status,
        external_status="",
        updated_at=_EPOCH,
    )
    change = new_order(shop_id, stub, now, needs_refresh=True)
    applied = apply_reverse(change.order, reverse, when, now)
    order = applied.order if applied is not None else change.order
    return OrderChange(order, _transition_events(None, order, now))
