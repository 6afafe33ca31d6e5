"""Listing operations, each run over Kafka request/reply and over HTTP."""

from typing import Any

import pytest
from pymongo import AsyncMongoClient

from contracts import commands as c
from contracts import replies as r
from contracts.replies import ErrorReply
from service.settings import Settings
from tests.admin_api import AdminApi

pytestmark = pytest.mark.integration


async def ok(api: AdminApi, command: c.Command) -> Any:
    reply = await api.call(command)
    assert not isinstance(reply, ErrorReply), reply
    return reply


async def test_create_get_update_delete(
    api: AdminApi, shop: str, mongo: AsyncMongoClient[dict[str, Any]], settings: Settings
) -> None:
    created = await ok(
        api,
        c.CreateListing(
            shop_id=shop,
            local_product_id="sku-1",
            title="Ceramic mug",
            description="Holds <i>tea</i>",
            price=1299,
            image_url="https://img.example/mug.png",
            metadata={"color": "blue"},
        ),
    )
    listing = created.listing
    assert listing.title == "Ceramic mug"
    assert listing.description == "Holds tea"
    assert (listing.status, listing.sync_status) == ("draft", "pending")

    stored = await mongo[settings.mongodb_database]["listings"].find_one({"_id": listing.id})
    assert stored is not None
    assert (stored["shop_id"], stored["local_product_id"], stored["price"]) == (shop, "sku-1", 1299)

    got = await ok(api, c.GetListing(shop_id=shop, id=listing.id))
    assert got.listing == listing
    by_product = await ok(api, c.GetListingByProduct(shop_id=shop, local_product_id="sku-1"))
    assert by_product.listing.id == listing.id

    updated = await ok(api, c.UpdateListing(shop_id=shop, id=listing.id, price=1499))
    assert updated.listing.price == 1499
    assert updated.listing.title == "Ceramic mug"  # untouched fields stay
    assert updated.listing.updated_at > listing.updated_at

    deleted = await ok(api, c.DeleteListing(shop_id=shop, id=listing.id))
    assert deleted == r.DeletedReply(deleted=True)
    missing = await api.call(c.GetListing(shop_id=shop, id=listing.id))
    assert isinstance(missing, ErrorReply)
    assert missing.code == "not_found"
    assert (
        await mongo[settings.mongodb_database]["listings"].count_documents({"shop_id": shop}) == 0
    )


async def test_a_second_listing_for_the_same_product_is_a_conflict(
    api: AdminApi, shop: str
) -> None:
    await ok(api, c.CreateListing(shop_id=shop, local_product_id="sku-1", title="Mug"))
    again = await api.call(c.CreateListing(shop_id=shop, local_product_id="sku-1", title="Other"))
    assert isinstance(again, ErrorReply)
    assert again.code == "conflict"
    listed = await ok(api, c.ListListings(shop_id=shop))
    assert [x.title for x in listed.listings] == ["Mug"]


async def test_the_same_create_delivered_twice_answers_the_first_listing(
    api: AdminApi, shop: str
) -> None:
    command = c.CreateListing(shop_id=shop, local_product_id="sku-1", title="Mug", price=100)
    first = await ok(api, command)
    second = await ok(api, command)
    assert second.listing.id == first.listing.id


async def test_listing_pages_filters_and_totals(api: AdminApi, shop: str) -> None:
    ids = []
    for n in range(7):
        reply = await ok(
            api, c.CreateListing(shop_id=shop, local_product_id=f"p{n}", title=f"T{n}")
        )
        ids.append(reply.listing.id)
    for listing_id in ids[:3]:
        await ok(api, c.UpdateListing(shop_id=shop, id=listing_id, status="active"))

    page1 = await ok(api, c.ListListings(shop_id=shop, page=1, limit=3))
    page3 = await ok(api, c.ListListings(shop_id=shop, page=3, limit=3))
    assert (page1.total, len(page1.listings), len(page3.listings)) == (7, 3, 1)
    # Newest first, and every listing on exactly one page.
    everything = []
    for page in (1, 2, 3):
        everything += (await ok(api, c.ListListings(shop_id=shop, page=page, limit=3))).listings
    assert [x.id for x in everything] == list(reversed(ids))

    active = await ok(api, c.ListListings(shop_id=shop, status="active"))
    assert (active.total, {x.id for x in active.listings}) == (3, set(ids[:3]))
    pending_sync = await ok(api, c.ListListings(shop_id=shop, sync_status="pending", limit=2))
    assert (pending_sync.total, len(pending_sync.listings)) == (7, 2)
    none = await ok(api, c.ListListings(shop_id=shop, status="active", sync_status="synced"))
    assert (none.total, none.listings) == (0, [])


async def test_push_without_credentials_returns_the_listing_unchanged(
    api: AdminApi, shop: str
) -> None:
    created = await ok(api, c.CreateListing(shop_id=shop, local_product_id="p", title="Mug"))
    pushed = await ok(api, c.PushListing(shop_id=shop, id=created.listing.id))
    assert pushed.listing == created.listing


@pytest.mark.parametrize(
    "command",
    [
        c.GetListing(id="nope"),
        c.UpdateListing(id="nope", title="x"),
        c.DeleteListing(id="nope"),
        c.PushListing(id="nope"),
        c.GetListingByProduct(local_product_id="nope"),
    ],
    ids=lambda cmd: cmd.command,
)
async def test_unknown_listing_is_not_found(api: AdminApi, shop: str, command: c.Command) -> None:
    reply = await api.call(command.model_copy(update={"shop_id": shop}))
    assert isinstance(reply, ErrorReply)
    assert (reply.code, reply.message) == ("not_found", "Listing not found")
