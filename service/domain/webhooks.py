"""What a TikTok webhook means for our entities: pure rules, no I/O.

Webhook payloads are looser than the API: statuses are normalised, and where a webhook leaves
details out the caller fetches the order from the API when it can.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from contracts.entities import ListingStatus, OrderStatus
from service.domain.tiktok_status import map_order_status, map_product_status
from service.domain.time import from_unix

CANCELLATION_COMPLETE = frozenset({"CANCELLATION_REQUEST_COMPLETE"})
RETURN_COMPLETE = frozenset({"RETURN_OR_REFUND_REQUEST_COMPLETE"})
# Legacy type 2 (REVERSE_STATUS_UPDATE): reverse_type 1 and 4 are cancellations, the others
# returns or refunds; reverse_order_status 50, 51 and 100 mean the request went through.
LEGACY_CANCEL_TYPES = frozenset({1, 4})
LEGACY_DONE_STATUSES = frozenset({50, 51, 100})
# Audit outcomes that PRODUCT_STATUS_CHANGE reports besides the product statuses themselves.
PRODUCT_AUDIT_STATUS: dict[str, ListingStatus] = {
    "PRODUCT_FIRST_PASS_REVIEW": "active",
    "PRODUCT_AUDIT_FAILURE": "rejected",
}


@dataclass(frozen=True)
class Reverse:
    """A cancellation or return reported for an order."""

    kind: str  # "cancellation" or "return"
    status_text: str
    order_status: OrderStatus | None  # set only when the request completed


def update_time(data: dict[str, Any], fallback: datetime) -> datetime:
    value = data.get("update_time") or data.get("create_time")
    try:
        return from_unix(int(value)) if value else fallback
    except (TypeError, ValueError, OverflowError):
        return fallback


def order_status(data: dict[str, Any]) -> OrderStatus | None:
    return map_order_status(data.get("order_status"))


def cancellation(data: dict[str, Any]) -> Reverse:
    status = str(data.get("cancel_status") or "")
    done = status in CANCELLATION_COMPLETE
    return Reverse("cancellation", status, "cancelled" if done else None)


def return_request(data: dict[str, Any]) -> Reverse:
    status = str(data.get("return_status") or "")
    done = status in RETURN_COMPLETE
    return Reverse("return", status, "refunded" if done else None)


def legacy_reverse(data: dict[str, Any]) -> Reverse:
    kind = "cancellation" if _int(data.get("reverse_type")) in LEGACY_CANCEL_TYPES else "return"
    code = _int(data.get("reverse_order_status"))
    done = code in LEGACY_DONE_STATUSES
    status: OrderStatus | None = None
    if done:
        status = "cancelled" if kind == "cancellation" else "refunded"
    return Reverse(kind, f"REVERSE_{code}" if code is not None else "", status)


def product_status(data: dict[str, Any]) -> ListingStatus | None:
    raw = data.get("status")
    if isinstance(raw, str) and raw in PRODUCT_AUDIT_STATUS:
        return PRODUCT_AUDIT_STATUS[raw]
    return map_product_status(raw)


def _int(value: object) -> int | None:
    try:
        return int(value)  # type: ignore[call-overload, no-any-return]
    except (TypeError, ValueError):
        return None
