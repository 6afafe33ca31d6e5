"""Order settlement: what a delivered order earns the seller, and when TikTok pays it out.

An order settles 8 days after delivery, once no return of it is open (requested, approved or
awaiting its refund); its statement is generated at the next 00:00 UTC and paid a day later.
Until its statement exists the order is unsettled (``GET /finance/202507/orders/unsettled``,
with estimates); afterwards its transaction (``GET /finance/202501/orders/{id}/
statement_transactions``) is frozen. Refunds completed after settlement are not adjusted.

The simulator's fee rules (amounts as decimal strings in the order's currency, costs negative,
``settlement = revenue + shipping cost + fees``; rounded half up to the currency's precision):

- revenue: gross sales (original prices) less seller discounts (product and order level),
  less refunded items (a partial refund counts as refunded gross sales);
- platform commission 6 % and transaction fee 2.9 % of net revenue (the transaction fee also
  of the customer-paid shipping fee);
- shipping: the buyer's shipping fee goes to the seller who ships; for an order TikTok ships,
  TikTok charges 1.5 times that fee for its label and subsidises 0.5 times it (nets to zero).

Order-level amounts (order seller discount, shipping) sit on the order's first SKU.
"""

from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any, Final

from simulator import after_sales, money
from simulator.core import Simulator
from simulator.order_books import Settlement, Statement
from simulator.world import Order

DAY: Final = 86400
SETTLEMENT_DELAY: Final = 8 * DAY
COMMISSION_RATE: Final = Decimal("0.06")
TRANSACTION_FEE_RATE: Final = Decimal("0.029")
TIKTOK_LABEL_RATE: Final = Decimal("1.5")
TIKTOK_SUBSIDY_RATE: Final = Decimal("0.5")


def _q(value: Decimal, currency: str) -> Decimal:
    return value.quantize(Decimal(1).scaleb(-money.places(currency)), rounding=ROUND_HALF_UP)


@dataclass
class _Sku:
    sku_id: str
    sku_name: str
    product_name: str
    quantity: int = 0
    gross: Decimal = Decimal(0)
    seller_discount: Decimal = Decimal(0)
    refund_gross: Decimal = Decimal(0)
    refund_seller_discount: Decimal = Decimal(0)
    customer_shipping: Decimal = Decimal(0)
    lines: list[str] = field(default_factory=list)


def _skus(sim: Simulator, order: Order) -> list[_Sku]:
    live = [i for i in order.line_items if i.get("display_status") != "CANCELLED"]
    # Line -> (its completed return, that return's partial total if it was a partial refund).
    refunded: dict[str, tuple[str, str | None]] = {}
    refunded_shipping = Decimal(0)
    for r in sim.world.books.returns_of(order.id):
        if r.status != after_sales.R_COMPLETE:
            continue
        for line in r.lines:
            refunded[line] = (r.id, r.partial_refund_total)
        if r.partial_refund_total is None:
            refunded_shipping += Decimal(r.refund.shipping_fee)
    skus: dict[str, _Sku] = {}
    partials_seen: set[str] = set()
    for item in live:
        sku = skus.setdefault(
            str(item.get("sku_id")),
            _Sku(str(item.get("sku_id")), item.get("sku_name", ""), item.get("product_name", "")),
        )
        original, sale = Decimal(item["original_price"]), Decimal(item["sale_price"])
        sku.quantity += 1
        sku.gross += original
        sku.seller_discount += original - sale
        sku.lines.append(item["id"])
        if item["id"] in refunded:
            return_id, partial = refunded[item["id"]]
            if partial is None:
                sku.refund_gross += original
                sku.refund_seller_discount += original - sale
            elif return_id not in partials_seen:
                partials_seen.add(return_id)
                sku.refund_gross += Decimal(partial)
    ordered = list(skus.values())
    if ordered:
        ordered[0].seller_discount += Decimal(order.seller_discount)
        ordered[0].customer_shipping = Decimal(order.shipping_fee) - refunded_shipping
    return ordered


def _sku_figures(order: Order, sku: _Sku) -> dict[str, Any]:
    c = order.currency

    def f(value: Decimal) -> str:
        return money.fmt(_q(value, c), c)

    revenue = sku.gross - sku.seller_discount - sku.refund_gross + sku.refund_seller_discount
    shipping = sku.customer_shipping
    if order.shipping_type == "TIKTOK":
        actual, subsidy = (
            -_q(shipping * TIKTOK_LABEL_RATE, c),
            _q(shipping * TIKTOK_SUBSIDY_RATE, c),
        )
    else:
        actual, subsidy = Decimal(0), Decimal(0)
    shipping_cost = shipping + actual + subsidy
    commission = -_q(max(revenue, Decimal(0)) * COMMISSION_RATE, c)
    transaction_fee = -_q(max(revenue + shipping, Decimal(0)) * TRANSACTION_FEE_RATE, c)
    fees = commission + transaction_fee
    return {
        "revenue": revenue,
        "shipping_cost": shipping_cost,
        "fees": fees,
        "settlement": revenue + shipping_cost + fees,
        "revenue_breakdown": {
            "subtotal_before_discount_amount": f(sku.gross),
            "seller_discount_amount": f(-sku.seller_discount),
            "refund_subtotal_before_discount_amount": f(-sku.refund_gross),
            "seller_discount_refund_amount": f(sku.refund_seller_discount),
        },
        "shipping_cost_breakdown": {
            "customer_paid_shipping_fee_amount": f(shipping),
            "actual_shipping_fee_amount": f(actual),
            "shipping_fee_discount_amount": f(subsidy),
            "supplementary_component": {
                "shipping_fee_subsidy_amount": f(subsidy),
                "platform_shipping_fee_discount_amount": f(Decimal(0)),
                "seller_shipping_fee_discount_amount": f(Decimal(0)),
            },
        },
        "fee_tax_breakdown": {
            "fee": {
                "platform_commission_amount": f(commission),
                "transaction_fee_amount": f(transaction_fee),
            },
            "tax": {},
        },
    }


def _sum_breakdowns(parts: list[dict[str, Any]], currency: str) -> dict[str, Any]:
    """Add up breakdown dicts of decimal strings, key by key (nested)."""
    if not parts:
        return {}
    total: dict[str, Any] = {}
    for key, value in parts[0].items():
        if isinstance(value, dict):
            total[key] = _sum_breakdowns([p[key] for p in parts], currency)
        else:
            total[key] = money.fmt(sum((Decimal(p[key]) for p in parts), Decimal(0)), currency)
    return total


def order_transaction(
    sim: Simulator, order: Order, statement_id: str | None = None
) -> dict[str, Any]:
    """The order as ``GET /finance/202501/orders/{order_id}/statement_transactions`` answers it."""
    c = order.currency
    skus = _skus(sim, order)
    figures = [_sku_figures(order, sku) for sku in skus]
    sku_transactions = []
    for sku, fig in zip(skus, figures, strict=True):
        entry: dict[str, Any] = {
            "sku_id": sku.sku_id,
            "sku_name": sku.sku_name,
            "product_name": sku.product_name,
            "quantity": str(sku.quantity),
            "settlement_amount": money.fmt(fig["settlement"], c),
            "revenue_amount": money.fmt(fig["revenue"], c),
            "revenue_breakdown": fig["revenue_breakdown"],
            "shipping_cost_amount": money.fmt(fig["shipping_cost"], c),
            "shipping_cost_breakdown": fig["shipping_cost_breakdown"],
            "fee_tax_amount": money.fmt(fig["fees"], c),
            "fee_tax_breakdown": fig["fee_tax_breakdown"],
        }
        if statement_id is not None:
            entry["statement_id"] = statement_id
        sku_transactions.append(entry)

    def total(key: str) -> str:
        return money.fmt(sum((fig[key] for fig in figures), Decimal(0)), c)

    return {
        "order_id": order.id,
        "order_create_time": order.create_time,
        "currency": c,
        "revenue_amount": total("revenue"),
        "fee_and_tax_amount": total("fees"),
        "shipping_cost_amount": total("shipping_cost"),
        "settlement_amount": total("settlement"),
        "sku_transactions": sku_transactions,
        "total_count": len(sku_transactions),
        # For statements and unsettled answers: the order-level breakdowns.
        "_breakdowns": {
            "revenue_breakdown": _sum_breakdowns([f["revenue_breakdown"] for f in figures], c),
            "shipping_cost_breakdown": _sum_breakdowns(
                [f["shipping_cost_breakdown"] for f in figures], c
            ),
            "fee_tax_breakdown": _sum_breakdowns([f["fee_tax_breakdown"] for f in figures], c),
        },
    }


def public(transaction: dict[str, Any]) -> dict[str, Any]:
    """The transaction without the simulator's own ``_`` keys."""
    return {k: v for k, v in transaction.items() if not k.startswith("_")}


# --- settlement ------------------------------------------------------------------------------


def next_midnight(t: int) -> int:
    """The first 00:00 UTC strictly after ``t`` (unix seconds)."""
    return (t // DAY + 1) * DAY


def settles_at(sim: Simulator, order: Order) -> int | None:
    """When the order's statement is generated; None until delivered and while a return is open."""
    if order.delivery_time is None:
        return None
    returns = sim.world.books.returns_of(order.id)
    if any(r.open for r in returns):
        return None
    closed = [r.close_time for r in returns if r.close_time is not None]
    return next_midnight(max([order.delivery_time + SETTLEMENT_DELAY, *closed]))


def settle_due(sim: Simulator) -> None:
    """Settle every order whose statement time has come (frozen amounts, statement entry)."""
    books = sim.world.books
    now = sim.now()
    # Settling needs 8 days since delivery at least: most candidates are skipped unread.
    cutoff = now - SETTLEMENT_DELAY
    due = sorted(o for o, delivered in books.awaiting_settlement.items() if delivered <= cutoff)
    for order_id in due:
        order = sim.world.orders[order_id]
        at = settles_at(sim, order)
        if at is None or at > now:
            continue
        del books.awaiting_settlement[order.id]
        statement = _statement(sim, order.shop_id, at, order.currency)
        statement.order_ids.append(order.id)
        books.settlements[order.id] = Settlement(
            order.id,
            order.shop_id,
            statement.id,
            at,
            order.currency,
            order_transaction(sim, order, statement.id),
        )


def _statement(sim: Simulator, shop_id: str, at: int, currency: str) -> Statement:
    books = sim.world.books
    for statement in books.statements.values():
        if (statement.shop_id, statement.statement_time, statement.currency) == (
            shop_id,
            at,
            currency,
        ):
            return statement
    statement = Statement(sim.world.next_id("7301"), shop_id, currency, at)
    books.statements[statement.id] = statement
    return statement


def payment_status(sim: Simulator, statement: Statement) -> tuple[str, int | None]:
    """PROCESSING on the day the statement is made, PAID (with the payment time) a day later."""
    paid_at = statement.statement_time + DAY
    return ("PAID", paid_at) if sim.now() >= paid_at else ("PROCESSING", None)


def statement_api(sim: Simulator, statement: Statement) -> dict[str, Any]:
    """An entry of ``GET /finance/202309/statements``."""
    books = sim.world.books
    c = statement.currency
    txns = [books.settlements[o].transaction for o in statement.order_ids]

    def total(key: str) -> str:
        return money.fmt(sum((Decimal(str(t[key])) for t in txns), Decimal(0)), c)

    status, paid_at = payment_status(sim, statement)
    answer: dict[str, Any] = {
        "id": statement.id,
        "statement_time": statement.statement_time,
        "currency": c,
        "settlement_amount": total("settlement_amount"),
        "revenue_amount": total("revenue_amount"),
        "net_sales_amount": total("revenue_amount"),
        "fee_amount": total("fee_and_tax_amount"),
        "shipping_cost_amount": total("shipping_cost_amount"),
        "adjustment_amount": money.fmt(Decimal(0), c),
        "payment_status": status,
        "payment_id": f"{statement.id}01",
    }
    if paid_at is not None:
        answer["payment_time"] = paid_at
    return answer


def statement_transaction_api(settlement: Settlement) -> dict[str, Any]:
    """An order entry of ``GET /finance/202501/statements/{id}/statement_transactions``."""
    t = settlement.transaction
    return {
        "id": f"{settlement.order_id}9",
        "type": "ORDER",
        "order_id": settlement.order_id,
        "order_create_time": t["order_create_time"],
        "settlement_amount": t["settlement_amount"],
        "revenue_amount": t["revenue_amount"],
        "shipping_cost_amount": t["shipping_cost_amount"],
        "fee_tax_amount": t["fee_and_tax_amount"],
        **t["_breakdowns"],
    }


def unsettled_api(sim: Simulator, order: Order) -> dict[str, Any]:
    """An entry of ``GET /finance/202507/orders/unsettled`` (estimates)."""
    t = order_transaction(sim, order)
    at = settles_at(sim, order)
    if order.delivery_time is None:
        estimate, reason = "Delivered + 8 days", "The order has not been delivered yet"
    elif at is None:
        estimate = "Delivered + 8 days"
        reason = "A return or refund of the order is in progress"
    else:
        estimate, reason = str(at), "The settlement period after delivery has not ended"
    answer: dict[str, Any] = {
        "type": "ORDER",
        "id": f"{order.id}9",
        "status": "UNSETTLED",
        "currency": order.currency,
        "estimated_settlement": estimate,
        "unsettled_reason": reason,
        "order_id": order.id,
        "order_create_time": order.create_time,
        "est_settlement_amount": t["settlement_amount"],
        "est_revenue_amount": t["revenue_amount"],
        "est_shipping_cost_amount": t["shipping_cost_amount"],
        "est_fee_tax_amount": t["fee_and_tax_amount"],
        "est_adjustment_amount": money.fmt(Decimal(0), order.currency),
        **t["_breakdowns"],
    }
    if order.delivery_time is not None:
        answer["order_delivery_time"] = order.delivery_time
    return answer


def unsettled_orders(sim: Simulator, shop_id: str) -> list[Order]:
    """Paid orders not settled yet, bar those cancelled before delivery (nothing to settle)."""
    books = sim.world.books
    return [
        o
        for o in sim.world.orders_of(shop_id)
        if o.paid_time is not None
        and o.id not in books.settlements
        and not (o.status == "CANCELLED" and o.delivery_time is None)
    ]
