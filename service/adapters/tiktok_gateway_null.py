"""The TikTok port when no credentials are configured: nothing is called, as in the seed."""

from collections.abc import AsyncIterator, Sequence

from contracts.entities import Listing
from service.domain.remote import RemoteOrder, RemoteProduct


class UnconfiguredTikTok:
    def enabled(self, shop_id: str) -> bool:
        return False

    async def check_connection(self, shop_id: str) -> str | None:
        return "TikTok Shop credentials are not configured"

    async def authorize(self, auth_code: str) -> list[str]:
        raise RuntimeError("TikTok Shop credentials are not configured")

    async def push_product(self, shop_id: str, listing: Listing) -> RemoteProduct:
        raise RuntimeError("TikTok Shop credentials are not configured")

    async def delete_product(self, shop_id: str, external_product_id: str) -> None:
        raise RuntimeError("TikTok Shop credentials are not configured")

    async def products(self, shop_id: str) -> AsyncIterator[RemoteProduct]:
        return
        yield

    async def orders(self, shop_id: str) -> AsyncIterator[RemoteOrder]:
        return
        yield

    async def order_details(self, shop_id: str, ids: Sequence[str]) -> list[RemoteOrder]:
        return []

    async def mark_shipped(
        self, shop_id: str, external_order_id: str, tracking_number: str
    ) -> None:
        raise RuntimeError("TikTok Shop credentials are not configured")
