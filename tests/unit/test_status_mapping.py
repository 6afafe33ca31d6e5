"""TikTok order and product statuses, in every form they arrive, to the service's own."""

import pytest

from service.domain.tiktok_status import (
    canonical_order_status,
    map_order_status,
    map_product_status,
)


@pytest.mark.parametrize(
    ("tiktok", "internal"),
    [
        ("UNPAID", "pending"),
        ("ON_HOLD", "pending"),
        ("AWAITING_SHIPMENT", "confirmed"),
        ("PARTIALLY_SHIPPING", "confirmed"),
        ("AWAITING_COLLECTION", "confirmed"),
        ("IN_TRANSIT", "shipped"),
        ("DELIVERED", "delivered"),
        ("COMPLETED", "delivered"),
        ("CANCELLED", "cancelled"),
        ("RETURN_OR_REFUND_REQUEST_COMPLETE", "refunded"),
        # looser webhook spellings
        ("CANCEL", "cancelled"),
        ("CANCELED", "cancelled"),
        ("cancel", "cancelled"),
        (" in_transit ", "shipped"),
        ("awaiting-shipment", "confirmed"),
        # legacy numeric codes, as ints and as strings
        (100, "pending"),
        (105, "pending"),
        (111, "confirmed"),  # awaiting shipment, per TikTok's upgrade guide (the seed said pending)
        ("111", "confirmed"),
        (112, "confirmed"),
        (114, "confirmed"),
        (121, "shipped"),
        (122, "delivered"),
        (130, "delivered"),
        (140, "cancelled"),
        # unknown
        ("SOMETHING_NEW", None),
        (999, None),
        ("", None),
        (None, None),
        (True, None),
    ],
)
def test_order_status(tiktok: str | int | None, internal: str | None) -> None:
    assert map_order_status(tiktok) == internal


@pytest.mark.parametrize(
    ("given", "name"),
    [
        ("CANCEL", "CANCELLED"),
        (111, "AWAITING_SHIPMENT"),
        ("in transit", "IN_TRANSIT"),
        ("?", None),
    ],
)
def test_canonical_order_status(given: str | int, name: str | None) -> None:
    assert canonical_order_status(given) == name


@pytest.mark.parametrize(
    ("tiktok", "internal"),
    [
        ("DRAFT", "draft"),
        ("PENDING", "pending"),
        ("FAILED", "rejected"),
        ("ACTIVATE", "active"),
        ("SELLER_DEACTIVATED", "suspended"),
        ("PLATFORM_DEACTIVATED", "suspended"),
        ("FREEZE", "suspended"),
        ("activate", "active"),
        (1, "draft"),
        (2, "pending"),
        (3, "rejected"),
        (4, "active"),
        (5, "suspended"),
        (6, "suspended"),
        (7, "suspended"),
        ("4", "active"),
        ("INITIAL", "draft"),
        ("DELETED", "suspended"),  # deleted on TikTok: linked, not selling
        (8, None),
        (0, None),
        ("UNKNOWN", None),
        (None, None),
    ],
)
def test_product_status(tiktok: str | int | None, internal: str | None) -> None:
    assert map_product_status(tiktok) == internal
