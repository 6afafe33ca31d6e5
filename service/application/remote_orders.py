"""Bringing TikTok's copy of an order in: one order per TikTok order, newest update wins."""

from service.application.deps import Deps
from service.application.errors import Conflict
from service.application.ports import Duplicate, StaleWrite
from service.domain.orders import merge_remote, new_order
from service.domain.remote import RemoteOrder
from service.domain.time import utcnow


async def apply_remote_order(
    deps: Deps, shop_id: str, remote: RemoteOrder, *, needs_refresh: bool = False
) -> bool:
    """Insert or update the order; True when it was new. Safe to repeat and to reorder."""
    for _ in range(10):
        existing = await deps.orders.get_by_external(shop_id, remote.external_order_id)
        now = utcnow()
        if existing is None:
            change = new_order(shop_id, remote, now, needs_refresh=needs_refresh)
            try:
                await deps.orders.insert(change.order, change.events)
            except Duplicate:
                continue  # another delivery inserted it first: merge into that one
            return True
        merged = merge_remote(existing, remote, now, needs_refresh=needs_refresh)
        if merged is None:
            return False
        try:
            await deps.orders.replace(
                merged.order, expected=existing.updated_at, events=merged.events
            )
        except StaleWrite:
            continue
        return False
    raise Conflict(f"Order {remote.external_order_id} kept changing while it was applied")
