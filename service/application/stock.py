"""Stock and price that follow the platform.

A change (a platform's `inventory.changed` / `price.changed`, or `listings.setStock` /
`listings.setPrice` by hand) is first stored on the listing as the state TikTok should show,
with a revision; the pusher (`pushing.CatalogPusher`) then sends what TikTok lacks with TikTok's
light calls and records the revision it sent. So a change acknowledged is never lost: a worker
that dies before pushing leaves the revision pending, and the next start pushes it.

TikTok's stock webhooks (27 inventory status, 50 SKU status, 71 stock changed on TikTok's side)
update the listing's copy of TikTok's state.
"""

import asyncio
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from contracts import commands as c
from contracts import replies as r
from contracts import webhooks as w
from contracts.entities import Listing, WarehouseQuantity
from contracts.platform import InventoryChanged, PlatformEvent, PriceChanged
from contracts.replies import FieldError
from service.application.context import Context
from service.application.errors import REJECTED, InvalidRequest
from service.application.listings import load
from service.application.ports import Keys
from service.domain.stock import (
    CurrencyMismatch,
    UnknownWarehouse,
    newer,
    tiktok_warehouse,
    with_price,
    with_stock,
)
from service.domain.time import later, unix_time, utcnow


@dataclass(frozen=True)
class ChangeOutcome:
    """What became of one platform change: `rejected` (refused) and `failed` (a bug, after
    its retries) ones go to the dead-letter topic, their `detail` (the letter's reason)
    starting with `rejected: ` or `failed: ` as a webhook's does."""

    event_id: str
    status: Literal["applied", "stale", "skipped", "rejected", "failed"]
    detail: str


async def apply_platform_changes(
    events: Sequence[PlatformEvent], ctx: Context
) -> list[ChangeOutcome]:
    """Store a batch of platform changes on their listings, in order, one write per listing:
    the newest version wins (a burst for one SKU ends as its last quantity). The listings whose
    TikTok copy is now behind are handed to the pusher once the batch is committed.

    A product without a listing is skipped; an unmapped warehouse, a SKU the listing does not
    carry or a price in another currency is rejected.
    """
    outcomes: list[ChangeOutcome] = []
    products = sorted({(ctx.shop(e.shop_id), e.local_product_id) for e in events})
    # One lookup per product (each by its unique key), all at once.
    found = await asyncio.gather(*(ctx.uow.listings.get_by_product(s, p) for s, p in products))
    seen: dict[str, Listing] = {
        f"{s}/{p}": listing for (s, p), listing in zip(products, found, strict=True) if listing
    }
    touched: set[str] = set()
    for event in events:
        shop_id = ctx.shop(event.shop_id)
        key = f"{shop_id}/{event.local_product_id}"
        listing = seen.get(key)
        if listing is None:
            outcomes.append(
                ChangeOutcome(event.event_id, "skipped", f"no listing for {event.local_product_id}")
            )
            continue
        seen[key] = listing
        try:
            changed = _applied(event, listing, ctx)
        except (UnknownWarehouse, CurrencyMismatch, InvalidRequest) as exc:
            outcomes.append(ChangeOutcome(event.event_id, "rejected", f"{REJECTED}{exc}"))
            continue
        if changed is None:
            outcomes.append(ChangeOutcome(event.event_id, "stale", f"version {event.version}"))
            continue
        seen[key] = changed
        touched.add(key)
        outcomes.append(ChangeOutcome(event.event_id, "applied", f"listing {listing.id}"))
    for key, listing in seen.items():
        if key in touched:
            listing = listing.model_copy(update={"updated_at": later(utcnow(), listing.updated_at)})
            ctx.uow.listings.save(listing)
        # Pending ones are woken even when this batch changed nothing: a run of the batch
        # before may have stored them and then met a conflict, which drops its wake-ups.
        if listing.stock_pending or listing.price_pending:
            _push_after_commit(ctx, listing, at_once=False)
    return outcomes


def _applied(event: PlatformEvent, listing: Listing, ctx: Context) -> Listing | None:
    if event.sku is not None and event.sku != listing.local_product_id:
        raise InvalidRequest(
            f"Listing {listing.id} carries one SKU, {listing.local_product_id!r}, not {event.sku!r}"
        )
    if isinstance(event, InventoryChanged):
        warehouse = tiktok_warehouse(ctx.config.warehouse_map, event.warehouse_id)
        return with_stock(listing, warehouse, event.quantity, event.version)
    assert isinstance(event, PriceChanged)
    return with_price(listing, event.amount, event.currency, event.version)


def _push_after_commit(ctx: Context, listing: Listing, *, at_once: bool) -> None:
    pusher = ctx.pushes
    ctx.uow.after_commit(lambda: pusher.wake(listing.shop_id, listing.id, at_once=at_once))


async def set_stock(cmd: c.SetStock, ctx: Context) -> r.ListingReply:
    """`listings.setStock`: the listing's stock in one warehouse (the platform's id), stored and
    pushed at once. validation_failed for a warehouse `TIKTOK_WAREHOUSE_MAP` does not map."""
    listing = await load(ctx, ctx.shop(cmd.shop_id), cmd.id)
    try:
        warehouse = tiktok_warehouse(ctx.config.warehouse_map, cmd.warehouse_id)
    except UnknownWarehouse as exc:
        raise _invalid("warehouseId", str(exc)) from exc
    changed = with_stock(listing, warehouse, cmd.quantity, None)
    assert changed is not None  # a change by hand is never stale
    return r.ListingReply(listing=_save_and_push(ctx, changed))


async def set_price(cmd: c.SetPrice, ctx: Context) -> r.ListingReply:
    """`listings.setPrice`: the listing's price, stored and pushed at once (TikTok takes it
    once the product is active). validation_failed for another currency than TikTok's."""
    listing = await load(ctx, ctx.shop(cmd.shop_id), cmd.id)
    try:
        changed = with_price(listing, cmd.price, cmd.currency or listing.currency, None)
    except CurrencyMismatch as exc:
        raise _invalid("currency", str(exc)) from exc
    assert changed is not None
    return r.ListingReply(listing=_save_and_push(ctx, changed))


def _save_and_push(ctx: Context, listing: Listing) -> Listing:
    saved = listing.model_copy(update={"updated_at": later(utcnow(), listing.updated_at)})
    ctx.uow.listings.save(saved)
    if saved.stock_pending or saved.price_pending:
        _push_after_commit(ctx, saved, at_once=True)
    return saved


def _invalid(field: str, message: str) -> InvalidRequest:
    return InvalidRequest(message, fields=[FieldError(field=field, message=message)])


# --- TikTok's stock webhooks ----------------------------------------------------------------


def stock_keys(
    webhook: w.InventoryStatusChange | w.SkuStatusChange | w.InventoryChangedByShop,
) -> Keys:
    return Keys(listing_products={(webhook.delivery.shop_id, webhook.data.product_id)})


async def on_inventory_status(webhook: w.InventoryStatusChange, ctx: Context) -> str:
    """Type 27: the SKU's stock level (and total, when given) as TikTok sees it."""
    data = webhook.data
    listing = await ctx.uow.listings.get_by_external(webhook.delivery.shop_id, data.product_id)
    if listing is None:
        return f"no listing links product {data.product_id}"
    at = unix_time(data.update_time)
    if not newer(at, listing.inventory_status_at):
        return f"listing {listing.id} unchanged (older report)"
    changes: dict[str, object] = {
        "inventory_status": data.current_inventory_status,
        "inventory_status_at": at or listing.inventory_status_at,
        "updated_at": later(utcnow(), listing.updated_at),
    }
    distribution = data.inventory_distribution
    if distribution is not None and distribution.total_quantity is not None:
        changes["tiktok_stock_total"] = distribution.total_quantity
    ctx.uow.listings.save(listing.model_copy(update=changes))
    return f"listing {listing.id} {data.current_inventory_status}"


async def on_sku_status(webhook: w.SkuStatusChange, ctx: Context) -> str:
    """Type 50: the status of the listing's SKU (created, activated, deactivated, deleted)."""
    data = webhook.data
    listing = await ctx.uow.listings.get_by_external(webhook.delivery.shop_id, data.product_id)
    if listing is None:
        return f"no listing links product {data.product_id}"
    sku = next((s for s in data.skus if s.sku_id == listing.external_sku_id), None)
    if sku is None and listing.external_sku_id is None and len(data.skus) == 1:
        sku = data.skus[0]
    if sku is None or sku.status is None:
        return f"listing {listing.id} unchanged (not its SKU)"
    status = (
        sku.status if not sku.deactivation_source else f"{sku.status} ({sku.deactivation_source})"
    )
    ctx.uow.listings.save(
        listing.model_copy(
            update={"sku_status": status, "updated_at": later(utcnow(), listing.updated_at)}
        )
    )
    return f"listing {listing.id} SKU {status}"


async def on_inventory_changed(webhook: w.InventoryChangedByShop, ctx: Context) -> str:
    """Type 71: stock changed on TikTok's side; the SKU's total after the change. A listing
    stocked in one warehouse learns that warehouse's quantity too. Reports are ordered by
    TikTok's `occurred_at` among themselves (each webhook type has its own clock)."""
    data = webhook.data
    listing = await ctx.uow.listings.get_by_external(webhook.delivery.shop_id, data.product_id)
    if listing is None:
        return f"no listing links product {data.product_id}"
    if listing.external_sku_id and data.sku_id != listing.external_sku_id:
        return f"listing {listing.id} unchanged (not its SKU)"
    if not newer(data.occurred_at, listing.tiktok_stock_updated_at):
        return f"listing {listing.id} unchanged (older report)"
    total = data.quantity_snapshot_after_change.total_quantity
    changes: dict[str, object] = {
        "tiktok_stock_total": total,
        "tiktok_stock_updated_at": data.occurred_at or listing.tiktok_stock_updated_at,
        "updated_at": later(utcnow(), listing.updated_at),
    }
    if total is not None and len(listing.tiktok_stock) == 1:
        only = listing.tiktok_stock[0]
        changes["tiktok_stock"] = [
            WarehouseQuantity(warehouse_id=only.warehouse_id, quantity=total)
        ]
    ctx.uow.listings.save(listing.model_copy(update=changes))
    return f"listing {listing.id} TikTok stock {total}"
