"""Channel statistics from per-status counts the database grouped (the seed's rules): revenue
is each order's total less what was refunded of it, cancelled and fully refunded orders left
out, per currency; beside it, per currency, the gross (the order totals), the refunds, the
fees and the net."""

from dataclasses import dataclass

from contracts.entities import ChannelStats, MoneyByCurrency, RevenueAmount

# Revenue leaves out orders whose money did not stay with the seller.
NON_REVENUE_STATUSES = frozenset({"cancelled", "refunded"})


@dataclass(frozen=True)
class ListingGroup:
    status: str
    sync_status: str
    count: int


@dataclass(frozen=True)
class OrderGroup:
    """Orders of one status and currency: how many, their totals, and (all in minor units of
    `currency`) what was refunded of them, the platform fees, and what the seller nets (the
    settlement amount once settled, else total less refunds and fee)."""

    status: str
    currency: str
    count: int
    total: int
    fees: int = 0
    net: int = 0
    refunded: int = 0


def channel_stats(
    listings: list[ListingGroup], orders: list[OrderGroup], default_currency: str
) -> ChannelStats:
    def orders_in(status: str) -> int:
        return sum(g.count for g in orders if g.status == status)

    gross: dict[str, int] = {}
    refunds: dict[str, int] = {}
    fees: dict[str, int] = {}
    net: dict[str, int] = {}
    for g in orders:
        if g.status not in NON_REVENUE_STATUSES:
            gross[g.currency] = gross.get(g.currency, 0) + g.total
            refunds[g.currency] = refunds.get(g.currency, 0) + g.refunded
            fees[g.currency] = fees.get(g.currency, 0) + g.fees
            net[g.currency] = net.get(g.currency, 0) + g.net
    revenue = {c: total - refunds[c] for c, total in gross.items()}
    by_currency = [RevenueAmount(currency=c, amount=a) for c, a in sorted(revenue.items())]
    # The headline figure is in the currency that earned most (one shop sells in one).
    main = max(by_currency, key=lambda r: r.amount, default=None)
    return ChannelStats(
        total_listings=sum(g.count for g in listings),
        active_listings=sum(g.count for g in listings if g.status == "active"),
        pending_listings=sum(g.count for g in listings if g.status == "pending"),
        failed_listings=sum(g.count for g in listings if g.sync_status == "failed"),
        total_orders=sum(g.count for g in orders),
        pending_orders=orders_in("pending"),
        shipped_orders=orders_in("shipped"),
        delivered_orders=orders_in("delivered"),
        cancelled_orders=orders_in("cancelled"),
        total_revenue=main.amount if main else 0,
        currency=main.currency if main else default_currency,
        revenue_by_currency=by_currency,
        money_by_currency=[
            MoneyByCurrency(currency=c, gross=a, refunds=refunds[c], fees=fees[c], net=net[c])
            for c, a in sorted(gross.items())
        ],
    )
