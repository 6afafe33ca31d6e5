"""The simulated TikTok Shop: shops, authorizations, products and orders, all in memory.

Records answer in the API's own shapes (``to_api``): money as decimal strings with the currency,
times as unix seconds, ids as long digit strings.
"""

import secrets
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from simulator import money
from simulator.catalog import CatalogState
from simulator.logistics import DEFAULT_DELIVERY_OPTION
from simulator.order_books import OrderBooks


@dataclass
class Shop:
    id: str
    name: str
    region: str
    cipher: str
    code: str
    seller_type: str = "LOCAL"
    # The app's address for this shop's notifications of every type (as configured in Partner
    # Center): the shortcut that also registers each Event API type, see ``simulator.webhooks``.
    webhook_url: str | None = None

    def to_api(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "name": self.name,
            "region": self.region,
            "cipher": self.cipher,
            "code": self.code,
            "seller_type": self.seller_type,
        }


@dataclass
class Grant:
    """One seller's authorization of the app, covering some shops."""

    shop_ids: tuple[str, ...]
    open_id: str
    seller_name: str
    revoked: bool = False


@dataclass
class IssuedToken:
    value: str
    grant: Grant
    expires_at: int


@dataclass
class AuthCode:
    value: str
    shop_ids: tuple[str, ...]
    expires_at: int
    used: bool = False


@dataclass
class Product:
    shop_id: str
    id: str
    title: str
    description: str
    category_id: str
    status: str
    main_images: list[dict[str, Any]]
    skus: list[dict[str, Any]]
    create_time: int
    update_time: int
    # TikTok's audit: NONE, AUDITING, FAILED, PRE_APPROVED or APPROVED, with its reasons.
    audit_status: str = "NONE"
    audit_failed_reasons: list[dict[str, Any]] = field(default_factory=list)
    pre_approved_reasons: list[str] = field(default_factory=list)
    product_attributes: list[dict[str, Any]] = field(default_factory=list)
    brand_id: str | None = None
    # Root first; empty for products made before categories were known.
    category_chain: list[dict[str, Any]] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        """As search answers it."""
        return {
            "id": self.id,
            "title": self.title,
            "status": self.status,
            "skus": [_answer_sku(sku) for sku in self.skus],
            "create_time": self.create_time,
            "update_time": self.update_time,
        }

    def detail(self) -> dict[str, Any]:
        """As product detail answers it."""
        return {
            **self.summary(),
            "description": self.description,
            "category_chains": self.category_chain or [{"id": self.category_id, "is_leaf": True}],
            "main_images": [_answer_image(image) for image in self.main_images],
            "audit": {
                "status": self.audit_status,
                "pre_approved_reasons": self.pre_approved_reasons,
            },
            "audit_failed_reasons": self.audit_failed_reasons,
            "product_attributes": self.product_attributes,
            **({"brand": {"id": self.brand_id}} if self.brand_id else {}),
        }


def _answer_image(image: dict[str, Any]) -> dict[str, Any]:
    url = image.get("url") or f"https://sim.invalid/{image['uri']}"
    answer: dict[str, Any] = {"uri": image["uri"], "urls": [url], "thumb_urls": [url]}
    if "width" in image:
        answer["width"], answer["height"] = image["width"], image["height"]
    return answer


def _answer_sku(sku: dict[str, Any]) -> dict[str, Any]:
    price = sku["price"]
    return {
        "id": sku["id"],
        "seller_sku": sku["seller_sku"],
        "price": {
            "currency": price["currency"],
            "tax_exclusive_price": price["amount"],
            "sale_price": price["amount"],
        },
        "inventory": sku["inventory"],
        "status_info": sku.get("status_info", {"status": "NORMAL"}),
        **({"sales_attributes": sku["sales_attributes"]} if sku.get("sales_attributes") else {}),
    }


@dataclass
class Order:
    shop_id: str
    id: str
    status: str
    create_time: int
    update_time: int
    currency: str
    # TikTok has no quantity: two units are two line items.
    line_items: list[dict[str, Any]]
    shipping_fee: str
    tax: str
    seller_discount: str
    platform_discount: str
    recipient_address: dict[str, Any]
    buyer_email: str
    buyer_nickname: str
    user_id: str
    tracking_number: str | None = None
    shipping_provider: str | None = None
    shipping_provider_id: str | None = None
    packages: list[dict[str, Any]] = field(default_factory=list)
    is_on_hold_order: bool = False
    # Fulfillment and cancellation facts of the 202507 order detail (unix seconds).
    shipping_type: str = DEFAULT_DELIVERY_OPTION.shipping_type
    delivery_option_id: str = DEFAULT_DELIVERY_OPTION.id
    delivery_option_name: str = DEFAULT_DELIVERY_OPTION.name
    warehouse_id: str = "7000000001"
    paid_time: int | None = None
    rts_time: int | None = None
    collection_time: int | None = None
    delivery_time: int | None = None
    cancel_time: int | None = None
    cancel_reason: str | None = None
    cancellation_initiator: str | None = None
    is_buyer_request_cancel: bool = False
    request_cancel_time: int | None = None
    # The end of the buyer's free-cancellation hour (ON_HOLD); None when never held.
    on_hold_until: int | None = None

    def payment(self) -> dict[str, str]:
        sub_total = money.total([item["sale_price"] for item in self.line_items])
        amount = (
            sub_total
            + Decimal(self.shipping_fee)
            + Decimal(self.tax)
            - Decimal(self.seller_discount)
            - Decimal(self.platform_discount)
        )
        currency = self.currency
        return {
            "currency": currency,
            "sub_total": money.fmt(sub_total, currency),
            "shipping_fee": self.shipping_fee,
            "seller_discount": self.seller_discount,
            "platform_discount": self.platform_discount,
            "tax": self.tax,
            "total_amount": money.fmt(max(amount, Decimal(0)), currency),
        }

    def to_api(self) -> dict[str, Any]:
        answer: dict[str, Any] = {
            "id": self.id,
            "status": self.status,
            "create_time": self.create_time,
            "update_time": self.update_time,
            "payment": self.payment(),
            "recipient_address": self.recipient_address,
            "buyer_email": self.buyer_email,
            "buyer_nickname": self.buyer_nickname,
            "user_id": self.user_id,
            "line_items": self.line_items,
            "packages": self.packages,
            "is_on_hold_order": self.is_on_hold_order,
            "fulfillment_type": "FULFILLMENT_BY_SELLER",
            "shipping_type": self.shipping_type,
            "delivery_option_id": self.delivery_option_id,
            "delivery_option_name": self.delivery_option_name,
            "warehouse_id": self.warehouse_id,
            "is_buyer_request_cancel": self.is_buyer_request_cancel,
        }
        optional = {
            "paid_time": self.paid_time,
            "rts_time": self.rts_time,
            "collection_time": self.collection_time,
            "delivery_time": self.delivery_time,
            "cancel_time": self.cancel_time,
            "cancel_reason": self.cancel_reason,
            "cancellation_initiator": self.cancellation_initiator,
            "request_cancel_time": self.request_cancel_time,
        }
        answer.update({key: value for key, value in optional.items() if value is not None})
        if self.tracking_number is not None:
            answer["tracking_number"] = self.tracking_number
            answer["shipping_provider"] = self.shipping_provider
            answer["shipping_provider_id"] = self.shipping_provider_id
        return answer


class World:
    def __init__(self) -> None:
        self.shops: dict[str, Shop] = {}
        self.access_tokens: dict[str, IssuedToken] = {}
        self.refresh_tokens: dict[str, IssuedToken] = {}
        self.auth_codes: dict[str, AuthCode] = {}
        self.products: dict[str, Product] = {}
        self.orders: dict[str, Order] = {}
        self.catalog = CatalogState()
        self._serial = 0
        # Packages, cancellations, returns, settlements, webhook subscriptions and deliveries.
        self.books = OrderBooks()

    def next_id(self, prefix: str) -> str:
        """Digit strings the length of TikTok's, unique within this world."""
        self._serial += 1
        return f"{prefix}{self._serial:012d}"

    def shop_by_cipher(self, cipher: str) -> Shop | None:
        return next((shop for shop in self.shops.values() if shop.cipher == cipher), None)

    def add_shop(
        self,
        shop_id: str | None = None,
        name: str | None = None,
        region: str = "US",
        cipher: str | None = None,
    ) -> Shop:
        sid = shop_id or self.next_id("7494")
        shop = Shop(
            id=sid,
            name=name or f"Sim shop {sid[-4:]}",
            region=region,
            cipher=cipher or f"ROW_{secrets.token_urlsafe(18)}",
            code=f"{region}LC{sid[-6:]}",
        )
        self.shops[sid] = shop
        return shop

    def issue_access_token(self, grant: Grant, now: int, ttl: int) -> IssuedToken:
        token = IssuedToken(f"TTP_{secrets.token_urlsafe(24)}", grant, now + ttl)
        self.access_tokens[token.value] = token
        return token

    def issue_tokens(
        self, grant: Grant, now: int, access_ttl: int, refresh_ttl: int
    ) -> tuple[IssuedToken, IssuedToken]:
        refresh = IssuedToken(f"TTP_{secrets.token_urlsafe(24)}", grant, now + refresh_ttl)
        self.refresh_tokens[refresh.value] = refresh
        return self.issue_access_token(grant, now, access_ttl), refresh

    def products_of(self, shop_id: str) -> list[Product]:
        return [p for p in self.products.values() if p.shop_id == shop_id]

    def orders_of(self, shop_id: str) -> list[Order]:
        return [o for o in self.orders.values() if o.shop_id == shop_id]
