"""Order operations: read, page, change status (shipping through TikTok), sync from TikTok."""

from contracts import commands as c
from contracts import replies as r
from contracts.entities import ChannelOrder
from contracts.events import Event, OrderShipped
from service.application.deps import Deps
from service.application.errors import Conflict, InvalidRequest, NotFound, TikTokFailed
from service.application.ports import PageRequest, StaleWrite
from service.application.pull import pull
from service.application.remote_orders import apply_remote_order
from service.application.tiktok_errors import describe
from service.domain.ids import new_id
from service.domain.remote import RemoteOrder
from service.domain.time import later, utcnow


async def load(deps: Deps, shop_id: str, order_id: str) -> ChannelOrder:
    order = await deps.orders.get(shop_id, order_id)
    if order is None:
        raise NotFound("Order not found")
    return order


async def list_orders(deps: Deps, cmd: c.ListOrders) -> r.OrdersReply:
    orders, total = await deps.orders.page(
        deps.shop(cmd.shop_id), PageRequest(cmd.page, cmd.limit), status=cmd.status
    )
    return r.OrdersReply(orders=orders, total=total)


async def get_order(deps: Deps, cmd: c.GetOrder) -> r.OrderReply:
    return r.OrderReply(order=await load(deps, deps.shop(cmd.shop_id), cmd.id))


async def update_order_status(deps: Deps, cmd: c.UpdateOrderStatus) -> r.OrderReply:
    shop_id = deps.shop(cmd.shop_id)
    order = await load(deps, shop_id, cmd.id)
    shipping = cmd.status == "shipped" and order.status != "shipped"
    if shipping and deps.tiktok.enabled(shop_id):
        if not cmd.tracking_number:
            raise InvalidRequest("Shipping a TikTok order needs a tracking number")
        # TikTok first: the local status must not claim a shipment TikTok refused.
        try:
            await deps.tiktok.mark_shipped(shop_id, order.external_order_id, cmd.tracking_number)
        except Exception as exc:
            raise TikTokFailed(f"TikTok did not mark the order shipped: {describe(exc)}") from exc
    for _ in range(5):
        now = later(utcnow(), order.updated_at)
        changes: dict[str, object] = {"status": cmd.status, "updated_at": now}
        if cmd.tracking_number is not None:
            changes["tracking_number"] = cmd.tracking_number
        if cmd.tracking_url is not None:
            changes["tracking_url"] = cmd.tracking_url
        updated = order.model_copy(update=changes)
        events: list[Event] = []
        if shipping:
            events.append(
                OrderShipped(event_id=new_id(), shop_id=shop_id, occurred_at=now, order=updated)
            )
        try:
            await deps.orders.replace(updated, expected=order.updated_at, events=events)
        except StaleWrite:
            order = await load(deps, shop_id, cmd.id)
            continue
        return r.OrderReply(order=updated)
    raise Conflict("The order kept changing while it was updated; try again")


async def sync_orders(deps: Deps, cmd: c.SyncOrders) -> r.SyncedReply:
    """Pull every order from TikTok, by TikTok order id (never a second copy of one)."""
    shop_id = deps.shop(cmd.shop_id)
    if not deps.tiktok.enabled(shop_id):
        return r.SyncedReply(synced=0)

    async def apply(order: RemoteOrder) -> None:
        await apply_remote_order(deps, shop_id, order)

    return await pull(deps.tiktok.orders(shop_id), apply, "orders")
