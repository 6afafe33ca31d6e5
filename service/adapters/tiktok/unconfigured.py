"""The TikTok port when no credentials are configured: nothing is called, as in the seed.

Every call raises ``NotConfigured``; ``enabled`` is False for every shop, so the application
does not try, and ``check_connection`` says why.
"""

from collections.abc import AsyncIterator, Sequence
from datetime import datetime

from contracts.entities import Category, CategoryAttribute, Listing, Warehouse, WarehouseQuantity
from service.application.errors import NotConfigured
from service.application.ports import ConnectionCheck, Unreadable
from service.domain.carriers import Provider
from service.domain.fees import Settlement
from service.domain.remote import RemoteAudit, RemoteOrder, RemoteProduct
from service.domain.reverse_requests import ReasonChoice, RemoteRequest
from service.domain.webhook_registration import RemoteWebhook

NOT_CONFIGURED = (
    "TikTok Shop credentials are not configured: set TIKTOK_APP_KEY, TIKTOK_APP_SECRET, "
    "TIKTOK_ACCESS_TOKEN and TIKTOK_SHOP_ID"
)


class UnconfiguredTikTok:
    """The ``TikTokGateway`` port without credentials."""

    def enabled(self, shop_id: str) -> bool:
        return False

    async def refresh(self) -> None:
        return None

    async def check_connection(self, shop_id: str) -> str | None:
        return NOT_CONFIGURED

    async def connection(self, shop_id: str) -> ConnectionCheck:
        return ConnectionCheck(NOT_CONFIGURED)

    async def authorize(self, auth_code: str) -> list[str]:
        raise NotConfigured(NOT_CONFIGURED)

    async def push_product(self, shop_id: str, listing: Listing) -> RemoteProduct:
        raise NotConfigured(NOT_CONFIGURED)

    async def delete_product(self, shop_id: str, external_product_id: str) -> None:
        raise NotConfigured(NOT_CONFIGURED)

    async def product(self, shop_id: str, external_product_id: str) -> RemoteProduct:
        raise NotConfigured(NOT_CONFIGURED)

    async def products(self, shop_id: str) -> AsyncIterator[RemoteProduct]:
        raise NotConfigured(NOT_CONFIGURED)
        yield  # an async generator, as the port's signature says

    async def orders(self, shop_id: str) -> AsyncIterator[RemoteOrder]:
        raise NotConfigured(NOT_CONFIGURED)
        yield  # an async generator, as the port's signature says

    async def order_details(
        self, shop_id: str, ids: Sequence[str]
    ) -> list[RemoteOrder | Unreadable]:
        raise NotConfigured(NOT_CONFIGURED)

    async def mark_shipped(
        self, shop_id: str, external_order_id: str, tracking_number: str
    ) -> None:
        raise NotConfigured(NOT_CONFIGURED)

    # --- order lifecycle ---------------------------------------------------------------------

    async def orders_changed(
        self, shop_id: str, since: datetime | None
    ) -> AsyncIterator[RemoteOrder | Unreadable]:
        raise NotConfigured(NOT_CONFIGURED)
        yield  # an async generator, as the port's signature says

    async def products_changed(
        self, shop_id: str, since: datetime | None
    ) -> AsyncIterator[RemoteProduct | Unreadable]:
        raise NotConfigured(NOT_CONFIGURED)
        yield  # an async generator, as the port's signature says

    async def requests_changed(
        self, shop_id: str, since: datetime | None
    ) -> AsyncIterator[RemoteRequest | Unreadable]:
        raise NotConfigured(NOT_CONFIGURED)
        yield  # an async generator, as the port's signature says

    async def order_requests(self, shop_id: str, external_order_id: str) -> list[RemoteRequest]:
        raise NotConfigured(NOT_CONFIGURED)

    async def aftersales_request(
        self, shop_id: str, *, aftersales_id: str | None = None, rma_id: str | None = None
    ) -> RemoteRequest | None:
        raise NotConfigured(NOT_CONFIGURED)

    async def approve_cancellation(
        self, shop_id: str, cancel_id: str, *, idempotency_key: str
    ) -> None:
        raise NotConfigured(NOT_CONFIGURED)

    async def reject_cancellation(
        self,
        shop_id: str,
        cancel_id: str,
        reason: str,
        comment: str | None,
        *,
        idempotency_key: str,
    ) -> None:
        raise NotConfigured(NOT_CONFIGURED)

    async def approve_return(
        self,
        shop_id: str,
        return_id: str,
        decision: str,
        *,
        buyer_keep_item: bool,
        idempotency_key: str,
    ) -> None:
        raise NotConfigured(NOT_CONFIGURED)

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
        raise NotConfigured(NOT_CONFIGURED)

    async def reject_reasons(self, shop_id: str, request_id: str) -> list[ReasonChoice]:
        raise NotConfigured(NOT_CONFIGURED)

    async def cancel_reasons(self, shop_id: str, external_order_id: str) -> list[ReasonChoice]:
        raise NotConfigured(NOT_CONFIGURED)

    async def cancel_order(
        self, shop_id: str, external_order_id: str, reason: str
    ) -> RemoteRequest:
        raise NotConfigured(NOT_CONFIGURED)

    async def shipping_providers(self, shop_id: str, external_order_id: str) -> list[Provider]:
        raise NotConfigured(NOT_CONFIGURED)

    async def ship(
        self,
        shop_id: str,
        external_order_id: str,
        tracking_number: str,
        provider_id: str,
        package_id: str | None = None,
    ) -> None:
        raise NotConfigured(NOT_CONFIGURED)

    async def settlement(self, shop_id: str, external_order_id: str) -> Settlement | None:
        raise NotConfigured(NOT_CONFIGURED)

    async def webhooks(self, shop_id: str) -> list[RemoteWebhook]:
        raise NotConfigured(NOT_CONFIGURED)

    async def register_webhook(self, shop_id: str, event_type: str, address: str) -> None:
        raise NotConfigured(NOT_CONFIGURED)

    # --- catalog ---------------------------------------------------------------------------

    async def update_stock(self, shop_id: str, listing: Listing) -> list[WarehouseQuantity]:
        raise NotConfigured(NOT_CONFIGURED)

    async def update_price(self, shop_id: str, listing: Listing) -> None:
        raise NotConfigured(NOT_CONFIGURED)

    async def warehouses(self, shop_id: str) -> list[Warehouse]:
        raise NotConfigured(NOT_CONFIGURED)

    async def categories(self, shop_id: str, keyword: str | None = None) -> list[Category]:
        raise NotConfigured(NOT_CONFIGURED)

    async def category_attributes(self, shop_id: str, category_id: str) -> list[CategoryAttribute]:
        raise NotConfigured(NOT_CONFIGURED)

    async def product_audit(self, shop_id: str, external_product_id: str) -> RemoteAudit:
        raise NotConfigured(NOT_CONFIGURED)

    async def aclose(self) -> None:
        return None
