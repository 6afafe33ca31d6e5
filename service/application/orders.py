"""Orders: read, page, change status (shipping through TikTok), pull from TikTok; and what the
order webhooks (TikTok's and the seed's) change on them.

Every path that brings TikTok's copy of an order in goes through `apply_remote_order`: one order
per (shop, TikTok order id), newest `update_time` wins, so webhooks and pulls may arrive in any
order and any number of times.
"""

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

import structlog
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
from service.application import budget, jobs
from service.application.context import Context
from service.application.errors import GatewayError, InvalidRequest, NotFound, TikTokFailed
from service.application.ports import Keys, PageRequest, Unreadable
from service.domain import webhooks as rules
from service.domain.ids import new_id
from service.domain.money import to_minor_units
from service.domain.orders import (
    flag_for_refresh,
    merge_remote,
    new_order,
    order_id_for,
    refresh_stub,
)
from service.domain.remote import RemoteOrder
from service.domain.time import later, utcnow

log = structlog.get_logger(__name__)

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
    or after `config.command_wait_seconds` with its progress; the webhook does not wait."""
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
        wait=ctx.config.command_wait_seconds if command else 0.0,
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


NO_CREDENTIALS = "there are no TikTok credentials to ask"


@dataclass(frozen=True)
class Details:
    """What order detail answered for some ids: TikTok's copies by id, the reason of each order
    TikTok answered that could not be read, and why any other id has no copy."""

    found: dict[str, RemoteOrder]
    unreadable: dict[str, str]
    missing: str

    def why_not(self, order_id: str) -> str:
        """Why `order_id` has no copy (it has none)."""
        return self.unreadable.get(order_id, self.missing)


async def read_details(ctx: Context, shop_id: str, ids: list[str]) -> Details:
    """TikTok's full copies of the orders (order detail, retried as `retries.TIKTOK_CALL`
    allows), by id, each read on its own: one that cannot be read leaves the others whole."""
    if not ctx.tiktok.enabled(shop_id):
        return Details({}, {}, NO_CREDENTIALS)
    try:
        fetched = await budget.call(ctx.tiktok.order_details(shop_id, ids))
    except GatewayError as exc:
        log.warning("order details unavailable", order_ids=ids[:10], error=exc.message)
        return Details({}, {}, f"TikTok's order detail failed: {exc.message}")
    found: dict[str, RemoteOrder] = {}
    unreadable: dict[str, str] = {}
    for item in fetched:
        if isinstance(item, Unreadable):
            log.warning("order detail unreadable", order_id=item.ref, reason=item.reason)
            unreadable[item.ref] = item.reason
        else:
            found[item.external_order_id] = item
    return Details(found, unreadable, "TikTok's order detail did not return it")


async def _flag(ctx: Context, shop_id: str, order_id: str) -> None:
    """The order flagged `needsRefresh` (created as a stub when unknown): its details could not
    be read, and a later refresh (reconciliation) reads them first."""
    order = await ctx.uow.orders.get_by_external(shop_id, order_id)
    now = utcnow()
    if order is None:
        stub = refresh_stub(shop_id, order_id, now)
        ctx.uow.orders.add(stub.order, stub.events)
        return
    flagged = flag_for_refresh(order, now)
    if flagged is not None:
        ctx.uow.orders.save(flagged.order, flagged.events)


async def on_order_status_change(webhook: w.OrderStatusChange, ctx: Context) -> str:
    """Type 1: the order's status (and, with credentials, its details from the API)."""
    shop_id = webhook.delivery.shop_id
    data = webhook.data
    read = await read_details(ctx, shop_id, [data.order_id])
    details = read.found.get(data.order_id)
    if details is not None:
        return await apply_remote_order(ctx, shop_id, details)
    # Without the API the webhook's status is all there is; the rest waits for a refresh.
    status = rules.order_status(data.order_status)
    remote = RemoteOrder(
        external_order_id=data.order_id,
        status=status,
        external_status=str(data.order_status or ""),
        updated_at=rules.event_time(data.update_time, webhook.delivery.received_at),
    )
    outcome = await apply_remote_order(ctx, shop_id, remote, needs_refresh=True)
    unknown = "" if status is not None else f"; status {data.order_status!r} not known"
    return f"{outcome}{unknown}; details to read later: {read.why_not(data.order_id)}"


async def on_order_refresh(
    webhook: w.RecipientAddressUpdate | w.PackageUpdate, ctx: Context
) -> str:
    """Types 3 and 4: the details live in the API, so the orders are read again (the gateway
    retries a throttled or failing call as `retries.TIKTOK_CALL` allows). An order that still
    cannot be read is flagged `needsRefresh` (created as a stub when unknown), never counted as
    refreshed: a reconciliation reads those first (`Views.orders_needing_refresh`)."""
    shop_id = webhook.delivery.shop_id
    data = webhook.data
    ids = data.order_ids() if isinstance(data, w.PackageUpdateData) else [data.order_id]
    if not ids:
        return "names no order"
    read = await read_details(ctx, shop_id, ids)
    missing: list[str] = []
    for order_id in ids:
        details = read.found.get(order_id)
        if details is None:
            await _flag(ctx, shop_id, order_id)
            missing.append(order_id)
        else:
            await apply_remote_order(ctx, shop_id, details)
    if not missing:
        return f"refreshed {len(ids)} of {len(ids)} orders"
    reasons = dict.fromkeys(
        f"order {i}: {read.unreadable[i]}" if i in read.unreadable else read.missing
        for i in missing
    )
    flagged = f"{len(missing)} of {len(ids)} orders marked for refresh ({'; '.join(reasons)})"
    if len(missing) == len(ids):
        return flagged
    return f"refreshed {len(ids) - len(missing)} of {len(ids)} orders; {flagged}"


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
    """The seed sends money as numbers in major units (19.99); we keep minor units.

    Raises InvalidRequest (the webhook is rejected) for what is not an amount of `currency`:
    not a number, finer than its minor unit, or beyond `money.MAX_MINOR_UNITS`."""
    try:
        number = Decimal(str(value if value is not None else 0))
    except InvalidOperation as exc:
        raise InvalidRequest(f"{name} is not an amount of money: {str(value)[:40]!r}") from exc
    # A JSON number arrives as a float (1e20): written in plain digits when it has a sensible
    # size, so that the reason says what is wrong with it, not that it has an exponent.
    text = format(number, "f") if abs(number.adjusted()) <= 30 else str(number)
    try:
        return to_minor_units(text, currency)
    except ValueError as exc:
        raise InvalidRequest(f"{name} is not an amount of {currency} we can keep: {exc}") from exc


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
