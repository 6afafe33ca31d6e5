"""Stock and price rules: the newest version wins, changes by hand, the warehouse map, what a
category requires; and TikTok's type 71 told apart by its own event id."""

from datetime import UTC, datetime

import pytest

from contracts.entities import (
    AttributeCondition,
    AttributeValue,
    CategoryAttribute,
    Listing,
    ProductAttribute,
)
from contracts.webhooks import TikTokEnvelope
from service.domain.stock import (
    CurrencyMismatch,
    UnknownWarehouse,
    missing_attributes,
    parse_warehouse_map,
    tiktok_warehouse,
    with_price,
    with_stock,
)

NOW = datetime(2026, 11, 30, tzinfo=UTC)


def listing(**fields: object) -> Listing:
    values: dict[str, object] = {
        "id": "l-1",
        "shop_id": "s",
        "local_product_id": "p-1",
        "title": "Mug",
        "price": 1000,
        "created_at": NOW,
        "updated_at": NOW,
    }
    values.update(fields)
    return Listing.model_validate(values)


def test_the_newest_version_per_warehouse_wins_and_a_stale_one_changes_nothing() -> None:
    first = with_stock(listing(), "w1", 5, version=10)
    assert first is not None
    assert (first.stock_revision, first.stock_pending) == (1, True)
    other = with_stock(first, "w2", 3, version=1)  # versions are per warehouse
    assert other is not None
    assert [(s.warehouse_id, s.quantity, s.version) for s in other.stock] == [
        ("w1", 5, 10),
        ("w2", 3, 1),
    ]
    assert with_stock(other, "w1", 99, version=10) is None  # a redelivery
    assert with_stock(other, "w1", 99, version=9) is None  # late and older
    same = with_stock(other, "w1", 5, version=11)
    assert same is not None
    assert same.stock_revision == other.stock_revision


def test_a_change_by_hand_keeps_the_version_so_the_platform_s_next_change_wins() -> None:
    stocked = with_stock(listing(), "w1", 5, version=10)
    assert stocked is not None
    by_hand = with_stock(stocked, "w1", 8, version=None)
    assert by_hand is not None
    assert (by_hand.stock[0].quantity, by_hand.stock[0].version) == (8, 10)
    platform = with_stock(by_hand, "w1", 4, version=11)
    assert platform is not None
    assert platform.stock[0].quantity == 4


def test_the_first_change_applies_whatever_its_version_and_a_redelivery_of_it_does_not() -> None:
    # No version stored yet means nothing is newer: version 0 (the contract allows >= 0) applies.
    priced = with_price(listing(), 1200, "USD", version=0)
    assert priced is not None
    assert (priced.price, priced.price_version, priced.price_revision) == (1200, 0, 1)
    assert with_price(priced, 1300, "USD", version=0) is None
    stocked = with_stock(listing(), "w1", 5, version=0)
    assert stocked is not None
    assert [(s.quantity, s.version) for s in stocked.stock] == [(5, 0)]
    assert with_stock(stocked, "w1", 6, version=0) is None
    # A change by hand stores no version of the platform's, so its first change still applies.
    by_hand = with_stock(listing(), "w1", 8, version=None)
    assert by_hand is not None
    assert by_hand.stock[0].version is None
    first = with_stock(by_hand, "w1", 4, version=0)
    assert first is not None
    assert [(s.quantity, s.version) for s in first.stock] == [(4, 0)]
    hand_priced = with_price(listing(), 900, "USD", version=None)
    assert hand_priced is not None
    assert hand_priced.price_version is None
    repriced = with_price(hand_priced, 950, "USD", version=0)
    assert repriced is not None
    assert (repriced.price, repriced.price_version) == (950, 0)


def test_prices_follow_versions_and_keep_tiktok_s_currency_once_listed() -> None:
    priced = with_price(listing(), 1200, "USD", version=3)
    assert priced is not None
    assert (priced.price, priced.price_revision) == (1200, 1)
    assert with_price(priced, 1300, "USD", version=3) is None
    unlisted = with_price(priced, 900, "EUR", version=4)
    assert unlisted is not None
    assert unlisted.currency == "EUR"
    listed = priced.model_copy(update={"external_product_id": "729"})
    with pytest.raises(CurrencyMismatch, match="TikTok sells this listing in USD"):
        with_price(listed, 900, "EUR", version=5)


def test_the_warehouse_map_is_read_strictly_and_an_unknown_warehouse_is_named() -> None:
    mapping = parse_warehouse_map(" wh-1:7068 , wh-2 : 7069,")
    assert mapping == {"wh-1": "7068", "wh-2": "7069"}
    assert tiktok_warehouse(mapping, "wh-2") == "7069"
    with pytest.raises(UnknownWarehouse, match=r"'wh-9' is not mapped .* \(mapped: wh-1, wh-2\)"):
        tiktok_warehouse(mapping, "wh-9")
    for bad in ("wh-1", "wh-1:", ":7068", "a:1,a:2"):
        with pytest.raises(ValueError, match=r"platformId:tiktokId|mapped twice"):
            parse_warehouse_map(bad)
    # TikTok holds one quantity per warehouse: two platform warehouses cannot share one.
    with pytest.raises(
        ValueError, match=r"'wh-1' and 'wh-3' are both mapped to TikTok warehouse '7068'"
    ):
        parse_warehouse_map("wh-1:7068,wh-2:7069,wh-3:7068")


def test_missing_attributes_are_the_required_ones_and_those_a_chosen_value_requires() -> None:
    attributes = [
        CategoryAttribute(id="1", name="Skin Type", type="PRODUCT_PROPERTY", required=True),
        CategoryAttribute(id="2", name="Contains SPF?", type="PRODUCT_PROPERTY"),
        CategoryAttribute(
            id="3",
            name="SPF Value",
            type="PRODUCT_PROPERTY",
            required_if=[AttributeCondition(attribute_id="2", value_id="yes")],
        ),
        CategoryAttribute(id="4", name="Color", type="SALES_PROPERTY", required=True),
    ]
    bare = listing()
    assert [a.id for a in missing_attributes(bare, attributes)] == ["1"]
    spf = listing(
        attributes=[
            ProductAttribute(id="1", values=[AttributeValue(id="dry")]),
            ProductAttribute(id="2", values=[AttributeValue(id="yes")]),
        ]
    )
    assert [a.id for a in missing_attributes(spf, attributes)] == ["3"]


def test_type_71_is_deduplicated_by_its_event_id_not_by_the_delivery() -> None:
    def delivery(notification: str) -> TikTokEnvelope:
        return TikTokEnvelope.model_validate(
            {
                "type": 71,
                "tts_notification_id": notification,
                "shop_id": "s",
                "data": {"event_id": 7301, "product_id": 1729, "sku_id": 1730},
            }
        )

    assert delivery("n-1").notification_id(b"") == delivery("n-2").notification_id(b"")
    assert delivery("n-1").notification_id(b"") == "inventory-event:7301"
