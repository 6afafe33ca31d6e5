"""The TikTok port when no credentials are configured: nothing is called, as in the seed.

Every call raises ``NotConfigured``; ``enabled`` is False for every shop, so the application
does not try, and ``check_connection`` says why.
"""

from collections.abc import AsyncIterator, Sequence

from contracts.entities import Category, CategoryAttribute, Listing, Warehouse, WarehouseQuantity
from service.application.errors import NotConfigured
from service.domain.remote import RemoteAudit, RemoteOrder, RemoteProduct

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

    async def authorize(self, auth_code: str) -> list[str]:
        raise NotConfigured(NOT_CONFIGURED)

    async def push_product(self, shop_id: str, listing: Listing) -> RemoteProduct:
        raise NotConfigured(NOT_CONFIGURED)

    async def delete_product(self, shop_id: str, external_product_id: str) -> None:
        raise NotConfigured(NOT_CONFIGURED)

    async def products(self, shop_id: str) -> AsyncIterator[RemoteProduct]:
        raise NotConfigured(NOT_CONFIGURED)
        yield  # an async generator, as the port's signature says

    async def orders(self, shop_id: str) -> AsyncIterator[RemoteOrder]:
        raise NotConfigured(NOT_CONFIGURED)
        yield  # an async generator, as the port's signature says

    async def order_details(self, shop_id: str, ids: Sequence[str]) -> list[RemoteOrder]:
        raise NotConfigured(NOT_CONFIGURED)

    async def mark_shipped(
        self, shop_id: str, external_order_id: str, tracking_number: str
    ) -> None:
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
