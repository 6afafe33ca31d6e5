"""TikTok Shop Open API client: signed, rate limited, retried, typed.

Every call goes through ``_call``: take a token from the provider, then per attempt wait for the
shop's rate-limit slot, stamp ``app_key``/``timestamp``/``shop_cipher``, sign, send (retries:
``retry.send_with_retries`` under ``service.retries.TIKTOK_CALL``). A 105002 makes the provider
refresh once and the call run once more; a 106014 (the cipher is stale) makes the shop's
``renew_cipher`` fetch it again and the call run once more; 36004001/36004005 mark the shop.

Raises the adapter's own errors (``service.adapters.tiktok.errors``); the gateway translates them
for the application.
"""

import json
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeVar
from urllib.parse import quote

import httpx
from opentelemetry.trace import SpanKind, Status, StatusCode
from pydantic import BaseModel

from service import metrics, telemetry
from service.adapters.tiktok.config import TikTokConfig
from service.adapters.tiktok.envelope import parse_data
from service.adapters.tiktok.errors import (
    AccessTokenExpiredError,
    AccessTokenNotRefreshableError,
    NeedsReauthorization,
    ReauthorizationRequiredError,
    ShopCipherInvalidError,
    TikTokApiError,
    TikTokResponseError,
    TikTokTransportError,
)
from service.adapters.tiktok.http_owner import OwnsHttp
from service.adapters.tiktok.models import (
    AftersaleEligibilityData,
    AftersalesPage,
    AuthorizedShop,
    AuthorizedShopsData,
    CancellationPage,
    CancelOrderResult,
    CategoriesData,
    CategoryAttributeData,
    CategoryAttributesData,
    CategoryNode,
    DeleteProductsResult,
    InventoryUpdateResult,
    Order,
    OrderDetailsData,
    OrderPage,
    OrderSearchFilter,
    OrderTransactions,
    Product,
    ProductInput,
    ProductPage,
    ProductSearchFilter,
    ProductWriteResult,
    Reason,
    RejectReasonsData,
    ReturnPage,
    RmaPage,
    ShippedPackage,
    ShippingProvider,
    ShippingProvidersData,
    ShopWebhook,
    ShopWebhooksData,
    UploadedImage,
    WarehouseData,
    WarehousesData,
)
from service.adapters.tiktok.ratelimit import Clock, ShopRateLimiter, SystemClock
from service.adapters.tiktok.retry import send_with_retries
from service.adapters.tiktok.signing import sign_request
from service.adapters.tiktok.tokens import TokenProvider
from service.adapters.tiktok.versions import ENDPOINTS, MAX_ORDER_IDS_PER_CALL, MAX_PAGE_SIZE

JsonBody = BaseModel | Mapping[str, Any]
PageT = TypeVar("PageT", ProductPage, OrderPage, CancellationPage, ReturnPage)

# Rate-limit key of the one call that is not shop-scoped.
_APP_BUCKET = "__app__"
# Searches by what changed: oldest update first (query parameters of the 202309/202602 searches).
_BY_UPDATE = {"sort_field": "update_time", "sort_order": "ASC"}


@dataclass(frozen=True)
class ShopRef:
    """A shop as the API addresses it: our key for tokens and limits, TikTok's cipher for calls.

    ``renew_cipher``, when given, is asked for a fresh cipher when TikTok refuses ``cipher``
    with 106014 (given the refused one); the call then runs once more with the answer.
    """

    shop_id: str
    cipher: str
    renew_cipher: Callable[[str], Awaitable[str]] | None = field(
        default=None, compare=False, repr=False
    )


class TikTokShopClient(OwnsHttp):
    """The Open API calls the service makes, each answering TikTok's typed ``data``.

    ``http`` is a client of the caller's (left open by ``aclose``); else one is made with
    ``config.timeout`` and ``transport``. ``clock`` paces the rate limiter; ``wall_clock`` gives
    the signed ``timestamp`` (unix seconds).
    """

    def __init__(
        self,
        config: TikTokConfig,
        tokens: TokenProvider,
        *,
        http: httpx.AsyncClient | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
        clock: Clock | None = None,
        wall_clock: Callable[[], float] = time.time,
    ) -> None:
        self._config = config
        self._tokens = tokens
        self._owns_http = http is None
        self._http = http or httpx.AsyncClient(timeout=config.timeout, transport=transport)
        self._clock = clock or SystemClock()
        self._wall_clock = wall_clock
        self._limiter = ShopRateLimiter(config.rate_per_second, config.burst, self._clock)

    # --- calls ---------------------------------------------------------------------------

    async def authorized_shops(
        self, shop_id: str | None = None, *, access_token: str | None = None
    ) -> list[AuthorizedShop]:
        """The shops the token may act for, each with its cipher.

        ``access_token`` is for the moment right after an authorization code was exchanged,
        when the shops (and so the token store keys) are not known yet.
        """
        data = await self._call(
            "authorized_shops", None, token_shop_id=shop_id, access_token=access_token
        )
        return parse_data(AuthorizedShopsData, data).shops

    async def create_product(
        self, shop: ShopRef, body: ProductInput | JsonBody
    ) -> ProductWriteResult:
        data = await self._call("create_product", shop, body=body)
        return parse_data(ProductWriteResult, data)

    async def edit_product(
        self, shop: ShopRef, product_id: str, body: ProductInput | JsonBody
    ) -> ProductWriteResult:
        data = await self._call(
            "edit_product", shop, path_params={"product_id": product_id}, body=body
        )
        return parse_data(ProductWriteResult, data)

    async def delete_products(
        self, shop: ShopRef, product_ids: Sequence[str]
    ) -> DeleteProductsResult:
        data = await self._call("delete_products", shop, body={"product_ids": list(product_ids)})
        return parse_data(DeleteProductsResult, data)

    async def product_detail(self, shop: ShopRef, product_id: str) -> Product:
        data = await self._call("product_detail", shop, path_params={"product_id": product_id})
        return parse_data(Product, data)

    def search_product_pages(
        self,
        shop: ShopRef,
        filters: ProductSearchFilter | JsonBody | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[ProductPage]:
        return self._pages("search_products", shop, filters, page_size, ProductPage)

    async def search_products(
        self,
        shop: ShopRef,
        filters: ProductSearchFilter | JsonBody | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[Product]:
        """Every matching product, page after page."""
        async for page in self.search_product_pages(shop, filters, page_size):
            for product in page.products:
                yield product

    def search_order_pages(
        self,
        shop: ShopRef,
        filters: OrderSearchFilter | JsonBody | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[OrderPage]:
        return self._pages("search_orders", shop, filters, page_size, OrderPage)

    async def search_orders(
        self,
        shop: ShopRef,
        filters: OrderSearchFilter | JsonBody | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[Order]:
        """Every matching order, page after page."""
        async for page in self.search_order_pages(shop, filters, page_size):
            for order in page.orders:
                yield order

    async def order_details(self, shop: ShopRef, order_ids: Sequence[str]) -> list[Order]:
        """Full orders, fetched in batches of at most 50 ids (TikTok's limit per call)."""
        ids = list(dict.fromkeys(i for i in order_ids if i))
        orders: list[Order] = []
        for start in range(0, len(ids), MAX_ORDER_IDS_PER_CALL):
            batch = ids[start : start + MAX_ORDER_IDS_PER_CALL]
            data = await self._call("order_details", shop, query={"ids": ",".join(batch)})
            orders.extend(parse_data(OrderDetailsData, data).orders)
        return orders

    async def mark_package_shipped(
        self,
        shop: ShopRef,
        order_id: str,
        tracking_number: str,
        shipping_provider_id: str,
        order_line_item_ids: Sequence[str] | None = None,
    ) -> ShippedPackage:
        """Ship a seller-shipped order's package with our own carrier's tracking number
        (fulfillment 202610: one tracking number per call; all unshipped items by default)."""
        body: dict[str, Any] = {
            "shipping_info_list": [
                {"tracking_number": tracking_number, "shipping_provider_id": shipping_provider_id}
            ]
        }
        if order_line_item_ids:
            body["order_line_list"] = [{"order_line_id": i} for i in order_line_item_ids]
        data = await self._call(
            "mark_package_shipped", shop, path_params={"order_id": order_id}, body=body
        )
        return parse_data(ShippedPackage, data)

    # --- order lifecycle: reverse flows, shipping, finance, webhooks ------------------------

    def search_cancellation_pages(
        self,
        shop: ShopRef,
        filters: JsonBody | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[CancellationPage]:
        """Cancellations (202602), oldest update first, so that a watermark pull misses none."""
        return self._pages(
            "search_cancellations", shop, filters, page_size, CancellationPage, _BY_UPDATE
        )

    def search_return_pages(
        self,
        shop: ShopRef,
        filters: JsonBody | None = None,
        page_size: int = MAX_PAGE_SIZE,
    ) -> AsyncIterator[ReturnPage]:
        """Returns and refunds (202602), oldest update first: by order id (`order_ids`) or
        by what changed (`update_time_ge`)."""
        return self._pages("search_returns", shop, filters, page_size, ReturnPage, _BY_UPDATE)

    def search_changed_order_pages(
        self, shop: ShopRef, filters: JsonBody | None = None, page_size: int = MAX_PAGE_SIZE
    ) -> AsyncIterator[OrderPage]:
        """Orders (search 202309) oldest update first: an order updated while the pages are
        read moves behind the cursor and is answered again, never skipped."""
        return self._pages("search_orders", shop, filters, page_size, OrderPage, _BY_UPDATE)

    async def approve_cancellation(
        self, shop: ShopRef, cancel_id: str, *, idempotency_key: str
    ) -> None:
        """Approve a buyer's cancellation request (202309); answers nothing."""
        await self._call(
            "approve_cancellation",
            shop,
            path_params={"cancel_id": cancel_id},
            query={"idempotency_key": idempotency_key},
            body={},
        )

    async def reject_cancellation(
        self,
        shop: ShopRef,
        cancel_id: str,
        reason: str,
        comment: str | None = None,
        *,
        idempotency_key: str,
    ) -> None:
        """Reject a buyer's cancellation request with a reason name (202309)."""
        body: dict[str, Any] = {"reject_reason": reason}
        if comment:
            body["comment"] = comment
        await self._call(
            "reject_cancellation",
            shop,
            path_params={"cancel_id": cancel_id},
            query={"idempotency_key": idempotency_key},
            body=body,
        )

    async def reject_reasons(self, shop: ShopRef, request_id: str) -> list[Reason]:
        """Reasons that fit rejecting the cancellation or return now (none once decided)."""
        data = await self._call("reject_reasons", shop, query={"return_or_cancel_id": request_id})
        return parse_data(RejectReasonsData, data).reasons

    async def aftersale_eligibility(
        self, shop: ShopRef, order_id: str, request_type: str
    ) -> AftersaleEligibilityData:
        """What the seller may do to the order now, with the reason names per SKU."""
        data = await self._call(
            "aftersale_eligibility",
            shop,
            path_params={"order_id": order_id},
            query={"initiate_aftersale_user": "SELLER", "request_types": request_type},
        )
        return parse_data(AftersaleEligibilityData, data)

    async def cancel_order(self, shop: ShopRef, order_id: str, reason: str) -> CancelOrderResult:
        """Cancel the whole order as the seller (202602); answers the cancellation made."""
        data = await self._call(
            "cancel_order", shop, body={"order_id": order_id, "cancel_reason": reason}
        )
        return parse_data(CancelOrderResult, data)

    async def approve_return(
        self,
        shop: ShopRef,
        return_id: str,
        decision: str,
        *,
        buyer_keep_item: bool = False,
        idempotency_key: str,
    ) -> None:
        """Approve a return or refund with TikTok's `decision` (202309)."""
        body: dict[str, Any] = {"decision": decision}
        if buyer_keep_item:
            body["buyer_keep_item"] = True
        await self._call(
            "approve_return",
            shop,
            path_params={"return_id": return_id},
            query={"idempotency_key": idempotency_key},
            body=body,
        )

    async def reject_return(
        self,
        shop: ShopRef,
        return_id: str,
        decision: str,
        reason: str,
        comment: str | None = None,
        *,
        idempotency_key: str,
    ) -> None:
        """Reject a return or refund with TikTok's `decision` and a reason name (202606)."""
        body: dict[str, Any] = {"decision": decision, "reject_reason": reason}
        if comment:
            body["comment"] = comment
        await self._call(
            "reject_return",
            shop,
            path_params={"return_id": return_id},
            query={"idempotency_key": idempotency_key},
            body=body,
        )

    async def aftersales_requests(
        self, shop: ShopRef, aftersales_ids: Sequence[str]
    ) -> AftersalesPage:
        """After-sales requests by id (202603), with their SKU return requests (the orders)."""
        body = {
            "whitelisted_data_fields": ["SKU_RETURN_REQUESTS", "RETURN_MERCHANDISE_AUTHORIZATIONS"],
            "filters": {"aftersales_request_ids": list(aftersales_ids)},
            "pagination": {"page_size": MAX_PAGE_SIZE},
        }
        return parse_data(AftersalesPage, await self._call("search_aftersales", shop, body=body))

    async def rmas(self, shop: ShopRef, rma_ids: Sequence[str]) -> RmaPage:
        """Return merchandise authorizations by id (202604), with their orders."""
        body = {
            "whitelisted_data_fields": ["SKU_RETURN_REQUESTS"],
            "filters": {"rma_ids": list(rma_ids)},
            "pagination": {"page_size": MAX_PAGE_SIZE},
        }
        return parse_data(RmaPage, await self._call("search_rmas", shop, body=body))

    async def shipping_providers(
        self, shop: ShopRef, delivery_option_id: str
    ) -> list[ShippingProvider]:
        """The providers a seller may ship the delivery option's orders with (202309)."""
        data = await self._call(
            "shipping_providers", shop, path_params={"delivery_option_id": delivery_option_id}
        )
        return parse_data(ShippingProvidersData, data).shipping_providers

    async def ship_package(
        self, shop: ShopRef, package_id: str, tracking_number: str, shipping_provider_id: str
    ) -> None:
        """Ship one package the seller ships (``self_shipment``) with a tracking number."""
        body = {
            "self_shipment": {
                "tracking_number": tracking_number,
                "shipping_provider_id": shipping_provider_id,
            }
        }
        await self._call("ship_package", shop, path_params={"package_id": package_id}, body=body)

    async def order_transactions(self, shop: ShopRef, order_id: str) -> OrderTransactions:
        """The order's statement transactions (finance 202501): none until TikTok settled it."""
        data = await self._call(
            "order_statement_transactions", shop, path_params={"order_id": order_id}
        )
        return parse_data(OrderTransactions, data)

    async def webhooks(self, shop: ShopRef) -> list[ShopWebhook]:
        """The shop's webhook address per event type (Event API 202309)."""
        return parse_data(ShopWebhooksData, await self._call("get_webhooks", shop)).webhooks

    async def update_webhook(self, shop: ShopRef, event_type: str, address: str) -> None:
        """Register (or move) one event type's address (Event API 202309)."""
        await self._call(
            "update_webhook", shop, body={"address": address, "event_type": event_type}
        )

    # --- catalog -----------------------------------------------------------------------------

    async def upload_image(
        self,
        shop: ShopRef,
        data: bytes,
        *,
        filename: str = "image",
        content_type: str = "application/octet-stream",
        use_case: str = "MAIN_IMAGE",
    ) -> UploadedImage:
        """Upload Product Image 202309 (multipart ``data`` and ``use_case``, body unsigned,
        counted per app); ``shop`` only chooses the access token."""
        answer = await self._call(
            "upload_image",
            shop,
            files={"data": (filename, data, content_type)},
            form={"use_case": use_case},
        )
        return parse_data(UploadedImage, answer)

    async def categories(self, shop: ShopRef, keyword: str | None = None) -> list[CategoryNode]:
        """Get Categories 202309: the shop's category tree, flat."""
        query = {"keyword": keyword} if keyword else None
        data = await self._call("categories", shop, query=query)
        return parse_data(CategoriesData, data).categories

    async def category_attributes(
        self, shop: ShopRef, category_id: str
    ) -> list[CategoryAttributeData]:
        """Get Category Attributes 202309 of a leaf category."""
        data = await self._call(
            "category_attributes", shop, path_params={"category_id": category_id}
        )
        return parse_data(CategoryAttributesData, data).attributes

    async def warehouses(self, shop: ShopRef) -> list[WarehouseData]:
        """Get Warehouse List 202309."""
        data = await self._call("warehouses", shop)
        return parse_data(WarehousesData, data).warehouses

    async def update_inventory(
        self, shop: ShopRef, product_id: str, skus: Sequence[Mapping[str, Any]]
    ) -> InventoryUpdateResult:
        """Update Inventory 202309: ``skus`` = ``[{id, inventory: [{warehouse_id, quantity}]}]``,
        every warehouse of each SKU. Refused SKUs come back in ``errors`` with ``code`` 0."""
        data = await self._call(
            "update_inventory",
            shop,
            path_params={"product_id": product_id},
            body={"skus": list(skus)},
        )
        return parse_data(InventoryUpdateResult, data)

    async def update_prices(
        self, shop: ShopRef, product_id: str, skus: Sequence[Mapping[str, Any]]
    ) -> None:
        """Update Price 202309: ``skus`` = ``[{id, price: {amount, currency}}]``; ACTIVATE
        products only, all or nothing."""
        await self._call(
            "update_prices",
            shop,
            path_params={"product_id": product_id},
            body={"skus": list(skus)},
        )

    # --- plumbing --------------------------------------------------------------------------

    async def _pages(
        self,
        name: str,
        shop: ShopRef,
        filters: JsonBody | None,
        page_size: int,
        model: type[PageT],
        sort: Mapping[str, str] | None = None,
    ) -> AsyncIterator[PageT]:
        if not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page_size must be 1..{MAX_PAGE_SIZE}")
        seen: set[str] = set()
        page_token = ""
        while True:
            query = {"page_size": str(page_size), **(sort or {})}
            if page_token:
                query["page_token"] = page_token
            page = parse_data(model, await self._call(name, shop, query=query, body=filters or {}))
            yield page
            page_token = page.next_page_token
            if not page_token:
                return
            if page_token in seen:
                # A server bug would otherwise loop forever.
                raise TikTokResponseError(f"{name}: page_token {page_token!r} repeated", None)
            seen.add(page_token)

    async def _call(
        self,
        name: str,
        shop: ShopRef | None,
        *,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        body: JsonBody | None = None,
        token_shop_id: str | None = None,
        access_token: str | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        form: Mapping[str, str] | None = None,
    ) -> Any:
        """One call, observed: a `tiktok <name>` span, `tiktok_shop_tiktok_calls_total` by
        outcome and `tiktok_shop_tiktok_call_seconds` (retries and waits included)."""
        endpoint = ENDPOINTS[name]
        started, outcome = time.monotonic(), "cancelled"
        with telemetry.tracer().start_as_current_span(
            f"tiktok {name}",
            kind=SpanKind.CLIENT,
            attributes={"http.request.method": endpoint.method, "tiktok.endpoint": name},
        ) as span:
            try:
                data = await self._call_signed(
                    name,
                    shop,
                    path_params=path_params,
                    query=query,
                    body=body,
                    token_shop_id=token_shop_id,
                    access_token=access_token,
                    files=files,
                    form=form,
                )
            except Exception as exc:
                outcome = call_outcome(exc)
                span.set_status(Status(StatusCode.ERROR, outcome))
                raise
            else:
                outcome = "ok"
                return data
            finally:
                seconds = time.monotonic() - started
                metrics.TIKTOK_CALL_SECONDS.labels(endpoint=name).observe(seconds)
                metrics.TIKTOK_CALLS.labels(endpoint=name, outcome=outcome).inc()

    async def _call_signed(
        self,
        name: str,
        shop: ShopRef | None,
        *,
        path_params: Mapping[str, str] | None = None,
        query: Mapping[str, str] | None = None,
        body: JsonBody | None = None,
        token_shop_id: str | None = None,
        access_token: str | None = None,
        files: Mapping[str, tuple[str, bytes, str]] | None = None,
        form: Mapping[str, str] | None = None,
    ) -> Any:
        endpoint = ENDPOINTS[name]
        if endpoint.shop_scoped and shop is None:
            raise ValueError(f"{name} needs a shop")
        token_key = shop.shop_id if shop is not None else token_shop_id
        url = self._config.api_base_url.rstrip("/") + endpoint.path.format(
            **{key: quote(value, safe="") for key, value in (path_params or {}).items()}
        )
        # The server checks the signature against the path it receives, prefix included.
        path = httpx.URL(url).path
        content = _encode(body)
        # A call that is not shop-scoped counts against the app's limit, not the shop's.
        bucket = shop.shop_id if shop is not None and endpoint.shop_scoped else _APP_BUCKET

        token = access_token or await self._tokens.access_token(token_key)
        may_refresh = access_token is None
        cipher = shop.cipher if shop is not None else ""
        renew_cipher = shop.renew_cipher if shop is not None and endpoint.shop_scoped else None
        while True:

            async def send(current: str = token, current_cipher: str = cipher) -> httpx.Response:
                waited = await self._limiter.acquire(bucket)
                if waited > 0:
                    metrics.RATE_LIMIT_WAIT_SECONDS.observe(waited)
                params = dict(query or {})
                params["app_key"] = self._config.app_key
                params["timestamp"] = str(int(self._wall_clock()))
                if endpoint.shop_scoped and shop is not None:
                    params["shop_cipher"] = current_cipher
                headers = {"x-tts-access-token": current}
                if files is not None:
                    # A multipart body is not signed; httpx writes it and its boundary.
                    params["sign"] = sign_request(
                        self._config.app_secret, path, params, content_type="multipart/form-data"
                    )
                    return await self._http.request(
                        endpoint.method,
                        url,
                        params=params,
                        files=dict(files),
                        data=dict(form or {}),
                        headers=headers,
                    )
                params["sign"] = sign_request(self._config.app_secret, path, params, content)
                if content:
                    headers["content-type"] = "application/json"
                return await self._http.request(
                    endpoint.method, url, params=params, content=content or None, headers=headers
                )

            try:
                return await send_with_retries(send, label=name, idempotent=endpoint.idempotent)
            except AccessTokenExpiredError as error:
                if not may_refresh:
                    raise
                may_refresh = False
                fresh = await self._tokens.token_rejected(token_key, token)
                if fresh is None:
                    # Nothing can refresh this token: only a new authorization will do.
                    raise AccessTokenNotRefreshableError.of(error) from error
                token = fresh
            except ShopCipherInvalidError:
                if renew_cipher is None:
                    raise
                # TikTok refused the call at its gate, so sending it again cannot do it twice.
                fresh, renew_cipher = await renew_cipher(cipher), None
                if fresh == cipher:
                    raise  # TikTok still gives the cipher it refuses: no point in asking again
                cipher = fresh
            except ReauthorizationRequiredError as error:
                if access_token is None:
                    await self._tokens.authorization_lost(token_key, error)
                raise


def call_outcome(error: Exception) -> str:
    """The `outcome` label of a failed call (`tiktok_shop_tiktok_calls_total`)."""
    if isinstance(error, NeedsReauthorization):
        return "reauthorization_required"
    if isinstance(error, AccessTokenExpiredError):
        return "token_expired"
    if isinstance(error, TikTokApiError | TikTokResponseError):
        if error.is_throttled:
            return "throttled"
        if error.is_server_error:
            return "server_error"
        return "api_error" if isinstance(error, TikTokApiError) else "bad_response"
    if isinstance(error, TikTokTransportError):
        return "transport_error"
    return "error"


def _encode(body: JsonBody | None) -> bytes:
    """The exact bytes that are both signed and sent: compact UTF-8 JSON."""
    if body is None:
        return b""
    payload = (
        body.model_dump(mode="json", exclude_none=True)
        if isinstance(body, BaseModel)
        else dict(body)
    )
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode("utf-8")
