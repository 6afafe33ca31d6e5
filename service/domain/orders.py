"""Order rules: TikTok's newest update wins, and which changes make which events."""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.entities import ChannelOrder
from contracts.events import Event, OrderReceived, OrderShipped
from service.domain.ids import new_id, stable_id
from service.domain.remote import RemoteOrder
from service.domain.time import later


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
        cancellation_status=remote.cancellation_status,
        return_status=remote.return_status,
        needs_refresh=needs_refresh,
        created_at=remote.created_at or now,
        updated_at=now,
        **_details(remote),
    )
    return OrderChange(order, _transition_events(None, order, now))


def merge_remote(
    existing: ChannelOrder, remote: RemoteOrder, now: datetime, *, needs_refresh: bool
) -> OrderChange | None:
    """The order with TikTok's copy applied, or None when the copy is older than what we hold."""
    if (
        existing.external_updated_at is not None
        and remote.updated_at < existing.external_updated_at
    ):
        return None
    changes = _details(remote)
    if needs_refresh:
        # A webhook knows the status only: keep the details we already have.
        changes = {k: changes[k] for k in ("external_status", "external_updated_at")}
    changes["needs_refresh"] = needs_refresh
    changes["updated_at"] = later(now, existing.updated_at)
    if remote.status is not None:
        changes["status"] = remote.status
    for name in ("tracking_number", "tracking_url", "cancellation_status", "return_status"):
        if getattr(remote, name):
            changes[name] = getattr(remote, name)
    merged = ChannelOrder.model_validate({**existing.model_dump(by_alias=False), **changes})
    return OrderChange(merged, _transition_events(existing, merged, now))
