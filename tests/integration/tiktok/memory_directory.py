"""A `ShopDirectory` in memory, for the token tests that need no database."""

from dataclasses import replace
from datetime import datetime

from service.domain.shops import ShopAuthorization


class InMemoryShopDirectory:
    def __init__(self) -> None:
        self.authorizations: dict[str, ShopAuthorization] = {}
        self.ciphers: dict[str, str] = {}
        self.deauthorized: dict[str, datetime] = {}

    async def authorization(self, shop_id: str) -> ShopAuthorization | None:
        record = self.authorizations.get(shop_id)
        if record is None:
            return None
        return replace(record, cipher=self.ciphers.get(shop_id))

    async def save_authorization(self, authorization: ShopAuthorization) -> None:
        self.authorizations[authorization.shop_id] = authorization
        if authorization.cipher is not None:
            self.ciphers[authorization.shop_id] = authorization.cipher

    async def cipher(self, shop_id: str) -> str | None:
        return self.ciphers.get(shop_id)

    async def save_cipher(self, shop_id: str, cipher: str) -> None:
        self.ciphers[shop_id] = cipher

    async def blocked_reason(self, shop_id: str) -> str | None:
        at = self.deauthorized.get(shop_id)
        if at is not None:
            return f"the seller deauthorized the app on {at:%Y-%m-%d %H:%M} UTC"
        record = self.authorizations.get(shop_id)
        if record is not None and record.needs_reauthorization:
            return f"the authorization was lost ({record.status_reason or 'no reason'})"
        return None

    async def blocked_shops(self) -> dict[str, str]:
        shops = set(self.deauthorized) | set(self.authorizations)
        reasons = {shop_id: await self.blocked_reason(shop_id) for shop_id in shops}
        return {shop_id: reason for shop_id, reason in reasons.items() if reason is not None}

    async def lift_deauthorization(self, shop_id: str) -> None:
        self.deauthorized.pop(shop_id, None)
