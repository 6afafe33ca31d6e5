"""Order rules: TikTok's newest update wins, and which changes make which events.

An order's status and details are versioned by TikTok's `update_time` (same second: the status
further along wins). Its reverse flows are its `reverse_requests`, each request on its own
clock (`service.domain.reverse_requests`), whatever reported it: a webhook (2, 11, 12, 64, 65,
67), a search, a reconciliation, the seller's decision. What they mean for the order is derived
from them here, never recorded apart:

- `refunded_amount` is the sum of the completed return requests' refunds, as TikTok's returns
  search states them (minor units of the order's currency; an amount in another currency is not
  counted). An after-sales refund (67) is recorded on its request but not added: an after-sales
  request covers the same SKU returns, so its money is already counted there.
- The order is `refunded` once that reaches its total, `cancelled` once a cancellation
  completed; either holds whatever an order-status event says afterwards (a reverse flow never
  loses to one). A `refunded` status its returns do not account for gives way to TikTok's.
- A completed refund whose amount is not known yet keeps the order flagged `needs_refresh`.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from contracts.entities import ChannelOrder, OrderStatus
from contracts.events import Event, OrderReceived, OrderShipped
from service.domain.ids import new_id, stable_id
from service.domain.remote import RemoteOrder
from service.domain.reverse_requests import (
    CANCELLATION_COMPLETE,
    REFUND_DONE,
    RemoteRequest,
    merge_request,
)
from service.domain.tiktok_status import map_order_status, order_status_rank
from service.domain.time import later

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


def refunds(order: ChannelOrder) -> tuple[int, bool]:
    """What the order's completed return requests refunded, in minor units of its currency, and
    whether any completed one's amount is still unknown (not stated yet, or in another
    currency)."""
    refunded, unknown = 0, False
    for request in order.reverse_requests:
        if request.kind != "return" or request.status not in REFUND_DONE:
            continue
        foreign = request.currency is not None and request.currency != order.currency
        if request.refund_total is None or foreign:
            unknown = True
        else:
            refunded += request.refund_total
    return refunded, unknown


def refund_amount_unknown(order: ChannelOrder) -> bool:
    """A completed refund whose amount TikTok's returns search has not stated to us yet."""
    return refunds(order)[1]


def fully_refunded(order: ChannelOrder) -> bool:
    """Whether TikTok refunded the whole order (its total, in minor units)."""
    return order.total > 0 and refunds(order)[0] >= order.total


def reverse_outcome(order: ChannelOrder) -> OrderStatus | None:
    """The status a completed reverse flow holds the order at (else None)."""
    if any(
        r.kind == "cancellation" and r.status in CANCELLATION_COMPLETE
        for r in order.reverse_requests
    ):
        return "cancelled"
    if fully_refunded(order):
        return "refunded"
    return None


def _derived(order: ChannelOrder) -> ChannelOrder:
    """The order with what its requests imply: the amount refunded, the status a completed
    reverse flow holds, and the refresh flag while a refund's amount is unknown."""
    refunded, unknown = refunds(order)
    changes: dict[str, Any] = {"refunded_amount": refunded}
    held = reverse_outcome(order)
    if held is not None:
        changes["status"] = held
    elif order.status == "refunded" and any(r.kind == "return" for r in order.reverse_requests):
        # Its returns refund part of the order, not all: TikTok's status holds.
        changes["status"] = map_order_status(order.external_status) or "delivered"
    if unknown:
        changes["needs_refresh"] = True
    return order.model_copy(update=changes)


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
    merged = _derived(
        ChannelOrder.model_validate({**existing.model_dump(by_alias=False), **changes})
    )
    return OrderChange(merged, _transition_events(existing, merged, now))


def record_requests(
    existing: ChannelOrder,
    remotes: Sequence[RemoteRequest],
    now: datetime,
    *,
    details_current: bool = False,
) -> OrderChange | None:
    """The order with TikTok's copies of its requests recorded, whatever source reported them
    (webhooks 2, 11, 12, 64, 65, 67, the return_refund searches, a reconciliation, a seller's
    decision), each by `merge_request`, and what they imply derived: None when that changes
    nothing. `details_current`: the order's details were just read from TikTok, so only an
    unknown refund can keep it flagged `needs_refresh`."""
    requests = existing.reverse_requests
    for remote in remotes:
        requests = merge_request(requests, remote) or requests
    flagged = existing.needs_refresh and not details_current
    merged = _derived(
        existing.model_copy(update={"reverse_requests": requests, "needs_refresh": flagged})
    )
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
    shop_id: str, external_order_id: str, remotes: Sequence[RemoteRequest], now: datetime
) -> OrderChange:
    """An order first heard of through its requests (a reverse-flow webhook): what they say,
    `pending` unless they decide the status, details to fetch."""
    stub = refresh_stub(shop_id, external_order_id, now).order
    recorded = record_requests(stub, remotes, now)
    order = recorded.order if recorded is not None else stub
    return OrderChange(order, _transition_events(None, order, now))
