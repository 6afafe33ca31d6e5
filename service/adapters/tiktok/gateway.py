"""The TikTok port over the Open API client: listings out, products and orders in, mapped.

Everything a method raises is of the port's one family (``service.application.errors``):
``AuthorizationRequired`` when only the seller can cure it, else ``GatewayError`` with TikTok's
code and request id and whether a later try may work. The adapter's own exceptions never leave.

Before each call the gateway asks the directory whether the shop is blocked (a deauthorization
recorded by another worker stops calls at once); ``enabled`` answers synchronously from what
those reads and ``refresh()`` last saw. A shop's ``shop_cipher`` comes from the directory, else
from TikTok's authorized shops (then saved), and is kept for the process once known; when TikTok
refuses it (106014: a cipher TikTok no longer knows), it is fetched and saved again, and the
call runs once more.
"""

import asyncio
import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any, TypeVar

import httpx
import structlog

from contracts.entities import (
    AttributeCondition,
    AuditReason,
    Category,
    CategoryAttribute,
    CategoryAttributeValue,
    Listing,
    Warehouse,
    WarehouseQuantity,
)
from service.adapters.tiktok.client import ShopRef, TikTokShopClient
from service.adapters.tiktok.config import TikTokConfig
from service.adapters.tiktok.errors import (
    NeedsReauthorization,
    ShopNeedsReauthorizationError,
    TikTokError,
    TikTokResponseError,
)
from service.adapters.tiktok.lifecycle_mapping import (
    aftersales_request,
    cancellation_request,
    return_request,
    rma_request,
    settlement,
)
from service.adapters.tiktok.mapping import remote_order, remote_product
from service.adapters.tiktok.models import (
    AttributeValueInput,
    AuthorizedShop,
    CategoryAttributeData,
    ImageInput,
    InventoryInput,
    InventoryUpdateResult,
    OrderSearchFilter,
    PriceInput,
    ProductAttributeInput,
    ProductInput,
    ProductSearchFilter,
    SkuInput,
)
from service.adapters.tiktok.oauth import TikTokOAuth
from service.adapters.tiktok.onboarding import authorize_shops
from service.adapters.tiktok.port_errors import gateway_error
from service.adapters.tiktok.tokens import (
    DefaultShopTokenProvider,
    StaticTokenProvider,
    StoredTokenProvider,
)
from service.adapters.tiktok.versions import MAX_PAGE_SIZE, MAX_STOCK_QUANTITY
from service.application.errors import AuthorizationRequired, GatewayError
from service.application.ports import (
    ConnectionCheck,
    DatabaseUnavailable,
    ShopDirectory,
    Unreadable,
    UploadedImages,
)
from service.domain.carriers import Provider
from service.domain.fees import Settlement
from service.domain.money import from_minor_units
from service.domain.remote import RemoteAudit, RemoteOrder, RemoteProduct
from service.domain.reverse_requests import ReasonChoice, RemoteRequest
from service.domain.tiktok_status import audit_status, map_product_status
from service.domain.webhook_registration import RemoteWebhook

_log = structlog.get_logger(__name__)

# TikTok audits every created or edited product, so that is its status right after a write.
_STATUS_AFTER_WRITE = "PENDING"
# Upload Product Image 202309 takes at most 10 MB.
MAX_IMAGE_BYTES = 10 * 1024 * 1024
# A category's attributes change rarely; every push checks them.
ATTRIBUTES_TTL_SECONDS = 3600.0


class MemoryUploadedImages:
    """The ``UploadedImages`` port in memory, for a gateway without a database."""

    def __init__(self) -> None:
        self._uris: dict[tuple[str, str], str] = {}

    async def uri(self, shop_id: str, url: str) -> str | None:
        return self._uris.get((shop_id, url))

    async def remember(self, shop_id: str, url: str, uri: str) -> None:
        self._uris[(shop_id, url)] = uri


In = TypeVar("In")
Out = TypeVar("Out")


class TikTokApiGateway:
    """The ``TikTokGateway`` port over TikTok Shop's Open API.

    ``client`` makes the calls (its token provider decides which token each shop uses),
    ``oauth`` exchanges authorization codes, ``directory`` keeps authorizations, ciphers and
    blocks. ``default_category_id`` is used for a listing without ``metadata.categoryId``;
    ``default_inventory`` (>= 0) for one without ``metadata.inventory``;
    ``shipping_provider_id`` is TikTok's id of the carrier ``mark_shipped`` names; ``page_size``
    is 1..100 per search page. ValueError for a bad option.
    """

    def __init__(
        self,
        client: TikTokShopClient,
        oauth: TikTokOAuth,
        directory: ShopDirectory,
        *,
        default_category_id: str | None = None,
        default_inventory: int = 0,
        shipping_provider_id: str | None = None,
        page_size: int = MAX_PAGE_SIZE,
        images: UploadedImages | None = None,
        downloads: httpx.AsyncClient | None = None,
    ) -> None:
        if default_inventory < 0:
            raise ValueError("default_inventory must not be negative")
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        self._client = client
        self._oauth = oauth
        self._directory = directory
        self._category_id = default_category_id
        self._inventory = default_inventory
        self._shipping_provider_id = shipping_provider_id
        self._page_size = page_size
        # Blocked shops and why, as last read; `enabled` answers from it.
        self._blocked: dict[str, str] = {}
        # Kept for the process once known; replaced only when TikTok refuses one (106014).
        self._ciphers: dict[str, str] = {}
        # Concurrent first calls (or refusals) for a shop ask TikTok for its cipher once.
        self._cipher_locks: dict[str, asyncio.Lock] = {}
        self._images = images or MemoryUploadedImages()
        # Listing images are fetched from their URLs to be uploaded (not TikTok's host).
        self._owns_downloads = downloads is None
        self._downloads = downloads or httpx.AsyncClient(timeout=20.0, follow_redirects=True)
        self._attributes: dict[tuple[str, str], tuple[float, list[CategoryAttribute]]] = {}

    # --- the port ----------------------------------------------------------------------------

    def enabled(self, shop_id: str) -> bool:
        """False while the shop is blocked, as the last read of the directory saw it."""
        return shop_id not in self._blocked

    async def refresh(self) -> None:
        """Reload which shops are blocked (at start-up); GatewayError if the directory fails."""
        async with self._port(None):
            self._blocked = dict(await self._directory.blocked_shops())

    async def check_connection(self, shop_id: str) -> str | None:
        """None when TikTok answers for the shop with its token, else why not (one sentence,
        a database that did not answer included)."""
        try:
            return (await self.connection(shop_id)).error
        except DatabaseUnavailable as exc:
            return f"The shop directory (database) did not answer: {exc}"

    async def connection(self, shop_id: str) -> ConnectionCheck:
        """Whether TikTok answers for the shop with its token; when not, why, and whether only
        the seller can cure it (a deauthorized shop, a lost authorization, a static token that
        expired). DatabaseUnavailable when the shop's authorization cannot be read."""
        try:
            async with self._port(shop_id, database_errors=True):
                reason = await self._blocked_reason(shop_id)
                if reason is not None:
                    return ConnectionCheck(_blocked_message(shop_id, reason), True)
                shops = await self._client.authorized_shops(shop_id)
                # The token must also cover this shop; TikTok's cipher for it replaces a stale
                # one kept (TikTok gives a shop a new cipher now and then).
                await self._keep_cipher(shop_id, _covering(shop_id, shops).cipher)
        except AuthorizationRequired as error:
            return ConnectionCheck(error.message, True)
        except GatewayError as error:
            return ConnectionCheck(error.message)
        return ConnectionCheck()

    async def authorize(self, auth_code: str) -> list[str]:
        """Exchange a seller's authorization code, store the tokens of every shop it covers and
        lift their recorded deauthorizations; answers the shop ids."""
        async with self._port(None):
            records = await authorize_shops(auth_code, self._oauth, self._client, self._directory)
            for record in records:
                await self._directory.lift_deauthorization(record.shop_id)
                if record.cipher:
                    self._ciphers[record.shop_id] = record.cipher
                await self._blocked_reason(record.shop_id)
            _log.info("tiktok.shops.authorized", shop_ids=[r.shop_id for r in records])
            return [record.shop_id for record in records]

    async def push_product(self, shop_id: str, listing: Listing) -> RemoteProduct:
        """Create the product (202309, no external id yet) or edit it (202509); answers it as
        TikTok holds it right after the write (status pending: TikTok audits every write).

        The listing's image is uploaded through TikTok's image API first (Upload Product Image
        202309), once per shop and URL. Its stock goes per warehouse (`listing.stock`), else
        `metadata.inventory` in `metadata.warehouseId` (the shop's default warehouse if none).
        """
        body = self._product_body(listing, "")  # before any call: a bad listing costs nothing
        assert listing.image_url is not None  # checked by _product_body
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            uri = await self._image_uri(shop, listing.image_url)
            body = body.model_copy(update={"main_images": [ImageInput(uri=uri)]})
            if listing.external_product_id is None:
                result = await self._client.create_product(shop, body)
            else:
                result = await self._client.edit_product(shop, listing.external_product_id, body)
        # The write answer has no status or time; a detail call would double the requests, and
        # its failure would hide a product that TikTok did create.
        sku = next(
            (s for s in result.skus if s.seller_sku == listing.local_product_id),
            result.skus[0] if result.skus else None,
        )
        sent = body.skus[0].inventory
        return RemoteProduct(
            external_product_id=result.product_id,
            title=body.title,
            status=map_product_status(_STATUS_AFTER_WRITE),
            price=listing.price,
            currency=listing.currency,
            updated_at=None,
            sku_id=sku.id if sku is not None else None,
            stock=tuple(
                WarehouseQuantity(warehouse_id=i.warehouse_id, quantity=i.quantity)
                for i in sent
                if i.warehouse_id
            ),
        )

    async def delete_product(self, shop_id: str, external_product_id: str) -> None:
        """Delete one product (202309); GatewayError with TikTok's code when it was not."""
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            result = await self._client.delete_products(shop, [external_product_id])
        if result.errors:
            # TikTok answers code 0 and lists per-product failures; this one is ours to report.
            error = result.errors[0]
            raise GatewayError(
                f"TikTok did not delete product {external_product_id} ({error.code}): "
                f"{error.message or 'no reason given'}",
                code=error.code or None,
            )

    async def product(self, shop_id: str, external_product_id: str) -> RemoteProduct:
        """TikTok's copy of one product (detail 202309), with the reasons of its
        ``audit_failed_reasons`` when TikTok failed, froze or deactivated it."""
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            product = await self._client.product_detail(shop, external_product_id)
            return _mapped(remote_product, product, f"product {external_product_id}")

    async def products(self, shop_id: str) -> AsyncIterator[RemoteProduct | Unreadable]:
        """Every product of the shop (search 202502), page after page; one whose fields cannot
        be read is yielded as `Unreadable` with the reason, and the pull goes on."""
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            async for product in self._client.search_products(shop, page_size=self._page_size):
                yield _tolerated(remote_product, product, product.id)

    async def orders(self, shop_id: str) -> AsyncIterator[RemoteOrder | Unreadable]:
        """Every order of the shop (search 202309), page after page; one whose fields cannot
        be read (an amount finer than its currency allows) is yielded as `Unreadable` with the
        reason, and the pull goes on."""
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            async for order in self._client.search_orders(shop, page_size=self._page_size):
                yield _tolerated(remote_order, order, order.id)

    async def order_details(
        self, shop_id: str, ids: Sequence[str]
    ) -> list[RemoteOrder | Unreadable]:
        """Full orders by TikTok id (detail 202507, 50 ids per call), each mapped on its own:
        one whose fields cannot be read is an `Unreadable` under its id, beside the others."""
        if not ids:
            return []
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            orders = await self._client.order_details(shop, ids)
            return [_tolerated(remote_order, order, order.id) for order in orders]

    async def mark_shipped(
        self, shop_id: str, external_order_id: str, tracking_number: str
    ) -> None:
        """Ship the order's package with our carrier's tracking number (fulfillment 202309)."""
        if not self._shipping_provider_id:
            raise GatewayError(
                "No TikTok shipping provider id is configured for shipments: "
                "set TIKTOK_SHIPPING_PROVIDER_ID"
            )
        if not tracking_number:
            raise GatewayError(f"Shipping TikTok order {external_order_id} needs a tracking number")
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            await self._client.mark_package_shipped(
                shop, external_order_id, tracking_number, self._shipping_provider_id
            )

    # --- order lifecycle: reconciliation, reverse flows, shipping, fees, webhooks -----------

    async def orders_changed(
        self, shop_id: str, since: datetime | None
    ) -> AsyncIterator[RemoteOrder | Unreadable]:
        """Orders updated at or after `since` (search 202309, oldest update first)."""
        filters = OrderSearchFilter(update_time_ge=_unix(since))
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            pages = self._client.search_changed_order_pages(shop, filters, self._page_size)
            async for page in pages:
                for order in page.orders:
                    yield _tolerated(remote_order, order, order.id)

    async def products_changed(
        self, shop_id: str, since: datetime | None
    ) -> AsyncIterator[RemoteProduct | Unreadable]:
        """Products updated at or after `since` (search 202502)."""
        filters = ProductSearchFilter(update_time_ge=_unix(since))
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            async for product in self._client.search_products(shop, filters, self._page_size):
                yield _tolerated(remote_product, product, product.id)

    async def requests_changed(
        self, shop_id: str, since: datetime | None
    ) -> AsyncIterator[RemoteRequest | Unreadable]:
        """Cancellations, then returns, updated at or after `since` (202602 searches)."""
        filters: dict[str, Any] = {} if since is None else {"update_time_ge": _unix(since)}
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            cancellations = self._client.search_cancellation_pages(shop, filters, self._page_size)
            async for cancellation_page in cancellations:
                for c in cancellation_page.cancellations:
                    yield _tolerated(cancellation_request, c, f"cancellation {c.cancel_id}")
            returns = self._client.search_return_pages(shop, filters, self._page_size)
            async for return_page in returns:
                for r in return_page.return_orders:
                    yield _tolerated(return_request, r, f"return {r.return_id}")

    async def order_requests(self, shop_id: str, external_order_id: str) -> list[RemoteRequest]:
        """The order's cancellations and returns (202602 searches by order id), with each
        return's line items and refund amount in minor units."""
        filters = {"order_ids": [external_order_id]}
        found: list[RemoteRequest] = []
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            async for cancellation_page in self._client.search_cancellation_pages(shop, filters):
                found += [
                    _mapped(cancellation_request, c, f"cancellation {c.cancel_id}")
                    for c in cancellation_page.cancellations
                ]
            async for return_page in self._client.search_return_pages(shop, filters):
                found += [
                    _mapped(return_request, r, f"return {r.return_id}")
                    for r in return_page.return_orders
                ]
        return found

    async def aftersales_request(
        self, shop_id: str, *, aftersales_id: str | None = None, rma_id: str | None = None
    ) -> RemoteRequest | None:
        """The after-sales request (202603) or the RMA's request (202604), with its order."""
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            if aftersales_id:
                page = await self._client.aftersales_requests(shop, [aftersales_id])
                return next(
                    (m for a in page.aftersales_requests if (m := aftersales_request(a))), None
                )
            if rma_id:
                rmas = await self._client.rmas(shop, [rma_id])
                return next(
                    (m for r in rmas.return_merchandise_authorizations if (m := rma_request(r))),
                    None,
                )
        return None

    async def approve_cancellation(
        self, shop_id: str, cancel_id: str, *, idempotency_key: str
    ) -> None:
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            await self._client.approve_cancellation(
                shop, cancel_id, idempotency_key=idempotency_key
            )

    async def reject_cancellation(
        self,
        shop_id: str,
        cancel_id: str,
        reason: str,
        comment: str | None,
        *,
        idempotency_key: str,
    ) -> None:
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            await self._client.reject_cancellation(
                shop, cancel_id, reason, comment, idempotency_key=idempotency_key
            )

    async def approve_return(
        self,
        shop_id: str,
        return_id: str,
        decision: str,
        *,
        buyer_keep_item: bool,
        idempotency_key: str,
    ) -> None:
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            await self._client.approve_return(
                shop,
                return_id,
                decision,
                buyer_keep_item=buyer_keep_item,
                idempotency_key=idempotency_key,
            )

    async def reject_return(
        self,
        shop_id: str,
        return_id: str,
        decision: str,
        reason: str,
        comment: str | None,
        *,
        idempotency_key: str,
    ) -> None:
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            await self._client.reject_return(
                shop, return_id, decision, reason, comment, idempotency_key=idempotency_key
            )

    async def reject_reasons(self, shop_id: str, request_id: str) -> list[ReasonChoice]:
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            reasons = await self._client.reject_reasons(shop, request_id)
        return [ReasonChoice(r.name, r.text or r.name) for r in reasons]

    async def cancel_reasons(self, shop_id: str, external_order_id: str) -> list[ReasonChoice]:
        """The reason names of the order's eligible line items (eligibility 202602 answers
        names only, so each is its own text)."""
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            data = await self._client.aftersale_eligibility(shop, external_order_id, "CANCEL")
        names = [
            name
            for sku in data.sku_eligibility
            for entry in sku.line_item_eligibility
            if entry.eligible and entry.request_type == "CANCEL"
            for name in entry.available_reason_names
        ]
        return [ReasonChoice(name, name) for name in dict.fromkeys(names)]

    async def cancel_order(
        self, shop_id: str, external_order_id: str, reason: str
    ) -> RemoteRequest:
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            result = await self._client.cancel_order(shop, external_order_id, reason)
        return RemoteRequest(
            kind="cancellation",
            id=result.cancel_id,
            order_id=external_order_id,
            status=result.cancel_status,
            type="CANCEL",
            role="SELLER",
            reason=reason,
        )

    async def shipping_providers(self, shop_id: str, external_order_id: str) -> list[Provider]:
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            orders = await self._client.order_details(shop, [external_order_id])
            if not orders:
                raise GatewayError(f"TikTok knows no order {external_order_id}")
            option = orders[0].delivery_option_id
            if not option:
                raise GatewayError(
                    f"TikTok's order {external_order_id} names no delivery option to ship with"
                )
            providers = await self._client.shipping_providers(shop, option)
        return [Provider(p.id, p.name) for p in providers]

    async def ship(
        self,
        shop_id: str,
        external_order_id: str,
        tracking_number: str,
        provider_id: str,
        package_id: str | None = None,
    ) -> None:
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            if package_id is None:
                await self._client.mark_package_shipped(
                    shop, external_order_id, tracking_number, provider_id
                )
            else:
                await self._client.ship_package(shop, package_id, tracking_number, provider_id)

    async def settlement(self, shop_id: str, external_order_id: str) -> Settlement | None:
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            transactions = await self._client.order_transactions(shop, external_order_id)
            return _mapped(settlement, transactions, f"order {external_order_id}'s settlement")

    async def webhooks(self, shop_id: str) -> list[RemoteWebhook]:
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            found = await self._client.webhooks(shop)
        return [RemoteWebhook(w.event_type, w.address) for w in found]

    async def register_webhook(self, shop_id: str, event_type: str, address: str) -> None:
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            await self._client.update_webhook(shop, event_type, address)

    # --- catalog ---------------------------------------------------------------------------

    async def update_stock(self, shop_id: str, listing: Listing) -> list[WarehouseQuantity]:
        """Update Inventory 202309 with every warehouse of ``listing.stock`` (more than 99,999
        units go as 99,999, TikTok's most); answers TikTok's copy after the call. GatewayError
        naming each warehouse TikTok refused (it answers code 0 and lists them)."""
        product_id, sku_id = _linked(listing)
        inventory = [
            {"warehouse_id": s.warehouse_id, "quantity": min(s.quantity, MAX_STOCK_QUANTITY)}
            for s in listing.stock
        ]
        if not inventory:
            raise GatewayError(f"Listing {listing.id} has no stock per warehouse to send")
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            result = await self._client.update_inventory(
                shop, product_id, [{"id": sku_id, "inventory": inventory}]
            )
        if result.errors:
            raise _inventory_refused(product_id, result)
        return [
            WarehouseQuantity(warehouse_id=i["warehouse_id"], quantity=i["quantity"])
            for i in inventory
        ]

    async def update_price(self, shop_id: str, listing: Listing) -> None:
        """Update Price 202309 of the listing's SKU (TikTok takes it from active products only)."""
        product_id, sku_id = _linked(listing)
        if listing.price is None or listing.price <= 0:
            raise GatewayError(f"Listing {listing.id} has no price above zero to send")
        try:
            amount = from_minor_units(listing.price, listing.currency)
        except (TypeError, ValueError) as exc:
            raise GatewayError(
                f"Listing {listing.id} has a price TikTok cannot take: {exc}"
            ) from exc
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            await self._client.update_prices(
                shop,
                product_id,
                [{"id": sku_id, "price": {"amount": amount, "currency": listing.currency}}],
            )

    async def warehouses(self, shop_id: str) -> list[Warehouse]:
        """Get Warehouse List 202309."""
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            found = await self._client.warehouses(shop)
        return [
            Warehouse(
                id=w.id, name=w.name, type=w.type, is_default=w.is_default, status=w.effect_status
            )
            for w in found
        ]

    async def categories(self, shop_id: str, keyword: str | None = None) -> list[Category]:
        """Get Categories 202309, flat, roots with ``parent_id`` "0"."""
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            found = await self._client.categories(shop, keyword)
        return [
            Category(
                id=c.id,
                parent_id=c.parent_id or "0",
                name=c.local_name,
                is_leaf=c.is_leaf,
                permission_statuses=list(c.permission_statuses),
            )
            for c in found
        ]

    async def category_attributes(self, shop_id: str, category_id: str) -> list[CategoryAttribute]:
        """Get Category Attributes 202309, kept for ``ATTRIBUTES_TTL_SECONDS`` per shop and
        category."""
        key = (shop_id, category_id)
        kept = self._attributes.get(key)
        if kept is not None and kept[0] > time.monotonic():
            return kept[1]
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            found = await self._client.category_attributes(shop, category_id)
        attributes = [_attribute(a) for a in found]
        self._attributes[key] = (time.monotonic() + ATTRIBUTES_TTL_SECONDS, attributes)
        return attributes

    async def product_audit(self, shop_id: str, external_product_id: str) -> RemoteAudit:
        """Product detail 202309's ``audit`` and ``audit_failed_reasons``."""
        async with self._port(shop_id):
            shop = await self._shop(shop_id)
            product = await self._client.product_detail(shop, external_product_id)
        status = audit_status(product.audit.status if product.audit else None)
        return RemoteAudit(
            status=status,
            listing_status=map_product_status(product.status) if product.status else None,
            reasons=tuple(
                AuditReason(position=r.position, reasons=r.reasons, suggestions=r.suggestions)
                for r in product.audit_failed_reasons
            )
            if status == "failed"
            else (),
        )

    async def aclose(self) -> None:
        """Close the HTTP clients the API client and the OAuth client made for themselves."""
        await self._client.aclose()
        await self._oauth.aclose()
        if self._owns_downloads:
            await self._downloads.aclose()

    # --- helpers -----------------------------------------------------------------------------

    async def _blocked_reason(self, shop_id: str) -> str | None:
        # Read afresh: a deauthorization recorded by another worker must stop calls at once,
        # not at the next refresh; the cache behind `enabled` follows.
        reason = await self._directory.blocked_reason(shop_id)
        if reason is None:
            self._blocked.pop(shop_id, None)
        else:
            self._blocked[shop_id] = reason
        return reason

    async def _shop(self, shop_id: str) -> ShopRef:
        reason = await self._blocked_reason(shop_id)
        if reason is not None:
            _log.info("tiktok.shop.blocked", shop_id=shop_id, reason=reason)
            raise AuthorizationRequired(_blocked_message(shop_id, reason))

        async def renew(refused: str) -> str:
            return await self._renew_cipher(shop_id, refused)

        return ShopRef(shop_id, await self._cipher(shop_id), renew)

    async def _cipher(self, shop_id: str) -> str:
        known = self._ciphers.get(shop_id)
        if known:
            return known
        lock = self._cipher_locks.setdefault(shop_id, asyncio.Lock())
        async with lock:
            known = self._ciphers.get(shop_id)
            if known:
                return known
            cipher = await self._directory.cipher(shop_id)
            if not cipher:
                cipher = await self._fetch_cipher(shop_id)
                await self._directory.save_cipher(shop_id, cipher)
            self._ciphers[shop_id] = cipher
            return cipher

    async def _renew_cipher(self, shop_id: str, refused: str) -> str:
        """TikTok refused ``refused`` (106014): its cipher for the shop now (Get Authorized
        Shops 202309), saved. A concurrent renewal's answer is shared, not asked for again."""
        lock = self._cipher_locks.setdefault(shop_id, asyncio.Lock())
        async with lock:
            known = self._ciphers.get(shop_id)
            if known and known != refused:
                return known  # renewed meanwhile
            cipher = await self._fetch_cipher(shop_id)
            _log.warning("tiktok.cipher.renewed", shop_id=shop_id, changed=cipher != refused)
            await self._keep_cipher(shop_id, cipher)
            return cipher

    async def _keep_cipher(self, shop_id: str, cipher: str) -> None:
        """Use ``cipher`` from now on, saved in the directory unless it holds it already."""
        if self._ciphers.get(shop_id) == cipher:
            return
        if await self._directory.cipher(shop_id) != cipher:
            await self._directory.save_cipher(shop_id, cipher)
        self._ciphers[shop_id] = cipher

    async def _fetch_cipher(self, shop_id: str) -> str:
        cipher = _covering(shop_id, await self._client.authorized_shops(shop_id)).cipher
        _log.info("tiktok.cipher.fetched", shop_id=shop_id)
        return cipher

    @asynccontextmanager
    async def _port(
        self, shop_id: str | None, *, database_errors: bool = False
    ) -> AsyncIterator[None]:
        """Whatever the block raises leaves as a GatewayError; with `database_errors`, a
        DatabaseUnavailable leaves as it is (the caller answers "unavailable" for it)."""
        try:
            yield
        except GatewayError:
            raise
        except NeedsReauthorization as exc:
            if shop_id is not None:
                await self._note_lost(shop_id)
            raise gateway_error(exc, shop_id) from exc
        except TikTokError as exc:
            raise gateway_error(exc, shop_id) from exc
        except DatabaseUnavailable as exc:
            if database_errors:
                raise
            raise GatewayError(
                f"The shop directory (database) did not answer, so TikTok was not called: {exc}",
                retryable=True,
            ) from exc
        except Exception as exc:
            # A defect, not TikTok's doing: logged with its traceback, reported as a failure.
            _log.exception("tiktok.gateway.unexpected_error", shop_id=shop_id)
            raise GatewayError(
                f"The TikTok call failed unexpectedly ({type(exc).__name__}: {exc})"
            ) from exc

    async def _note_lost(self, shop_id: str) -> None:
        # The token provider has recorded TikTok's verdict; let `enabled` see it now. A failed
        # read must not hide the verdict itself.
        try:
            await self._blocked_reason(shop_id)
        except Exception:
            _log.warning("tiktok.shop.block_unread", shop_id=shop_id, exc_info=True)

    async def _image_uri(self, shop: ShopRef, url: str) -> str:
        """TikTok's URI of the image at ``url``: uploaded once per shop, then remembered."""
        known = await self._images.uri(shop.shop_id, url)
        if known:
            return known
        data, content_type = await self._download(url)
        name = url.rsplit("/", 1)[-1].split("?", 1)[0] or "image"
        uploaded = await self._client.upload_image(
            shop, data, filename=name, content_type=content_type, use_case="MAIN_IMAGE"
        )
        await self._images.remember(shop.shop_id, url, uploaded.uri)
        _log.info("tiktok.image.uploaded", shop_id=shop.shop_id, url=url, uri=uploaded.uri)
        return uploaded.uri

    async def _download(self, url: str) -> tuple[bytes, str]:
        try:
            async with self._downloads.stream("GET", url) as answer:
                if answer.status_code != 200:
                    raise GatewayError(
                        f"The image {url} could not be fetched: HTTP {answer.status_code}",
                        retryable=answer.status_code >= 500,
                    )
                data = bytearray()
                async for chunk in answer.aiter_bytes():
                    data += chunk
                    if len(data) > MAX_IMAGE_BYTES:
                        raise GatewayError(f"The image {url} is larger than TikTok's 10 MB")
                kind = answer.headers.get("content-type", "application/octet-stream")
                return bytes(data), kind.split(";", 1)[0].strip()
        except httpx.HTTPError as exc:
            raise GatewayError(
                f"The image {url} could not be fetched: {type(exc).__name__}", retryable=True
            ) from exc

    def _product_body(self, listing: Listing, image_uri: str) -> ProductInput:
        if not listing.image_url:
            raise GatewayError(f"Listing {listing.id} has no image; TikTok needs at least one")
        if listing.price is None:
            raise GatewayError(f"Listing {listing.id} has no price")
        if listing.price < 0:
            raise GatewayError(f"Listing {listing.id} has a negative price")
        metadata = listing.metadata
        category = listing.category_id or metadata.get("categoryId") or self._category_id
        if not category:
            raise GatewayError(
                f"Listing {listing.id} has no TikTok category: set metadata.categoryId "
                "or configure a default category"
            )
        warehouse = metadata.get("warehouseId")
        try:
            amount = from_minor_units(listing.price, listing.currency)
        except (TypeError, ValueError) as exc:
            raise GatewayError(
                f"Listing {listing.id} has a price TikTok cannot take: {exc}"
            ) from exc
        if listing.stock:
            inventory = [
                InventoryInput(
                    quantity=min(s.quantity, MAX_STOCK_QUANTITY), warehouse_id=s.warehouse_id
                )
                for s in listing.stock
            ]
        else:
            inventory = [
                InventoryInput(
                    quantity=_inventory(listing, self._inventory),
                    warehouse_id=str(warehouse) if warehouse else None,
                )
            ]
        return ProductInput(
            title=listing.title,
            description=listing.description or listing.title,
            category_id=str(category),
            # The URI of the image uploaded through TikTok's image API.
            main_images=[ImageInput(uri=image_uri)],
            skus=[
                SkuInput(
                    # seller_sku is our product id, so TikTok's orders name our product.
                    seller_sku=listing.local_product_id,
                    price=PriceInput(amount=amount, currency=listing.currency),
                    inventory=inventory,
                )
            ],
            product_attributes=[
                ProductAttributeInput(
                    id=a.id,
                    values=[AttributeValueInput(id=v.id, name=v.name) for v in a.values],
                )
                for a in listing.attributes
            ]
            or None,
            brand_id=listing.brand_id,
        )


def _covering(shop_id: str, shops: Sequence[AuthorizedShop]) -> AuthorizedShop:
    """The shop among those the token covers (Get Authorized Shops 202309); raises
    ShopNeedsReauthorizationError when it is not one of them."""
    match = next((s for s in shops if s.id == shop_id), None)
    if match is None and len(shops) == 1:
        # The seed's single configured shop may go by a name of ours rather than TikTok's
        # id; a token that covers exactly one shop leaves no doubt which shop it is.
        match = shops[0]
    if match is None:
        covered = ", ".join(s.id for s in shops) or "none"
        raise ShopNeedsReauthorizationError(
            shop_id, f"the access token does not cover this shop (it covers: {covered})"
        )
    return match


def _unix(when: datetime | None) -> int | None:
    return int(when.timestamp()) if when is not None else None


def _linked(listing: Listing) -> tuple[str, str]:
    if not listing.external_product_id or not listing.external_sku_id:
        raise GatewayError(
            f"Listing {listing.id} is not on TikTok yet (no product or SKU id): push it first"
        )
    return listing.external_product_id, listing.external_sku_id


def _inventory_refused(product_id: str, result: InventoryUpdateResult) -> GatewayError:
    problems = []
    for error in result.errors:
        where = "; ".join(
            f"warehouse {e.warehouse_id or '?'}: {e.message} ({e.code})"
            for e in error.detail.extra_errors
        )
        problems.append(f"{error.message} ({error.code}){': ' + where if where else ''}")
    return GatewayError(
        f"TikTok refused the stock of product {product_id}: {' | '.join(problems)}",
        code=result.errors[0].code or None,
    )


def _attribute(data: CategoryAttributeData) -> CategoryAttribute:
    return CategoryAttribute(
        id=data.id,
        name=data.name,
        type=data.type,
        required=data.is_requried,
        customizable=data.is_customizable,
        multiple=data.is_multiple_selection,
        values=[CategoryAttributeValue(id=v.id, name=v.name) for v in data.values],
        required_if=[
            AttributeCondition(attribute_id=c.attribute_id, value_id=c.attribute_value_id)
            for c in data.requirement_conditions
            if c.condition_type == "VALUE_ID_MATCH" and c.attribute_id and c.attribute_value_id
        ],
    )


def _blocked_message(shop_id: str, reason: str) -> str:
    return f"Shop {shop_id} cannot be called until the seller re-authorizes: {reason}"


def _inventory(listing: Listing, default: int) -> int:
    value: Any = listing.metadata.get("inventory", default)
    if isinstance(value, str) and value.strip().isdigit():
        value = int(value)
    if isinstance(value, bool) or not isinstance(value, int) or value < 0:
        raise GatewayError(f"Listing {listing.id}: metadata.inventory must be a whole number >= 0")
    return value


def _tolerated(mapping: Callable[[In], Out], value: In, ref: str) -> Out | Unreadable:
    try:
        return mapping(value)
    except ValueError as exc:
        return Unreadable(ref=ref, reason=f"TikTok's record could not be read: {exc}")


def _mapped(mapping: Callable[[In], Out], value: In, what: str) -> Out:
    try:
        return mapping(value)
    except ValueError as exc:  # an amount finer than its currency allows, say
        raise TikTokResponseError(f"{what}: {exc}", None) from exc


# --- wiring --------------------------------------------------------------------------------------


def build_api_gateway(
    config: TikTokConfig,
    directory: ShopDirectory,
    *,
    default_shop_id: str,
    static_access_token: str | None = None,
    default_category_id: str | None = None,
    default_inventory: int = 0,
    shipping_provider_id: str | None = None,
    transport: httpx.AsyncBaseTransport | None = None,
    images: UploadedImages | None = None,
) -> TikTokApiGateway:
    """The gateway with its HTTP clients and token providers.

    The default shop uses its stored authorization when the seller made one (refreshed as
    needed), else ``static_access_token`` (the seed's ``TIKTOK_ACCESS_TOKEN``); every other shop
    its stored authorization. Call ``refresh()`` before serving and ``aclose()`` at the end.
    """
    oauth = TikTokOAuth(config, transport=transport)
    tokens = DefaultShopTokenProvider(
        default_shop_id,
        StaticTokenProvider(static_access_token) if static_access_token else None,
        StoredTokenProvider(directory, oauth),
    )
    client = TikTokShopClient(config, tokens, transport=transport)
    return TikTokApiGateway(
        client,
        oauth,
        directory,
        default_category_id=default_category_id,
        default_inventory=default_inventory,
        shipping_provider_id=shipping_provider_id,
        images=images,
    )
