"""An order's cancellation, return and after-sales requests: the one record of its reverse
flows. Which version of a request wins, which requests wait for the seller, and which statuses
mean a cancellation or a refund went through.

TikTok reports a request through its searches (return_refund 202602 cancellations and returns,
202603 after-sales), which carry `seller_next_action_response` with the deadline and the refund
amount, and through webhooks (2, 11, 12, 64, 65, 67), which carry the status only (67: the
refund paid). Every source is recorded by `merge_request`:

- A request named by TikTok's id only moves forward through its stages, so a later stage wins;
  within one stage the newer `update_time` wins; a copy that adds what the held one lacks (a
  deadline, a refund amount, line items) fills it in, even an older copy.
- A webhook that names no id (the legacy type 2 never does) can only be the kind's one unnamed
  request (id ""), versioned on its flow's clock: the request's time, then its stage.
- Its RMA's status (65) and its refund paid (67) have their own clocks: the newer RMA update,
  the first refund reported.

Pure rules, no I/O.
"""

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Final

from contracts.entities import ReverseRequest, ReverseRequestKind
from service.domain.tiktok_status import CANCELLATION_STAGE, RETURN_STAGE

# Before any TikTok time: the version of a request reported without one.
_EPOCH: Final = datetime.fromtimestamp(0, UTC)

# The search spells a rejected cancellation CANCELLATION_REQUEST_CANCEL, webhook 11 spells it
# CANCELLATION_REQUEST_CANCELLED; requests are kept in the search's spelling.
_SPELLINGS: Final = {"CANCELLATION_REQUEST_CANCELLED": "CANCELLATION_REQUEST_CANCEL"}

CANCELLATION_PENDING: Final = "CANCELLATION_REQUEST_PENDING"
RETURN_PENDING: Final = "RETURN_OR_REFUND_REQUEST_PENDING"
RETURN_BUYER_SHIPPED: Final = "BUYER_SHIPPED_ITEM"

# After-sales requests (202603): INIT, then the seller's review, then done.
AFTERSALES_STAGE: Final = {"INIT": 1, "PENDING_REQUEST_REVIEW": 2, "REQUEST_REVIEW_COMPLETED": 3}
#: Where an after-sales request is once TikTok paid its refund (webhook 67).
AFTERSALES_DONE: Final = "REQUEST_REVIEW_COMPLETED"

# Legacy type 2 (REVERSE_STATUS_UPDATE): reverse_type 1 and 4 are cancellations, the others
# returns or refunds; reverse_order_status 50, 51 and 100 mean the request went through. Its
# stage is kept as "REVERSE_<code>".
LEGACY_CANCEL_TYPES: Final = frozenset({1, 4})
LEGACY_DONE_STATUSES: Final = frozenset({50, 51, 100})
_LEGACY_DONE: Final = frozenset(f"REVERSE_{code}" for code in LEGACY_DONE_STATUSES)

#: A cancellation stage at which TikTok cancelled the order.
CANCELLATION_COMPLETE: Final = frozenset({"CANCELLATION_REQUEST_COMPLETE", *_LEGACY_DONE})
#: A return stage at which TikTok has paid the buyer back (how much: the returns search says).
REFUND_DONE: Final = frozenset(
    {
        "RETURN_OR_REFUND_REQUEST_COMPLETE",
        "REPLACEMENT_REQUEST_REFUND_SUCCESS",
        "EXCHANGE_REQUEST_REFUND_SUCCESS",
        *_LEGACY_DONE,
    }
)

# Statuses after which nothing more is asked of the seller.
_FINAL: Final = frozenset(
    {
        "CANCELLATION_REQUEST_SUCCESS",
        "CANCELLATION_REQUEST_CANCEL",
        "CANCELLATION_REQUEST_COMPLETE",
        "CANCELLATION_REQUEST_REJECT",
        "RETURN_OR_REFUND_REQUEST_SUCCESS",
        "RETURN_OR_REFUND_REQUEST_COMPLETE",
        "RETURN_OR_REFUND_REQUEST_CANCEL",
        "REFUND_OR_RETURN_REQUEST_REJECT",
        "RETURN_OR_REFUND_REQUEST_REJECT",
        "REJECT_RECEIVE_PACKAGE",
        "REQUEST_REVIEW_COMPLETED",
    }
)


@dataclass(frozen=True)
class ReasonChoice:
    """A reason TikTok accepts: `name` goes in the call, `text` is for people."""

    name: str
    text: str


@dataclass(frozen=True)
class RemoteRequest:
    """A request as one of TikTok's sources reports it, mapped: ids are TikTok's (`id` "" when
    the webhook names none), amounts minor units of `currency`, times UTC.

    `next_action`/`deadline` come from `seller_next_action_response` (searches only);
    `order_id` is TikTok's order id; `line_item_ids` the order lines a return covers (returns
    search); `refunded_at` when TikTok paid the refund (webhook 67)."""

    kind: ReverseRequestKind
    id: str
    order_id: str
    status: str
    type: str | None = None
    role: str | None = None
    reason: str | None = None
    reason_text: str | None = None
    next_action: str | None = None
    deadline: datetime | None = None
    refund_total: int | None = None
    currency: str | None = None
    line_item_ids: tuple[str, ...] = ()
    rma_id: str | None = None
    rma_status: str | None = None
    rma_updated_at: datetime | None = None
    refunded_at: datetime | None = None
    created_at: datetime | None = None
    updated_at: datetime | None = None
    # True when the source says what the seller must do (a search); a webhook does not.
    knows_next_action: bool = False


def normalise_status(status: str) -> str:
    """TikTok's status of a request in the search's spelling."""
    text = status.strip().upper()
    return _SPELLINGS.get(text, text)


def stage(kind: ReverseRequestKind, status: str) -> int:
    """How far along its lifecycle a request's status is (0 when unknown)."""
    name = normalise_status(status)
    if kind == "cancellation":
        return CANCELLATION_STAGE.get(name, 0)
    if kind == "return":
        return RETURN_STAGE.get(name, 0)
    return AFTERSALES_STAGE.get(name, 0)


def is_final(status: str) -> bool:
    return normalise_status(status) in _FINAL


def awaits_seller(remote: RemoteRequest) -> bool:
    """Whether TikTok waits for the seller: what a search says, else what the status implies
    (a pending cancellation or return request always does). Never for a request without
    TikTok's id: no decision could name it."""
    status = normalise_status(remote.status)
    if not remote.id or is_final(status):
        return False
    if remote.knows_next_action:
        return remote.next_action is not None
    return status in (CANCELLATION_PENDING, RETURN_PENDING)


def flow_time(request: ReverseRequest) -> datetime | None:
    """The request's time on its flow's clock: a cancellation's request time (webhook 11
    repeats its create_time at every stage), a return's or after-sales request's update time;
    the other one when that is missing."""
    if request.kind == "cancellation":
        return request.created_at or request.updated_at
    return request.updated_at or request.created_at


def _newer(incoming: ReverseRequest, held: ReverseRequest) -> bool | None:
    """True newer, False older, None the same version."""
    new_stage, held_stage = stage(incoming.kind, incoming.status), stage(held.kind, held.status)
    if not held.id:
        # The kind's unnamed request: whatever request the webhook meant, the later request
        # time wins, then the later stage.
        new = (flow_time(incoming) or _EPOCH, new_stage)
        old = (flow_time(held) or _EPOCH, held_stage)
        return None if new == old else new > old
    if new_stage != held_stage:
        return new_stage > held_stage
    new_at = incoming.updated_at or incoming.created_at
    held_at = held.updated_at or held.created_at
    if new_at is None or held_at is None or new_at == held_at:
        return None
    return new_at > held_at


def to_entry(remote: RemoteRequest) -> ReverseRequest:
    """The request as the order keeps it."""
    awaiting = awaits_seller(remote)
    return ReverseRequest(
        kind=remote.kind,
        id=remote.id,
        status=normalise_status(remote.status),
        type=remote.type,
        role=remote.role,
        reason=remote.reason,
        reason_text=remote.reason_text,
        awaiting_seller=awaiting,
        next_action=remote.next_action if awaiting else None,
        deadline=remote.deadline if awaiting else None,
        refund_total=remote.refund_total,
        currency=remote.currency,
        line_item_ids=list(remote.line_item_ids),
        rma_id=remote.rma_id,
        rma_status=normalise_rma_status(remote.rma_status),
        rma_updated_at=remote.rma_updated_at,
        created_at=remote.created_at,
        updated_at=remote.updated_at,
    )


# What a copy may not say, and is then taken from the one held: a webhook names no reason, no
# amount, no line items; only the search knows them.
_DETAILS: Final = (
    "type",
    "role",
    "reason",
    "reason_text",
    "refund_total",
    "currency",
    "line_item_ids",
    "created_at",
)
_RMA: Final = ("rma_id", "rma_status", "rma_updated_at")


def _missing(value: object) -> bool:
    return value is None or value == []


def merge_request(held: list[ReverseRequest], remote: RemoteRequest) -> list[ReverseRequest] | None:
    """The order's requests with `remote` recorded, or None when it adds nothing to them.

    A newer version replaces the held one, keeping what the new copy does not say (a webhook
    says no reason, no deadline, no amount); the same or an older version only fills in what
    was missing (an older search copy still states the refund a webhook could not). The RMA's
    status goes by its own clock, and a refund paid is recorded once.
    """
    incoming = to_entry(remote)
    index = next(
        (n for n, r in enumerate(held) if (r.kind, r.id) == (remote.kind, remote.id)), None
    )
    if index is None:
        return [*held, _with_refund(incoming, remote)]
    current = held[index]
    newer = _newer(incoming, current)
    if newer:
        kept: dict[str, Any] = {
            name: getattr(current, name) for name in _DETAILS if _missing(getattr(incoming, name))
        }
        # The RMA's status is on its own clock: the copy's is applied below by that clock.
        kept |= {name: getattr(current, name) for name in _RMA}
        if not remote.knows_next_action and incoming.awaiting_seller:
            # A webhook moved the request but does not say the deadline: keep it if still due.
            kept |= {"next_action": current.next_action, "deadline": current.deadline}
        merged = incoming.model_copy(update={**kept, "refunded_at": current.refunded_at})
    else:
        merged = _fill_in(current, incoming, next_action=newer is None and remote.knows_next_action)
    merged = _with_refund(_with_rma(merged, remote), remote)
    if merged == current:
        return None
    return [*held[:index], merged, *held[index + 1 :]]


def _fill_in(
    current: ReverseRequest, incoming: ReverseRequest, *, next_action: bool
) -> ReverseRequest:
    """`current` with what it lacks taken from `incoming`; with `next_action`, also what a
    search of the same version says the seller must do."""
    changes = {
        name: getattr(incoming, name)
        for name in _DETAILS
        if _missing(getattr(current, name)) and not _missing(getattr(incoming, name))
    }
    if next_action:
        changes |= {
            "awaiting_seller": incoming.awaiting_seller,
            "next_action": incoming.next_action,
            "deadline": incoming.deadline,
        }
    return current.model_copy(update=changes)


def _with_rma(request: ReverseRequest, remote: RemoteRequest) -> ReverseRequest:
    """An RMA's status on its own clock (webhook 65, the after-sales search)."""
    if remote.rma_status is None:
        return request
    held_at = request.rma_updated_at
    if (
        held_at is not None
        and remote.rma_updated_at is not None
        and held_at > remote.rma_updated_at
    ):
        return request
    if held_at is not None and remote.rma_updated_at is None:
        return request
    return request.model_copy(
        update={
            "rma_id": remote.rma_id or request.rma_id,
            "rma_status": normalise_rma_status(remote.rma_status),
            "rma_updated_at": remote.rma_updated_at,
        }
    )


def _with_refund(request: ReverseRequest, remote: RemoteRequest) -> ReverseRequest:
    """A refund paid (webhook 67), recorded the first time only, with the amount it states."""
    if remote.refunded_at is None or request.refunded_at is not None:
        return request
    return request.model_copy(
        update={
            "refunded_at": remote.refunded_at,
            "refund_total": (
                remote.refund_total if remote.refund_total is not None else request.refund_total
            ),
            "currency": remote.currency or request.currency,
        }
    )


def find(
    held: list[ReverseRequest], kind: ReverseRequestKind, request_id: str
) -> ReverseRequest | None:
    """The request of `kind` with TikTok's id `request_id`, if the order has it."""
    return next((r for r in held if (r.kind, r.id) == (kind, request_id)), None)


def open_request(
    held: list[ReverseRequest], kind: ReverseRequestKind, request_id: str | None
) -> ReverseRequest | None:
    """The request a seller decision means: the one named, else the order's one open request
    of the kind (None when there is none, or more than one)."""
    if request_id is not None:
        return find(held, kind, request_id)
    waiting = [r for r in held if r.kind == kind and r.awaiting_seller]
    return waiting[0] if len(waiting) == 1 else None


def decided(request: ReverseRequest, order_id: str, status: str) -> RemoteRequest:
    """The request once TikTok accepted the seller's decision, to record like any copy: at
    `status` (where TikTok moves it, a later stage), no longer awaiting the seller. Its time
    stays TikTok's last one, so TikTok's own report of the new stage, carrying TikTok's newer
    time, replaces this one; a stale copy of the earlier stage loses by its stage.
    `order_id` is TikTok's order id."""
    return RemoteRequest(
        kind=request.kind,
        id=request.id,
        order_id=order_id,
        status=status,
        created_at=request.created_at,
        updated_at=request.updated_at,
        knows_next_action=True,
    )


# --- seller decisions (TikTok's state machines of return_refund 202309/202606) -------------

CANCELLATION_APPROVED: Final = "CANCELLATION_REQUEST_SUCCESS"
CANCELLATION_REJECTED: Final = "CANCELLATION_REQUEST_CANCEL"


@dataclass(frozen=True)
class Decision:
    """TikTok's `decision` for a return, and the status TikTok moves the return to."""

    decision: str
    next_status: str


class NotDecidable(ValueError):
    """The request is not in a state the seller can decide (already decided, say)."""


def return_decision(request: ReverseRequest, *, approve: bool, buyer_keep_item: bool) -> Decision:
    """The decision that approves or rejects a return or refund request in its current state:
    a pending refund-only request (APPROVE_REFUND / REJECT_REFUND), a pending return
    (APPROVE_RETURN, which waits for the items unless the buyer keeps them / REJECT_RETURN), or
    the items sent back (APPROVE_RECEIVED_PACKAGE / REJECT_RECEIVED_PACKAGE).

    Raises NotDecidable for any other state.
    """
    status = normalise_status(request.status)
    if status == RETURN_PENDING and request.type == "REFUND":
        if approve:
            return Decision("APPROVE_REFUND", "RETURN_OR_REFUND_REQUEST_SUCCESS")
        return Decision("REJECT_REFUND", "REFUND_OR_RETURN_REQUEST_REJECT")
    if status == RETURN_PENDING and request.type == "RETURN_AND_REFUND":
        if not approve:
            return Decision("REJECT_RETURN", "REFUND_OR_RETURN_REQUEST_REJECT")
        if buyer_keep_item:
            return Decision("APPROVE_RETURN", "RETURN_OR_REFUND_REQUEST_SUCCESS")
        return Decision("APPROVE_RETURN", "AWAITING_BUYER_SHIP")
    if status == RETURN_BUYER_SHIPPED:
        if approve:
            return Decision("APPROVE_RECEIVED_PACKAGE", "RETURN_OR_REFUND_REQUEST_SUCCESS")
        return Decision("REJECT_RECEIVED_PACKAGE", "REJECT_RECEIVE_PACKAGE")
    raise NotDecidable(
        f"{request.type or 'return'} request {request.id} is {status}: "
        "there is nothing for the seller to decide"
    )


def cancellation_decidable(request: ReverseRequest) -> None:
    """Raises NotDecidable unless the cancellation request waits for the seller's answer."""
    status = normalise_status(request.status)
    if status != CANCELLATION_PENDING:
        raise NotDecidable(
            f"cancellation request {request.id} is {status}: there is nothing to decide"
        )


_RMA_SPELLINGS: Final = {"AWAITING_BUYER_SHIPPED": "AWAITING_BUYER_RETURN"}


def normalise_rma_status(status: str | None) -> str | None:
    """An RMA status in the search's spelling (webhook 65 says AWAITING_BUYER_SHIPPED)."""
    if status is None:
        return None
    text = status.strip().upper()
    return _RMA_SPELLINGS.get(text, text)
