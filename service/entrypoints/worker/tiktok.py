"""Which TikTok gateway the worker uses: the real API when the seed's four settings are set,
else the unconfigured one (nothing called, as in the seed)."""

from service.adapters.mongo.database import Database
from service.adapters.mongo.shop_directory import MongoShopDirectory
from service.adapters.mongo.uploaded_images import MongoUploadedImages
from service.adapters.tiktok.config import TikTokConfig
from service.adapters.tiktok.gateway import TikTokApiGateway, build_api_gateway
from service.adapters.tiktok.unconfigured import UnconfiguredTikTok
from service.settings import Settings


def tiktok_gateway(settings: Settings, db: Database) -> TikTokApiGateway | UnconfiguredTikTok:
    """Start with `await gateway.refresh()`, end with `await gateway.aclose()`."""
    if not settings.configured:
        return UnconfiguredTikTok()
    config = TikTokConfig(
        app_key=settings.tiktok_app_key,
        app_secret=settings.tiktok_app_secret.get_secret_value(),
        api_base_url=settings.api_base_url,
        auth_base_url=settings.tiktok_auth_base_url,
        rate_per_second=settings.tiktok_rate_per_second,
    )
    return build_api_gateway(
        config,
        MongoShopDirectory(db),
        default_shop_id=settings.default_shop_id,
        static_access_token=settings.tiktok_access_token.get_secret_value() or None,
        default_category_id=settings.tiktok_category_id or None,
        default_inventory=settings.tiktok_default_inventory,
        shipping_provider_id=settings.tiktok_shipping_provider_id or None,
        images=MongoUploadedImages(db),
    )
