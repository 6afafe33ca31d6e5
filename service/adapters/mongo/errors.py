"""Which driver errors mean a unique index refused the write, and the one translation of
"the database did not answer" into the port's `DatabaseUnavailable`."""

from collections.abc import Iterator
from contextlib import contextmanager

from pymongo.errors import ConnectionFailure, DuplicateKeyError, OperationFailure

from service.application.ports import DatabaseUnavailable

# FerretDB reports a unique violation inside an update with a code other than 11000.
_DUPLICATE_CODES = frozenset({11000, 11001})


def is_duplicate(exc: Exception) -> bool:
    if isinstance(exc, DuplicateKeyError):
        return True
    if isinstance(exc, OperationFailure):
        return exc.code in _DUPLICATE_CODES or "duplicate key" in str(exc).lower()
    return False


@contextmanager
def unavailable_as_port_error() -> Iterator[None]:
    """Raise DatabaseUnavailable for the driver's "no answer" errors (no server selected within
    its timeout, a connection lost or timed out: every ConnectionFailure)."""
    try:
        yield
    except ConnectionFailure as exc:
        raise DatabaseUnavailable(str(exc)) from exc
