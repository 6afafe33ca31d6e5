"""The order-lifecycle calls of the client and gateway against the simulator, over real HTTP:
reverse flows, shipping providers and shipments, finance, the Event API, and each refusal TikTok
answers with its code."""

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from service.adapters.tiktok import TikTokApiError, TikTokConfig
from service.adapters.tiktok.gateway import build_api_gateway
from service.application.errors import GatewayError
from service.application.ports import Unreadable
from service.domain.reverse_requests import RemoteRequest
from simulator import order_codes as codes
from tests.integration.tiktok.memory_directory import InMemoryShopDirectory
from tests.integration.tiktok.sim_api import advance, seed_order
from tests.integration.tiktok.sim_support import ClientFactory, SeededShop, SimControl

TIKTOK_SHIPPED_OPTION = "7091146663229654787"


async def refused(call: Any) -> TikTokApiError:
    with pytest.raises(TikTokApiError) as caught:
        await call
    return caught.value


async def cancellation(sim: SimControl, order_id: str) -> str:
    made = await sim.call("POST", f"/orders/{order_id}/cancellation_request", {})
    cancel_id: str = made["cancellation"]["cancel_id"]
    return cancel_id


# --- cancellations ------------------------------------------------------------------------------


async def test_cancellations_are_searched_approved_and_rejected(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    client = make_client()
    first = await seed_order(sim, shop)
    second = await seed_order(sim, shop)
    approve_id = await cancellation(sim, first)
    reject_id = await cancellation(sim, second)

    pages = [p async for p in client.search_cancellation_pages(shop.ref, {}, page_size=1)]
    found = [c for p in pages for c in p.cancellations]
    assert [c.cancel_id for c in found] == [approve_id, reject_id]  # oldest update first
    assert found[0].seller_next_action_response[0].action == "SELLER_RESPOND_BUYER_CANCEL"
    assert found[0].seller_next_action_response[0].deadline == found[0].create_time + 86400

    reasons = await client.reject_reasons(shop.ref, reject_id)
    assert "reverse_reject_request_reason_buyer_agreed_to_keep" in [r.name for r in reasons]
    wrong = await refused(
        client.reject_cancellation(shop.ref, reject_id, "because", idempotency_key="k1")
    )
    assert wrong.code == codes.INVALID_REJECT_REASON
    await client.reject_cancellation(
        shop.ref,
        reject_id,
        "reverse_reject_request_reason_buyer_agreed_to_keep",
        "kept",
        idempotency_key="k2",
    )

    await client.approve_cancellation(shop.ref, approve_id, idempotency_key="a1")
    # The same key again: TikTok applied it once and answers success.
    await client.approve_cancellation(shop.ref, approve_id, idempotency_key="a1")
    decided = await refused(client.approve_cancellation(shop.ref, approve_id, idempotency_key="a2"))
    assert decided.code == codes.CANCELLATION_NOT_PENDING
    unknown = await refused(client.approve_cancellation(shop.ref, "1", idempotency_key="a3"))
    assert (unknown.http_status, unknown.code) == (404, 40004)
    assert await client.reject_reasons(shop.ref, approve_id) == []
    missing = await refused(client.reject_reasons(shop.ref, "1"))
    assert missing.code == 40004


async def test_the_seller_cancels_with_an_eligible_reason(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    client = make_client()
    order_id = await seed_order(sim, shop)
    eligibility = await client.aftersale_eligibility(shop.ref, order_id, "CANCEL")
    names = {
        name
        for sku in eligibility.sku_eligibility
        for entry in sku.line_item_eligibility
        for name in entry.available_reason_names
    }
    assert "seller_cancel_reason_out_of_stock" in names

    bad = await refused(client.cancel_order(shop.ref, order_id, "no reason"))
    assert bad.code == codes.INVALID_CANCEL_REASON
    made = await client.cancel_order(shop.ref, order_id, "seller_cancel_reason_out_of_stock")
    assert made.cancel_status == "CANCELLATION_REQUEST_SUCCESS"
    again = await refused(
        client.cancel_order(shop.ref, order_id, "seller_cancel_reason_out_of_stock")
    )
    assert again.code == codes.ORDER_NOT_CANCELLABLE
    gone = await refused(client.cancel_order(shop.ref, "1", "seller_cancel_reason_out_of_stock"))
    assert gone.code == 40004


# --- returns ------------------------------------------------------------------------------------


async def test_returns_are_searched_approved_and_rejected_by_decision(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    client = make_client()
    refund_order = await seed_order(sim, shop, status="IN_TRANSIT")
    return_order = await seed_order(sim, shop, status="DELIVERED")
    refund = await sim.call(
        "POST", f"/orders/{refund_order}/return_request", {"return_type": "REFUND"}
    )
    ret = await sim.call(
        "POST", f"/orders/{return_order}/return_request", {"return_type": "RETURN_AND_REFUND"}
    )
    refund_id, return_id = refund["return"]["return_id"], ret["return"]["return_id"]

    pages = [p async for p in client.search_return_pages(shop.ref, {"order_ids": [refund_order]})]
    [found] = [r for p in pages for r in p.return_orders]
    assert (found.return_id, found.return_type) == (refund_id, "REFUND")
    assert found.refund_amount is not None
    assert found.refund_amount.refund_total == refund["return"]["refund_amount"]["refund_total"]

    wrong = await refused(
        client.approve_return(shop.ref, refund_id, "APPROVE_RETURN", idempotency_key="r1")
    )
    assert wrong.code == codes.RETURN_DECISION_NOT_ALLOWED
    bad_reason = await refused(
        client.reject_return(shop.ref, refund_id, "REJECT_REFUND", "meh", idempotency_key="r2")
    )
    assert bad_reason.code == codes.INVALID_REJECT_REASON
    await client.reject_return(
        shop.ref,
        refund_id,
        "REJECT_REFUND",
        "reverse_reject_request_reason_no_evidence",
        idempotency_key="r3",
    )
    await client.approve_return(shop.ref, return_id, "APPROVE_RETURN", idempotency_key="r4")
    state = (await sim.call("GET", f"/returns/{return_id}"))["return"]
    assert state["return_status"] == "AWAITING_BUYER_SHIP"
    empty = [p async for p in client.search_return_pages(shop.ref, {"order_ids": ["1"]})]
    assert [r for p in empty for r in p.return_orders] == []


async def test_after_sales_requests_and_rmas_name_their_orders(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    client = make_client()
    order_id = await seed_order(sim, shop, status="DELIVERED")
    asked = await sim.call(
        "POST", f"/orders/{order_id}/return_request", {"return_type": "RETURN_AND_REFUND"}
    )
    return_id = asked["return"]["return_id"]
    await client.approve_return(shop.ref, return_id, "APPROVE_RETURN", idempotency_key="x")
    page = await client.aftersales_requests(shop.ref, [asked["aftersales_request_id"]])
    [request] = page.aftersales_requests
    assert request.sku_return_requests[0].order_id == order_id
    assert request.return_merchandise_authorizations[0].status == "AWAITING_BUYER_RETURN"
    rmas = await client.rmas(shop.ref, [request.return_merchandise_authorizations[0].id])
    [rma] = rmas.return_merchandise_authorizations
    assert rma.aftersales_request_id == request.id
    assert (await client.aftersales_requests(shop.ref, ["1"])).aftersales_requests == []


# --- shipping -------------------------------------------------------------------------------------


async def test_shipping_providers_and_shipments(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    client = make_client()
    order_id = await seed_order(sim, shop)
    [order] = await client.order_details(shop.ref, [order_id])
    assert order.delivery_option_id
    providers = await client.shipping_providers(shop.ref, order.delivery_option_id)
    assert "UPS" in [p.name for p in providers]
    by_tiktok = await refused(client.shipping_providers(shop.ref, TIKTOK_SHIPPED_OPTION))
    assert by_tiktok.code == codes.DELIVERY_OPTION_SHIPPED_BY_TIKTOK
    unknown = await refused(client.shipping_providers(shop.ref, "1"))
    assert unknown.code == 40004

    [package] = order.packages
    wrong = await refused(client.ship_package(shop.ref, package.id, "1Z1", "not-a-provider"))
    assert wrong.code == codes.UNKNOWN_SHIPPING_PROVIDER
    await client.ship_package(shop.ref, package.id, "1Z1", providers[0].id)
    twice = await refused(client.ship_package(shop.ref, package.id, "1Z1", providers[0].id))
    assert twice.code == codes.PACKAGE_ALREADY_SHIPPED

    held = await seed_order(sim, shop, status="ON_HOLD")
    remorse = await refused(client.mark_package_shipped(shop.ref, held, "1Z2", providers[0].id))
    assert remorse.code == codes.ORDER_IN_REMORSE_PERIOD


# --- finance ------------------------------------------------------------------------------------


async def test_an_order_has_transactions_only_once_settled(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    client = make_client()
    long_ago = int(datetime.now(UTC).timestamp()) - 12 * 86400
    settled = await seed_order(
        sim, shop, status="DELIVERED", create_time=long_ago - 3600, update_time=long_ago
    )
    fresh = await seed_order(sim, shop, status="DELIVERED")
    done = await client.order_transactions(shop.ref, settled)
    assert done.sku_transactions
    assert done.fee_and_tax_amount is not None
    assert done.fee_and_tax_amount.startswith("-")
    waiting = await client.order_transactions(shop.ref, fresh)
    assert (waiting.sku_transactions, waiting.total_count) == ([], 0)
    unknown = await refused(client.order_transactions(shop.ref, "1"))
    assert unknown.code == 40004


# --- the Event API ------------------------------------------------------------------------------


async def test_webhooks_are_registered_per_event_type(
    make_client: ClientFactory, shop: SeededShop, sim: SimControl
) -> None:
    client = make_client()
    assert await client.webhooks(shop.ref) == []
    await client.update_webhook(shop.ref, "ORDER_STATUS_CHANGE", "https://shop.example/hooks")
    [hook] = await client.webhooks(shop.ref)
    assert (hook.event_type, hook.address) == ("ORDER_STATUS_CHANGE", "https://shop.example/hooks")
    for event_type, address in (
        ("NOT_A_TYPE", "https://shop.example/hooks"),
        ("ORDER_STATUS_CHANGE", "ftp://shop.example"),
        ("ORDER_STATUS_CHANGE", "https://" + "a" * 260),
    ):
        bad = await refused(client.update_webhook(shop.ref, event_type, address))
        assert (bad.http_status, bad.code) == (400, 40006)


# --- the gateway over these calls ---------------------------------------------------------------


@pytest.fixture
async def gateway(config: TikTokConfig, shop: SeededShop) -> Any:
    made = build_api_gateway(
        config,
        InMemoryShopDirectory(),
        default_shop_id=shop.ref.shop_id,
        static_access_token=shop.access_token,
    )
    yield made
    await made.aclose()


async def test_the_gateway_pulls_what_changed_since_a_time(
    gateway: Any, shop: SeededShop, sim: SimControl
) -> None:
    shop_id = shop.ref.shop_id
    old = await seed_order(sim, shop)
    await advance(sim, 120)
    await cancellation(sim, old)
    changed = await seed_order(sim, shop)
    since = datetime.now(UTC) + timedelta(seconds=60)

    orders = [o async for o in gateway.orders_changed(shop_id, since)]
    assert [o.external_order_id for o in orders if not isinstance(o, Unreadable)] == [
        old,
        changed,
    ]
    everything = [o async for o in gateway.orders_changed(shop_id, None)]
    assert len(everything) == 2
    requests = [r async for r in gateway.requests_changed(shop_id, since)]
    assert [(r.kind, r.order_id) for r in requests if isinstance(r, RemoteRequest)] == [
        ("cancellation", old)
    ]
    [request] = requests
    assert isinstance(request, RemoteRequest)
    assert request.next_action == "SELLER_RESPOND_BUYER_CANCEL"
    assert request.deadline is not None
    assert [r.id for r in await gateway.order_requests(shop_id, old)] == [request.id]
    await sim.call("POST", "/clock", {"offset": 0})


async def test_the_gateway_reads_settlements_and_translates_refusals(
    gateway: Any, shop: SeededShop, sim: SimControl
) -> None:
    shop_id = shop.ref.shop_id
    long_ago = int(datetime.now(UTC).timestamp()) - 12 * 86400
    settled = await seed_order(
        sim, shop, status="DELIVERED", create_time=long_ago - 3600, update_time=long_ago
    )
    settlement = await gateway.settlement(shop_id, settled)
    assert settlement is not None
    assert settlement.fee_and_tax_amount < 0 < settlement.settlement_amount
    assert (
        await gateway.settlement(shop_id, await seed_order(sim, shop, status="DELIVERED")) is None
    )

    providers = await gateway.shipping_providers(shop_id, await seed_order(sim, shop))
    assert "USPS" in [p.name for p in providers]
    held = await seed_order(sim, shop, status="ON_HOLD")
    with pytest.raises(GatewayError) as caught:
        await gateway.ship(shop_id, held, "1Z", providers[0].id)
    assert caught.value.code == codes.ORDER_IN_REMORSE_PERIOD
    assert not caught.value.retryable
    assert str(codes.ORDER_IN_REMORSE_PERIOD) in caught.value.message
