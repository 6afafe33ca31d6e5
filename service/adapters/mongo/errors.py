"""Which driver errors mean a unique index refused the write."""

from pymongo.errors import DuplicateKeyError, OperationFailure

# FerretDB reports a unique violation inside an update with a code other than 11000.
_DUPLICATE_CODES = frozenset({11000, 11001})


def is_duplicate(exc: Exception) -> bool:
    if isinstance(exc, DuplicateKeyError):
        return True
    if isinstance(exc, OperationFailure):
        return exc.code in _DUPLICATE_CODES or "duplicate key" in str(exc).lower()
    return False
