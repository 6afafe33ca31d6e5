"""The Event API and webhook delivery: each type only where it was registered, signed, retried,
and troubled on demand (lost, doubled, late)."""

import json

import pytest
from tiktok_shop_api import AsyncTikTokShop, Webhooks
from tiktok_shop_api.generated.models import (
    DeleteWebhookForAnEventRequest,
    UpdateShopWebhookRequest,
)

from service.adapters.tiktok.signing import verify_webhook_signature
from tests.integration.tiktok.sim_api import (
    Inbox,
    SignedApi,
    advance,
    seed_order,
    settled_deliveries,
)
from tests.integration.tiktok.sim_support import APP_KEY, APP_SECRET, SeededShop, SimControl

PATH = "/event/202309/webhooks"


async def test_register_list_and_delete_per_event_type(api: SignedApi, inbox: Inbox) -> None:
    assert await api.ok("GET", PATH) == {"webhooks": [], "total_count": 0}

    await api.ok(
        "PUT", PATH, body={"address": inbox.url("orders"), "event_type": "ORDER_STATUS_CHANGE"}
    )
    await api.ok(
        "PUT",
        PATH,
        body={"address": inbox.url("returns"), "event_type": "RETURN_STATUS_CHANGE"},
    )
    listed = await api.ok("GET", PATH)
    assert listed["total_count"] == 2
    by_type = {w["event_type"]: w for w in listed["webhooks"]}
    assert by_type["ORDER_STATUS_CHANGE"]["address"] == inbox.url("orders")
    assert by_type["RETURN_STATUS_CHANGE"]["address"] == inbox.url("returns")
    created = by_type["ORDER_STATUS_CHANGE"]["create_time"]
    assert created > 1_600_000_000_000  # milliseconds, as TikTok answers them

    # Moving an address keeps its creation time and moves the update time.
    await api.ok(
        "PUT", PATH, body={"address": inbox.url("moved"), "event_type": "ORDER_STATUS_CHANGE"}
    )
    moved = {w["event_type"]: w for w in (await api.ok("GET", PATH))["webhooks"]}
    assert moved["ORDER_STATUS_CHANGE"]["address"] == inbox.url("moved")
    assert moved["ORDER_STATUS_CHANGE"]["create_time"] == created
    assert moved["ORDER_STATUS_CHANGE"]["update_time"] >= created

    await api.ok("DELETE", PATH, body={"event_type": "RETURN_STATUS_CHANGE"})
    left = await api.ok("GET", PATH)
    assert [w["event_type"] for w in left["webhooks"]] == ["ORDER_STATUS_CHANGE"]

    again = await api.call("DELETE", PATH, body={"event_type": "RETURN_STATUS_CHANGE"})
    assert (again.status, again.code) == (200, 35001001)


@pytest.mark.parametrize(
    ("body", "wrong"),
    [
        ({"event_type": "ORDER_STATUS_CHANGE"}, "address is required"),
        ({"address": "ftp://example.com/hook", "event_type": "ORDER_STATUS_CHANGE"}, "http"),
        ({"address": "https://", "event_type": "ORDER_STATUS_CHANGE"}, "http"),
        (
            {"address": "https://x.example/" + "a" * 240, "event_type": "ORDER_STATUS_CHANGE"},
            "255",
        ),
        ({"address": "https://x.example/hook"}, "event_type is required"),
        ({"address": "https://x.example/hook", "event_type": "ORDER_STATUS"}, "unknown"),
        # Newer types have no Event API name: they are set in Partner Center.
        ({"address": "https://x.example/hook", "event_type": "REFUND_SUCCESS"}, "unknown"),
    ],
)
async def test_put_refuses_bad_bodies(api: SignedApi, body: dict[str, str], wrong: str) -> None:
    answer = await api.call("PUT", PATH, body=body)
    assert (answer.status, answer.code) == (400, 40006)
    assert wrong in answer.body["message"]
    assert (await api.ok("GET", PATH))["total_count"] == 0


async def test_delete_refuses_an_unknown_event_type(api: SignedApi) -> None:
    answer = await api.call("DELETE", PATH, body={"event_type": "NOPE"})
    assert (answer.status, answer.code) == (400, 40006)


async def test_the_independent_client_reads_and_writes_webhooks(
    sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    async with AsyncTikTokShop(
        APP_KEY, APP_SECRET, shop.access_token, shop.ref.cipher, base_url=sim.url
    ) as other:
        await other.event.update_shop_webhook(
            body=UpdateShopWebhookRequest.from_dict(
                {"address": inbox.url("x"), "event_type": "PACKAGE_UPDATE"}
            )
        )
        listed = await other.event.get_shop_webhooks()
        assert listed is not None
        assert listed.to_dict()["data"]["webhooks"][0]["event_type"] == "PACKAGE_UPDATE"
        await other.event.delete_webhook_for_an_event(
            body=DeleteWebhookForAnEventRequest.from_dict({"event_type": "PACKAGE_UPDATE"})
        )
        empty = await other.event.get_shop_webhooks()
        assert empty is not None
        assert empty.to_dict()["data"]["total_count"] == 0


async def test_each_type_goes_only_to_its_own_address(
    api: SignedApi, sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    await api.ok(
        "PUT", PATH, body={"address": inbox.url("orders"), "event_type": "ORDER_STATUS_CHANGE"}
    )
    await api.ok(
        "PUT",
        PATH,
        body={"address": inbox.url("cancels"), "event_type": "CANCELLATION_STATUS_CHANGE"},
    )
    order_id = await seed_order(sim, shop)
    await sim.call("POST", f"/orders/{order_id}/cancellation_request", {})
    found = await api.ok("POST", "/return_refund/202602/cancellations/search", body={})
    cancel_id = found["cancellations"][0]["cancel_id"]
    await api.ok("POST", f"/return_refund/202309/cancellations/{cancel_id}/approve")
    await sim.call("POST", "/webhooks", {"type": 4, "shop_id": shop.ref.shop_id, "data": {}})

    deliveries = await settled_deliveries(sim, shop.ref.shop_id)
    assert [n["type"] for n in inbox.at("orders")] == [1]  # the order became CANCELLED
    assert [n["data"]["cancel_status"] for n in inbox.at("cancels")] == [
        "CANCELLATION_REQUEST_PENDING",
        "CANCELLATION_REQUEST_SUCCESS",
    ]
    # PACKAGE_UPDATE was not registered: nobody got it.
    assert [(d["type"], d["outcome"]) for d in deliveries if d["type"] == 4] == [
        (4, "no_subscription")
    ]
    assert len(inbox.received) == 3
    for received in inbox.received:
        signature = received.headers["authorization"]
        assert verify_webhook_signature(APP_KEY, APP_SECRET, received.body, signature)
        assert Webhooks.verify(
            app_key=APP_KEY, app_secret=APP_SECRET, raw_body=received.body, signature=signature
        )


async def test_the_shortcut_registers_every_type(
    api: SignedApi, sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    await sim.call("PUT", f"/shops/{shop.ref.shop_id}/webhook", {"url": inbox.url("all")})
    listed = await api.ok("GET", PATH)
    assert listed["total_count"] == 17  # every name of the Event API
    # Types without an Event API name go to the same (Partner Center) address.
    await sim.call("POST", "/webhooks", {"type": 64, "shop_id": shop.ref.shop_id, "data": {"x": 1}})
    await sim.call(
        "POST", "/webhooks", {"type": 88, "shop_id": shop.ref.shop_id, "data": {"new": True}}
    )
    await inbox.wait_for(lambda: len(inbox.at("all")) == 2, "both pushes")
    assert [n["type"] for n in inbox.at("all")] == [64, 88]

    await sim.call("PUT", f"/shops/{shop.ref.shop_id}/webhook", {"url": None})
    assert (await api.ok("GET", PATH))["total_count"] == 0


async def test_failed_deliveries_are_retried_on_tiktoks_schedule(
    api: SignedApi, sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    await api.ok(
        "PUT", PATH, body={"address": inbox.url("fail"), "event_type": "ORDER_STATUS_CHANGE"}
    )
    order_id = await seed_order(sim, shop)
    await sim.call("POST", f"/orders/{order_id}/status", {"status": "IN_TRANSIT"})
    await settled_deliveries(sim)
    assert len(inbox.at("fail")) == 1

    await advance(sim, 119)
    assert len(inbox.at("fail")) == 1  # not yet: the first retry comes after 2 minutes
    await advance(sim, 2)
    await settled_deliveries(sim)
    await advance(sim, 1800)
    await settled_deliveries(sim)
    await advance(sim, 3 * 3600)
    await settled_deliveries(sim)
    await advance(sim, 12 * 3600)
    await settled_deliveries(sim)
    await advance(sim, 48 * 3600)  # and then TikTok gives up
    deliveries = await settled_deliveries(sim)

    attempts = inbox.at("fail")
    assert len(attempts) == 5
    assert len({a["tts_notification_id"] for a in attempts}) == 1  # the same notification
    assert [d["attempt"] for d in deliveries] == [1, 2, 3, 4, 5]
    assert all(d["outcome"] == "failed" and d["status_code"] == 503 for d in deliveries)


async def test_lost_webhooks_are_counted(sim: SimControl, shop: SeededShop, inbox: Inbox) -> None:
    await sim.call("PUT", f"/shops/{shop.ref.shop_id}/webhook", {"url": inbox.url("lossy")})
    await sim.faults(webhook_drop_rate=0.5)
    for n in range(40):
        await sim.call(
            "POST", "/webhooks", {"type": 99, "shop_id": shop.ref.shop_id, "data": {"n": n}}
        )
    deliveries = await settled_deliveries(sim)
    faults = await sim.call("GET", "/faults")
    dropped = faults["webhooks_dropped"]
    assert 5 < dropped < 35  # seeded dice: about half
    assert len(inbox.at("lossy")) == 40 - dropped
    assert sum(d["outcome"] == "dropped" for d in deliveries) == dropped

    await sim.call("DELETE", "/faults")
    assert (await sim.call("GET", "/faults"))["webhooks_dropped"] == 0


async def test_doubled_and_late_webhooks_arrive_out_of_order(
    sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    await sim.call("PUT", f"/shops/{shop.ref.shop_id}/webhook", {"url": inbox.url("messy")})
    await sim.faults(webhook_duplicate_rate=0.3, webhook_delay_rate=0.3, webhook_delay_ms=150)
    for n in range(30):
        await sim.call(
            "POST", "/webhooks", {"type": 99, "shop_id": shop.ref.shop_id, "data": {"n": n}}
        )
    await settled_deliveries(sim)
    faults = await sim.call("GET", "/faults")
    assert faults["webhooks_duplicated"] > 0
    assert faults["webhooks_delayed"] > 0
    got = [n["data"]["n"] for n in inbox.at("messy")]
    assert len(got) == 30 + faults["webhooks_duplicated"]
    assert sorted(set(got)) == list(range(30))
    assert got != sorted(got)  # some arrived after later ones
    ids = [n["tts_notification_id"] for n in inbox.at("messy")]
    assert len(set(ids)) == 30  # a duplicate is the same notification again


async def test_deliveries_follow_the_order_they_were_made(
    sim: SimControl, shop: SeededShop, inbox: Inbox
) -> None:
    await sim.call("PUT", f"/shops/{shop.ref.shop_id}/webhook", {"url": inbox.url("line")})
    for n in range(20):
        await sim.call(
            "POST", "/webhooks", {"type": 99, "shop_id": shop.ref.shop_id, "data": {"n": n}}
        )
    await inbox.wait_for(lambda: len(inbox.at("line")) == 20, "twenty pushes")
    assert [n["data"]["n"] for n in inbox.at("line")] == list(range(20))
    raw = inbox.received[0].body
    assert json.loads(raw)["shop_id"] == shop.ref.shop_id
