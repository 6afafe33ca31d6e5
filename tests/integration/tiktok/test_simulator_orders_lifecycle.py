"""Reverse flows with TikTok's state machines: cancellations, returns, refunds, after-sales."""

import json
from typing import Any

import pytest
from tiktok_shop_api import AsyncTikTokShop, Webhooks
from tiktok_shop_api.generated.models import (
    ApproveReturnRequest,
    CancelOrderRequest,
    RejectCancellationRequest,
    SearchAftersalesRequestsRequest,
    SearchCancellationsRequest,
    SearchReturnMerchandiseAuthorizationsRequest,
    SearchReturnsRequest,
)

from tests.integration.tiktok.sim_api import Inbox, SignedApi, advance, order_state, seed_order
from tests.integration.tiktok.sim_support import APP_KEY, APP_SECRET, SeededShop, SimControl

CANCELS = "/return_refund/202602/cancellations"
RETURNS = "/return_refund/202602/returns/search"
OUT_OF_STOCK = "seller_cancel_reason_out_of_stock"
ALREADY_SHIPPED = "reverse_reject_request_reason_package_already_shipped"
PRODUCT_USED = "reverse_reject_request_reason_product_used"
DAMAGED_BY_BUYER = "reverse_reject_receive_reason_item_damaged_by_buyer"


def parsed_type(notification: dict[str, Any]) -> str:
    """The independent parser's model for a notification (a check of its shape)."""
    return type(Webhooks.parse(json.dumps(notification).encode())).__name__


async def hooks(sim: SimControl, shop: SeededShop, inbox: Inbox) -> None:
    await sim.call("PUT", f"/shops/{shop.ref.shop_id}/webhook", {"url": inbox.url("hooks")})


async def cancellation(api: SignedApi, cancel_id: str) -> dict[str, Any]:
    found = await api.ok("POST", f"{CANCELS}/search", body={"cancel_ids": [cancel_id]})
    entry: dict[str, Any] = found["cancellations"][0]
    return entry


async def return_order(api: SignedApi, return_id: str) -> dict[str, Any]:
    found = await api.ok("POST", RETURNS, body={"return_ids": [return_id]})
    entry: dict[str, Any] = found["return_orders"][0]
    return entry


# --- cancellations -------------------------------------------------------------------------


async def test_buyer_cancellation_request_approved_by_the_seller(
    api: SignedApi, sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    await hooks(sim, shop, inbox)
    order_id = await seed_order(sim, shop)
    before = await order_state(sim, order_id)
    asked = await sim.call("POST", f"/orders/{order_id}/cancellation_request", {})
    cancel_id = asked["cancellation"]["cancel_id"]
    assert asked["order"]["is_buyer_request_cancel"] is True

    pending = await cancellation(api, cancel_id)
    assert pending["cancel_status"] == "CANCELLATION_REQUEST_PENDING"
    assert pending["cancel_type"] == "BUYER_CANCEL"
    assert pending["seller_next_action_response"] == [
        {"action": "SELLER_RESPOND_BUYER_CANCEL", "deadline": pending["create_time"] + 86400}
    ]
    assert pending["refund_amount"] == {
        "currency": "USD",
        "refund_total": "25.00",
        "refund_subtotal": "25.00",
        "refund_shipping_fee": "0.00",
        "refund_tax": "0.00",
    }
    assert len(pending["cancel_line_items"]) == 2
    searched = await api.ok(
        "POST",
        "/order/202309/orders/search",
        query={"page_size": "10"},
        body={"is_buyer_request_cancel": True},
    )
    assert [o["id"] for o in searched["orders"]] == [order_id]

    assert await api.ok("POST", f"/return_refund/202309/cancellations/{cancel_id}/approve") == {}
    order = await order_state(sim, order_id)
    assert order["status"] == "CANCELLED"
    assert order["cancellation_initiator"] == "BUYER"
    assert order["is_buyer_request_cancel"] is False
    assert order["update_time"] > before["update_time"]
    assert (await cancellation(api, cancel_id))["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"

    # Approving again, or rejecting now, fails: it is no longer pending.
    twice = await api.call("POST", f"/return_refund/202309/cancellations/{cancel_id}/approve")
    assert (twice.status, twice.code) == (200, 25001001)
    late = await api.call(
        "POST",
        f"/return_refund/202309/cancellations/{cancel_id}/reject",
        body={"reject_reason": ALREADY_SHIPPED},
    )
    assert late.code == 25001001

    await advance(sim, 600)  # the refund reaches the buyer
    assert (await cancellation(api, cancel_id))["cancel_status"] == "CANCELLATION_REQUEST_COMPLETE"
    await inbox.wait_for(lambda: len(inbox.of_type("hooks", 11)) == 3, "three cancellation hooks")
    hooks_11 = inbox.of_type("hooks", 11)
    assert [n["data"]["cancel_status"] for n in hooks_11] == [
        "CANCELLATION_REQUEST_PENDING",
        "CANCELLATION_REQUEST_SUCCESS",
        "CANCELLATION_REQUEST_COMPLETE",
    ]
    for notification in hooks_11:
        data = notification["data"]
        assert data["create_time"] == pending["create_time"]  # when the buyer asked
        assert "update_time" not in data
        assert (data["cancel_id"], data["order_id"], data["cancellations_role"]) == (
            cancel_id,
            order_id,
            "BUYER",
        )
        assert parsed_type(notification) == "CancellationStatusChangeWebhook"
    [cancelled] = inbox.of_type("hooks", 1)
    assert cancelled["data"]["order_status"] == "CANCEL"  # the webhook's own spelling


async def test_rejected_request_leaves_the_order_alone(
    api: SignedApi, sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    await hooks(sim, shop, inbox)
    order_id = await seed_order(sim, shop)
    cancel_id = (await sim.call("POST", f"/orders/{order_id}/cancellation_request", {}))[
        "cancellation"
    ]["cancel_id"]
    reasons = await api.ok(
        "GET", "/return_refund/202309/reject_reasons", query={"return_or_cancel_id": cancel_id}
    )
    names = [r["name"] for r in reasons["reasons"]]
    assert ALREADY_SHIPPED in names
    assert all(r["text"] for r in reasons["reasons"])

    wrong = await api.call(
        "POST",
        f"/return_refund/202309/cancellations/{cancel_id}/reject",
        body={"reject_reason": "because"},
    )
    assert (wrong.status, wrong.code) == (200, 25001004)
    missing = await api.call(
        "POST", f"/return_refund/202309/cancellations/{cancel_id}/reject", body={}
    )
    assert (missing.status, missing.code) == (400, 40006)

    async with AsyncTikTokShop(
        APP_KEY, APP_SECRET, shop.access_token, shop.ref.cipher, base_url=sim.url
    ) as other:
        await other.return_and_refund.reject_cancellation(
            cancel_id,
            body=RejectCancellationRequest.from_dict(
                {"reject_reason": ALREADY_SHIPPED, "comment": "Sent this morning"}
            ),
        )
        found = await other.return_and_refund.search_cancellations(
            page_size="5", body=SearchCancellationsRequest.from_dict({"order_ids": [order_id]})
        )
        assert found is not None
        [entry] = found.to_dict()["data"]["cancellations"]
    assert entry["cancel_status"] == "CANCELLATION_REQUEST_CANCEL"
    order = await order_state(sim, order_id)
    assert (order["status"], order["is_buyer_request_cancel"]) == ("AWAITING_SHIPMENT", False)
    approve = await api.call("POST", f"/return_refund/202309/cancellations/{cancel_id}/approve")
    assert approve.code == 25001001
    assert (
        await api.ok(
            "GET", "/return_refund/202309/reject_reasons", query={"return_or_cancel_id": cancel_id}
        )
    )["reasons"] == []

    await inbox.wait_for(lambda: len(inbox.of_type("hooks", 11)) == 2, "two cancellation hooks")
    # The webhook spells the closed request its own way.
    assert inbox.of_type("hooks", 11)[1]["data"]["cancel_status"] == (
        "CANCELLATION_REQUEST_CANCELLED"
    )


async def test_unanswered_requests_are_approved_after_24_hours(
    api: SignedApi, sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    await hooks(sim, shop, inbox)
    order_id = await seed_order(sim, shop)
    cancel_id = (await sim.call("POST", f"/orders/{order_id}/cancellation_request", {}))[
        "cancellation"
    ]["cancel_id"]
    created = (await cancellation(api, cancel_id))["create_time"]
    await advance(sim, 23 * 3600)
    assert (await cancellation(api, cancel_id))["cancel_status"] == "CANCELLATION_REQUEST_PENDING"
    await advance(sim, 3600 + 5)
    approved = await cancellation(api, cancel_id)
    assert approved["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"
    assert approved["update_time"] == created + 86400  # done when it fell due
    assert (await order_state(sim, order_id))["status"] == "CANCELLED"


async def test_a_buyer_cancels_freely_during_the_remorse_hour(
    api: SignedApi, sim: SimControl, shop: SeededShop
) -> None:
    order_id = await seed_order(sim, shop, status="ON_HOLD")
    asked = await sim.call("POST", f"/orders/{order_id}/cancellation_request", {})
    assert asked["cancellation"]["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"
    assert asked["order"]["status"] == "CANCELLED"


async def test_seller_cancels_part_of_an_order(
    api: SignedApi, sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    await hooks(sim, shop, inbox)
    order_id = await seed_order(sim, shop)
    order = await order_state(sim, order_id)
    first, second = (i["id"] for i in order["line_items"])
    eligibility = await api.ok(
        "GET",
        f"/return_refund/202602/orders/{order_id}/aftersale_eligibility",
        query={"initiate_aftersale_user": "SELLER", "request_types": "CANCEL"},
    )
    [sku] = eligibility["sku_eligibility"]
    [entry] = sku["line_item_eligibility"]
    assert entry["eligible"] is True
    assert OUT_OF_STOCK in entry["available_reason_names"]
    assert sorted(entry["order_line_items_ids"]) == sorted([first, second])

    async with AsyncTikTokShop(
        APP_KEY, APP_SECRET, shop.access_token, shop.ref.cipher, base_url=sim.url
    ) as other:
        answer = await other.return_and_refund.cancel_order(
            body=CancelOrderRequest.from_dict(
                {
                    "order_id": order_id,
                    "cancel_reason": OUT_OF_STOCK,
                    "order_line_item_ids": [first],
                }
            )
        )
        assert answer is not None
        made = answer.to_dict()["data"]
    assert made["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"
    after = await order_state(sim, order_id)
    assert after["status"] == "AWAITING_SHIPMENT"  # one line item is left to ship
    statuses = {i["id"]: i["display_status"] for i in after["line_items"]}
    assert statuses == {first: "CANCELLED", second: "AWAITING_SHIPMENT"}
    entry_made = await cancellation(api, made["cancel_id"])
    assert (entry_made["cancel_type"], entry_made["role"]) == ("CANCEL", "SELLER")
    assert entry_made["refund_amount"]["refund_total"] == "12.50"

    await inbox.wait_for(lambda: bool(inbox.of_type("hooks", 4)), "the package update")
    [update] = inbox.of_type("hooks", 4)
    assert update["data"]["sc_type"] == "PARTLY_CANCEL_SPLIT"
    assert parsed_type(update) == "PackageUpdateWebhook"


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"order_id": "ORDER"}, 400, 40006),
        ({"cancel_reason": OUT_OF_STOCK}, 400, 40006),
        ({"order_id": "ORDER", "cancel_reason": "because"}, 200, 25001003),
        ({"order_id": "404", "cancel_reason": OUT_OF_STOCK}, 404, 40004),
        (
            {
                "order_id": "ORDER",
                "cancel_reason": OUT_OF_STOCK,
                "order_line_item_ids": ["x"],
                "skus": [{"sku_id": "1", "quantity": 1}],
            },
            400,
            40006,
        ),
        (
            {"order_id": "ORDER", "cancel_reason": OUT_OF_STOCK, "order_line_item_ids": ["x"]},
            400,
            40006,
        ),
    ],
)
async def test_cancel_order_refusals(
    api: SignedApi,
    sim: SimControl,
    shop: SeededShop,
    body: dict[str, Any],
    status: int,
    code: int,
) -> None:
    order_id = await seed_order(sim, shop)
    sent = {k: (order_id if v == "ORDER" else v) for k, v in body.items()}
    answer = await api.call("POST", CANCELS, body=sent)
    assert (answer.status, answer.code) == (status, code)
    assert (await order_state(sim, order_id))["status"] == "AWAITING_SHIPMENT"


@pytest.mark.parametrize("status", ["IN_TRANSIT", "DELIVERED", "COMPLETED", "CANCELLED"])
async def test_shipped_or_cancelled_orders_cannot_be_cancelled(
    api: SignedApi, sim: SimControl, shop: SeededShop, status: str
) -> None:
    order_id = await seed_order(sim, shop, status=status)
    answer = await api.call(
        "POST", CANCELS, body={"order_id": order_id, "cancel_reason": OUT_OF_STOCK}
    )
    assert (answer.status, answer.code) == (200, 25001002)
    asked = await sim.http.post(f"/_sim/orders/{order_id}/cancellation_request", json={})
    assert asked.status_code == 409
    assert asked.json()["code"] == 25001002


async def test_a_request_cannot_be_approved_once_the_order_shipped(
    api: SignedApi, sim: SimControl, shop: SeededShop
) -> None:
    order_id = await seed_order(sim, shop)
    cancel_id = (await sim.call("POST", f"/orders/{order_id}/cancellation_request", {}))[
        "cancellation"
    ]["cancel_id"]
    await api.ok(
        "POST",
        f"/fulfillment/202309/orders/{order_id}/packages",
        body={"tracking_number": "1Z", "shipping_provider_id": "6617"},
    )
    answer = await api.call("POST", f"/return_refund/202309/cancellations/{cancel_id}/approve")
    assert (answer.status, answer.code) == (200, 25001002)
    # Unanswered, the system closes it after 24 hours instead of approving it.
    await advance(sim, 86400 + 1)
    assert (await cancellation(api, cancel_id))["cancel_status"] == "CANCELLATION_REQUEST_CANCEL"
    assert (await order_state(sim, order_id))["status"] == "IN_TRANSIT"


async def test_cancellation_calls_refuse_unknown_ids(api: SignedApi) -> None:
    for path in (
        "/return_refund/202309/cancellations/1/approve",
        "/return_refund/202309/cancellations/1/reject",
    ):
        answer = await api.call("POST", path, body={"reject_reason": ALREADY_SHIPPED})
        assert (answer.status, answer.code) == (404, 40004)
    reasons = await api.call(
        "GET", "/return_refund/202309/reject_reasons", query={"return_or_cancel_id": "1"}
    )
    assert (reasons.status, reasons.code) == (404, 40004)
    no_id = await api.call("GET", "/return_refund/202309/reject_reasons")
    assert (no_id.status, no_id.code) == (400, 40006)


async def test_search_cancellations_pages_and_filters(
    api: SignedApi, sim: SimControl, shop: SeededShop
) -> None:
    ids = []
    for _ in range(3):
        order_id = await seed_order(sim, shop)
        asked = await sim.call("POST", f"/orders/{order_id}/cancellation_request", {})
        ids.append(asked["cancellation"]["cancel_id"])
    first = await api.ok(
        "POST", f"{CANCELS}/search", query={"page_size": "2", "sort_order": "ASC"}, body={}
    )
    assert first["total_count"] == 3
    assert [c["cancel_id"] for c in first["cancellations"]] == ids[:2]
    rest = await api.ok(
        "POST",
        f"{CANCELS}/search",
        query={"page_size": "2", "sort_order": "ASC", "page_token": first["next_page_token"]},
        body={},
    )
    assert [c["cancel_id"] for c in rest["cancellations"]] == ids[2:]
    assert rest["next_page_token"] == ""
    none = await api.ok(
        "POST", f"{CANCELS}/search", body={"cancel_status": ["CANCELLATION_REQUEST_COMPLETE"]}
    )
    assert none["total_count"] == 0
    for bad in (
        {"cancel_status": ["DONE"]},
        {"cancel_types": ["SOMETIMES"]},
        {"create_time_ge": "yesterday"},
        {"order_ids": "1"},
    ):
        answer = await api.call("POST", f"{CANCELS}/search", body=bad)
        assert (answer.status, answer.code) == (400, 40006), bad
    for query in ({"page_size": "0"}, {"sort_field": "price"}, {"page_token": "nonsense"}):
        answer = await api.call("POST", f"{CANCELS}/search", body={}, query=query)
        assert (answer.status, answer.code) == (400, 40006), query


# --- returns and refunds ---------------------------------------------------------------------


async def test_partial_refund_of_a_multi_line_order(
    api: SignedApi, sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    await hooks(sim, shop, inbox)
    order_id = await seed_order(
        sim,
        shop,
        status="DELIVERED",
        items=[
            {"sale_price": "19.99", "sku_id": "1730000000000001"},
            {"sale_price": "5.01", "sku_id": "1730000000000002"},
        ],
        shipping_fee="4.99",
    )
    order = await order_state(sim, order_id)
    first = order["line_items"][0]["id"]
    made = await sim.call(
        "POST",
        f"/orders/{order_id}/return_request",
        {"return_type": "REFUND", "line_item_ids": [first]},
    )
    return_id = made["return"]["return_id"]

    pending = await return_order(api, return_id)
    assert pending["return_status"] == "RETURN_OR_REFUND_REQUEST_PENDING"
    assert pending["refund_amount"] == {
        "currency": "USD",
        "refund_total": "19.99",
        "refund_subtotal": "19.99",
        "refund_shipping_fee": "0.00",
        "refund_tax": "0.00",
    }
    assert [i["order_line_item_id"] for i in pending["return_line_items"]] == [first]
    assert pending["seller_next_action_response"][0]["action"] == "SELLER_RESPOND_REFUND"

    async with AsyncTikTokShop(
        APP_KEY, APP_SECRET, shop.access_token, shop.ref.cipher, base_url=sim.url
    ) as other:
        await other.return_and_refund.approve_return(
            return_id, body=ApproveReturnRequest.from_dict({"decision": "APPROVE_REFUND"})
        )
        found = await other.return_and_refund.search_returns(
            body=SearchReturnsRequest.from_dict({"order_ids": [order_id]})
        )
        assert found is not None
        assert found.to_dict()["data"]["return_orders"][0]["return_status"] == (
            "RETURN_OR_REFUND_REQUEST_SUCCESS"
        )
    await advance(sim, 600)
    assert (await return_order(api, return_id))["return_status"] == (
        "RETURN_OR_REFUND_REQUEST_COMPLETE"
    )
    after = await order_state(sim, order_id)
    assert after["status"] == "DELIVERED"  # one line item is still the buyer's
    assert after["update_time"] > order["update_time"]

    await inbox.wait_for(lambda: bool(inbox.of_type("hooks", 67)), "the refund webhook")
    [refund] = inbox.of_type("hooks", 67)
    data = refund["data"]
    assert (data["refund_total"], data["refund_currency"]) == ("19.99", "USD")
    assert data["refund_status"] == "REFUND_SUCCESS"
    assert [i["main_order_id"] for i in data["line_items"]] == [order_id]
    assert data["line_items"][0]["sku_return_request_id"] == return_id
    assert parsed_type(refund) == "RefundSuccessWebhook"
    statuses = [n["data"]["return_status"] for n in inbox.of_type("hooks", 12)]
    assert statuses == [
        "RETURN_OR_REFUND_REQUEST_PENDING",
        "RETURN_OR_REFUND_REQUEST_SUCCESS",
        "RETURN_OR_REFUND_REQUEST_COMPLETE",
    ]
    for notification in inbox.of_type("hooks", 12):
        assert parsed_type(notification) == "ReturnStatusChangeWebhook"
    aftersales = [n["data"]["aftersales_request_status"] for n in inbox.of_type("hooks", 64)]
    assert aftersales == ["PENDING_REQUEST_REVIEW", "REQUEST_REVIEW_COMPLETED"]
    assert parsed_type(inbox.of_type("hooks", 64)[0]) == "AftersalesRequestStatusUpdateWebhook"

    # The same line item cannot be asked for twice; the other one can.
    again = await sim.http.post(
        f"/_sim/orders/{order_id}/return_request", json={"line_item_ids": [first]}
    )
    assert again.status_code == 409


async def test_refunding_every_line_item_refunds_the_whole_payment(
    api: SignedApi, sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    await hooks(sim, shop, inbox)
    order_id = await seed_order(
        sim, shop, status="IN_TRANSIT", shipping_fee="4.99", tax="1.00", seller_discount="0.50"
    )
    made = await sim.call("POST", f"/orders/{order_id}/return_request", {"return_type": "REFUND"})
    refund = made["return"]["refund_amount"]
    assert refund == {
        "currency": "USD",
        "refund_total": "30.49",  # 25.00 + 4.99 + 1.00 - 0.50
        "refund_subtotal": "24.50",
        "refund_shipping_fee": "4.99",
        "refund_tax": "1.00",
    }
    return_id = made["return"]["return_id"]
    await api.ok(
        "POST",
        f"/return_refund/202309/returns/{return_id}/approve",
        body={"decision": "APPROVE_REFUND"},
    )
    await advance(sim, 601)
    order = await order_state(sim, order_id)
    assert order["status"] == "CANCELLED"
    await inbox.wait_for(lambda: bool(inbox.of_type("hooks", 1)), "the order status webhook")
    assert inbox.of_type("hooks", 1)[-1]["data"]["order_status"] == "CANCEL"


async def test_return_and_refund_through_the_rma(
    api: SignedApi, sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    await hooks(sim, shop, inbox)
    order_id = await seed_order(sim, shop, status="DELIVERED")
    made = await sim.call(
        "POST", f"/orders/{order_id}/return_request", {"return_type": "RETURN_AND_REFUND"}
    )
    return_id = made["return"]["return_id"]
    aftersales_id = made["aftersales_request_id"]

    wrong = await api.call(
        "POST",
        f"/return_refund/202309/returns/{return_id}/approve",
        body={"decision": "APPROVE_REFUND"},
    )
    assert (wrong.status, wrong.code) == (200, 25002001)
    await api.ok(
        "POST",
        f"/return_refund/202309/returns/{return_id}/approve",
        body={"decision": "APPROVE_RETURN"},
    )
    assert (await return_order(api, return_id))["return_status"] == "AWAITING_BUYER_SHIP"

    rmas = await api.ok(
        "POST",
        "/return_refund/202604/rma/search",
        body={
            "filters": {"aftersales_request_ids": [aftersales_id]},
            "whitelisted_data_fields": ["LINE_ITEMS"],
        },
    )
    [rma] = rmas["return_merchandise_authorizations"]
    assert rma["status"] == "AWAITING_BUYER_RETURN"
    assert len(rma["line_items"]) == 2

    shipped = await sim.call(
        "POST", f"/returns/{return_id}/buyer_shipped", {"tracking_number": "RET1"}
    )
    assert shipped["rma_status"] == "PENDING_PACKAGE_REVIEW"
    back = await return_order(api, return_id)
    assert back["return_status"] == "BUYER_SHIPPED_ITEM"
    assert back["return_tracking_number"] == "RET1"
    assert back["seller_next_action_response"][0]["action"] == "SELLER_RESPOND_RECEIVE_PACKAGE"

    await api.ok(
        "POST",
        f"/return_refund/202309/returns/{return_id}/approve",
        body={"decision": "APPROVE_RECEIVED_PACKAGE"},
    )
    await advance(sim, 600)
    assert (await return_order(api, return_id))["return_status"] == (
        "RETURN_OR_REFUND_REQUEST_COMPLETE"
    )
    await inbox.wait_for(lambda: bool(inbox.of_type("hooks", 67)), "the refund webhook")
    rma_statuses = [n["data"]["rma_status"] for n in inbox.of_type("hooks", 65)]
    # The webhook spells the first wait AWAITING_BUYER_SHIPPED where the search says _RETURN.
    assert rma_statuses == [
        "AWAITING_BUYER_SHIPPED",
        "RETURN_IN_TRANSIT",
        "PENDING_PACKAGE_REVIEW",
        "PACKAGE_REVIEW_COMPLETED",
    ]
    for notification in inbox.of_type("hooks", 65):
        assert parsed_type(notification) == "RMAStatusUpdateWebhook"
    assert inbox.of_type("hooks", 67)[0]["data"]["rma_id"] == rma["id"]


async def test_reject_return_with_a_reason(
    api: SignedApi, sim: SimControl, shop: SeededShop
) -> None:
    order_id = await seed_order(sim, shop, status="DELIVERED")
    return_id = (
        await sim.call(
            "POST", f"/orders/{order_id}/return_request", {"return_type": "RETURN_AND_REFUND"}
        )
    )["return"]["return_id"]
    path = f"/return_refund/202606/returns/{return_id}/reject"
    reasons = await api.ok(
        "GET", "/return_refund/202309/reject_reasons", query={"return_or_cancel_id": return_id}
    )
    assert PRODUCT_USED in [r["name"] for r in reasons["reasons"]]

    for body, status, code in (
        ({"decision": "REJECT_RETURN"}, 400, 40006),
        ({"decision": "NO", "reject_reason": PRODUCT_USED}, 400, 40006),
        ({"decision": "REJECT_RETURN", "reject_reason": "meh"}, 200, 25001004),
        ({"decision": "REJECT_REFUND", "reject_reason": PRODUCT_USED}, 200, 25002001),
        (
            {"decision": "REJECT_RETURN", "reject_reason": PRODUCT_USED, "comment": "x" * 501},
            400,
            40006,
        ),
    ):
        answer = await api.call("POST", path, body=body)
        assert (answer.status, answer.code) == (status, code), body

    await api.ok(
        "POST",
        path,
        body={"decision": "REJECT_RETURN", "reject_reason": PRODUCT_USED, "comment": "Worn"},
    )
    assert (await return_order(api, return_id))[
        "return_status"
    ] == "REFUND_OR_RETURN_REQUEST_REJECT"
    late = await api.call(
        "POST",
        f"/return_refund/202309/returns/{return_id}/approve",
        body={"decision": "APPROVE_RETURN"},
    )
    assert late.code == 25002001
    unknown = await api.call(
        "POST",
        "/return_refund/202606/returns/1/reject",
        body={"decision": "REJECT_RETURN", "reject_reason": PRODUCT_USED},
    )
    assert (unknown.status, unknown.code) == (404, 40004)


async def test_a_partial_refund_after_receiving_the_package(
    api: SignedApi, sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    await hooks(sim, shop, inbox)
    order_id = await seed_order(sim, shop, status="DELIVERED")
    return_id = (
        await sim.call(
            "POST", f"/orders/{order_id}/return_request", {"return_type": "RETURN_AND_REFUND"}
        )
    )["return"]["return_id"]
    await api.ok(
        "POST",
        f"/return_refund/202309/returns/{return_id}/approve",
        body={"decision": "APPROVE_RETURN"},
    )
    await sim.call("POST", f"/returns/{return_id}/buyer_shipped", {})
    path = f"/return_refund/202606/returns/{return_id}/reject"
    base = {
        "decision": "OFFER_PARTIAL_REFUND_AFTER_RECEIVING_PKG",
        "reject_reason": DAMAGED_BY_BUYER,
    }
    for amount, code in (
        (("30.00", "USD"), 25002002),
        (("5.00", "EUR"), 25002002),
        (("5.001", "USD"), 25002002),
        (("0", "USD"), 25002002),
    ):
        total, currency = amount
        answer = await api.call(
            "POST",
            path,
            body={
                **base,
                "partial_refund_amount": {"partial_refund_total": total, "currency": currency},
            },
        )
        assert answer.code == code, amount
    await api.ok(
        "POST",
        path,
        body={**base, "partial_refund_amount": {"partial_refund_total": "7.5", "currency": "USD"}},
    )
    entry = await return_order(api, return_id)
    assert entry["return_status"] == "RETURN_OR_REFUND_REQUEST_SUCCESS"
    assert entry["refund_amount"]["refund_total"] == "7.50"
    await advance(sim, 600)
    await inbox.wait_for(lambda: bool(inbox.of_type("hooks", 67)), "the refund webhook")
    assert inbox.of_type("hooks", 67)[0]["data"]["refund_total"] == "7.50"
    assert (await order_state(sim, order_id))["status"] == "DELIVERED"


async def test_unanswered_return_requests_are_approved_after_48_hours(
    api: SignedApi, sim: SimControl, shop: SeededShop
) -> None:
    order_id = await seed_order(sim, shop, status="IN_TRANSIT")
    return_id = (await sim.call("POST", f"/orders/{order_id}/return_request", {}))["return"][
        "return_id"
    ]
    await advance(sim, 47 * 3600)
    assert (await return_order(api, return_id))[
        "return_status"
    ] == "RETURN_OR_REFUND_REQUEST_PENDING"
    await advance(sim, 3600)
    assert (await return_order(api, return_id))[
        "return_status"
    ] == "RETURN_OR_REFUND_REQUEST_SUCCESS"
    await advance(sim, 600)
    assert (await return_order(api, return_id))[
        "return_status"
    ] == "RETURN_OR_REFUND_REQUEST_COMPLETE"


@pytest.mark.parametrize(
    ("status", "return_type"),
    [
        ("AWAITING_SHIPMENT", "REFUND"),
        ("IN_TRANSIT", "RETURN_AND_REFUND"),
        ("COMPLETED", "REFUND"),
        ("CANCELLED", "REFUND"),
    ],
)
async def test_returns_only_when_the_order_allows_them(
    sim: SimControl, shop: SeededShop, status: str, return_type: str
) -> None:
    order_id = await seed_order(sim, shop, status=status)
    answer = await sim.http.post(
        f"/_sim/orders/{order_id}/return_request", json={"return_type": return_type}
    )
    assert answer.status_code == 409
    assert answer.json()["code"] == 25002001


async def test_search_returns_refuses_bad_filters(api: SignedApi) -> None:
    for bad in ({"return_status": ["LOST"]}, {"return_types": ["SWAP"]}, {"update_time_lt": -1}):
        answer = await api.call("POST", RETURNS, body=bad)
        assert (answer.status, answer.code) == (400, 40006), bad
    empty = await api.ok("POST", RETURNS, body={})
    assert empty == {"total_count": 0, "next_page_token": ""}  # no return_orders key at all


# --- the after-sales model ---------------------------------------------------------------------


async def test_aftersales_search_and_review(
    api: SignedApi, sim: SimControl, shop: SeededShop
) -> None:
    order_id = await seed_order(sim, shop, status="DELIVERED")
    made = await sim.call("POST", f"/orders/{order_id}/return_request", {"return_type": "REFUND"})
    aftersales_id = made["aftersales_request_id"]
    return_lines = [i["return_line_item_id"] for i in made["return"]["return_line_items"]]

    async with AsyncTikTokShop(
        APP_KEY, APP_SECRET, shop.access_token, shop.ref.cipher, base_url=sim.url
    ) as other:
        found = await other.return_and_refund.search_aftersales_requests(
            body=SearchAftersalesRequestsRequest.from_dict(
                {
                    "whitelisted_data_fields": ["LINE_ITEMS", "SKU_RETURN_REQUESTS"],
                    "filters": {"main_order_ids": [order_id]},
                    "pagination": {"page_size": 10},
                }
            )
        )
        assert found is not None
        [request] = found.to_dict()["data"]["aftersales_requests"]
        rmas = await other.return_and_refund.search_return_merchandise_authorizations(
            body=SearchReturnMerchandiseAuthorizationsRequest.from_dict({})
        )
        assert rmas is not None
        assert "return_merchandise_authorizations" not in rmas.to_dict()["data"]
    assert (request["id"], request["status"]) == (aftersales_id, "PENDING_REQUEST_REVIEW")
    assert sorted(i["return_line_item_id"] for i in request["line_items"]) == sorted(return_lines)
    assert request["sku_return_requests"][0]["return_id"] == made["return"]["return_id"]

    review = "/return_refund/202609/aftersales/review"
    partly = await api.ok(
        "POST",
        review,
        body={
            "aftersales_request_decisions": [
                {
                    "request_id": aftersales_id,
                    "line_item_decisions": [
                        {
                            "action": "APPROVE_REQUEST",
                            "line_items": [{"return_line_item_id": return_lines[0]}],
                        }
                    ],
                },
                {
                    "request_id": "999",
                    "line_item_decisions": [
                        {"action": "APPROVE_REQUEST", "line_items": [{"return_line_item_id": "1"}]}
                    ],
                },
            ]
        },
    )
    # Partial failures still answer code 0: each is listed in errors.
    assert [e["code"] for e in partly["errors"]] == ["25002003", "40004"]
    done = await api.ok(
        "POST",
        review,
        body={
            "aftersales_request_decisions": [
                {
                    "request_id": aftersales_id,
                    "idempotency_key": "review-1",
                    "line_item_decisions": [
                        {
                            "action": "APPROVE_REQUEST",
                            "line_items": [{"return_line_item_id": r} for r in return_lines],
                        }
                    ],
                }
            ]
        },
    )
    assert done == {"errors": []}
    after = await api.ok(
        "POST",
        "/return_refund/202603/aftersales/search",
        body={"filters": {"aftersales_request_ids": [aftersales_id]}},
    )
    assert after["aftersales_requests"] == [
        {"id": aftersales_id, "status": "REQUEST_REVIEW_COMPLETED"}
    ]
    assert (await return_order(api, made["return"]["return_id"]))["return_status"] == (
        "RETURN_OR_REFUND_REQUEST_SUCCESS"
    )
    for bad in (
        {},
        {"aftersales_request_decisions": [{"request_id": aftersales_id}]},
        {
            "aftersales_request_decisions": [
                {
                    "request_id": aftersales_id,
                    "line_item_decisions": [{"action": "SHRUG", "line_items": []}],
                }
            ]
        },
    ):
        answer = await api.call("POST", review, body=bad)
        assert (answer.status, answer.code) == (400, 40006), bad
    for bad in (
        {"filters": {"aftersales_request_statuses": ["OPEN"]}},
        {"pagination": {"page_size": 101}},
        {"sort": {"sort_field": "PRICE"}},
    ):
        answer = await api.call("POST", "/return_refund/202603/aftersales/search", body=bad)
        assert (answer.status, answer.code) == (400, 40006), bad


async def test_reject_through_the_aftersales_review(
    api: SignedApi, sim: SimControl, shop: SeededShop
) -> None:
    order_id = await seed_order(sim, shop, status="DELIVERED")
    made = await sim.call("POST", f"/orders/{order_id}/return_request", {"return_type": "REFUND"})
    lines = [
        {"return_line_item_id": i["return_line_item_id"]}
        for i in made["return"]["return_line_items"]
    ]
    decision = {
        "request_id": made["aftersales_request_id"],
        "line_item_decisions": [{"action": "REJECT_REQUEST", "line_items": lines}],
    }
    no_reason = await api.ok(
        "POST",
        "/return_refund/202609/aftersales/review",
        body={"aftersales_request_decisions": [decision]},
    )
    assert [e["code"] for e in no_reason["errors"]] == ["40006"]
    decision["line_item_decisions"][0]["reason"] = {"reason_id": PRODUCT_USED}
    assert await api.ok(
        "POST",
        "/return_refund/202609/aftersales/review",
        body={"aftersales_request_decisions": [decision]},
    ) == {"errors": []}
    assert (await return_order(api, made["return"]["return_id"]))[
        "return_status"
    ] == "REFUND_OR_RETURN_REQUEST_REJECT"


async def test_idr_amounts_keep_two_decimals(
    api: SignedApi, sim: SimControl, shop: SeededShop
) -> None:
    order_id = await seed_order(
        sim,
        shop,
        currency="IDR",
        status="DELIVERED",
        items=[{"sale_price": "150000.01"}, {"sale_price": "0.01"}],
        shipping_fee="9000",
    )
    [order] = (await api.ok("GET", "/order/202507/orders", query={"ids": order_id}))["orders"]
    assert order["payment"]["sub_total"] == "150000.02"
    assert order["payment"]["shipping_fee"] == "9000.00"
    second = order["line_items"][1]["id"]
    made = await sim.call("POST", f"/orders/{order_id}/return_request", {"line_item_ids": [second]})
    assert made["return"]["refund_amount"]["refund_total"] == "0.01"
    assert made["return"]["refund_amount"]["currency"] == "IDR"
