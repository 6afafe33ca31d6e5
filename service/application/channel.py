"""Channel-wide answers: statistics and the connection settings."""

from contracts import commands as c
from contracts import replies as r
from service.application.deps import Deps
from service.application.errors import InvalidRequest, TikTokFailed
from service.application.tiktok_errors import describe
from service.domain.connection import mask_app_key
from service.domain.stats import channel_stats


async def get_stats(deps: Deps, cmd: c.GetStats) -> r.StatsReply:
    shop_id = deps.shop(cmd.shop_id)
    listing_groups = await deps.listings.count_groups(shop_id)
    order_groups = await deps.orders.count_groups(shop_id)
    return r.StatsReply(stats=channel_stats(listing_groups, order_groups, deps.config.currency))


async def authorize_shops(deps: Deps, cmd: c.AuthorizeShops) -> r.AuthorizedReply:
    if not deps.config.configured:
        raise InvalidRequest("Set the TikTok app's key and secret before authorizing shops")
    try:
        shop_ids = await deps.tiktok.authorize(cmd.auth_code)
    except Exception as exc:
        raise TikTokFailed(
            f"TikTok did not accept the authorization code: {describe(exc)}"
        ) from exc
    return r.AuthorizedReply(shop_ids=shop_ids)


async def get_settings(deps: Deps, cmd: c.GetSettings) -> r.SettingsReply:
    shop_id = deps.shop(cmd.shop_id)
    config = deps.config
    base = {
        "configured": config.configured,
        "shop_id": cmd.shop_id or config.shop_id or None,
        "sandbox": config.sandbox,
        "app_key": mask_app_key(config.app_key),
    }
    if not config.configured:
        return r.SettingsReply(status="not_configured", **base)
    error = await deps.tiktok.check_connection(shop_id)
    if error is not None:
        return r.SettingsReply(status="error", error=error, **base)
    return r.SettingsReply(status="connected", **base)
