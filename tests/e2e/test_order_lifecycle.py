"""The order lifecycle through the admin API, against the simulator over real HTTP, with the
simulator's webhooks delivered to a real ingress: webhook registration, the seller's decisions
on cancellations, returns and shipping, the after-sales webhooks, and fees."""

import time
import uuid
from collections.abc import AsyncIterator
from typing import Any

import pytest

from tests.kafka_tools import TopicReader
from tests.sim_worker import SimWorker, sim_worker
from tests.support import eventually, fresh

pytestmark = pytest.mark.integration

NEEDED = [
    "ORDER_STATUS_CHANGE",
    "RECIPIENT_ADDRESS_UPDATE",
    "PACKAGE_UPDATE",
    "PRODUCT_STATUS_CHANGE",
    "SELLER_DEAUTHORIZATION",
    "UPCOMING_AUTHORIZATION_EXPIRATION",
    "CANCELLATION_STATUS_CHANGE",
    "RETURN_STATUS_CHANGE",
    "PRODUCT_AUDIT_STATUS_CHANGE",
]


@pytest.fixture(scope="module")
async def sw(services: dict[str, str]) -> AsyncIterator[SimWorker]:
    async with sim_worker(
        services,
        ingress=True,
        settings={"tiktok_carrier_map": {"united parcel service": "UPS", "post": "6617"}},
    ) as running:
        yield running


@pytest.fixture(scope="module")
async def registered(sw: SimWorker) -> SimWorker:
    """The shop with the service's webhooks registered, and Partner Center's address (the
    after-sales types) pointing at the ingress too."""
    answer = await sw.admin.post("/webhooks/register")
    assert answer.status_code == 200, answer.text
    await sw.sim.put(f"/_sim/shops/{sw.shop}/webhook", json={"url": sw.ingress_url})
    return sw


async def seed(sw: SimWorker, **fields: Any) -> str:
    order = {"shop_id": sw.shop, "items": [{"sale_price": "12.50"}, {"sale_price": "7.50"}]}
    seeded = await sw.sim_post("/_sim/seed", {"orders": [{**order, **fields}]})
    first = seeded["orders"][0]
    return first if isinstance(first, str) else str(first["id"])


async def stored(sw: SimWorker, external: str) -> Any:
    return await fresh(sw.worker).orders.get_by_external(sw.shop, external)


async def known(sw: SimWorker, external: str, check: Any = bool) -> Any:
    """The order once the service holds it and `check(order)` holds."""

    async def probe() -> Any:
        order = await stored(sw, external)
        return order if order is not None and check(order) else None

    return await eventually(probe, timeout=30)


def status_of(order: Any, kind: str) -> str | None:
    """The status of the order's request of `kind` (it has one)."""
    found = [r.status for r in order.reverse_requests if r.kind == kind]
    return found[0] if len(found) == 1 else None


async def pull(sw: SimWorker) -> dict[str, Any]:
    answer = await sw.admin.post("/orders/reconcile")
    assert answer.status_code == 200, answer.text
    run: dict[str, Any] = answer.json()["reconciliation"]
    assert run["status"] == "completed", run
    return run


# --- webhook subscription ---------------------------------------------------------------------


async def test_registering_makes_tiktok_send_every_needed_type_to_the_ingress(
    services: dict[str, str],
) -> None:
    async with sim_worker(services, ingress=True) as sw:
        before = (await sw.admin.get("/settings")).json()
        assert before["status"] == "connected"
        assert before["webhooks"]["missing"] == NEEDED
        assert before["webhooks"]["partnerCenterTypes"] == [
            "INVENTORY_STATUS_CHANGE",
            "SKU_STATUS_CHANGE",
            "AFTERSALES_REQUEST_STATUS_UPDATE",
            "RMA_STATUS_UPDATE",
            "REFUND_SUCCESS",
            "INVENTORY_CHANGED_BY_SHOP",
        ]
        # Nothing registered: TikTok sends the order's webhook nowhere.
        external = await seed(sw, status="AWAITING_SHIPMENT")
        await sw.sim_post(f"/_sim/orders/{external}/status", {"status": "AWAITING_COLLECTION"})
        deliveries = (await sw.sim.get("/_sim/webhooks/deliveries")).json()["deliveries"]
        assert [d["outcome"] for d in deliveries] == ["no_subscription"]

        registered = await sw.admin.post("/webhooks/register")
        assert registered.status_code == 200, registered.text
        state = registered.json()["webhooks"]
        assert state["missing"] == []
        assert [w["eventType"] for w in state["webhooks"]] == NEEDED
        assert all(w["address"] == sw.ingress_url and w["registered"] for w in state["webhooks"])
        listed = (await sw.admin.get("/webhooks")).json()["webhooks"]
        assert listed == state
        settings = (await sw.admin.get("/settings")).json()
        assert settings["webhooks"]["missing"] == []

        # Registering again changes nothing on TikTok (no PUT sent).
        await sw.sim.delete("/_sim/requests")
        assert (await sw.admin.post("/webhooks/register")).json()["webhooks"] == state
        calls = (await sw.sim.get("/_sim/requests", params={"path_prefix": "/event"})).json()
        assert [c["method"] for c in calls["requests"]] == ["GET"]

        # Now TikTok's webhook reaches the service through the ingress.
        await sw.sim_post(f"/_sim/orders/{external}/status", {"status": "IN_TRANSIT"})
        order = await known(sw, external, lambda o: o.status == "shipped")
        assert order.external_status == "IN_TRANSIT"


async def test_authorizing_a_shop_registers_its_webhooks(sw: SimWorker) -> None:
    other = f"other-{uuid.uuid4().hex[:6]}"
    await sw.sim_post("/_sim/seed", {"shops": [{"id": other, "name": "Second shop"}]})
    code = (await sw.sim_post("/_sim/auth_codes", {"shop_ids": [other]}))["auth_code"]
    authorized = await sw.admin.post("/shops/authorize", json={"authCode": code})
    assert authorized.status_code == 200, authorized.text
    [state] = authorized.json()["webhooks"]
    assert (state["shopId"], state["address"], state["missing"]) == (other, sw.ingress_url, [])
    listed = (await sw.admin.get("/webhooks", params={"shopId": other})).json()["webhooks"]
    assert all(w["registered"] for w in listed["webhooks"])


async def test_registration_without_a_public_url_is_refused_clearly(
    services: dict[str, str],
) -> None:
    async with sim_worker(services) as bare:
        refused = await bare.admin.post("/webhooks/register")
        assert refused.status_code == 400
        assert "PUBLIC_WEBHOOK_URL" in refused.json()["error"]
        settings = (await bare.admin.get("/settings")).json()
        assert settings["webhooks"]["address"] is None
        assert settings["webhooks"]["missing"] == NEEDED


# --- seller decisions -------------------------------------------------------------------------


async def test_a_buyers_cancellation_request_is_listed_with_its_deadline_and_approved(
    registered: SimWorker,
) -> None:
    sw = registered
    external = await seed(sw, status="AWAITING_SHIPMENT")
    await pull(sw)
    asked = await sw.sim_post(f"/_sim/orders/{external}/cancellation_request", {})
    cancel_id = asked["cancellation"]["cancel_id"]
    deadline = asked["cancellation"]["seller_next_action_response"][0]["deadline"]

    order = await known(sw, external, lambda o: any(r.awaiting_seller for r in o.reverse_requests))
    [request] = order.reverse_requests
    assert (request.kind, request.id, request.status) == (
        "cancellation",
        cancel_id,
        "CANCELLATION_REQUEST_PENDING",
    )
    assert request.next_action == "SELLER_RESPOND_BUYER_CANCEL"
    assert int(request.deadline.timestamp()) == deadline
    listed = (await sw.admin.get(f"/orders/{order.id}")).json()["order"]["reverseRequests"]
    assert listed[0]["awaitingSeller"] is True
    assert listed[0]["deadline"]

    reasons = (await sw.admin.get(f"/orders/{order.id}/reject-reasons")).json()["reasons"]
    assert {r["name"] for r in reasons} >= {"reverse_reject_request_reason_buyer_agreed_to_keep"}

    async with TopicReader(
        sw.worker.settings.kafka_bootstrap_servers, sw.worker.settings.topic_events
    ) as events:
        approved = await sw.admin.post(f"/orders/{order.id}/cancellation/approve")
        assert approved.status_code == 200, approved.text
        body = approved.json()["order"]
        assert body["reverseRequests"][0]["awaitingSeller"] is False
        assert body["reverseRequests"][0]["status"] == "CANCELLATION_REQUEST_SUCCESS"
        [event] = await events.wait_for(
            lambda e: e["type"] == "tiktok.cancellation.approved" and e["order"]["id"] == order.id
        )
        assert event["requestId"] == cancel_id
    on_tiktok = (await sw.sim.get(f"/_sim/cancellations/{cancel_id}")).json()
    assert on_tiktok["cancellation"]["cancel_status"] == "CANCELLATION_REQUEST_SUCCESS"
    # TikTok cancels the order; its webhook brings the status.
    await known(sw, external, lambda o: o.status == "cancelled")

    # TikTok's refusal comes back with TikTok's code and nothing is written.
    again = await sw.admin.post(
        f"/orders/{order.id}/cancellation/approve", json={"requestId": cancel_id}
    )
    assert again.status_code == 400  # decided already: refused before calling TikTok
    assert "nothing to decide" in again.json()["error"]


async def test_tiktok_refusals_carry_tiktoks_code_and_write_nothing(
    registered: SimWorker,
) -> None:
    sw = registered
    # The buyer's remorse hour: TikTok refuses to ship an ON_HOLD order.
    held = await seed(sw, status="ON_HOLD")
    await pull(sw)
    order = await stored(sw, held)
    refused = await sw.admin.post(
        f"/orders/{order.id}/ship", json={"trackingNumber": "1Z1", "carrier": "UPS"}
    )
    assert refused.status_code == 502, refused.text
    assert refused.json()["tiktokCode"] == 21011002
    assert "21011002" in refused.json()["error"]
    assert (await stored(sw, held)).tracking_number is None

    # A request TikTok approved by itself while our copy still says pending.
    external = await seed(sw, status="AWAITING_SHIPMENT")
    await pull(sw)
    await sw.sim.put(f"/_sim/shops/{sw.shop}/webhook", json={"url": None})
    try:
        asked = await sw.sim_post(f"/_sim/orders/{external}/cancellation_request", {})
        await pull(sw)  # learns of the pending request (no webhook now)
        cancel_id = asked["cancellation"]["cancel_id"]
        api = (await sw.sim.get(f"/_sim/cancellations/{cancel_id}")).json()
        assert api["cancellation"]["cancel_status"] == "CANCELLATION_REQUEST_PENDING"
        # Approved on TikTok behind the service's back (in Seller Center, say).
        await sw.worker.tiktok.approve_cancellation(sw.shop, cancel_id, idempotency_key="elsewhere")
        order = await stored(sw, external)
        refused = await sw.admin.post(f"/orders/{order.id}/cancellation/approve")
        assert refused.status_code == 502, refused.text
        assert refused.json()["tiktokCode"] == 25001001
        unchanged = await stored(sw, external)
        assert unchanged == order

        # An order cancelled on TikTok while our copy says it is not: TikTok's code comes back.
        other = await seed(sw, status="AWAITING_SHIPMENT")
        await pull(sw)
        await sw.worker.tiktok.cancel_order(sw.shop, other, "seller_cancel_reason_out_of_stock")
        stale = await stored(sw, other)
        assert stale.status == "confirmed"
        again = await sw.admin.post(
            f"/orders/{stale.id}/cancel", json={"reason": "seller_cancel_reason_out_of_stock"}
        )
        assert again.status_code == 502, again.text
        assert again.json()["tiktokCode"] == 25001002
        assert await stored(sw, other) == stale
    finally:
        await sw.sim.put(f"/_sim/shops/{sw.shop}/webhook", json={"url": sw.ingress_url})


async def test_bad_input_is_refused_before_tiktok_is_called(registered: SimWorker) -> None:
    sw = registered
    external = await seed(sw, status="AWAITING_SHIPMENT")
    await pull(sw)
    order = await stored(sw, external)
    await sw.sim.delete("/_sim/requests")
    cases = [
        ("/ship", {"trackingNumber": "1Z1"}),  # no carrier
        ("/ship", {"trackingNumber": "", "carrier": "UPS"}),
        ("/ship", {"trackingNumber": "1Z1", "carrier": "UPS", "shippingProviderId": "6617"}),
        ("/cancellation/approve", {}),  # no open request
        ("/cancellation/reject", {"reason": ""}),
        ("/return/approve", {}),
        ("/cancel", {}),
    ]
    for path, body in cases:
        answer = await sw.admin.post(f"/orders/{order.id}{path}", json=body)
        assert answer.status_code == 400, (path, answer.text)
        assert answer.json()["code"] == "validation_failed"
    missing = await sw.admin.post("/orders/no-such-order/cancel", json={"reason": "x"})
    assert missing.status_code == 404
    writes = [
        c
        for c in (await sw.sim.get("/_sim/requests")).json()["requests"]
        if c["method"] != "GET" and "search" not in c["path"]
    ]
    assert writes == []
    assert await stored(sw, external) == order


async def test_the_seller_rejects_a_cancellation_with_tiktoks_reason(
    registered: SimWorker,
) -> None:
    sw = registered
    external = await seed(sw, status="AWAITING_SHIPMENT")
    await pull(sw)
    asked = await sw.sim_post(f"/_sim/orders/{external}/cancellation_request", {})
    cancel_id = asked["cancellation"]["cancel_id"]
    order = await known(sw, external, lambda o: any(r.awaiting_seller for r in o.reverse_requests))

    wrong = await sw.admin.post(
        f"/orders/{order.id}/cancellation/reject", json={"reason": "because"}
    )
    assert wrong.status_code == 502
    assert wrong.json()["tiktokCode"] == 25001004
    rejected = await sw.admin.post(
        f"/orders/{order.id}/cancellation/reject",
        json={"reason": "reverse_reject_request_reason_buyer_agreed_to_keep", "comment": "ok"},
    )
    assert rejected.status_code == 200, rejected.text
    on_tiktok = (await sw.sim.get(f"/_sim/cancellations/{cancel_id}")).json()
    assert on_tiktok["cancellation"]["cancel_status"] == "CANCELLATION_REQUEST_CANCEL"
    final = await known(
        sw,
        external,
        lambda o: status_of(o, "cancellation") == "CANCELLATION_REQUEST_CANCEL",
    )
    assert final.status == "confirmed"
    assert final.reverse_requests[0].awaiting_seller is False


async def test_returns_are_approved_and_rejected_by_their_state(registered: SimWorker) -> None:
    sw = registered
    refund = await seed(sw, status="IN_TRANSIT")
    ret = await seed(sw, status="DELIVERED")
    await pull(sw)
    await sw.sim_post(f"/_sim/orders/{refund}/return_request", {"return_type": "REFUND"})
    asked = await sw.sim_post(
        f"/_sim/orders/{ret}/return_request", {"return_type": "RETURN_AND_REFUND"}
    )
    return_id = asked["return"]["return_id"]
    refund_order = await known(
        sw, refund, lambda o: any(r.awaiting_seller for r in o.reverse_requests)
    )
    return_order = await known(
        sw, ret, lambda o: any(r.awaiting_seller for r in o.reverse_requests)
    )
    [pending] = [r for r in return_order.reverse_requests if r.kind == "return"]
    assert pending.deadline is not None

    rejected = await sw.admin.post(
        f"/orders/{refund_order.id}/return/reject",
        json={"reason": "reverse_reject_request_reason_no_evidence"},
    )
    assert rejected.status_code == 200, rejected.text
    await known(sw, refund, lambda o: status_of(o, "return") == "REFUND_OR_RETURN_REQUEST_REJECT")

    approved = await sw.admin.post(f"/orders/{return_order.id}/return/approve")
    assert approved.status_code == 200, approved.text
    [decided] = [r for r in approved.json()["order"]["reverseRequests"] if r["kind"] == "return"]
    assert (decided["status"], decided["awaitingSeller"]) == ("AWAITING_BUYER_SHIP", False)
    await known(sw, ret, lambda o: status_of(o, "return") == "AWAITING_BUYER_SHIP")

    # The buyer sends the items back: the seller checks the package and approves it.
    await sw.sim_post(f"/_sim/returns/{return_id}/buyer_shipped", {"arrived": True})
    waiting = await known(
        sw,
        ret,
        lambda o: (
            any(r.kind == "return" and r.awaiting_seller for r in o.reverse_requests)
            and any(r.rma_status == "PENDING_PACKAGE_REVIEW" for r in o.reverse_requests)
        ),
    )
    [aftersales] = [r for r in waiting.reverse_requests if r.kind == "aftersales"]
    assert aftersales.rma_id
    received = await sw.admin.post(f"/orders/{return_order.id}/return/approve")
    assert received.status_code == 200, received.text
    on_tiktok = (await sw.sim.get(f"/_sim/returns/{return_id}")).json()["return"]
    assert on_tiktok["return_status"] == "RETURN_OR_REFUND_REQUEST_SUCCESS"


async def test_refund_success_is_recorded_once_and_announced(registered: SimWorker) -> None:
    sw = registered
    external = await seed(sw, status="IN_TRANSIT")
    await pull(sw)
    asked = await sw.sim_post(f"/_sim/orders/{external}/return_request", {"return_type": "REFUND"})
    aftersales_id = asked["aftersales_request_id"]
    order = await known(sw, external, lambda o: any(r.awaiting_seller for r in o.reverse_requests))
    async with TopicReader(
        sw.worker.settings.kafka_bootstrap_servers, sw.worker.settings.topic_events
    ) as events:
        assert (await sw.admin.post(f"/orders/{order.id}/return/approve")).status_code == 200
        await sw.sim_post("/_sim/clock", {"advance": 60 * 11})  # the refund is paid
        await sw.sim_post("/_sim/clock", {"offset": 0})
        refunded = await events.wait_for(
            lambda e: e["type"] == "tiktok.refund.succeeded" and e["order"]["id"] == order.id
        )
    assert refunded[0]["requestId"] == aftersales_id
    assert refunded[0]["amount"] == 2000
    assert refunded[0]["currency"] == "USD"
    final = await known(sw, external, lambda o: o.status == "refunded")
    entry = next(r for r in final.reverse_requests if r.kind == "aftersales")
    assert entry.refunded_at is not None
    assert entry.refund_total == 2000


async def test_the_seller_cancels_an_order_with_one_of_tiktoks_reasons(
    registered: SimWorker,
) -> None:
    sw = registered
    external = await seed(sw, status="AWAITING_SHIPMENT")
    await pull(sw)
    order = await stored(sw, external)
    reasons = (await sw.admin.get(f"/orders/{order.id}/cancel-reasons")).json()["reasons"]
    names = [r["name"] for r in reasons]
    assert "seller_cancel_reason_out_of_stock" in names

    wrong = await sw.admin.post(f"/orders/{order.id}/cancel", json={"reason": "bored"})
    assert wrong.status_code == 502
    assert wrong.json()["tiktokCode"] == 25001003
    async with TopicReader(
        sw.worker.settings.kafka_bootstrap_servers, sw.worker.settings.topic_events
    ) as events:
        cancelled = await sw.admin.post(
            f"/orders/{order.id}/cancel", json={"reason": "seller_cancel_reason_out_of_stock"}
        )
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["order"]["status"] == "cancelled"
        await events.wait_for(
            lambda e: e["type"] == "tiktok.order.cancelled" and e["order"]["id"] == order.id
        )
    assert (await sw.sim.get(f"/_sim/orders/{external}")).json()["order"]["status"] == "CANCELLED"
    # Recorded at once from TikTok's answer; TikTok's own webhook then adds when it was made.
    answered = cancelled.json()["order"]["reverseRequests"]
    assert [(r["kind"], r["status"]) for r in answered] == [
        ("cancellation", "CANCELLATION_REQUEST_SUCCESS")
    ]
    told = await known(
        sw,
        external,
        lambda o: any(r.kind == "cancellation" and r.created_at for r in o.reverse_requests),
    )
    assert status_of(told, "cancellation") == "CANCELLATION_REQUEST_SUCCESS"
    again = await sw.admin.post(
        f"/orders/{order.id}/cancel", json={"reason": "seller_cancel_reason_out_of_stock"}
    )
    assert again.status_code == 400


async def test_shipping_names_a_carrier_from_tiktoks_providers(registered: SimWorker) -> None:
    sw = registered
    external = await seed(sw, status="AWAITING_SHIPMENT")
    await pull(sw)
    order = await stored(sw, external)
    providers = (await sw.admin.get(f"/orders/{order.id}/shipping-providers")).json()
    names = {p["name"]: p["id"] for p in providers["providers"]}
    assert {"USPS", "UPS", "FedEx"} <= names.keys()

    unknown = await sw.admin.post(
        f"/orders/{order.id}/ship", json={"trackingNumber": "1Z1", "carrier": "Pony Express"}
    )
    assert unknown.status_code == 400
    assert "UPS" in unknown.json()["error"]  # says what to choose from

    shipped = await sw.admin.post(
        f"/orders/{order.id}/ship",
        json={"trackingNumber": "1Z999", "carrier": "United Parcel Service"},  # mapped
    )
    assert shipped.status_code == 200, shipped.text
    assert shipped.json()["order"]["status"] == "shipped"
    assert shipped.json()["order"]["trackingNumber"] == "1Z999"
    on_tiktok = (await sw.sim.get(f"/_sim/orders/{external}")).json()["order"]
    assert on_tiktok["tracking_number"] == "1Z999"
    assert on_tiktok["shipping_provider_id"] == names["UPS"]


async def test_fees_come_from_tiktoks_settlement_once_settled(registered: SimWorker) -> None:
    sw = registered
    long_ago = int(time.time()) - 12 * 86400
    settled = await seed(sw, status="DELIVERED", create_time=long_ago - 86400, update_time=long_ago)
    recent = await seed(sw, status="DELIVERED")
    # Delivered long before the last watermark: a full pull brings it in.
    assert (await sw.admin.post("/orders/sync")).status_code == 200
    run = await pull(sw)
    assert run["feesSettled"] >= 1
    order = await stored(sw, settled)
    assert order.fees_settled is True
    # 20.00 of goods: 6 % commission and 2.9 % transaction fee.
    assert order.platform_fee == 178
    assert order.net_amount == order.total - 178
    pending = await stored(sw, recent)
    assert (pending.fees_settled, pending.platform_fee, pending.net_amount) == (False, 0, None)

    stats = (await sw.admin.get("/stats")).json()["stats"]
    [usd] = [m for m in stats["moneyByCurrency"] if m["currency"] == "USD"]
    assert usd["fees"] >= 178
    assert usd["net"] == usd["gross"] - usd["fees"]
