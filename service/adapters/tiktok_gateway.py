"""The TikTok port over the Open API client: listings out, products and orders in, mapped.

Errors stay the client's typed exceptions; their text carries TikTok's code, message and
request_id, which is what the operations show (``str(exc)``) and what TikTok support asks for.
"""

from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from contracts.entities import Address, Listing, OrderItem
from service.adapters.tiktok.client import ShopRef, TikTokShopClient
from service.adapters.tiktok.errors import (
    AccessTokenExpiredError,
    InvalidSignatureError,
    NeedsReauthorization,
    PermissionDeniedError,
    ReauthorizationRequiredError,
    ShopCipherMissingError,
    ShopNeedsReauthorizationError,
    ThrottledError,
    TikTokApiError,
    TikTokError,
    TikTokResponseError,
    TikTokTransportError,
)
from service.adapters.tiktok.models import (
    ImageInput,
    InventoryInput,
    LineItem,
    Order,
    PriceInput,
    Product,
    ProductInput,
    RecipientAddress,
    SkuInput,
)
from service.adapters.tiktok.versions import MAX_PAGE_SIZE
from service.domain.money import from_minor_units, normalise_currency, optional_minor_units
from service.domain.remote import RemoteOrder, RemoteProduct
from service.domain.tiktok_status import map_order_status, map_product_status

# TikTok's answer to 105001 (token unknown or revoked) has no named class in the client.
_ACCESS_TOKEN_INVALID = 105001

# TikTok audits every created or edited product, so that is its status right after a write.
_STATUS_AFTER_WRITE = "PENDING"


class ShopDirectory(Protocol):
    """Which shops may be called, and each shop's cipher."""

    async def cipher(self, shop_id: str) -> str:
        """The shop's ``shop_cipher``; ShopNeedsReauthorizationError when it cannot be known."""
        ...

    def callable(self, shop_id: str) -> bool:
        """False when the shop was deauthorized or must be re-authorized (from a cache)."""
        ...

    async def blocked_reason(self, shop_id: str) -> str | None:
        """Why the shop cannot be called, read afresh (the cache follows); None when it can."""
        ...

    async def reauthorized(self, shop_id: str) -> None:
        """The seller authorized the app again: lift a recorded deauthorization."""
        ...


class Onboarding(Protocol):
    """Turns a seller's authorization code into stored tokens; answers the shop ids."""

    async def __call__(self, auth_code: str) -> list[str]: ...


class TikTokApiGateway:
    def __init__(
        self,
        client: TikTokShopClient,
        shops: ShopDirectory,
        *,
        configured: bool = True,
        default_category_id: str | None = None,
        default_inventory: int = 0,
        shipping_provider_id: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        onboarding: Onboarding | None = None,
    ) -> None:
        if default_inventory < 0:
            raise ValueError("default_inventory must not be negative")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        self._client = client
        self._shops = shops
        self._onboarding = onboarding
        self._configured = configured
        self._category_id = default_category_id
        self._inventory = default_inventory
        self._shipping_provider_id = shipping_provider_id
        self._page_size = page_size

    def enabled(self, shop_id: str) -> bool:
        return self._configured and self._shops.callable(shop_id)

    async def authorize(self, auth_code: str) -> list[str]:
        if self._onboarding is None:
            raise RuntimeError("this gateway cannot exchange authorization codes")
        shop_ids = await self._onboarding(auth_code)
        for shop_id in shop_ids:
            await self._shops.reauthorized(shop_id)
        return shop_ids

    async def check_connection(self, shop_id: str) -> str | None:
        reason = await self._shops.blocked_reason(shop_id)
        if reason is not None:
            return f"Shop {shop_id} cannot be called until the seller re-authorizes: {reason}"
        try:
            async with self._watching(shop_id):
                await self._client.authorized_shops(shop_id)
                await self._shops.cipher(shop_id)  # the token must also cover this shop
        except TikTokError as exc:
            return describe_error(exc)
        return None

    async def push_product(self, shop_id: str, listing: Listing) -> RemoteProduct:
        body = self._product_body(listing)  # before any call: a bad listing costs no request
        async with self._watching(shop_id):
            shop = await self._shop(shop_id)
            if listing.external_product_id is None:
                result = await self._client.create_product(shop, body)
            else:
                result = await self._client.edit_product(shop, listing.external_product_id, body)
        # The write answer has no status or time; a detail call would double the requests, and
        # its failure would hide a product that TikTok did create.
        return RemoteProduct(
            external_product_id=result.product_id,
            title=body.title,
            status=map_product_status(_STATUS_AFTER_WRITE),
            price=listing.price,
            currency=listing.currency,
            updated_at=None,
        )

    async def delete_product(self, shop_id: str, external_product_id: str) -> None:
        async with self._watching(shop_id):
            shop = await self._shop(shop_id)
            result = await self._client.delete_products(shop, [external_product_id])
        if result.errors:
            # TikTok answers code 0 and lists per-product failures; this one is ours to report.
            error = result.errors[0]
            raise TikTokApiError(
                error.code,
                f"product {external_product_id} was not deleted: {error.message or 'no reason'}",
            )

    async def products(self, shop_id: str) -> AsyncIterator[RemoteProduct]:
        async with self._watching(shop_id):
            shop = await self._shop(shop_id)
            async for product in self._client.search_products(shop, page_size=self._page_size):
                yield remote_product(product)

    async def orders(self, shop_id: str) -> AsyncIterator[RemoteOrder]:
        async with self._watching(shop_id):
            shop = await self._shop(shop_id)
            async for order in self._client.search_orders(shop, page_size=self._page_size):
                yield remote_order(order)

    async def order_details(self, shop_id: str, ids: Sequence[str]) -> list[RemoteOrder]:
        if not ids:
            return []
        async with self._watching(shop_id):
            shop = await self._shop(shop_id)
            orders = await self._client.order_details(shop, ids)
        return [remote_order(order) for order in orders]

    async def mark_shipped(
        self, shop_id: str, external_order_id: str, tracking_number: str
    ) -> None:
        if not self._shipping_provider_id:
            raise ValueError("No TikTok shipping provider id is configured for shipments")
        if not tracking_number:
            raise ValueError("Shipping a TikTok order needs a tracking number")
        async with self._watching(shop_id):
            shop = await self._shop(shop_id)
            await self._client.mark_package_shipped(
                shop, external_order_id, tracking_number, self._shipping_provider_id
            )

    # --- helpers -------------------------------------------------------------------------

    async def _shop(self, shop_id: str) -> ShopRef:
        # Read afresh on every call: a deauthorization recorded by another worker must stop
        # calls at once, not at the next cache refresh.
        reason = await self._shops.blocked_reason(shop_id)
        if reason is not None:
            raise ShopNeedsReauthorizationError(shop_id, reason)
        return ShopRef(shop_id, await self._shops.cipher(shop_id))

    @asynccontextmanager
    async def _watching(self, shop_id: str) -> AsyncIterator[None]:
        try:
            yield
        except NeedsReauthorization:
            # The token provider has recorded TikTok's verdict; let enabled() see it now.
            await self._shops.blocked_reason(shop_id)
            raise

    def _product_body(self, listing: Listing) -> ProductInput:
        if not listing.image_url:
            raise ValueError(f"Listing {listing.id} has no image; TikTok needs at least one")
        if listing.price is None:
            raise ValueError(f"Listing {listing.id} has no price")
        if listing.price < 0:
            raise ValueError(f"Listing {listing.id} has a negative price")
        metadata = listing.metadata
        category = metadata.get("categoryId") or self._category_id
        if not category:
            raise ValueError(
                f"Listing {listing.id} has no TikTok category: set metadata.categoryId "
                "or configure a default category"
            )
        warehouse = metadata.get("warehouseId")
        return ProductInput(
            title=listing.title,
            description=listing.description or listing.title,
            category_id=str(category),
            # TikTok wants the URI of an image uploaded through its image API; the URL is passed
            # as the URI until uploads exist (the simulator accepts any URI).
            main_images=[ImageInput(uri=listing.image_url)],
            skus=[
                SkuInput(
                    # seller_sku is our product id, so TikTok's orders name our product.
                    seller_sku=listing.local_product_id,
                    price=PriceInput(
                        amount=from_minor_units(listing.price, listing.currency),
                        currency=listing.currency,
                    ),
                    inventory=[
                        InventoryInput(
                            quantity=_inventory(listing, self._inventory),
                            warehouse_id=str(warehouse) if warehouse else None,
                        )
                    ],
                )
            ],
        )


def _inventory(listing: Listing, default: int) -> int:
    value: Any = listing.metadata.get("inventory", default)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise ValueError(f"Listing {listing.id}: metadata.inventory must be a whole number >= 0")
    return value


# --- mapping TikTok's shapes onto the domain's ------------------------------------------------


def _time(unix_seconds: int) -> datetime | None:
    return datetime.fromtimestamp(unix_seconds, UTC) if unix_seconds > 0 else None


def remote_product(product: Product) -> RemoteProduct:
    """Price and currency of the first SKU (the service pushes one SKU per product)."""
    price = product.skus[0].price if product.skus else None
    currency = normalise_currency(price.currency) if price is not None else None
    return RemoteProduct(
        external_product_id=product.id,
        title=product.title,
        status=map_product_status(product.status),
        price=optional_minor_units(price.value, currency) if price and currency else None,
        currency=currency,
        updated_at=_time(product.update_time),
    )


def remote_order(order: Order) -> RemoteOrder:
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


# --- one sentence per failure -----------------------------------------------------------------


def describe_error(exc: TikTokError) -> str:
    """``TikTok refused the access token (105002, request abc): Access token is expired``."""
    if isinstance(exc, TikTokApiError):
        return f"{_lead(exc)} ({exc.code}, request {exc.request_id or '-'}): {exc.message}"
    if isinstance(exc, ShopNeedsReauthorizationError):
        return f"The seller must re-authorize shop {exc.shop_id}: {exc.reason}"
    if isinstance(exc, TikTokTransportError):
        return f"TikTok could not be reached: {exc}"
    if isinstance(exc, TikTokResponseError):
        return f"TikTok's answer could not be read: {exc}"
    return str(exc)


def _lead(exc: TikTokApiError) -> str:
    if isinstance(exc, AccessTokenExpiredError) or exc.code == _ACCESS_TOKEN_INVALID:
        return "TikTok refused the access token"
    if isinstance(exc, InvalidSignatureError):
        return "TikTok refused the request signature (check the app key and secret)"
    if isinstance(exc, ReauthorizationRequiredError):
        return "TikTok says the seller must re-authorize the app"
    if isinstance(exc, PermissionDeniedError):
        return "TikTok says the app lacks the permission for this call"
    if isinstance(exc, ShopCipherMissingError):
        return "TikTok did not get the shop's cipher"
    if isinstance(exc, ThrottledError) or exc.is_throttled:
        return "TikTok is throttling the app"
    if exc.is_server_error:
        return "TikTok failed with a server error"
    return "TikTok refused the call"
