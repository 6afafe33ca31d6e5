"""Channel statistics, computed by the database (the seed's rules in `domain.stats`)."""

from contracts import commands as c
from contracts import replies as r
from service.application.context import Context
from service.domain.stats import channel_stats


async def get_stats(cmd: c.GetStats, ctx: Context) -> r.StatsReply:
    """`stats.get`: counts per status and revenue per currency, from two grouped queries."""
    shop_id = ctx.shop(cmd.shop_id)
    listing_groups = await ctx.views.listing_groups(shop_id)
    order_groups = await ctx.views.order_groups(shop_id)
    return r.StatsReply(stats=channel_stats(listing_groups, order_groups, ctx.config.currency))
