"""What happens by itself as the simulated clock moves, replayed in the order it was due.

TikTok acts on its own when time passes: an ON_HOLD order leaves the buyer's free-cancellation
hour (to AWAITING_SHIPMENT), a cancellation request nobody answered for 24 hours is approved, a
return request (or an arrived return package) nobody answered for 48 hours is approved, refunds
reach the buyer 10 minutes after approval, orders settle (``simulator.finance``) and failed webhook
deliveries are retried. The simulator runs whatever fell due when the clock is moved
(``POST /_sim/clock``) and before each order-side call; each step runs at its due time, so the
timestamps and webhooks it makes read as if TikTok had acted on time.
"""

from collections.abc import Callable, Iterator
from contextlib import contextmanager

from simulator import after_sales, envelope, finance, fulfillment, webhooks
from simulator.core import Simulator

_MAX_STEPS = 10_000


@contextmanager
def _at(sim: Simulator, when: int) -> Iterator[None]:
    """Let ``sim.now()`` read ``when`` (never earlier than it already reads) for one step."""
    saved = sim.clock_offset
    if when < sim.now():
        sim.clock_offset = when - sim.config.clock() + 0.5
    try:
        yield
    finally:
        sim.clock_offset = saved


def _due_steps(sim: Simulator) -> list[tuple[int, str, Callable[[], None]]]:
    now = sim.now()
    books = sim.world.books
    steps: list[tuple[int, str, Callable[[], None]]] = []
    for order_id in list(books.held_orders):
        order = sim.world.orders[order_id]
        held = order.on_hold_until
        if order.status != "ON_HOLD" or held is None:
            books.held_orders.discard(order_id)
        elif held <= now:
            steps.append((held, order.id, _release(sim, order.id)))
    for c in books.cancellations.values():
        deadline = after_sales.cancellation_deadline(c)
        if deadline is not None and deadline <= now:
            steps.append((deadline, c.id, _auto_approve_cancellation(sim, c.id)))
        if c.refund_due is not None and c.refund_due <= now:
            steps.append((c.refund_due, c.id, _complete_cancellation(sim, c.id)))
    for r in books.returns.values():
        deadline = after_sales.return_deadline(r)
        if deadline is not None and deadline <= now:
            steps.append((deadline, r.id, _auto_approve_return(sim, r.id)))
        if r.refund_due is not None and r.refund_due <= now:
            steps.append((r.refund_due, r.id, _complete_refund(sim, r.id)))
    return sorted(steps, key=lambda step: (step[0], step[1]))


def run_due(sim: Simulator) -> None:
    """Run every step due by now, earliest first (a step may make another one due)."""
    for _ in range(_MAX_STEPS):
        steps = _due_steps(sim)
        if not steps:
            break
        when, _, step = steps[0]
        with _at(sim, when):
            step()
    finance.settle_due(sim)
    webhooks.retry_due(sim)


def _release(sim: Simulator, order_id: str) -> Callable[[], None]:
    def step() -> None:
        order = sim.world.orders[order_id]
        fulfillment.set_order_status(sim, order, "AWAITING_SHIPMENT", notify=True)

    return step


def _auto_approve_cancellation(sim: Simulator, cancel_id: str) -> Callable[[], None]:
    def step() -> None:
        c = sim.world.books.cancellations[cancel_id]
        try:
            after_sales.approve_cancellation(sim, c)
        except envelope.ApiFailure:
            # Shipped meanwhile: the system closes the request instead.
            after_sales.reject_cancellation(
                sim, c, "reverse_reject_request_reason_package_already_shipped", None
            )

    return step


def _complete_cancellation(sim: Simulator, cancel_id: str) -> Callable[[], None]:
    def step() -> None:
        after_sales.complete_cancellation(sim, sim.world.books.cancellations[cancel_id])

    return step


def _auto_approve_return(sim: Simulator, return_id: str) -> Callable[[], None]:
    def step() -> None:
        r = sim.world.books.returns[return_id]
        if r.status == after_sales.R_SHIPPED:
            decision = "APPROVE_RECEIVED_PACKAGE"
        elif r.return_type == "REFUND":
            decision = "APPROVE_REFUND"
        else:
            decision = "APPROVE_RETURN"
        after_sales.approve_return(sim, r, decision)

    return step


def _complete_refund(sim: Simulator, return_id: str) -> Callable[[], None]:
    def step() -> None:
        after_sales.complete_return_refund(sim, sim.world.books.returns[return_id])

    return step
