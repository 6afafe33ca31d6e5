"""The whole path: signed webhook over HTTP -> ingress -> Kafka -> worker -> database and events.

Both forms go through the ingress as their senders send them: TikTok's signed in the
`Authorization` header, the seed's signed in the `sign` query parameter (and so keyed and
routed to the default shop as the ingress does it).
"""

import random
import uuid
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from service.bootstrap import Worker
from service.entrypoints.ingress.app import ingress_app
from service.settings import Settings
from tests import senders
from tests.conftest import Outcomes, make_settings
from tests.kafka_tools import events_on
from tests.support import events_published, eventually, fresh, serve

pytestmark = pytest.mark.integration

KEY, SECRET = "flowkey", "flowsecret"


@pytest.fixture(scope="module")
async def ingress_url(services: dict[str, str], settings: Settings) -> AsyncIterator[str]:
    """An ingress publishing to the topic the session's worker consumes."""
    ingress_settings = make_settings(
        services,
        topic_webhooks=settings.topic_webhooks,
        tiktok_app_key=KEY,
        tiktok_app_secret=SECRET,
    )
    async with serve(ingress_app(ingress_settings)) as url, httpx.AsyncClient() as http:
        await eventually(lambda: _ready(http, url), timeout=30)
        yield url


async def _ready(http: httpx.AsyncClient, url: str) -> bool:
    return (await http.get(url + "/readyz")).status_code == 200


async def post_tiktok(url: str, body: dict[str, Any]) -> httpx.Response:
    return await senders.post_tiktok(url, KEY, SECRET, body)


async def post_seed(url: str, body: dict[str, Any]) -> httpx.Response:
    response = await senders.post_seed(url, SECRET, body)
    assert response.status_code == 200, response.text
    return response


def order_event(
    shop: str, order_id: str, status: str, when: int, nid: str | None = None
) -> dict[str, Any]:
    return {
        "type": 1,
        "tts_notification_id": nid or uuid.uuid4().hex,
        "shop_id": shop,
        "timestamp": when,
        "data": {
            "order_id": order_id,
            "order_status": status,
            "update_time": when,
            "is_on_hold_order": False,
        },
    }


async def test_a_signed_webhook_delivered_five_times_is_applied_once_with_one_of_each_event(
    ingress_url: str, worker: Worker, settings: Settings, shop: str, outcomes: Outcomes
) -> None:
    nid = "nid-" + shop
    body = order_event(shop, "5001", "AWAITING_SHIPMENT", 1_700_000_000, nid=nid)
    for _ in range(5):
        response = await post_tiktok(ingress_url, body)
        assert response.status_code == 200, response.text
        assert response.json() == {"received": True, "id": nid}

    async def answered() -> list[str]:
        return outcomes.of(nid)

    # The bus's own verdict on each delivery: applied once, then recognised four times.
    verdicts = await eventually(answered, until=lambda got: len(got) == 5)
    assert sorted(verdicts) == ["applied", "duplicate", "duplicate", "duplicate", "duplicate"]
    order = await fresh(worker).orders.get_by_external(shop, "5001")
    assert order is not None
    assert order.status == "confirmed"
    # Everything the deliveries wrote is published; the topic read to its end holds it all.
    await events_published(worker, ("orders", order.id), ("webhook_events", nid))
    events = await events_on(settings, lambda e: e["shopId"] == shop)
    assert sorted(e["type"] for e in events) == ["tiktok.order.received", "tiktok.webhook.received"]
    assert {e.get("notificationId") for e in events} == {None, nid}


async def test_shuffled_status_changes_end_in_the_newest(
    ingress_url: str, worker: Worker, shop: str, outcomes: Outcomes
) -> None:
    statuses = [
        "UNPAID",
        "ON_HOLD",
        "AWAITING_SHIPMENT",
        "AWAITING_COLLECTION",
        "IN_TRANSIT",
        "DELIVERED",
    ]
    bodies = [order_event(shop, "6001", s, 1_700_000_000 + 60 * n) for n, s in enumerate(statuses)]
    random.Random(11).shuffle(bodies)
    for body in bodies:
        assert (await post_tiktok(ingress_url, body)).status_code == 200

    async def answered() -> list[list[str]]:
        return [outcomes.of(b["tts_notification_id"]) for b in bodies]

    # Every delivery was applied (or knowingly left as older), none lost.
    verdicts = await eventually(answered, until=lambda got: all(got))
    assert verdicts == [["applied"]] * len(bodies)
    order = await fresh(worker).orders.get_by_external(shop, "6001")
    assert order is not None
    assert (order.status, order.external_status) == ("delivered", "DELIVERED")


async def test_seed_order_created_twice_is_one_order(
    ingress_url: str, worker: Worker, settings: Settings, outcomes: Outcomes
) -> None:
    external = f"seed-{uuid.uuid4().hex[:8]}"
    body = {
        "type": "order.created",
        "payload": {
            "externalOrderId": external,
            "status": "pending",
            "total": 12.5,
            "customerName": "Zoë",
        },
    }
    first = await post_seed(ingress_url, body)
    second = await post_seed(ingress_url, body)
    # The seed form has no id: the same body is the same notification.
    assert first.json()["id"] == second.json()["id"]
    # Another body naming the same order: another notification, the same order.
    third = await post_seed(
        ingress_url, {**body, "payload": {**body["payload"], "note": "sent again"}}
    )
    nid, other = first.json()["id"], third.json()["id"]
    assert nid != other
    await eventually(lambda: _answered(outcomes, nid, other), until=lambda got: got == (2, 1))
    assert sorted(outcomes.of(nid)) == ["applied", "duplicate"]
    assert outcomes.of(other) == ["applied"]
    shop = settings.default_shop_id
    order = await fresh(worker).orders.get_by_external(shop, external)
    assert order is not None
    assert (order.total, order.customer_name) == (1250, "Zoë")
    record = await worker.db.collection("webhook_events").find_one({"_id": other})
    assert record is not None
    assert record["outcome"] == f"order {order.id} already known"
    await events_published(worker, ("orders", order.id), ("webhook_events", nid))
    received = await events_on(
        settings,
        lambda e: e["type"] == "tiktok.order.received" and e["order"]["id"] == order.id,
    )
    assert len(received) == 1


async def _answered(outcomes: Outcomes, *nids: str) -> tuple[int, ...]:
    return tuple(len(outcomes.of(n)) for n in nids)


async def test_seed_order_shipped_and_cancelled_through_the_ingress(
    ingress_url: str, worker: Worker, settings: Settings, outcomes: Outcomes
) -> None:
    """The seed's `order.shipped` names our order id or TikTok's; `order.cancelled` too."""
    shop = settings.default_shop_id
    shipped_ext, cancelled_ext = (f"seed-{uuid.uuid4().hex[:8]}" for _ in range(2))
    for external in (shipped_ext, cancelled_ext):
        await post_seed(
            ingress_url,
            {
                "type": "order.created",
                "payload": {
                    "externalOrderId": external,
                    "status": "confirmed",
                    "items": [{"title": "Mug", "quantity": 2, "unitPrice": 9.99}],
                    "subtotal": 19.98,
                    "shippingFee": 4.5,
                    "total": 24.48,
                    "shippingAddress": {"line1": "1 Main St", "city": "Springfield"},
                },
            },
        )

    async def stored(external: str) -> Any:
        return await fresh(worker).orders.get_by_external(shop, external)

    order = await eventually(lambda: stored(shipped_ext))
    assert (order.subtotal, order.shipping_fee, order.total) == (1998, 450, 2448)
    assert order.shipping_address.city == "Springfield"
    await eventually(lambda: stored(cancelled_ext))

    shipped = await post_seed(
        ingress_url,
        {
            "type": "order.shipped",
            "payload": {
                "orderId": order.id,  # ours
                "trackingNumber": "TRK1",
                "trackingUrl": "https://t.example/TRK1",
            },
        },
    )
    cancelled = await post_seed(
        ingress_url,
        {"type": "order.cancelled", "payload": {"orderId": cancelled_ext}},  # TikTok's
    )
    for response in (shipped, cancelled):
        verdicts = await eventually(
            lambda r=response: _verdicts(outcomes, r.json()["id"]), until=bool
        )
        assert verdicts == ["applied"]
    after = await fresh(worker).orders.get(shop, order.id)
    assert after is not None
    assert (after.status, after.tracking_number, after.tracking_url) == (
        "shipped",
        "TRK1",
        "https://t.example/TRK1",
    )
    gone = await stored(cancelled_ext)
    assert gone.status == "cancelled"
    await events_published(worker, ("orders", order.id))
    shipped_events = await events_on(
        settings,
        lambda e: e["type"] == "tiktok.order.shipped" and e["order"]["id"] == order.id,
    )
    assert [e["order"]["trackingNumber"] for e in shipped_events] == ["TRK1"]


async def _verdicts(outcomes: Outcomes, nid: str) -> list[str]:
    return outcomes.of(nid)


async def test_a_seed_status_for_an_unknown_order_is_set_aside(
    ingress_url: str, worker: Worker, settings: Settings, outcomes: Outcomes
) -> None:
    missing = f"missing-{uuid.uuid4().hex[:8]}"
    response = await post_seed(
        ingress_url, {"type": "order.shipped", "payload": {"orderId": missing}}
    )
    nid = response.json()["id"]
    verdicts = await eventually(lambda: _verdicts(outcomes, nid), until=bool)
    assert verdicts == ["rejected"]
    [outcome] = [o for o in outcomes.seen if o.notification_id == nid]
    assert outcome.detail == f"rejected: order {missing} is not known"
    # No order was made for it.
    assert await fresh(worker).orders.get_by_external(settings.default_shop_id, missing) is None
