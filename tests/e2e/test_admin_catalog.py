"""The catalog commands over Kafka request/reply and over HTTP, without TikTok credentials:
stock and price are stored for the push, bad input writes nothing, TikTok's reads say why not."""

from typing import Any

import pytest

from contracts import commands as c
from contracts.replies import ErrorReply
from tests.admin_api import AdminApi

pytestmark = pytest.mark.integration


async def ok(api: AdminApi, command: c.Command) -> Any:
    reply = await api.call(command)
    assert not isinstance(reply, ErrorReply), reply
    return reply


async def refused(api: AdminApi, command: c.Command) -> ErrorReply:
    reply = await api.call(command)
    assert isinstance(reply, ErrorReply), reply
    return reply


async def test_stock_and_price_by_hand_are_stored_and_bad_ones_write_nothing(
    api: AdminApi, shop: str
) -> None:
    created = await ok(
        api, c.CreateListing(shop_id=shop, local_product_id="sku-1", title="Mug", price=1299)
    )
    listing_id = created.listing.id

    unknown = await refused(
        api, c.SetStock(shop_id=shop, id=listing_id, warehouse_id="wh-elsewhere", quantity=3)
    )
    assert unknown.code == "validation_failed"
    assert [f.field for f in unknown.fields] == ["warehouseId"]
    assert "'wh-elsewhere' is not mapped" in unknown.message
    missing = await refused(
        api, c.SetStock(shop_id=shop, id="no-such", warehouse_id="wh-main", quantity=3)
    )
    assert missing.code == "not_found"
    got = await ok(api, c.GetListing(shop_id=shop, id=listing_id))
    assert (got.listing.stock, got.listing.stock_revision) == ([], 0)

    stocked = await ok(
        api, c.SetStock(shop_id=shop, id=listing_id, warehouse_id="wh-main", quantity=12)
    )
    assert [(s.warehouse_id, s.quantity) for s in stocked.listing.stock] == [
        ("7068517275539719942", 12)
    ]
    assert stocked.listing.stock_pending  # kept until a push carries it

    priced = await ok(api, c.SetPrice(shop_id=shop, id=listing_id, price=1499, currency="EUR"))
    assert (priced.listing.price, priced.listing.currency, priced.listing.price_revision) == (
        1499,
        "EUR",
        1,
    )


async def test_tiktok_s_catalog_reads_say_why_they_cannot_run(api: AdminApi, shop: str) -> None:
    for command in (
        c.ListWarehouses(shop_id=shop),
        c.ListCategories(shop_id=shop, keyword="mug"),
        c.GetCategoryAttributes(shop_id=shop, category_id="600001"),
    ):
        reply = await refused(api, command)
        assert reply.code == "conflict"  # the service's state forbids the call
        assert "credentials are not configured" in reply.message
