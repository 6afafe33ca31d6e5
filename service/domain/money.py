"""Money as TikTok sends it (decimal string plus currency) and as we keep it (integer minor units).

Conversions are exact: Decimal only, never float. A string carrying more precision than its
currency has (``"1.005"`` USD, ``"100.5"`` JPY) is refused rather than rounded, because a silent
rounding would make totals disagree with TikTok's.
"""

import re
from collections.abc import Mapping
from decimal import Decimal
from types import MappingProxyType
from typing import Final

# ISO 4217 minor-unit exponents that differ from the common 2. IDR is listed with 0 although ISO
# gives it 2: TikTok Shop Indonesia prices in whole rupiah.
_EXPONENT_OVERRIDES: Final[dict[str, int]] = {
    # no minor unit
    "BIF": 0,
    "CLP": 0,
    "DJF": 0,
    "GNF": 0,
    "IDR": 0,
    "ISK": 0,
    "JPY": 0,
    "KMF": 0,
    "KRW": 0,
    "PYG": 0,
    "RWF": 0,
    "UGX": 0,
    "UYI": 0,
    "VND": 0,
    "VUV": 0,
    "XAF": 0,
    "XOF": 0,
    "XPF": 0,
    # thousandths
    "BHD": 3,
    "IQD": 3,
    "JOD": 3,
    "KWD": 3,
    "LYD": 3,
    "OMR": 3,
    "TND": 3,
}
DEFAULT_EXPONENT: Final = 2
CURRENCY_EXPONENTS: Final[Mapping[str, int]] = MappingProxyType(_EXPONENT_OVERRIDES)

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
    """Number of decimal places of the currency's minor unit (2 unless listed otherwise)."""
    return CURRENCY_EXPONENTS.get(normalise_currency(currency), DEFAULT_EXPONENT)


def to_minor_units(amount: str, currency: str) -> int:
    """``("12.34", "USD")`` -> ``1234``; ``("1500", "JPY")`` -> ``1500``.

    Trailing zeros beyond the currency's precision are fine (``"12.500"`` USD is exact);
    non-zero digits beyond it raise ValueError.
    """
    text = amount.strip()
    if not _AMOUNT.match(text):
        raise ValueError(f"not a decimal amount: {amount!r}")
    exponent = currency_exponent(currency)
    # as_tuple() is exact; Decimal arithmetic would round past the context's 28 digits.
    sign, digits, decimal_exponent = Decimal(text).as_tuple()
    assert isinstance(decimal_exponent, int)  # the pattern above rules out NaN and Infinity
    coefficient = int("".join(map(str, digits)))
    shift = decimal_exponent + exponent
    value: int
    if shift >= 0:
        value = coefficient * 10**shift
    else:
        value, dropped = divmod(coefficient, 10**-shift)
        if dropped:
            raise ValueError(
                f"{amount!r} has more precision than {normalise_currency(currency)} allows "
                f"({exponent} decimal places)"
            )
    return -value if sign else value


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
