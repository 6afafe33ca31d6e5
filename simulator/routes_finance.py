"""Finance calls: statements (202309), transactions by order or statement (202501), unsettled
orders (202507). The settlement rules are in ``simulator.finance``."""

from typing import Any

from starlette.routing import Route

from simulator import envelope as env
from simulator import finance, timeline
from simulator.gate import ApiContext, api
from simulator.paging import page_of


def _bad(message: str) -> env.ApiFailure:
    return env.ApiFailure(400, env.INVALID_PARAMETER, message)


def _page_size(ctx: ApiContext, default: int = 20) -> int:
    raw = ctx.query.get("page_size", "")
    if raw == "":
        return default
    if not raw.isdigit() or not 1 <= int(raw) <= 100:
        raise _bad("page_size must be 1..100")
    return int(raw)


def _unix(ctx: ApiContext, name: str) -> int | None:
    raw = ctx.query.get(name)
    if raw is None or raw == "":
        return None
    if not raw.isdigit():
        raise _bad(f"{name} must be a unix time in seconds")
    return int(raw)


def _sort(ctx: ApiContext, field: str) -> bool:
    """``sort_field`` is required and must be ``field``; answer whether to sort descending."""
    given = ctx.query.get("sort_field")
    if not given:
        raise _bad("sort_field is required")
    if given != field:
        raise _bad(f"sort_field must be {field}")
    order = ctx.query.get("sort_order", "DESC")
    if order not in ("ASC", "DESC"):
        raise _bad("sort_order must be ASC or DESC")
    return order == "DESC"


@api()
async def statements(ctx: ApiContext) -> dict[str, Any]:
    """``GET /finance/202309/statements`` query ``sort_field=statement_time`` (required),
    ``sort_order``, ``statement_time_ge``/``_lt``, ``payment_status``, ``page_size``,
    ``page_token``. Answers ``statements`` and ``next_page_token``."""
    sim = ctx.sim
    timeline.run_due(sim)
    descending = _sort(ctx, "statement_time")
    size = _page_size(ctx)
    low, high = _unix(ctx, "statement_time_ge"), _unix(ctx, "statement_time_lt")
    status = ctx.query.get("payment_status")
    if status is not None and status not in ("PAID", "FAILED", "PROCESSING"):
        raise _bad("payment_status must be PAID, FAILED or PROCESSING")
    now = sim.now()
    found = sorted(
        (
            s
            for s in sim.world.books.statements.values()
            if s.shop_id == ctx.scoped_shop.id
            and s.statement_time <= now
            and (low is None or s.statement_time >= low)
            and (high is None or s.statement_time < high)
            and (status is None or finance.payment_status(sim, s)[0] == status)
        ),
        key=lambda s: (s.statement_time, s.id),
        reverse=descending,
    )
    page, token = page_of(found, size, ctx.query.get("page_token"))
    return {
        "statements": [finance.statement_api(sim, s) for s in page],
        "next_page_token": token,
    }


@api()
async def transactions_by_order(ctx: ApiContext) -> dict[str, Any]:
    """``GET /finance/202501/orders/{order_id}/statement_transactions``: the settled order's
    SKU transactions; an order not settled yet answers no ``sku_transactions`` (total_count 0)."""
    sim = ctx.sim
    timeline.run_due(sim)
    order_id = ctx.request.path_params["order_id"]
    order = sim.world.orders.get(order_id)
    if order is None or order.shop_id != ctx.scoped_shop.id:
        raise env.ApiFailure(404, env.NOT_FOUND, f"order {order_id} not found")
    settlement = sim.world.books.settlements.get(order_id)
    if settlement is None:
        return {
            "order_id": order.id,
            "order_create_time": order.create_time,
            "currency": order.currency,
            "sku_transactions": [],
            "total_count": 0,
        }
    return finance.public(settlement.transaction)


@api()
async def transactions_by_statement(ctx: ApiContext) -> dict[str, Any]:
    """``GET /finance/202501/statements/{statement_id}/statement_transactions`` query
    ``sort_field=order_create_time`` (required), ``sort_order``, ``page_size``, ``page_token``."""
    sim = ctx.sim
    timeline.run_due(sim)
    statement_id = ctx.request.path_params["statement_id"]
    statement = sim.world.books.statements.get(statement_id)
    if (
        statement is None
        or statement.shop_id != ctx.scoped_shop.id
        or statement.statement_time > sim.now()
    ):
        raise env.ApiFailure(404, env.NOT_FOUND, f"statement {statement_id} not found")
    descending = _sort(ctx, "order_create_time")
    size = _page_size(ctx)
    settlements = sorted(
        (sim.world.books.settlements[o] for o in statement.order_ids),
        key=lambda s: (s.transaction["order_create_time"], s.order_id),
        reverse=descending,
    )
    page, token = page_of(settlements, size, ctx.query.get("page_token"))
    summary = finance.statement_api(sim, statement)
    return {
        "id": statement.id,
        "create_time": statement.statement_time,
        "status": summary["payment_status"],
        "currency": statement.currency,
        "total_settlement_amount": summary["settlement_amount"],
        "total_count": len(settlements),
        "transactions": [finance.statement_transaction_api(s) for s in page],
        "next_page_token": token,
    }


@api()
async def unsettled(ctx: ApiContext) -> dict[str, Any]:
    """``GET /finance/202507/orders/unsettled`` query ``sort_field=order_create_time``
    (required), ``sort_order``, ``search_time_ge``/``_lt`` (order create time), ``page_size``,
    ``page_token``. Answers ``transactions`` (estimates), ``total_count``, ``next_page_token``."""
    sim = ctx.sim
    timeline.run_due(sim)
    descending = _sort(ctx, "order_create_time")
    size = _page_size(ctx)
    low, high = _unix(ctx, "search_time_ge"), _unix(ctx, "search_time_lt")
    found = sorted(
        (
            o
            for o in finance.unsettled_orders(sim, ctx.scoped_shop.id)
            if (low is None or o.create_time >= low) and (high is None or o.create_time < high)
        ),
        key=lambda o: (o.create_time, o.id),
        reverse=descending,
    )
    page, token = page_of(found, size, ctx.query.get("page_token"))
    return {
        "transactions": [finance.unsettled_api(sim, o) for o in page],
        "total_count": len(found),
        "next_page_token": token,
    }


ROUTES = [
    Route("/finance/202309/statements", statements, methods=["GET"]),
    Route(
        "/finance/202501/orders/{order_id}/statement_transactions",
        transactions_by_order,
        methods=["GET"],
    ),
    Route(
        "/finance/202501/statements/{statement_id}/statement_transactions",
        transactions_by_statement,
        methods=["GET"],
    ),
    Route("/finance/202507/orders/unsettled", unsettled, methods=["GET"]),
]
