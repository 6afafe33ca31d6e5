"""Orders: read, page, change status (shipping through TikTok), pull from TikTok; and what the
order webhooks (TikTok's and the seed's) change on them.

Every path that brings TikTok's copy of an order in goes through `apply_remote_order`: one order
per (shop, TikTok order id), newest `update_time` wins, so webhooks and pulls may arrive in any
order and any number of times.
"""

from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from contracts import commands as c
from contracts import replies as r
from contracts import webhooks as w
from contracts.entities import (
    ORDER_STATUSES,
    Address,
    ChannelOrder,
    JobFailure,
    OrderItem,
    OrderStatus,
)
from contracts.events import Event, OrderShipped
from service.application import jobs
from service.application.context import Context
from service.application.errors import GatewayError, InvalidRequest, NotFound, TikTokFailed
from service.application.ports import Keys, PageRequest
from service.domain import webhooks as rules
from service.domain.ids import new_id
from service.domain.money import to_minor_units
from service.domain.orders import (
    apply_reverse,
    merge_remote,
    new_order,
    order_id_for,
    reverse_stub,
)
from service.domain.remote import RemoteOrder
from service.domain.time import later, utcnow

# What marking an order shipped changes: a patch, so that a retry never ships twice.
SHIP_FIELDS = ("status", "tracking_number", "tracking_url", "updated_at")


async def load(ctx: Context, shop_id: str, order_id: str) -> ChannelOrder:
    order = await ctx.uow.orders.get(shop_id, order_id)
    if order is None:
        raise NotFound("Order not found")
    return order


async def list_orders(cmd: c.ListOrders, ctx: Context) -> r.OrdersReply:
    orders, total = await ctx.views.orders(
        ctx.shop(cmd.shop_id), PageRequest(cmd.page, cmd.limit), status=cmd.status
    )
    return r.OrdersReply(orders=orders, total=total)


async def get_order(cmd: c.GetOrder, ctx: Context) -> r.OrderReply:
    return r.OrderReply(order=await load(ctx, ctx.shop(cmd.shop_id), cmd.id))


async def update_order_status(cmd: c.UpdateOrderStatus, ctx: Context) -> r.OrderReply:
    """`orders.updateStatus`: a local status change; shipping a TikTok order ships it on TikTok
    first (with the tracking number), so the local status never claims a refused shipment."""
    shop_id = ctx.shop(cmd.shop_id)
    order = await load(ctx, shop_id, cmd.id)
    shipping = cmd.status == "shipped" and order.status != "shipped"
    if shipping and ctx.tiktok.enabled(shop_id):
        if not cmd.tracking_number:
            raise InvalidRequest("Shipping a TikTok order needs a tracking number")
        try:
            await ctx.tiktok.mark_shipped(shop_id, order.external_order_id, cmd.tracking_number)
        except GatewayError as exc:
            raise TikTokFailed(f"TikTok did not mark the order shipped: {exc.message}") from exc
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
    ctx.uow.orders.patch(updated, SHIP_FIELDS, events)
    return r.OrderReply(order=updated)


async def sync_orders(msg: c.SyncOrders | w.SeedOrderSync, ctx: Context) -> r.SyncedReply:
    """`orders.sync` and the seed's `order.sync` webhook: pull every order from TikTok as a job,
    by TikTok order id (never a second copy of one). The command answers once the pull is done
    or after `jobs.COMMAND_WAIT` seconds with its progress; the webhook does not wait."""
    command = isinstance(msg, c.SyncOrders)
    shop_id = ctx.shop(msg.shop_id) if isinstance(msg, c.SyncOrders) else msg.delivery.shop_id
    if not ctx.tiktok.enabled(shop_id):
        return r.SyncedReply(synced=0)

    async def apply_page(unit: Context, batch: list[RemoteOrder]) -> list[JobFailure]:
        await unit.uow.load(
            Keys(order_ids={order_id_for(shop_id, o.external_order_id) for o in batch})
        )
        results: list[tuple[str, Exception | None]] = []
        for order in batch:
            try:
                await apply_remote_order(unit, shop_id, order)
                results.append((order.external_order_id, None))
            except (InvalidRequest, ValueError) as exc:
                results.append((order.external_order_id, exc))
        return jobs.failures_of(results)

    return await jobs.run_pull(
        ctx,
        "orders.sync",
        shop_id,
        lambda: ctx.tiktok.orders(shop_id),
        apply_page,
        wait=jobs.COMMAND_WAIT if command else 0.0,
    )


async def apply_remote_order(
    ctx: Context, shop_id: str, remote: RemoteOrder, *, needs_refresh: bool = False
) -> str:
    """Insert or update the order from TikTok's copy (or what a webhook knew of it); newest
    `update_time` wins, so repeating or reordering changes nothing. Answers what it did."""
    existing = await ctx.uow.orders.get_by_external(shop_id, remote.external_order_id)
    now = utcnow()
    if existing is None:
        change = new_order(shop_id, remote, now, needs_refresh=needs_refresh)
        ctx.uow.orders.add(change.order, change.events)
        return f"order {change.order.id} created"
    merged = merge_remote(existing, remote, now, needs_refresh=needs_refresh)
    if merged is None:
        return f"order {existing.id} already newer"
    ctx.uow.orders.save(merged.order, merged.events)
    return f"order {existing.id} updated"


# --- TikTok's order webhooks ----------------------------------------------------------------


def order_keys(webhook: w.Notification) -> Keys:
    """The orders a TikTok order webhook touches (by our derived ids)."""
    shop_id = webhook.delivery.shop_id
    data = getattr(webhook, "data", None)
    if isinstance(data, w.PackageUpdateData):
        ids = data.order_ids()
    else:
        ids = [data.order_id] if data is not None and getattr(data, "order_id", None) else []
    return Keys(order_ids={order_id_for(shop_id, i) for i in ids})


async def _details(ctx: Context, shop_id: str, order_id: str) -> RemoteOrder | None:
    """TikTok's full copy of the order, or None when the API cannot be asked right now."""
    if not ctx.tiktok.enabled(shop_id):
        return None
    try:
        found = await ctx.tiktok.order_details(shop_id, [order_id])
    except GatewayError:
        return None
    return found[0] if found else None


async def on_order_status_change(webhook: w.OrderStatusChange, ctx: Context) -> str:
    """Type 1: the order's status (and, with credentials, its details from the API)."""
    shop_id = webhook.delivery.shop_id
    data = webhook.data
    details = await _details(ctx, shop_id, data.order_id)
    if details is not None:
        return await apply_remote_order(ctx, shop_id, details)
    # Without the API the webhook's status is all there is; the rest waits for a refresh.
    remote = RemoteOrder(
        external_order_id=data.order_id,
        status=rules.order_status(data.order_status),
        external_status=str(data.order_status or ""),
        updated_at=rules.event_time(data.update_time, webhook.delivery.received_at),
    )
    return await apply_remote_order(ctx, shop_id, remote, needs_refresh=True)


async def on_reverse_status(
    webhook: w.CancellationStatusChange | w.ReturnStatusChange | w.ReverseStatusUpdate,
    ctx: Context,
) -> str:
    """Types 11, 12 and the legacy 2: the stage of a cancellation or return, on the flow's own
    clock; a completed one makes the order cancelled or refunded."""
    if isinstance(webhook, w.CancellationStatusChange):
        reverse = rules.cancellation(webhook.data)
    elif isinstance(webhook, w.ReturnStatusChange):
        reverse = rules.return_request(webhook.data)
    else:
        reverse = rules.legacy_reverse(webhook.data)
    shop_id = webhook.delivery.shop_id
    data = webhook.data
    # The request's time: 11 carries only create_time; 12 and 2 may carry an update_time.
    when = rules.event_time(
        getattr(data, "update_time", None) or getattr(data, "create_time", None),
        webhook.delivery.received_at,
    )
    details = await _details(ctx, shop_id, data.order_id)
    if details is not None:
        await apply_remote_order(ctx, shop_id, details)
    order = await ctx.uow.orders.get_by_external(shop_id, data.order_id)
    now = utcnow()
    if order is None:
        stub = reverse_stub(shop_id, data.order_id, reverse, when, now)
        ctx.uow.orders.add(stub.order, stub.events)
        return f"order {stub.order.id} created from a {reverse.kind}: {reverse.status_text}"
    change = apply_reverse(order, reverse, when, now)
    if change is None:
        return f"order {order.id}: {reverse.kind} already as far along"
    ctx.uow.orders.save(change.order, change.events)
    return f"order {order.id}: {reverse.kind} {reverse.status_text}"


async def on_order_refresh(
    webhook: w.RecipientAddressUpdate | w.PackageUpdate, ctx: Context
) -> str:
    """Types 3 and 4: the details live in the API, so the orders are fetched again."""
    shop_id = webhook.delivery.shop_id
    data = webhook.data
    ids = data.order_ids() if isinstance(data, w.PackageUpdateData) else [data.order_id]
    refreshed = 0
    for order_id in ids:
        details = await _details(ctx, shop_id, order_id)
        if details is not None:
            await apply_remote_order(ctx, shop_id, details)
            refreshed += 1
    return f"refreshed {refreshed} of {len(ids)} orders"


# --- the seed's order webhooks ----------------------------------------------------------------


def seed_order_keys(
    webhook: w.SeedOrderCreated | w.SeedOrderShipped | w.SeedOrderCancelled,
) -> Keys:
    shop_id = webhook.delivery.shop_id
    if isinstance(webhook, w.SeedOrderCreated):
        named = webhook.payload.external_order_id
        return Keys(order_ids={order_id_for(shop_id, named)} if named else set())
    named = webhook.payload.order_id
    # The seed's orderId is our id or TikTok's: both are looked up by _id.
    return Keys(order_ids={named, order_id_for(shop_id, named)} if named else set())


def _money(value: Any, name: str, currency: str) -> int:
    """The seed sends money as numbers in major units (19.99); we keep minor units."""
    try:
        return to_minor_units(str(Decimal(str(value if value is not None else 0))), currency)
    except (InvalidOperation, ValueError) as exc:
        raise InvalidRequest(f"{name} is not an amount of money: {value!r}") from exc


def _seed_item(item: Any, currency: str) -> OrderItem:
    """An item of any shape (the seed types them `unknown[]`): kept as given, with the fields
    we know read where present."""
    if not isinstance(item, dict):
        return OrderItem(title=str(item)[:500], source={"value": item})

    def text(*names: str) -> str | None:
        for name in names:
            value = item.get(name)
            if isinstance(value, str | int) and not isinstance(value, bool) and str(value):
                return str(value)
        return None

    quantity = item.get("quantity", 1)
    price = item.get("unitPrice", item.get("price"))
    return OrderItem(
        title=text("title", "name", "productName") or "",
        quantity=quantity if isinstance(quantity, int) and quantity >= 0 else 1,
        unit_price=_money(price, "item price", currency) if price is not None else 0,
        external_product_id=text("externalProductId", "productId", "product_id"),
        external_sku_id=text("externalSkuId", "skuId", "sku_id", "sku"),
        local_product_id=text("localProductId"),
        source=item,
    )


async def on_seed_order_created(webhook: w.SeedOrderCreated, ctx: Context) -> str:
    """The seed's `order.created`: idempotent by `externalOrderId`; one without it is ignored
    and answered as received, as the seed did."""
    payload = webhook.payload
    if not payload.external_order_id:
        return "ignored: order.created without externalOrderId"
    currency = (payload.currency or ctx.config.currency).upper()
    try:
        address = Address.model_validate(payload.shipping_address or {})
    except ValidationError as exc:
        raise InvalidRequest(f"order.created has an unreadable shippingAddress: {exc}") from exc
    status: OrderStatus | None = payload.status if payload.status in ORDER_STATUSES else None
    remote = RemoteOrder(
        external_order_id=payload.external_order_id,
        status=status or "pending",
        external_status=str(payload.status or "pending"),
        updated_at=webhook.delivery.received_at,
        currency=currency,
        subtotal=_money(payload.subtotal, "subtotal", currency),
        shipping_fee=_money(payload.shipping_fee, "shippingFee", currency),
        platform_fee=_money(payload.platform_fee, "platformFee", currency),
        total=_money(payload.total, "total", currency),
        customer_name=payload.customer_name,
        shipping_address=address,
        items=tuple(_seed_item(i, currency) for i in payload.items),
    )
    existing = await ctx.uow.orders.get_by_external(
        webhook.delivery.shop_id, remote.external_order_id
    )
    if existing is not None:
        return f"order {existing.id} already known"
    return await apply_remote_order(ctx, webhook.delivery.shop_id, remote)


async def on_seed_order_status(
    webhook: w.SeedOrderShipped | w.SeedOrderCancelled, ctx: Context
) -> str:
    """The seed's `order.shipped` and `order.cancelled`, naming our id or TikTok's."""
    status: OrderStatus = "shipped" if isinstance(webhook, w.SeedOrderShipped) else "cancelled"
    shop_id = webhook.delivery.shop_id
    order_id = webhook.payload.order_id
    if not order_id:
        raise InvalidRequest(f"{webhook.type} needs orderId")
    order = await ctx.uow.orders.get(shop_id, order_id) or await ctx.uow.orders.get_by_external(
        shop_id, order_id
    )
    if order is None:
        raise InvalidRequest(f"order {order_id} is not known")
    remote = RemoteOrder(
        external_order_id=order.external_order_id,
        status=status,
        external_status=status,
        updated_at=webhook.delivery.received_at,
        tracking_number=webhook.payload.tracking_number,
        tracking_url=webhook.payload.tracking_url,
    )
    return await apply_remote_order(ctx, shop_id, remote, needs_refresh=True)
