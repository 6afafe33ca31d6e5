"""Which TikTok gateway the worker uses: the real API when the seed's four settings are set,
else the unconfigured one (nothing called, as in the seed)."""

from dataclasses import dataclass

from service.adapters.mongo.database import Database
from service.adapters.mongo.tokens import MongoShopDirectory, MongoTokenStore
from service.adapters.tiktok.client import TikTokShopClient
from service.adapters.tiktok.config import TikTokConfig
from service.adapters.tiktok.oauth import TikTokOAuth
from service.adapters.tiktok.onboarding import authorize_shops
from service.adapters.tiktok.tokens import (
    DefaultShopTokenProvider,
    StaticTokenProvider,
    StoredTokenProvider,
)
from service.adapters.tiktok_gateway import TikTokApiGateway
from service.adapters.tiktok_gateway_null import UnconfiguredTikTok
from service.application.ports import TikTokGateway
from service.settings import Settings


@dataclass
class TikTokWiring:
    gateway: TikTokGateway
    client: TikTokShopClient | None = None
    oauth: TikTokOAuth | None = None
    directory: MongoShopDirectory | None = None

    async def start(self) -> None:
        if self.directory is not None:
            await self.directory.refresh()

    async def close(self) -> None:
        if self.client is not None:
            await self.client.aclose()
        if self.oauth is not None:
            await self.oauth.aclose()


def tiktok_wiring(settings: Settings, db: Database) -> TikTokWiring:
    if not settings.configured:
        return TikTokWiring(UnconfiguredTikTok())
    config = TikTokConfig(
        app_key=settings.tiktok_app_key,
        app_secret=settings.tiktok_app_secret.get_secret_value(),
        api_base_url=settings.api_base_url,
        auth_base_url=settings.tiktok_auth_base_url,
        rate_per_second=settings.tiktok_rate_per_second,
    )
    oauth = TikTokOAuth(config)
    store = MongoTokenStore(db)
    tokens = DefaultShopTokenProvider(
        settings.default_shop_id,
        StaticTokenProvider(settings.tiktok_access_token.get_secret_value()),
        StoredTokenProvider(store, oauth),
    )
    client = TikTokShopClient(config, tokens)
    directory = MongoShopDirectory(db, client)

    async def onboard(auth_code: str) -> list[str]:
        return [t.shop_id for t in await authorize_shops(auth_code, oauth, client, store)]

    gateway = TikTokApiGateway(
        client,
        directory,
        default_category_id=settings.tiktok_category_id or None,
        default_inventory=settings.tiktok_default_inventory,
        shipping_provider_id=settings.tiktok_shipping_provider_id or None,
        onboarding=onboard,
    )
    return TikTokWiring(gateway, client, oauth, directory)
