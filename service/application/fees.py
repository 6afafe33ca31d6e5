"""Fees: `platformFee` and `netAmount` from TikTok's finance statements once TikTok settled an
order (finance 202501, statement transactions by order). Run by reconciliation, a page of
delivered, unsettled orders per run, going round them so that none waits for ever behind
orders TikTok never settles."""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

import structlog

from contracts.entities import JobFailure
from service.application.context import Context
from service.application.errors import GatewayError
from service.domain import fees as rules
from service.domain.time import utcnow

log = structlog.get_logger(__name__)

#: Orders checked per run and shop (one finance call each).
PER_RUN = 100


@dataclass
class FeeCheck:
    """What one run's fee checks did: orders settled, where to go on next time (None: from the
    start), and the orders whose settlement could not be read."""

    settled: int = 0
    cursor: str | None = None
    failures: list[JobFailure] = field(default_factory=list)


async def settle_fees(ctx: Context, shop_id: str, cursor: str | None) -> FeeCheck:
    """Check up to `PER_RUN` delivered orders without final fees, after `cursor`; record the
    ones TikTok settled. Raises GatewayError when TikTok cannot be asked at all."""
    due = await ctx.reconciliations.awaiting_settlement(shop_id, cursor, PER_RUN)
    check = FeeCheck(cursor=due[-1][0] if len(due) == PER_RUN else None)
    for order_id, external_id in due:
        try:
            settlement = await ctx.tiktok.settlement(shop_id, external_id)
        except GatewayError as exc:
            if exc.retryable or exc.code is None:
                raise
            check.failures.append(JobFailure(ref=external_id, error=exc.message))
            continue
        if settlement is None:
            continue
        try:
            if await ctx.in_own_unit(_recorder(shop_id, order_id, settlement)):
                check.settled += 1
        except ValueError as exc:
            check.failures.append(JobFailure(ref=external_id, error=str(exc)))
    log.info("fees checked", shop_id=shop_id, checked=len(due), settled=check.settled)
    return check


def _recorder(
    shop_id: str, order_id: str, settlement: rules.Settlement
) -> Callable[[Context], Awaitable[bool]]:
    """The unit of work that records a settlement on the order (a patch of the fee fields)."""

    async def record(unit: Context) -> bool:
        order = await unit.uow.orders.get(shop_id, order_id)
        if order is None:
            return False
        updated = rules.settled(order, settlement, utcnow())
        if updated is None:
            return False
        unit.uow.orders.patch(updated, rules.FEE_FIELDS, [])
        return True

    return record
