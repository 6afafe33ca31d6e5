"""Orders, syncs, stats and settings, each run over Kafka request/reply and over HTTP."""

from datetime import timedelta

import pytest

from contracts import commands as c
from contracts.replies import ErrorReply
from service.bootstrap import Worker
from service.settings import Settings
from tests import factories
from tests.admin_api import AdminApi
from tests.e2e.test_admin_listings import ok
from tests.kafka_tools import events_on
from tests.support import events_published, fresh, store

pytestmark = pytest.mark.integration


async def test_orders_page_filter_and_get(api: AdminApi, shop: str, worker: Worker) -> None:
    base = factories.order(shop).created_at
    seeded = [
        factories.order(shop, status=s, created_at=base + timedelta(seconds=n))
        for n, s in enumerate(["pending", "pending", "shipped", "cancelled", "pending"])
    ]
    for o in seeded:
        await store(worker, o)

    first = await ok(api, c.ListOrders(shop_id=shop, limit=2))
    assert first.total == 5
    assert [o.id for o in first.orders] == [seeded[4].id, seeded[3].id]  # newest first
    pending = await ok(api, c.ListOrders(shop_id=shop, status="pending", page=2, limit=2))
    assert (pending.total, [o.id for o in pending.orders]) == (3, [seeded[0].id])

    got = await ok(api, c.GetOrder(shop_id=shop, id=seeded[2].id))
    assert got.order == seeded[2]
    missing = await api.call(c.GetOrder(shop_id=shop, id="nope"))
    assert isinstance(missing, ErrorReply)
    assert (missing.code, missing.message) == ("not_found", "Order not found")


async def test_shipping_an_order_sets_tracking_and_emits_one_shipped_event(
    api: AdminApi, shop: str, worker: Worker, settings: Settings
) -> None:
    order = factories.order(shop, status="confirmed")
    await store(worker, order)
    shipped = await ok(
        api,
        c.UpdateOrderStatus(
            shop_id=shop,
            id=order.id,
            status="shipped",
            tracking_number="1Z999",
            tracking_url="https://track.example/1Z999",
        ),
    )
    assert (shipped.order.status, shipped.order.tracking_number) == ("shipped", "1Z999")
    assert shipped.order.tracking_url == "https://track.example/1Z999"
    stored = await fresh(worker).orders.get(shop, order.id)
    assert stored == shipped.order

    # Setting the same status again changes nothing and emits nothing new.
    await ok(api, c.UpdateOrderStatus(shop_id=shop, id=order.id, status="shipped"))
    # The relay has published (and cleared) what the document held: the topic, read to its
    # end, holds every event about the order.
    await events_published(worker, ("orders", order.id))
    events = await events_on(settings, lambda e: e.get("order", {}).get("id") == order.id)
    assert [e["type"] for e in events] == ["tiktok.order.shipped"]
    assert events[0]["order"]["trackingNumber"] == "1Z999"


async def test_unknown_order_status_update_is_not_found(api: AdminApi, shop: str) -> None:
    reply = await api.call(c.UpdateOrderStatus(shop_id=shop, id="nope", status="shipped"))
    assert isinstance(reply, ErrorReply)
    assert reply.code == "not_found"


async def test_stats_leave_cancelled_and_refunded_out_of_revenue(
    api: AdminApi, shop: str, worker: Worker
) -> None:
    for status, total in [
        ("pending", 1000),
        ("confirmed", 2000),
        ("shipped", 3000),
        ("delivered", 4000),
        ("cancelled", 50000),
        ("refunded", 60000),
    ]:
        await store(worker, factories.order(shop, status=status, total=total))
    for n, status in enumerate(["active", "active", "pending", "draft"]):
        reply = await ok(api, c.CreateListing(shop_id=shop, local_product_id=f"p{n}", title="x"))
        await ok(api, c.UpdateListing(shop_id=shop, id=reply.listing.id, status=status))

    stats = (await ok(api, c.GetStats(shop_id=shop))).stats
    assert stats.total_revenue == 1000 + 2000 + 3000 + 4000
    assert stats.currency == "USD"
    assert (stats.total_orders, stats.pending_orders, stats.shipped_orders) == (6, 1, 1)
    assert (stats.delivered_orders, stats.cancelled_orders) == (1, 1)
    assert (stats.total_listings, stats.active_listings, stats.pending_listings) == (4, 2, 1)
    assert stats.failed_listings == 0


async def test_stats_of_a_shop_selling_in_two_currencies_give_the_revenue_of_each(
    api: AdminApi, shop: str, worker: Worker
) -> None:
    for status, total, currency in [
        ("confirmed", 1000, "USD"),
        ("delivered", 2500, "USD"),
        ("cancelled", 90000, "USD"),
        ("shipped", 4000, "EUR"),
        ("pending", 500, "EUR"),
        ("refunded", 70000, "EUR"),
        ("delivered", 250, "JPY"),
    ]:
        await store(worker, factories.order(shop, status=status, total=total, currency=currency))

    stats = (await ok(api, c.GetStats(shop_id=shop))).stats
    # Never a sum across currencies: each has its own figure, cancelled and refunded left out.
    assert [(r.currency, r.amount) for r in stats.revenue_by_currency] == [
        ("EUR", 4500),
        ("JPY", 250),
        ("USD", 3500),
    ]
    # The headline figure is the currency that earned most, named beside it.
    assert (stats.total_revenue, stats.currency) == (4500, "EUR")
    assert stats.total_orders == 7


async def test_stats_gross_is_the_order_totals_and_refunds_are_shown_on_their_own(
    api: AdminApi, shop: str, worker: Worker
) -> None:
    # A partly refunded order, a settled one, one in progress; a cancelled one left out.
    await store(
        worker,
        factories.order(shop, status="delivered", total=2500, platform_fee=0, refunded_amount=1000),
        factories.order(
            shop,
            status="delivered",
            total=4000,
            platform_fee=300,
            net_amount=3600,
            fees_settled=True,
        ),
        factories.order(shop, status="shipped", total=1000, platform_fee=100),
        factories.order(shop, status="cancelled", total=9000, platform_fee=0),
    )

    stats = (await ok(api, c.GetStats(shop_id=shop))).stats
    [usd] = stats.money_by_currency
    assert (usd.currency, usd.gross, usd.fees) == ("USD", 2500 + 4000 + 1000, 400)
    assert usd.refunds == 1000
    # TikTok's settlement when settled, else the total less what was refunded and the fee.
    assert usd.net == (2500 - 1000 - 0) + 3600 + (1000 - 100)
    # Revenue is what stayed with the seller: gross less refunds.
    assert stats.total_revenue == usd.gross - usd.refunds == 6500
    assert [(r.currency, r.amount) for r in stats.revenue_by_currency] == [("USD", 6500)]


async def test_stats_of_an_empty_shop_are_zero(api: AdminApi, shop: str) -> None:
    stats = (await ok(api, c.GetStats(shop_id=shop))).stats
    assert (stats.total_listings, stats.total_orders, stats.total_revenue) == (0, 0, 0)


async def test_without_credentials_syncs_do_nothing_and_catalog_sync_is_pending(
    api: AdminApi, shop: str
) -> None:
    await ok(api, c.CreateListing(shop_id=shop, local_product_id="p", title="x"))
    assert (await ok(api, c.SyncProducts(shop_id=shop))).synced == 0
    assert (await ok(api, c.SyncOrders(shop_id=shop))).synced == 0
    assert (await ok(api, c.GetLastSync(shop_id=shop))).sync is None

    first = (await ok(api, c.StartCatalogSync(shop_id=shop))).sync
    second = (await ok(api, c.StartCatalogSync(shop_id=shop))).sync
    assert first.status == second.status == "pending"
    last = (await ok(api, c.GetLastSync(shop_id=shop))).sync
    assert last is not None
    assert last.id == second.id
    syncs = await ok(api, c.ListSyncs(shop_id=shop, limit=1))
    assert (syncs.total, [s.id for s in syncs.syncs]) == (2, [second.id])


async def test_settings_without_credentials(api: AdminApi) -> None:
    reply = await ok(api, c.GetSettings())
    assert reply.status == "not_configured"
    assert (reply.configured, reply.app_key, reply.sandbox) == (False, None, True)
