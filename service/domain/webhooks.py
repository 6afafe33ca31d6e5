"""What a TikTok webhook means for our entities: pure rules over the typed webhook models.

Webhook payloads are looser than the API (TikTok's webhook descriptions, types 1 to 12):
statuses are normalised, and where a webhook leaves details out the handler fetches the order
from the API when it can.
"""

from datetime import datetime

from contracts.entities import ListingStatus, OrderStatus, ReverseRequestKind
from contracts.webhooks import (
    CancellationStatusData,
    ProductStatusData,
    ReturnStatusData,
    ReverseStatusData,
)
from service.domain.reverse_requests import LEGACY_CANCEL_TYPES, RemoteRequest
from service.domain.tiktok_status import map_order_status, map_product_status
from service.domain.time import unix_time

# Type 5's `status` values (TikTok's published description): two audit outcomes, which say the
# listing's new status, and PRODUCT_STATUS_CHANGED, which says only that TikTok itself changed
# the product (froze or deactivated it, say): its state must be read from the product API.
PRODUCT_AUDIT_STATUS: dict[str, ListingStatus] = {
    "PRODUCT_FIRST_PASS_REVIEW": "active",
    "PRODUCT_AUDIT_FAILURE": "rejected",
}
PRODUCT_STATUS_CHANGED = "PRODUCT_STATUS_CHANGED"


def event_time(unix_seconds: int | None, fallback: datetime) -> datetime:
    """A webhook's own time (unix seconds), or `fallback` (when the ingress received it) when
    it has none a datetime can hold."""
    return unix_time(unix_seconds) or fallback


def reverse_request(
    data: CancellationStatusData | ReturnStatusData | ReverseStatusData, received_at: datetime
) -> RemoteRequest:
    """The request a reverse-flow webhook reports (types 11, 12 and the legacy 2), to record on
    its order like any other copy of it (`reverse_requests.merge_request`).

    Its id is TikTok's cancel_id or return_id, "" when the webhook names none (type 2 never
    does). Times are the webhook's: 11 carries the request's create_time, 12 its create_time
    and update_time, 2 an update_time; with none, when the ingress received it (`received_at`).
    A legacy status is kept as "REVERSE_<reverse_order_status>".
    """
    kind: ReverseRequestKind
    if isinstance(data, ReverseStatusData):
        kind = "cancellation" if data.reverse_type in LEGACY_CANCEL_TYPES else "return"
        code = data.reverse_order_status
        return RemoteRequest(
            kind=kind,
            id="",
            order_id=data.order_id,
            status=f"REVERSE_{code}" if code is not None else "",
            updated_at=event_time(data.update_time, received_at),
        )
    created = event_time(data.create_time, received_at) if data.create_time else None
    updated = event_time(data.update_time, received_at) if data.update_time else None
    if created is None and updated is None:
        created = received_at
    if isinstance(data, CancellationStatusData):
        return RemoteRequest(
            kind="cancellation",
            id=data.cancel_id or "",
            order_id=data.order_id,
            status=data.cancel_status or "",
            role=data.cancellations_role,
            created_at=created,
            updated_at=updated,
        )
    return RemoteRequest(
        kind="return",
        id=data.return_id or "",
        order_id=data.order_id,
        status=data.return_status or "",
        type=data.return_type,
        role=data.return_role,
        created_at=created,
        updated_at=updated,
    )


def order_status(value: str | int | None) -> OrderStatus | None:
    return map_order_status(value)


def product_status(data: ProductStatusData) -> ListingStatus | None:
    """The listing status a type 5 webhook states (an audit outcome, or a product status by
    name or older code); None when it states none (PRODUCT_STATUS_CHANGED, a value TikTok adds
    later): then TikTok's product API must be asked."""
    raw = data.status
    if isinstance(raw, str) and raw in PRODUCT_AUDIT_STATUS:
        return PRODUCT_AUDIT_STATUS[raw]
    return map_product_status(raw)
