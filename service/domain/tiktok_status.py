"""TikTok order and product statuses mapped to the service's own.

TikTok sends the current names (``AWAITING_SHIPMENT``), older numeric codes (``111``), and in
webhooks looser spellings (``CANCEL``). Everything funnels through the current names so that each
internal status is decided in one place. Anything unknown maps to None: the caller decides what
to do with it (keep the previous status, log, fetch the order from the API).
"""

from collections.abc import Mapping
from types import MappingProxyType
from typing import Final

from contracts.entities import AuditStatus, ListingStatus, OrderStatus

ORDER_STATUS_BY_NAME: Final[Mapping[str, OrderStatus]] = MappingProxyType(
    {
        "UNPAID": "pending",
        "ON_HOLD": "pending",
        "AWAITING_SHIPMENT": "confirmed",
        "PARTIALLY_SHIPPING": "confirmed",
        "AWAITING_COLLECTION": "confirmed",
        "IN_TRANSIT": "shipped",
        "DELIVERED": "delivered",
        "COMPLETED": "delivered",
        "CANCELLED": "cancelled",
        # A completed return or refund (return-and-refund API and its webhook).
        "REFUNDED": "refunded",
        "RETURN_OR_REFUND_REQUEST_COMPLETE": "refunded",
    }
)

# Older numeric codes, by TikTok's upgrade guide. 111 is AWAITING_SHIPMENT (the seed said pending).
ORDER_STATUS_NAME_BY_CODE: Final[Mapping[int, str]] = MappingProxyType(
    {
        100: "UNPAID",
        105: "ON_HOLD",
        111: "AWAITING_SHIPMENT",
        112: "AWAITING_COLLECTION",
        114: "PARTIALLY_SHIPPING",
        121: "IN_TRANSIT",
        122: "DELIVERED",
        130: "COMPLETED",
        140: "CANCELLED",
    }
)

# Spellings seen in webhooks and older payloads, folded onto the current names.
_ORDER_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "CANCEL": "CANCELLED",
        "CANCELED": "CANCELLED",
        "AWAITING_SHIPPING": "AWAITING_SHIPMENT",
        "PARTIALLY_SHIPPED": "PARTIALLY_SHIPPING",
        "AWAITING_PICKUP": "AWAITING_COLLECTION",
        "SHIPPED": "IN_TRANSIT",
        "REFUND": "REFUNDED",
    }
)

# Product detail (202309) and search (202502) statuses, every one TikTok publishes.
LISTING_STATUS_BY_NAME: Final[Mapping[str, ListingStatus]] = MappingProxyType(
    {
        "INITIAL": "draft",
        "DRAFT": "draft",
        "PENDING": "pending",
        # Passed its audit, goes live at the time the seller scheduled.
        "SCHEDULED": "pending",
        "FAILED": "rejected",
        "ACTIVATE": "active",
        "SELLER_DEACTIVATED": "suspended",
        "PLATFORM_DEACTIVATED": "suspended",
        "FREEZE": "suspended",
        # Deleted on TikTok (by the seller in Seller Center, or by TikTok): the listing stays
        # linked, not selling; the mapping names the reason.
        "DELETED": "suspended",
    }
)

# Older numeric product codes, as the seed mapped them.
LISTING_STATUS_BY_CODE: Final[Mapping[int, ListingStatus]] = MappingProxyType(
    {
        1: "draft",
        2: "pending",
        3: "rejected",
        4: "active",
        5: "suspended",
        6: "suspended",
        7: "suspended",
    }
)

_LISTING_ALIASES: Final[Mapping[str, str]] = MappingProxyType(
    {
        "ACTIVE": "ACTIVATE",
        "LIVE": "ACTIVATE",
        "FROZEN": "FREEZE",
        "REJECTED": "FAILED",
        "DEACTIVATED": "SELLER_DEACTIVATED",
    }
)


def _as_code(value: str | int) -> int | None:
    """An int, or a string of digits (``"111"``), as an int; anything else None."""
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    text = value.strip()
    return int(text) if text.isdigit() else None


def _as_name(value: str) -> str:
    """``" in-transit "`` -> ``"IN_TRANSIT"``."""
    return value.strip().upper().replace("-", "_").replace(" ", "_")


def canonical_order_status(value: str | int | None) -> str | None:
    """TikTok's current name for any form of an order status (``111``, ``"CANCEL"``); else None."""
    if value is None or isinstance(value, bool):
        return None
    code = _as_code(value)
    if code is not None:
        return ORDER_STATUS_NAME_BY_CODE.get(code)
    assert isinstance(value, str)
    name = _as_name(value)
    name = _ORDER_ALIASES.get(name, name)
    return name if name in ORDER_STATUS_BY_NAME else None


def map_order_status(value: str | int | None) -> OrderStatus | None:
    """Internal order status for any form TikTok sends; None when unknown."""
    name = canonical_order_status(value)
    return ORDER_STATUS_BY_NAME[name] if name else None


def map_product_status(value: str | int | None) -> ListingStatus | None:
    """Internal listing status for any form TikTok sends; None when unknown (or DELETED)."""
    if value is None or isinstance(value, bool):
        return None
    code = _as_code(value)
    if code is not None:
        return LISTING_STATUS_BY_CODE.get(code)
    assert isinstance(value, str)
    name = _as_name(value)
    return LISTING_STATUS_BY_NAME.get(_LISTING_ALIASES.get(name, name))


# --- how far along a status is: the tie-breaker when two versions carry the same time --------

# Order statuses in lifecycle order (TikTok's update_time has one-second resolution, so two
# changes can share it); CANCELLED ends any of them.
ORDER_STATUS_RANK: Final[Mapping[str, int]] = MappingProxyType(
    {
        "UNPAID": 1,
        "ON_HOLD": 2,
        "AWAITING_SHIPMENT": 3,
        "PARTIALLY_SHIPPING": 4,
        "AWAITING_COLLECTION": 5,
        "IN_TRANSIT": 6,
        "DELIVERED": 7,
        "COMPLETED": 8,
        "CANCELLED": 9,
    }
)

# Stages of a cancellation request (type 11 `cancel_status`, every value TikTok publishes, and
# the search's spellings): every stage of one request carries the request's create_time, so the
# stage alone orders them. The last stage closes the request, granted or not.
CANCELLATION_STAGE: Final[Mapping[str, int]] = MappingProxyType(
    {
        "CANCELLATION_REQUEST_PENDING": 1,
        "CANCELLATION_REQUEST_SUCCESS": 2,
        "CANCELLATION_REQUEST_REJECT": 2,
        "CANCELLATION_REQUEST_CANCEL": 3,
        # Webhook 11's spelling of the same stage (the search says CANCEL).
        "CANCELLATION_REQUEST_CANCELLED": 3,
        "CANCELLATION_REQUEST_COMPLETE": 3,
    }
)

# Stages of a return, refund, replacement or exchange request (type 12 `return_status` and the
# returns search 202602, every value TikTok publishes).
RETURN_STAGE: Final[Mapping[str, int]] = MappingProxyType(
    {
        "RETURN_OR_REFUND_REQUEST_PENDING": 1,
        "REPLACEMENT_REQUEST_PENDING": 1,
        "EXCHANGE_REQUEST_PENDING": 1,
        "AWAITING_BUYER_SHIP": 2,
        # The seller offered another resolution (a partial refund); the buyer has to answer.
        "AWAITING_BUYER_RESPONSE": 2,
        "BUYER_SHIPPED_ITEM": 3,
        "RETURN_OR_REFUND_REQUEST_SUCCESS": 4,
        "REFUND_OR_RETURN_REQUEST_REJECT": 4,
        "RETURN_OR_REFUND_REQUEST_REJECT": 4,
        "REPLACEMENT_REQUEST_REJECT": 4,
        "REJECT_RECEIVE_PACKAGE": 4,
        "RETURN_OR_REFUND_REQUEST_CANCEL": 5,
        "RETURN_OR_REFUND_REQUEST_COMPLETE": 5,
        "REPLACEMENT_REQUEST_CANCEL": 5,
        "REPLACEMENT_REQUEST_COMPLETE": 5,
        "REPLACEMENT_REQUEST_REFUND_SUCCESS": 5,
        "EXCHANGE_REQUEST_CANCEL": 5,
        "EXCHANGE_REQUEST_COMPLETE": 5,
        "EXCHANGE_REQUEST_REFUND_SUCCESS": 5,
    }
)


def order_status_rank(value: str | int | None) -> int:
    """How far along the order's lifecycle a status is (0 when unknown)."""
    name = canonical_order_status(value)
    return ORDER_STATUS_RANK.get(name, 0) if name else 0


# TikTok's audit statuses (webhook 37, product detail 202309) as a listing shows them.
_AUDIT_STATUSES: Final[Mapping[str, AuditStatus]] = {
    "NONE": "none",
    "AUDITING": "pending",
    "PRE_APPROVED": "pending",
    "FAILED": "failed",
    "APPROVED": "approved",
}


def audit_status(value: str | None) -> AuditStatus:
    """A listing's audit status for TikTok's (an unknown one counts as pending)."""
    return _AUDIT_STATUSES.get((value or "NONE").upper(), "pending")
