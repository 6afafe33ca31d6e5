"""Settlement: unsettled until 8 days after delivery and the next daily statement, then frozen."""

import time
from typing import Any

import pytest_asyncio
from tiktok_shop_api import AsyncTikTokShop

from tests.integration.tiktok.sim_api import SignedApi, advance, order_state, seed_order
from tests.integration.tiktok.sim_support import APP_KEY, APP_SECRET, SeededShop, SimControl

DAY = 86400
UNSETTLED = "/finance/202507/orders/unsettled"
STATEMENTS = "/finance/202309/statements"
BY_DATE = {"sort_field": "statement_time"}
BY_ORDER_TIME = {"sort_field": "order_create_time"}


@pytest_asyncio.fixture
async def api(sim: SimControl, shop: SeededShop) -> SignedApi:
    """Calls with a token that outlives the weeks these tests move the clock on."""
    tokens = await sim.tokens(shop.ref.shop_id, access_ttl=365 * DAY)
    return SignedApi(sim, SeededShop(shop.ref, tokens["access_token"], tokens["refresh_token"]))


def by_order(order_id: str) -> str:
    return f"/finance/202501/orders/{order_id}/statement_transactions"


async def delivered_order(sim: SimControl, shop: SeededShop, **fields: Any) -> str:
    order_id = await seed_order(
        sim,
        shop,
        items=[{"sale_price": "12.50", "original_price": "15.00", "quantity": 2}],
        shipping_fee="4.99",
        seller_discount="0.50",
        **fields,
    )
    await sim.call("POST", f"/orders/{order_id}/status", {"status": "DELIVERED"})
    return order_id


async def test_an_order_settles_after_delivery(
    api: SignedApi, sim: SimControl, shop: SeededShop
) -> None:
    order_id = await delivered_order(sim, shop)
    delivered = (await order_state(sim, order_id))["delivery_time"]

    [pending] = (await api.ok("GET", UNSETTLED, query=BY_ORDER_TIME))["transactions"]
    assert (pending["order_id"], pending["status"], pending["type"]) == (
        order_id,
        "UNSETTLED",
        "ORDER",
    )
    settles = int(pending["estimated_settlement"])
    assert delivered + 8 * DAY < settles <= delivered + 9 * DAY
    assert settles % DAY == 0  # statements are made at 00:00 UTC
    # 15.00 x 2 less 5.00 product and 0.50 order discounts; 6 % commission; 2.9 % fee with shipping.
    assert pending["est_revenue_amount"] == "24.50"
    assert pending["est_fee_tax_amount"] == "-2.33"
    assert pending["est_shipping_cost_amount"] == "4.99"
    assert pending["est_settlement_amount"] == "27.16"
    assert (await api.ok("GET", by_order(order_id)))["sku_transactions"] == []
    assert (await api.ok("GET", STATEMENTS, query=BY_DATE))["statements"] == []

    await advance(sim, settles - sim.sim.now() - 1)
    assert len((await api.ok("GET", UNSETTLED, query=BY_ORDER_TIME))["transactions"]) == 1
    await advance(sim, 2)
    assert (await api.ok("GET", UNSETTLED, query=BY_ORDER_TIME))["transactions"] == []

    transaction = await api.ok("GET", by_order(order_id))
    assert (transaction["revenue_amount"], transaction["fee_and_tax_amount"]) == ("24.50", "-2.33")
    assert transaction["settlement_amount"] == "27.16"
    [sku] = transaction["sku_transactions"]
    assert sku["quantity"] == "2"
    assert sku["revenue_breakdown"]["subtotal_before_discount_amount"] == "30.00"
    assert sku["revenue_breakdown"]["seller_discount_amount"] == "-5.50"
    assert sku["fee_tax_breakdown"]["fee"] == {
        "platform_commission_amount": "-1.47",
        "transaction_fee_amount": "-0.86",
    }
    [statement] = (await api.ok("GET", STATEMENTS, query=BY_DATE))["statements"]
    assert statement["id"] == sku["statement_id"]
    assert (statement["statement_time"], statement["currency"]) == (settles, "USD")
    assert statement["settlement_amount"] == "27.16"
    assert statement["payment_status"] == "PROCESSING"

    await advance(sim, DAY)
    [paid] = (await api.ok("GET", STATEMENTS, query={**BY_DATE, "payment_status": "PAID"}))[
        "statements"
    ]
    assert paid["payment_time"] == settles + DAY
    listed = await api.ok(
        "GET",
        f"/finance/202501/statements/{statement['id']}/statement_transactions",
        query=BY_ORDER_TIME,
    )
    assert listed["total_count"] == 1
    assert listed["transactions"][0]["order_id"] == order_id
    assert listed["transactions"][0]["settlement_amount"] == "27.16"
    assert listed["status"] == "PAID"


async def test_an_open_return_holds_the_settlement(
    api: SignedApi, sim: SimControl, shop: SeededShop
) -> None:
    order_id = await delivered_order(sim, shop)
    order = await order_state(sim, order_id)
    first = order["line_items"][0]["id"]
    made = await sim.call(
        "POST",
        f"/orders/{order_id}/return_request",
        {"return_type": "RETURN_AND_REFUND", "line_item_ids": [first]},
    )
    approve = f"/return_refund/202309/returns/{made['return']['return_id']}/approve"
    await api.ok("POST", approve, body={"decision": "APPROVE_RETURN"})
    await advance(sim, 9 * DAY)  # the buyer takes their time sending it back
    [pending] = (await api.ok("GET", UNSETTLED, query=BY_ORDER_TIME))["transactions"]
    assert pending["unsettled_reason"] == "A return or refund of the order is in progress"
    assert pending["estimated_settlement"] == "Delivered + 8 days"

    await sim.call("POST", f"/returns/{made['return']['return_id']}/buyer_shipped", {})
    await api.ok("POST", approve, body={"decision": "APPROVE_RECEIVED_PACKAGE"})
    await advance(sim, 600)  # refunded: it settles at the next 00:00 UTC
    assert (await api.ok("GET", by_order(order_id)))["sku_transactions"] == []
    await advance(sim, DAY)
    transaction = await api.ok("GET", by_order(order_id))
    [sku] = transaction["sku_transactions"]
    assert sku["revenue_breakdown"]["refund_subtotal_before_discount_amount"] == "-15.00"
    assert sku["revenue_breakdown"]["seller_discount_refund_amount"] == "2.50"
    assert transaction["revenue_amount"] == "12.00"  # 24.50 - 15.00 + 2.50 discount given back


async def test_tiktok_shipping_costs_the_seller_nothing_net(
    api: SignedApi, sim: SimControl, shop: SeededShop
) -> None:
    await delivered_order(sim, shop, delivery_option_id="7091146663229654787")
    [pending] = (await api.ok("GET", UNSETTLED, query=BY_ORDER_TIME))["transactions"]
    shipping = pending["shipping_cost_breakdown"]
    assert shipping["customer_paid_shipping_fee_amount"] == "4.99"
    assert shipping["actual_shipping_fee_amount"] == "-7.49"
    assert shipping["supplementary_component"]["shipping_fee_subsidy_amount"] == "2.50"
    assert pending["est_shipping_cost_amount"] == "0.00"


async def test_unsettled_lists_paid_orders_only(
    api: SignedApi, sim: SimControl, shop: SeededShop
) -> None:
    paid = await seed_order(sim, shop)
    await seed_order(sim, shop, status="UNPAID")
    cancelled = await seed_order(sim, shop)
    await api.ok(
        "POST",
        "/return_refund/202602/cancellations",
        body={"order_id": cancelled, "cancel_reason": "seller_cancel_reason_out_of_stock"},
    )
    found = await api.ok("GET", UNSETTLED, query=BY_ORDER_TIME)
    assert [t["order_id"] for t in found["transactions"]] == [paid]
    assert found["transactions"][0]["estimated_settlement"] == "Delivered + 8 days"


async def test_finance_calls_refuse_bad_queries(api: SignedApi) -> None:
    for path, query in (
        (STATEMENTS, {}),
        (STATEMENTS, {"sort_field": "amount"}),
        (STATEMENTS, {**BY_DATE, "page_size": "0"}),
        (STATEMENTS, {**BY_DATE, "payment_status": "LOST"}),
        (STATEMENTS, {**BY_DATE, "statement_time_ge": "today"}),
        (UNSETTLED, {}),
        (UNSETTLED, {**BY_ORDER_TIME, "sort_order": "UP"}),
    ):
        answer = await api.call("GET", path, query=query)
        assert (answer.status, answer.code) == (400, 40006), (path, query)
    for path in (
        by_order("404"),
        "/finance/202501/statements/404/statement_transactions?sort_field=order_create_time",
    ):
        answer = await api.call("GET", path.split("?")[0], query=BY_ORDER_TIME)
        assert (answer.status, answer.code) == (404, 40004)


async def test_the_independent_client_reads_finance(sim: SimControl, shop: SeededShop) -> None:
    now = int(time.time())  # the independent client signs with the real clock: no clock moves
    order_id = await seed_order(
        sim,
        shop,
        status="DELIVERED",
        items=[{"sale_price": "12.50", "original_price": "15.00", "quantity": 2}],
        shipping_fee="4.99",
        seller_discount="0.50",
        create_time=now - 11 * DAY,
        update_time=now - 10 * DAY,  # delivered then
    )
    async with AsyncTikTokShop(
        APP_KEY, APP_SECRET, shop.access_token, shop.ref.cipher, base_url=sim.url
    ) as other:
        statements = await other.finance.get_statements(sort_field="statement_time")
        assert statements is not None
        [statement] = statements.to_dict()["data"]["statements"]
        transactions = await other.finance.get_transactions_by_order(order_id)
        assert transactions is not None
        assert transactions.to_dict()["data"]["settlement_amount"] == "27.16"
        listed = await other.finance.get_transactions_by_statement(
            statement["id"], sort_field="order_create_time"
        )
        assert listed is not None
        assert listed.to_dict()["data"]["transactions"][0]["order_id"] == order_id
        unsettled = await other.finance.get_unsettled_transactions(sort_field="order_create_time")
        assert unsettled is not None
        assert unsettled.to_dict()["data"]["total_count"] == 0
