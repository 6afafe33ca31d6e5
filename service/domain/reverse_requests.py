"""An order's cancellation, return and after-sales requests: which version of a request wins, and
which requests wait for the seller.

TikTok reports a request through its searches (return_refund 202602 cancellations and returns,
202603 after-sales), which carry `seller_next_action_response` with the deadline, and through
webhooks (11, 12, 64, 65, 67), which carry the status only. One request only moves forward
through its stages, so a later stage wins; within one stage the newer `update_time` wins; a
copy that adds a deadline the held one lacks fills it in. Pure rules, no I/O.
"""

from dataclasses import dataclass
from datetime import datetime
from typing import Final

from contracts.entities import ReverseRequest, ReverseRequestKind
from service.domain.tiktok_status import CANCELLATION_STAGE, RETURN_STAGE
from service.domain.webhooks import CANCELLATION_COMPLETE, Reverse

# The search spells a rejected cancellation CANCELLATION_REQUEST_CANCEL, webhook 11 spells it
# CANCELLATION_REQUEST_CANCELLED; requests are kept in the search's spelling.
_SPELLINGS: Final = {"CANCELLATION_REQUEST_CANCELLED": "CANCELLATION_REQUEST_CANCEL"}

CANCELLATION_PENDING: Final = "CANCELLATION_REQUEST_PENDING"
RETURN_PENDING: Final = "RETURN_OR_REFUND_REQUEST_PENDING"
RETURN_BUYER_SHIPPED: Final = "BUYER_SHIPPED_ITEM"

# After-sales requests (202603): INIT, then the seller's review, then done.
AFTERSALES_STAGE: Final = {"INIT": 1, "PENDING_REQUEST_REVIEW": 2, "REQUEST_REVIEW_COMPLETED": 3}

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
    """A request as TikTok reports it, mapped: ids are TikTok's, amounts minor units of
    `currency`, times UTC. `next_action`/`deadline` come from `seller_next_action_response`
    (searches only); `order_id` is TikTok's order id."""

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
    rma_id: str | None = None
    rma_status: str | None = None
    rma_updated_at: datetime | None = None
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
    (a pending cancellation or return request always does)."""
    status = normalise_status(remote.status)
    if is_final(status):
        return False
    if remote.knows_next_action:
        return remote.next_action is not None
    return status in (CANCELLATION_PENDING, RETURN_PENDING)


def _version(request: ReverseRequest) -> tuple[int, datetime | None]:
    return stage(request.kind, request.status), request.updated_at or request.created_at


def _newer(
    candidate: tuple[int, datetime | None], held: tuple[int, datetime | None]
) -> bool | None:
    """True newer, False older, None the same version."""
    if candidate[0] != held[0]:
        return candidate[0] > held[0]
    if candidate[1] is None or held[1] is None or candidate[1] == held[1]:
        return None
    return candidate[1] > held[1]


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
        rma_id=remote.rma_id,
        rma_status=normalise_rma_status(remote.rma_status),
        rma_updated_at=remote.rma_updated_at,
        created_at=remote.created_at,
        updated_at=remote.updated_at,
    )


def merge_request(held: list[ReverseRequest], remote: RemoteRequest) -> list[ReverseRequest] | None:
    """The order's requests with `remote` applied, or None when what is held is as new.

    A newer version replaces the held one, keeping what the new copy does not say (a webhook
    says no reason, no deadline); the same version fills in only what was missing.
    """
    incoming = to_entry(remote)
    index = next(
        (n for n, r in enumerate(held) if (r.kind, r.id) == (remote.kind, remote.id)), None
    )
    if index is None:
        return [*held, incoming]
    current = held[index]
    newer = _newer(_version(incoming), _version(current))
    if newer is False:
        merged = _with_rma(current, remote)
    elif newer is None:
        merged = _fill_in(current, incoming, remote)
    else:
        kept = {
            name: getattr(current, name)
            for name in ("type", "role", "reason", "reason_text", "refund_total", "currency")
            if getattr(incoming, name) is None
        }
        if not remote.knows_next_action and incoming.awaiting_seller:
            # A webhook moved the request but does not say the deadline: keep it if still due.
            kept |= {"next_action": current.next_action, "deadline": current.deadline}
        merged = _with_rma(
            incoming.model_copy(update={**kept, "refunded_at": current.refunded_at}), remote
        )
    if merged == current:
        return None
    return [*held[:index], merged, *held[index + 1 :]]


def _fill_in(
    current: ReverseRequest, incoming: ReverseRequest, remote: RemoteRequest
) -> ReverseRequest:
    changes = {
        name: getattr(incoming, name)
        for name in ("type", "role", "reason", "reason_text", "refund_total", "currency")
        if getattr(current, name) is None and getattr(incoming, name) is not None
    }
    if remote.knows_next_action:
        changes |= {
            "awaiting_seller": incoming.awaiting_seller,
            "next_action": incoming.next_action,
            "deadline": incoming.deadline,
        }
    return _with_rma(current.model_copy(update=changes), remote)


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


def refunded(
    held: list[ReverseRequest],
    aftersales_id: str,
    *,
    amount: int | None,
    currency: str | None,
    at: datetime,
) -> list[ReverseRequest] | None:
    """The requests with an after-sales request's refund recorded as paid (webhook 67); None
    when it was recorded already (a redelivery)."""
    index = next(
        (n for n, r in enumerate(held) if (r.kind, r.id) == ("aftersales", aftersales_id)), None
    )
    if index is None:
        entry = ReverseRequest(
            kind="aftersales",
            id=aftersales_id,
            status="REQUEST_REVIEW_COMPLETED",
            refund_total=amount,
            currency=currency,
            refunded_at=at,
        )
        return [*held, entry]
    current = held[index]
    if current.refunded_at is not None:
        return None
    merged = current.model_copy(
        update={
            "refunded_at": at,
            "refund_total": amount if amount is not None else current.refund_total,
            "currency": currency or current.currency,
        }
    )
    return [*held[:index], merged, *held[index + 1 :]]


def open_request(
    held: list[ReverseRequest], kind: ReverseRequestKind, request_id: str | None
) -> ReverseRequest | None:
    """The request a seller decision means: the one named, else the order's one open request
    of the kind (None when there is none, or more than one)."""
    if request_id is not None:
        return next((r for r in held if r.kind == kind and r.id == request_id), None)
    waiting = [r for r in held if r.kind == kind and r.awaiting_seller]
    return waiting[0] if len(waiting) == 1 else None


def decided(request: ReverseRequest, status: str) -> ReverseRequest:
    """The request once TikTok accepted the seller's decision: at `status` (where TikTok moves
    it), no longer awaiting the seller. Its time stays TikTok's last one, so TikTok's own report
    of the new stage, carrying TikTok's newer time, replaces this one; a stale copy of the
    earlier stage loses by its stage."""
    return request.model_copy(
        update={
            "status": normalise_status(status),
            "awaiting_seller": False,
            "next_action": None,
            "deadline": None,
        }
    )


def replaced(held: list[ReverseRequest], request: ReverseRequest) -> list[ReverseRequest]:
    """`held` with `request` in place of the request of the same kind and id (or added)."""
    out = [r for r in held if (r.kind, r.id) != (request.kind, request.id)]
    index = next(
        (n for n, r in enumerate(held) if (r.kind, r.id) == (request.kind, request.id)), len(out)
    )
    return [*out[:index], request, *out[index:]]


def as_reverse(remote: RemoteRequest) -> Reverse | None:
    """A cancellation or return as the order's own reverse-flow fields take it (the rules of
    webhooks 11 and 12); None for an after-sales request, which has its own entry only."""
    status = normalise_status(remote.status)
    if remote.kind == "cancellation":
        done = status in CANCELLATION_COMPLETE
        return Reverse("cancellation", status, "cancelled" if done else None)
    if remote.kind == "return":
        # A return never decides the order's status by itself: how much was refunded does.
        return Reverse("return", status, None, return_id=remote.id, return_type=remote.type)
    return None


def flow_time(remote: RemoteRequest) -> datetime | None:
    """The time on the order's flow clock: a cancellation's request time (webhook 11 carries
    only that), a return's update time (webhook 12 carries it)."""
    if remote.kind == "cancellation":
        return remote.created_at
    return remote.updated_at or remote.created_at


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
