"""Shops: authorizing them, the connection settings, and TikTok's authorization webhooks."""

from dataclasses import replace

from contracts import commands as c
from contracts import replies as r
from contracts import webhooks as w
from contracts.events import AuthorizationExpiring
from service.application.context import Context
from service.application.errors import GatewayError, InvalidRequest, TikTokFailed
from service.domain.connection import mask_app_key
from service.domain.ids import stable_id
from service.domain.time import unix_time


async def authorize_shops(cmd: c.AuthorizeShops, ctx: Context) -> r.AuthorizedReply:
    """`shops.authorize`: exchange the code TikTok sent to the app's redirect URL after a seller
    authorized it (TikTok's OAuth `/api/v2/token/get`); the shops it covers become callable."""
    if not ctx.config.configured:
        raise InvalidRequest("Set the TikTok app's key and secret before authorizing shops")
    try:
        shop_ids = await ctx.tiktok.authorize(cmd.auth_code)
    except GatewayError as exc:
        raise TikTokFailed(f"TikTok did not accept the authorization code: {exc.message}") from exc
    return r.AuthorizedReply(shop_ids=shop_ids)


async def get_settings(cmd: c.GetSettings, ctx: Context) -> r.SettingsReply:
    """`settings.get`: the seed's answer; `connected` only when TikTok answered for the shop,
    `needsReauthorization` when only the seller can cure the error. DatabaseUnavailable when
    the shop's authorization cannot be read (the answer is then "unavailable", not a guess)."""
    shop_id = ctx.shop(cmd.shop_id)
    config = ctx.config
    base = {
        "configured": config.configured,
        "shop_id": cmd.shop_id or config.shop_id or None,
        "sandbox": config.sandbox,
        "app_key": mask_app_key(config.app_key),
    }
    if not config.configured:
        return r.SettingsReply(status="not_configured", **base)
    check = await ctx.tiktok.connection(shop_id)
    if check.error is not None:
        return r.SettingsReply(
            status="error",
            error=check.error,
            needs_reauthorization=check.needs_reauthorization,
            **base,
        )
    return r.SettingsReply(status="connected", **base)


async def on_deauthorization(webhook: w.SellerDeauthorization, ctx: Context) -> str:
    """Type 6: the seller revoked the app; the shop is not called again until re-authorized."""
    shop_id = webhook.delivery.shop_id
    state = await ctx.uow.shops.get(shop_id)
    ctx.uow.shops.save(replace(state, deauthorized_at=webhook.delivery.received_at))
    return "shop deauthorized"


async def on_authorization_expiring(
    webhook: w.UpcomingAuthorizationExpiration, ctx: Context
) -> str:
    """Type 7: recorded on the shop and announced as `tiktok.authorization.expiring`."""
    shop_id = webhook.delivery.shop_id
    seconds = webhook.data.expiration_time
    expires_at = unix_time(seconds)
    event = AuthorizationExpiring(
        event_id=stable_id("authorization.expiring", webhook.delivery.notification_id),
        shop_id=shop_id,
        occurred_at=webhook.delivery.received_at,
        expires_at=expires_at,
    )
    state = await ctx.uow.shops.get(shop_id)
    ctx.uow.shops.save(replace(state, authorization_expires_at=expires_at), [event])
    return "expiry recorded"
