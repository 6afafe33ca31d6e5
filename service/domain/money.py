"""Money as TikTok sends it (decimal string plus currency) and as we keep it (integer minor units).

The exponent of each currency's minor unit is ISO 4217's, from the maintained `iso4217` package
(IDR has 2, JPY, KRW and VND none, KWD 3): the contract says "ISO 4217 minor units", and TikTok's
own Indonesian examples carry amounts such as "0.01" IDR. The admin page formats with the same
table (`CURRENCY_EXPONENTS`, served with the vocabulary).

Conversions are exact: Decimal only, never float. A string carrying more precision than its
currency has (``"1.005"`` USD, ``"100.5"`` JPY) is refused rather than rounded, because a silent
rounding would make totals disagree with TikTok's. So is an amount beyond `MAX_MINOR_UNITS`: the
database keeps 64-bit integers, and the sums of amounts (refunds, statistics) must fit as well.
"""

import re
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Final

from iso4217 import Currency

#: ISO 4217's minor-unit exponent of every active currency that has one.
CURRENCY_EXPONENTS: Final[Mapping[str, int]] = MappingProxyType(
    {c.code: c.exponent for c in Currency if c.exponent is not None}
)

#: The largest amount taken, in minor units (15 digits: 9,999,999,999,999.99 USD). The database
#: stores 64-bit integers (up to 9.2e18), so a sum of a thousand such amounts still fits, and
#: every amount stays exact as a number in the admin page's JavaScript (up to 9.0e15).
MAX_MINOR_UNITS: Final = 999_999_999_999_999

_CURRENCY = re.compile(r"^[A-Z]{3}$")
# Plain decimal notation only: no exponent, no NaN/Infinity, no thousands separators.
_AMOUNT = re.compile(r"^-?\d+(?:\.\d+)?$")


def normalise_currency(currency: str) -> str:
    """``"usd"`` -> ``"USD"``; anything that is not three letters is a ValueError."""
    code = currency.strip().upper()
    if not _CURRENCY.match(code):
        raise ValueError(f"not an ISO 4217 currency code: {currency!r}")
    return code


def currency_exponent(currency: str) -> int:
    """Number of decimal places of the currency's minor unit (ISO 4217).

    Raises ValueError for a code that is not an ISO 4217 currency with a minor unit.
    """
    code = normalise_currency(currency)
    exponent = CURRENCY_EXPONENTS.get(code)
    if exponent is None:
        raise ValueError(f"{code} is not an ISO 4217 currency with a minor unit")
    return exponent


def to_minor_units(amount: str, currency: str, *, signed: bool = False) -> int:
    """``("12.34", "USD")`` -> ``1234``; ``("1500", "JPY")`` -> ``1500``.

    Trailing zeros beyond the currency's precision are fine (``"12.500"`` USD is exact);
    non-zero digits beyond it raise ValueError, and so does an amount beyond
    `MAX_MINOR_UNITS` in minor units. A negative amount raises ValueError unless `signed`:
    prices, totals, fees and refunds are never below zero (TikTok's order, product and
    return_refund calls send none), while a finance statement's fees and settlement are
    (finance 202501 writes what TikTok withheld as ``"-1.78"``).
    """
    text = amount.strip()
    if not _AMOUNT.match(text):
        raise ValueError(f"not a decimal amount: {_shown(amount)}")
    exponent = currency_exponent(currency)
    code = normalise_currency(currency)
    # as_tuple() is exact; Decimal arithmetic would round past the context's 28 digits.
    sign, digits, decimal_exponent = Decimal(text).as_tuple()
    assert isinstance(decimal_exponent, int)  # the pattern above rules out NaN and Infinity
    # Trailing zeros carry no value: without them the last digit is the finest one that counts.
    significant = "".join(map(str, digits)).rstrip("0")
    if not significant:
        return 0
    shift = decimal_exponent + len(digits) - len(significant) + exponent
    if shift < 0:
        raise ValueError(
            f"{_shown(amount)} has more precision than {code} allows ({exponent} decimal places)"
        )
    # Its digits are counted before any conversion: a thousand-digit amount costs nothing.
    if len(significant) + shift > len(str(MAX_MINOR_UNITS)):
        raise _beyond(amount, code)
    value: int = int(significant) * 10**shift
    if value > MAX_MINOR_UNITS:
        raise _beyond(amount, code)
    if sign and not signed:
        raise ValueError(f"{_shown(amount)} is below zero, which an amount of money never is")
    return -value if sign else value


def _beyond(amount: str, code: str) -> ValueError:
    largest = from_minor_units(MAX_MINOR_UNITS, code)
    return ValueError(f"{_shown(amount)} is beyond the largest amount taken ({largest} {code})")


def _shown(amount: str) -> str:
    """The amount as a reason quotes it: a thousand digits are cut to the first forty."""
    return repr(amount if len(amount) <= 40 else amount[:40] + "...")


def optional_minor_units(amount: str | None, currency: str) -> int | None:
    """Like :func:`to_minor_units`, but an absent or empty amount (TikTok sends ``""``) is None."""
    if amount is None or not amount.strip():
        return None
    return to_minor_units(amount, currency)


def from_minor_units(minor: int, currency: str) -> str:
    """``(1234, "USD")`` -> ``"12.34"``; ``(1500, "JPY")`` -> ``"1500"``, as TikTok takes it."""
    if isinstance(minor, bool) or not isinstance(minor, int):
        raise TypeError(f"minor units must be an int, got {type(minor).__name__}")
    exponent = currency_exponent(currency)
    if exponent == 0:
        return str(minor)
    sign = "-" if minor < 0 else ""
    whole, fraction = divmod(abs(minor), 10**exponent)
    return f"{sign}{whole}.{fraction:0{exponent}d}"
