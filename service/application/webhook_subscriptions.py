"""Webhook subscriptions: registering `PUBLIC_WEBHOOK_URL` with TikTok's Event API for every
type the service handles, and saying what is missing.

TikTok sends an Event API type only to the address registered for it on the shop (GET and PUT
`/event/202309/webhooks`), so an unregistered type is a stream of changes the service never
hears of (reconciliation still catches them, an interval late). The after-sales types 64, 65
and 67 cannot be registered through the API: they go to the address set for the app in
Partner Center, and are listed as such.
"""

import structlog

from contracts import commands as c
from contracts import replies as r
from contracts.entities import ShopWebhooks
from service.application import shops
from service.application.context import Context
from service.application.errors import GatewayError, InvalidRequest, tiktok_failed
from service.domain import webhook_registration as rules

log = structlog.get_logger(__name__)

NO_ADDRESS = "PUBLIC_WEBHOOK_URL is not set: TikTok has no address to send webhooks to"


def _state(ctx: Context, shop_id: str, registered: list[rules.RemoteWebhook]) -> ShopWebhooks:
    address = ctx.config.public_webhook_url or None
    entries = rules.registrations(registered, address)
    return ShopWebhooks(
        shop_id=shop_id,
        address=address,
        webhooks=entries,
        missing=[e.event_type for e in entries if not e.registered],
        partner_center_types=rules.partner_center_types(),
        error=None if address else NO_ADDRESS,
    )


async def shop_webhooks(ctx: Context, shop_id: str) -> ShopWebhooks:
    """The shop's registration as TikTok reports it. Raises GatewayError."""
    return _state(ctx, shop_id, await ctx.tiktok.webhooks(shop_id))


async def register(ctx: Context, shop_id: str) -> ShopWebhooks:
    """Register `PUBLIC_WEBHOOK_URL` for each needed type that TikTok sends elsewhere or not
    at all (one PUT per such type; none when all are in place), then answer TikTok's list.
    Raises GatewayError."""
    address = ctx.config.public_webhook_url
    registered = await ctx.tiktok.webhooks(shop_id)
    wanted = rules.to_register(registered, address)
    for event_type in wanted:
        await ctx.tiktok.register_webhook(shop_id, event_type, address)
    if wanted:
        registered = await ctx.tiktok.webhooks(shop_id)
    state = _state(ctx, shop_id, registered)
    log.info(
        "webhooks.registered",
        shop_id=shop_id,
        address=address,
        registered_now=wanted,
        missing=state.missing,
    )
    return state


async def register_webhooks(cmd: c.RegisterWebhooks, ctx: Context) -> r.WebhooksReply:
    """`webhooks.register`: register the public webhook address for every needed type."""
    shop_id = ctx.shop(cmd.shop_id)
    if not ctx.config.public_webhook_url:
        raise InvalidRequest(NO_ADDRESS)
    ctx.require_tiktok(shop_id)
    try:
        return r.WebhooksReply(webhooks=await register(ctx, shop_id))
    except GatewayError as exc:
        raise tiktok_failed("TikTok did not register the webhooks", exc) from exc


async def list_webhooks(cmd: c.ListWebhooks, ctx: Context) -> r.WebhooksReply:
    """`webhooks.list`: what TikTok has registered for the shop, and what is missing."""
    shop_id = ctx.shop(cmd.shop_id)
    ctx.require_tiktok(shop_id)
    try:
        return r.WebhooksReply(webhooks=await shop_webhooks(ctx, shop_id))
    except GatewayError as exc:
        raise tiktok_failed("TikTok did not list the webhooks", exc) from exc


async def authorize_shops(cmd: c.AuthorizeShops, ctx: Context) -> r.AuthorizedReply:
    """`shops.authorize`, then each new shop's webhooks registered: a shop authorized without
    them would be heard of only through reconciliation. A registration TikTok refuses is
    reported in the reply; the authorization stands."""
    reply = await shops.authorize_shops(cmd, ctx)
    if not ctx.config.public_webhook_url:
        return reply
    states: list[ShopWebhooks] = []
    for shop_id in reply.shop_ids:
        try:
            states.append(await register(ctx, shop_id))
        except GatewayError as exc:
            log.warning("webhooks.not_registered", shop_id=shop_id, error=exc.message)
            states.append(
                ShopWebhooks(
                    shop_id=shop_id,
                    address=ctx.config.public_webhook_url,
                    missing=rules.needed_event_types(),
                    partner_center_types=rules.partner_center_types(),
                    error=f"TikTok did not register the webhooks: {exc.message}",
                )
            )
    return reply.model_copy(update={"webhooks": states})


async def get_settings(cmd: c.GetSettings, ctx: Context) -> r.SettingsReply:
    """`settings.get`: the seed's answer, with the shop's webhook registration once TikTok
    answers for the shop (so the page can say which needed type is not registered)."""
    reply = await shops.get_settings(cmd, ctx)
    if reply.status != "connected":
        return reply
    shop_id = ctx.shop(cmd.shop_id)
    try:
        state = await shop_webhooks(ctx, shop_id)
    except GatewayError as exc:
        state = ShopWebhooks(
            shop_id=shop_id,
            address=ctx.config.public_webhook_url or None,
            missing=rules.needed_event_types(),
            partner_center_types=rules.partner_center_types(),
            error=f"TikTok did not list the webhooks: {exc.message}",
        )
    return reply.model_copy(update={"webhooks": state})
