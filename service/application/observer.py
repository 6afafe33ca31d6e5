"""The port through which the bus reports its work (metrics, traces) without knowing how.

The application imports neither Prometheus nor OpenTelemetry (an import-linter contract checks
it); `service.observability.ServiceObserver` implements this port with both. `QUIET` reports
nothing: the default, and what the unit tests' bus uses.
"""

from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from typing import Literal, Protocol

from contracts.webhooks import Delivery

Kind = Literal["command", "webhook"]


class Observer(Protocol):
    def handled(self, kind: Kind, handler: str, outcome: str, seconds: float) -> None:
        """A message finished: its handler's name (the function in `HANDLERS`), its outcome
        (commands: `ok` or the error code; webhooks: applied, duplicate, rejected, failed) and
        the seconds spent in the handler."""
        ...

    def reconciled(self, entity: str, drift: int) -> None:
        """A reconciliation with TikTok finished for one entity (order, listing, ...): `drift`
        records differed from what the service held (0 when all agreed)."""
        ...

    def webhook(self, delivery: Delivery) -> AbstractContextManager[None]:
        """Around the work on one webhook: the TikTok calls and writes inside it belong to the
        webhook's trace, the one its ingress request started."""
        ...

    def batch(self, deliveries: Sequence[Delivery]) -> AbstractContextManager[None]:
        """Around the work shared by a batch of webhooks (its load and its commit)."""
        ...


class _Quiet:
    def handled(self, kind: Kind, handler: str, outcome: str, seconds: float) -> None:
        return None

    def reconciled(self, entity: str, drift: int) -> None:
        return None

    @contextmanager
    def webhook(self, delivery: Delivery) -> Iterator[None]:
        yield

    @contextmanager
    def batch(self, deliveries: Sequence[Delivery]) -> Iterator[None]:
        yield


#: Reports nothing.
QUIET: Observer = _Quiet()
