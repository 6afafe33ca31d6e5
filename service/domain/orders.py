"""Order rules: TikTok's newest update wins, and which changes make which events.

An order has three clocks. Its status and details are versioned by TikTok's `update_time`
(same second: the status further along wins). Each reverse flow, cancellation and return, is
versioned on its own clock, the request's time then its stage, so a later stage never loses to
an earlier one (TikTok's cancellation webhook repeats the request's `create_time` at every
stage). A completed cancellation or full refund decides the order's status whatever an order
status event says afterwards: a reverse-flow event never loses to an order-status event.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.entities import ChannelOrder
from contracts.events import Event, OrderReceived, OrderShipped
from service.domain.ids import new_id, stable_id
from service.domain.remote import RemoteOrder
from service.domain.tiktok_status import CANCELLATION_STAGE, RETURN_STAGE, order_status_rank
from service.domain.time import later
from service.domain.webhooks import CANCELLATION_COMPLETE, RETURN_COMPLETE, Reverse


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


def reverse_outcome(order: ChannelOrder) -> str | None:
    """The status a completed reverse flow holds the order at (else None)."""
    if order.cancellation_status in CANCELLATION_COMPLETE:
        return "cancelled"
    if order.return_status in RETURN_COMPLETE:
        return "refunded"
    return None


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
    held = reverse_outcome(existing)
    if held is not None:
        changes["status"] = held
    merged = ChannelOrder.model_validate({**existing.model_dump(by_alias=False), **changes})
    return OrderChange(merged, _transition_events(existing, merged, now))


def _stage(reverse: Reverse) -> int:
    stages = CANCELLATION_STAGE if reverse.kind == "cancellation" else RETURN_STAGE
    return stages.get(reverse.status_text, 0)


def apply_reverse(
    existing: ChannelOrder, reverse: Reverse, when: datetime, now: datetime
) -> OrderChange | None:
    """The order with a cancellation or return stage recorded, or None when what we hold of
    that flow is as far along (a later request time wins; the same time, a later stage)."""
    if reverse.kind == "cancellation":
        held_status, held_at = existing.cancellation_status, existing.cancellation_updated_at
    else:
        held_status, held_at = existing.return_status, existing.return_updated_at
    if held_at is not None:
        held = Reverse(reverse.kind, held_status or "", None)
        if (when, _stage(reverse)) <= (held_at, _stage(held)):
            return None
    changes: dict[str, Any] = {"updated_at": later(now, existing.updated_at)}
    if reverse.kind == "cancellation":
        changes |= {"cancellation_status": reverse.status_text, "cancellation_updated_at": when}
    else:
        changes |= {"return_status": reverse.status_text, "return_updated_at": when}
    if reverse.order_status is not None:
        changes["status"] = reverse.order_status
    merged = ChannelOrder.model_validate({**existing.model_dump(by_alias=False), **changes})
    return OrderChange(merged, _transition_events(existing, merged, now))


def reverse_stub(
    shop_id: str, external_order_id: str, reverse: Reverse, when: datetime, now: datetime
) -> OrderChange:
    """An order first heard of through a reverse-flow webhook: what it says, details to fetch."""
    stub = RemoteOrder(
        external_order_id=external_order_id,
        status=reverse.order_status,
        external_status="",
        updated_at=datetime.fromtimestamp(0, when.tzinfo),
    )
    change = new_order(shop_id, stub, now, needs_refresh=True)
    applied = apply_reverse(change.order, reverse, when, now)
    order = applied.order if applied is not None else change.order
    return OrderChange(order, _transition_events(None, order, now))
