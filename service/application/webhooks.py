"""Webhook processing: each verified webhook applied once, whatever order and however often it
arrives. Every step is idempotent; the dedupe log only saves repeating them."""

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime
from decimal import Decimal, InvalidOperation
from typing import Any

from pydantic import ValidationError

from contracts import commands as c
from contracts import webhooks as w
from contracts.entities import Address, OrderItem, OrderStatus
from contracts.events import AuthorizationExpiring, WebhookReceived
from contracts.webhooks import WebhookMessage
from service.application import catalog, orders
from service.application.deps import Deps
from service.application.errors import InvalidRequest
from service.application.remote_orders import apply_remote_order
from service.application.tiktok_errors import describe
from service.domain import webhooks as rules
from service.domain.ids import new_id
from service.domain.money import to_minor_units
from service.domain.remote import RemoteOrder
from service.domain.time import from_unix, later, utcnow

log = logging.getLogger(__name__)

Handler = Callable[[Deps, str, dict[str, Any], WebhookMessage], Awaitable[str]]


async def handle_webhook(deps: Deps, message: WebhookMessage) -> str:
    """Apply one webhook; answers what was done (kept in the log)."""
    shop_id = message.shop_id or deps.config.default_shop_id
    received = WebhookReceived(
        event_id=new_id(),
        shop_id=shop_id,
        occurred_at=message.received_at,
        notification_id=message.notification_id,
        webhook_type=message.webhook_type,
    )
    if await deps.webhooks.record(message, [received]):
        return "duplicate"
    if message.source == "tiktok":
        handler = TIKTOK_HANDLERS.get(int(message.webhook_type), _kept)
        fields = message.body.get("data")
    else:
        handler = SEED_HANDLERS.get(message.webhook_type, _kept)
        fields = message.body.get("payload")
    try:
        outcome = await handler(deps, shop_id, fields if isinstance(fields, dict) else {}, message)
    except InvalidRequest as exc:
        # It can never succeed: the log says why, and the caller sets the message aside.
        await deps.webhooks.mark_processed(message.notification_id, f"rejected: {exc.message}")
        raise
    await deps.webhooks.mark_processed(message.notification_id, outcome)
    return outcome


async def _kept(deps: Deps, shop_id: str, data: dict[str, Any], message: WebhookMessage) -> str:
    return "stored"


def _order_id(data: dict[str, Any]) -> str:
    order_id = data.get("order_id")
    if not order_id:
        raise InvalidRequest("The webhook names no order_id")
    return str(order_id)


async def _fetch_order(deps: Deps, shop_id: str, order_id: str) -> RemoteOrder | None:
    """TikTok's full copy of the order, or None when the API cannot be asked right now."""
    if not deps.tiktok.enabled(shop_id):
        return None
    try:
        found = await deps.tiktok.order_details(shop_id, [order_id])
    except Exception as exc:
        log.warning(
            "order %s details unavailable, applying the webhook alone: %s", order_id, describe(exc)
        )
        return None
    return found[0] if found else None


async def _apply_order_webhook(
    deps: Deps, shop_id: str, order_id: str, from_webhook: RemoteOrder
) -> str:
    details = await _fetch_order(deps, shop_id, order_id)
    if details is not None:
        # The API's copy is the truth about the order; what only a cancellation or return
        # webhook knows is kept, and a completed refund makes the order refunded even while
        # TikTok's order status still says delivered.
        reverse = from_webhook.cancellation_status or from_webhook.return_status
        details = replace(
            details,
            status=from_webhook.status if reverse and from_webhook.status else details.status,
            cancellation_status=from_webhook.cancellation_status,
            return_status=from_webhook.return_status,
        )
        new = await apply_remote_order(deps, shop_id, details)
    else:
        new = await apply_remote_order(deps, shop_id, from_webhook, needs_refresh=True)
    return "order created" if new else "order updated"


async def _order_status_change(
    deps: Deps, shop_id: str, data: dict[str, Any], message: WebhookMessage
) -> str:
    order_id = _order_id(data)
    remote = RemoteOrder(
        external_order_id=order_id,
        status=rules.order_status(data),
        external_status=str(data.get("order_status") or ""),
        updated_at=rules.update_time(data, message.received_at),
    )
    return await _apply_order_webhook(deps, shop_id, order_id, remote)


def _reverse_handler(read: Callable[[dict[str, Any]], rules.Reverse]) -> Handler:
    async def handle(
        deps: Deps, shop_id: str, data: dict[str, Any], message: WebhookMessage
    ) -> str:
        order_id = _order_id(data)
        reverse = read(data)
        remote = RemoteOrder(
            external_order_id=order_id,
            status=reverse.order_status,
            external_status=reverse.status_text,
            updated_at=rules.update_time(data, message.received_at),
            cancellation_status=reverse.status_text if reverse.kind == "cancellation" else None,
            return_status=reverse.status_text if reverse.kind == "return" else None,
        )
        return await _apply_order_webhook(deps, shop_id, order_id, remote)

    return handle


async def _refresh_order(
    deps: Deps, shop_id: str, data: dict[str, Any], message: WebhookMessage
) -> str:
    """Address and package updates: the details live in the API, so fetch them."""
    ids = [str(data["order_id"])] if data.get("order_id") else []
    for package in data.get("package_list") or []:
        ids += [str(i) for i in package.get("order_id_list") or []]
    refreshed = 0
    for order_id in dict.fromkeys(ids):
        details = await _fetch_order(deps, shop_id, order_id)
        if details is not None:
            await apply_remote_order(deps, shop_id, details)
            refreshed += 1
    return f"refreshed {refreshed} of {len(set(ids))} orders"


async def _product_status_change(
    deps: Deps, shop_id: str, data: dict[str, Any], message: WebhookMessage
) -> str:
    product_id = str(data.get("product_id") or "")
    status = rules.product_status(data)
    listing = await deps.listings.get_by_external(shop_id, product_id) if product_id else None
    if listing is None or status is None or listing.status == status:
        return "no listing changed"
    now = utcnow()
    changes: dict[str, Any] = {"status": status, "updated_at": later(now, listing.updated_at)}
    if status == "rejected" and data.get("suspended_reason"):
        changes["error"] = str(data["suspended_reason"])
    await deps.listings.replace(listing.model_copy(update=changes), expected=listing.updated_at)
    return f"listing {listing.id} {status}"


async def _deauthorized(
    deps: Deps, shop_id: str, data: dict[str, Any], message: WebhookMessage
) -> str:
    await deps.shops.mark_deauthorized(shop_id, message.received_at)
    return "shop deauthorized"


async def _expiring(deps: Deps, shop_id: str, data: dict[str, Any], message: WebhookMessage) -> str:
    expires_at: datetime | None = None
    try:
        expires_at = from_unix(int(data["expiration_time"]))
    except (KeyError, TypeError, ValueError, OverflowError):
        expires_at = None
    event = AuthorizationExpiring(
        event_id=new_id(), shop_id=shop_id, occurred_at=message.received_at, expires_at=expires_at
    )
    await deps.shops.record_expiry_warning(shop_id, expires_at, [event])
    return "expiry recorded"


TIKTOK_HANDLERS: dict[int, Handler] = {
    w.ORDER_STATUS_CHANGE: _order_status_change,
    w.REVERSE_STATUS_UPDATE: _reverse_handler(rules.legacy_reverse),
    w.CANCELLATION_STATUS_CHANGE: _reverse_handler(rules.cancellation),
    w.RETURN_STATUS_CHANGE: _reverse_handler(rules.return_request),
    w.RECIPIENT_ADDRESS_UPDATE: _refresh_order,
    w.PACKAGE_UPDATE: _refresh_order,
    w.PRODUCT_STATUS_CHANGE: _product_status_change,
    w.SELLER_DEAUTHORIZATION: _deauthorized,
    w.UPCOMING_AUTHORIZATION_EXPIRATION: _expiring,
}


# --- The 86d seed's own form -------------------------------------------------------------


def _money(payload: dict[str, Any], name: str, currency: str) -> int:
    """The seed sends money as numbers in major units (19.99); we keep minor units."""
    value = payload.get(name, 0) or 0
    try:
        return to_minor_units(str(Decimal(str(value))), currency)
    except (InvalidOperation, ValueError) as exc:
        raise InvalidRequest(f"{name} is not an amount of money: {value!r}") from exc


async def _seed_order_created(
    deps: Deps, shop_id: str, payload: dict[str, Any], message: WebhookMessage
) -> str:
    external_id = str(payload.get("externalOrderId") or "")
    if not external_id:
        raise InvalidRequest("order.created needs externalOrderId")
    currency = str(payload.get("currency") or deps.config.currency)
    try:
        items = tuple(OrderItem.model_validate(i) for i in payload.get("items") or [])
        address = Address.model_validate(payload.get("shippingAddress") or {})
    except ValidationError as exc:
        raise InvalidRequest(f"order.created has unreadable items or address: {exc}") from exc
    status: OrderStatus | None = (
        payload.get("status") if payload.get("status") in _STATUSES else None
    )
    remote = RemoteOrder(
        external_order_id=external_id,
        status=status or "pending",
        external_status=str(payload.get("status") or "pending"),
        updated_at=message.received_at,
        currency=currency,
        subtotal=_money(payload, "subtotal", currency),
        shipping_fee=_money(payload, "shippingFee", currency),
        platform_fee=_money(payload, "platformFee", currency),
        total=_money(payload, "total", currency),
        customer_name=payload.get("customerName"),
        shipping_address=address,
        items=items,
    )
    new = await apply_remote_order(deps, shop_id, remote)
    return "order created" if new else "order already known"


_STATUSES = frozenset({"pending", "confirmed", "shipped", "delivered", "cancelled", "refunded"})


def _seed_status(status: OrderStatus) -> Handler:
    async def handle(
        deps: Deps, shop_id: str, payload: dict[str, Any], message: WebhookMessage
    ) -> str:
        order_id = str(payload.get("orderId") or "")
        if not order_id:
            raise InvalidRequest(f"order.{status} needs orderId")
        order = await deps.orders.get(shop_id, order_id) or await deps.orders.get_by_external(
            shop_id, order_id
        )
        if order is None:
            raise InvalidRequest(f"order {order_id} is not known")
        remote = RemoteOrder(
            external_order_id=order.external_order_id,
            status=status,
            external_status=status,
            updated_at=message.received_at,
            tracking_number=payload.get("trackingNumber"),
            tracking_url=payload.get("trackingUrl"),
        )
        await apply_remote_order(deps, shop_id, remote, needs_refresh=True)
        return f"order {status}"

    return handle


async def _seed_product_sync(
    deps: Deps, shop_id: str, payload: dict[str, Any], message: WebhookMessage
) -> str:
    reply = await catalog.sync_products(deps, c.SyncProducts(shop_id=shop_id))
    return f"synced {reply.synced} products"


async def _seed_order_sync(
    deps: Deps, shop_id: str, payload: dict[str, Any], message: WebhookMessage
) -> str:
    reply = await orders.sync_orders(deps, c.SyncOrders(shop_id=shop_id))
    return f"synced {reply.synced} orders"


async def _seed_catalog_sync(
    deps: Deps, shop_id: str, payload: dict[str, Any], message: WebhookMessage
) -> str:
    reply = await catalog.start_catalog_sync(deps, c.StartCatalogSync(shop_id=shop_id))
    return f"catalog sync {reply.sync.id}"


SEED_HANDLERS: dict[str, Handler] = {
    "order.created": _seed_order_created,
    "order.shipped": _seed_status("shipped"),
    "order.cancelled": _seed_status("cancelled"),
    "product.sync": _seed_product_sync,
    "order.sync": _seed_order_sync,
    "catalog.sync": _seed_catalog_sync,
}
