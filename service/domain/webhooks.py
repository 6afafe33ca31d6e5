"""What a TikTok webhook means for our entities: pure rules over the typed webhook models.

Webhook payloads are looser than the API (TikTok's webhook descriptions, types 1 to 12):
statuses are normalised, and where a webhook leaves details out the handler fetches the order
from the API when it can.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from contracts.entities import ListingStatus, OrderStatus
from contracts.webhooks import (
    CancellationStatusData,
    ProductStatusData,
    ReturnStatusData,
    ReverseStatusData,
)
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

ReverseKind = Literal["cancellation", "return"]


@dataclass(frozen=True)
class Reverse:
    """A cancellation or return reported for an order."""

    kind: ReverseKind
    status_text: str
    order_status: OrderStatus | None  # set only when the request completed


def event_time(unix_seconds: int | None, fallback: datetime) -> datetime:
    """A webhook's own time (unix seconds), or `fallback` (when the ingress received it)."""
    if unix_seconds is None or unix_seconds <= 0:
        return fallback
    try:
        return from_unix(unix_seconds)
    except (OverflowError, OSError, ValueError):
        return fallback


def cancellation(data: CancellationStatusData) -> Reverse:
    status = data.cancel_status or ""
    done = status in CANCELLATION_COMPLETE
    return Reverse("cancellation", status, "cancelled" if done else None)


def return_request(data: ReturnStatusData) -> Reverse:
    status = data.return_status or ""
    done = status in RETURN_COMPLETE
    return Reverse("return", status, "refunded" if done else None)


def legacy_reverse(data: ReverseStatusData) -> Reverse:
    kind: ReverseKind = "cancellation" if data.reverse_type in LEGACY_CANCEL_TYPES else "return"
    code = data.reverse_order_status
    status: OrderStatus | None = None
    if code in LEGACY_DONE_STATUSES:
        status = "cancelled" if kind == "cancellation" else "refunded"
    return Reverse(kind, f"REVERSE_{code}" if code is not None else "", status)


def order_status(value: str | int | None) -> OrderStatus | None:
    return map_order_status(value)


def product_status(data: ProductStatusData) -> ListingStatus | None:
    raw = data.status
    if isinstance(raw, str) and raw in PRODUCT_AUDIT_STATUS:
        return PRODUCT_AUDIT_STATUS[raw]
    return map_product_status(raw)
