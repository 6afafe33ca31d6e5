"""Numbers and currencies as the messages sent to the service carry them, bounded once.

Every integer a message may carry is bounded so that it fits the database's integers (BSON's
signed 64 bits; the driver cannot write a larger one) and is refused as invalid input before
anything runs, rather than failing deep in a write. Money is integer minor units of an ISO 4217
currency that has a minor unit: the codes of the `iso4217` table the money code reads its
exponents from (`service.domain.money`), so that every amount taken can be converted and shown.
"""

from typing import Annotated, Any, Final

from iso4217 import Currency as Iso4217
from pydantic import AfterValidator, Field

#: The range of an integer the database stores (BSON's int64).
INT64_MIN: Final = -(2**63)
INT64_MAX: Final = 2**63 - 1
#: The largest amount taken, in minor units (15 digits): it fits the database's integers with
#: room for totals, and stays exact as a number in the admin page's JavaScript (below 2**53).
MAX_MINOR_UNITS: Final = 999_999_999_999_999
#: The most units of a product in one warehouse taken (TikTok itself takes 99,999).
MAX_QUANTITY: Final = 1_000_000_000

MinorUnits = Annotated[
    int, Field(ge=0, le=MAX_MINOR_UNITS, description="minor units of `currency`")
]
Quantity = Annotated[int, Field(ge=0, le=MAX_QUANTITY, description="units")]
#: A publisher's version of a record: any number that grows, within 64 bits.
Version = Annotated[int, Field(ge=0, le=INT64_MAX)]

#: ISO 4217's currencies that have a minor unit.
CURRENCY_CODES: Final[frozenset[str]] = frozenset(
    currency.code for currency in Iso4217 if currency.exponent is not None
)


def _iso_4217(code: str) -> str:
    if code not in CURRENCY_CODES:
        raise ValueError(
            f"{code} is not an ISO 4217 currency with a minor unit (USD, EUR, JPY, ...)"
        )
    return code


CurrencyCode = Annotated[
    str,
    Field(pattern=r"^[A-Z]{3}$", description="ISO 4217 code with a minor unit"),
    AfterValidator(_iso_4217),
]


def refuse_unstorable_integers(value: Any, what: str) -> None:
    """ValueError when an integer anywhere inside `value` (a JSON document) lies outside 64
    bits; `what` names the value in the message."""
    pending = [value]
    while pending:  # no recursion: the JSON readers already bound the nesting
        item = pending.pop()
        if isinstance(item, dict):
            pending.extend(item.values())
        elif isinstance(item, list):
            pending.extend(item)
        elif isinstance(item, int) and not INT64_MIN <= item <= INT64_MAX:
            raise ValueError(f"{what} integers must lie between {INT64_MIN} and {INT64_MAX}")
