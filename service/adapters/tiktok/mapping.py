"""TikTok's product and order shapes onto the domain's (``RemoteProduct``, ``RemoteOrder``).

Money arrives as decimal strings in the order's or SKU's currency and leaves as integer minor
units (``service.domain.money``); times arrive as unix seconds and leave as UTC datetimes.
Shapes are those of product search (202502) and detail (202309), order search (202309) and
detail (202507); the reverse flows' are in ``lifecycle_mapping``.
"""

from collections.abc import Mapping
from datetime import UTC, datetime

from contracts.entities import Address, OrderItem
from service.adapters.tiktok.models import LineItem, Order, Product, RecipientAddress
from service.domain.money import normalise_currency, optional_minor_units
from service.domain.remote import RemoteOrder, RemoteProduct
from service.domain.tiktok_status import map_order_status, map_product_status

# What the listing says when TikTok deleted its product and gives no reason of its own.
_DELETED = "TikTok deleted the product"


def _time(unix_seconds: int) -> datetime | None:
    return datetime.fromtimestamp(unix_seconds, UTC) if unix_seconds > 0 else None


def remote_product(product: Product) -> RemoteProduct:
    """Price and currency of the first SKU (the service pushes one SKU per product); the
    reasons of product detail's ``audit_failed_reasons`` joined into one sentence."""
    price = product.skus[0].price if product.skus else None
    currency = normalise_currency(price.currency) if price is not None else None
    reasons = [r for entry in product.audit_failed_reasons for r in entry.reasons if r]
    reason = "; ".join(dict.fromkeys(reasons)) or None
    if product.status == "DELETED":
        reason = reason or _DELETED
    return RemoteProduct(
        external_product_id=product.id,
        title=product.title,
        status=map_product_status(product.status),
        price=optional_minor_units(price.value, currency) if price and currency else None,
        currency=currency,
        updated_at=_time(product.update_time),
        external_status=product.status,
        status_reason=reason,
    )


def remote_order(order: Order) -> RemoteOrder:
    """The order with amounts in minor units of its payment currency (USD when none is named).

    Raises ValueError for an amount finer than the currency's minor unit.
    """
    payment = order.payment
    currency = normalise_currency(
        payment.currency
        if payment is not None
        else next((i.currency for i in order.line_items if i.currency), "USD")
    )

    def minor(amount: str | None) -> int:
        return optional_minor_units(amount, currency) or 0

    return RemoteOrder(
        external_order_id=order.id,
        status=map_order_status(order.status),
        external_status=order.status,
        # update_time orders an order's versions; an order without one is the oldest version.
        updated_at=_time(order.update_time) or datetime.fromtimestamp(0, UTC),
        created_at=_time(order.create_time),
        currency=currency,
        subtotal=minor(payment.sub_total if payment else None),
        shipping_fee=minor(payment.shipping_fee if payment else None),
        # The seed's platformFee is what the platform keeps. TikTok's order carries no
        # commission (fees settle through its Finance API statements), and platform_discount
        # is the opposite, a subsidy TikTok pays the seller, so no fee is claimed here.
        platform_fee=0,
        total=minor(payment.total_amount if payment else None),
        customer_name=order.customer_name,
        shipping_address=_address(order.recipient_address),
        # TikTok has no quantity: each unit is a line item of its own.
        items=tuple(_item(line, currency) for line in order.line_items),
        tracking_number=order.tracking_number
        or next((i.tracking_number for i in order.line_items if i.tracking_number), None),
    )


def _item(line: LineItem, currency: str) -> OrderItem:
    return OrderItem(
        title=line.product_name or line.sku_name or "",
        quantity=1,
        unit_price=optional_minor_units(line.sale_price, line.currency or currency) or 0,
        external_product_id=line.product_id,
        external_sku_id=line.sku_id,
        # Pushed products carry our product id as seller_sku.
        local_product_id=line.seller_sku,
    )


# District levels by the names TikTok gives them, in order of preference; the numbered levels
# (L1 state, L3 city in TikTok's US addresses) are the fallback.
_STATE_LEVELS = ("state", "province", "prefecture", "region")
_CITY_LEVELS = ("city", "town")


def _address(recipient: RecipientAddress | None) -> Address:
    if recipient is None:
        return Address()
    names: Mapping[str, str] = {
        d.address_level_name.strip().lower(): d.address_name
        for d in recipient.district_info
        if d.address_name
    }
    levels: Mapping[str, str] = {
        d.address_level.upper(): d.address_name for d in recipient.district_info if d.address_name
    }
    full_name = " ".join(p for p in (recipient.first_name, recipient.last_name) if p)
    return Address(
        name=recipient.name or full_name or None,
        phone=recipient.phone_number,
        line1=recipient.address_detail or recipient.full_address,
        city=next((names[k] for k in _CITY_LEVELS if k in names), None) or levels.get("L3"),
        state=next((names[k] for k in _STATE_LEVELS if k in names), None) or levels.get("L1"),
        postal_code=recipient.postal_code,
        country=recipient.region_code,
    )
