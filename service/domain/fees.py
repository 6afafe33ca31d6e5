"""What TikTok keeps of an order and what it pays the seller, from its finance statements.

TikTok settles an order some days after delivery (finance 202501, statement transactions by
order): `fee_and_tax_amount` is negative (the platform commission, transaction fee and taxes it
withholds) and `settlement_amount` is what the seller receives. Until then the order has no
transaction and its fees are not final. Amounts here are minor units of the order's currency.
"""

from dataclasses import dataclass
from datetime import datetime

from contracts.entities import ChannelOrder

#: The fields a settlement sets on an order (a patch: it must not undo a concurrent change).
FEE_FIELDS = ("platform_fee", "net_amount", "fees_settled", "fees_settled_at", "updated_at")


@dataclass(frozen=True)
class Settlement:
    """TikTok's settled figures of one order, in minor units of `currency`."""

    order_id: str
    currency: str
    settlement_amount: int
    fee_and_tax_amount: int
    revenue_amount: int = 0
    shipping_cost_amount: int = 0


def platform_fee(settlement: Settlement) -> int:
    """What TikTok kept (commission, transaction fee, taxes): a positive number, as the seed's
    `platformFee` is."""
    return max(-settlement.fee_and_tax_amount, 0)


def settled(order: ChannelOrder, settlement: Settlement, now: datetime) -> ChannelOrder | None:
    """The order with TikTok's final fee and net, or None when it holds them already.

    Raises ValueError when the settlement is in another currency than the order (the figures
    could not be compared with its total).
    """
    if settlement.currency != order.currency:
        raise ValueError(
            f"TikTok settled order {order.external_order_id} in {settlement.currency}, "
            f"but the order is in {order.currency}"
        )
    fee = platform_fee(settlement)
    if order.fees_settled and (order.platform_fee, order.net_amount) == (
        fee,
        settlement.settlement_amount,
    ):
        return None
    return order.model_copy(
        update={
            "platform_fee": fee,
            "net_amount": settlement.settlement_amount,
            "fees_settled": True,
            "fees_settled_at": now,
            "updated_at": now if now > order.updated_at else order.updated_at,
        }
    )
