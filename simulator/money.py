"""Prices as TikTok writes them: decimal strings with exactly the currency's precision."""

import re
from decimal import Decimal

# ISO 4217 currencies without minor units among TikTok's markets. IDR keeps its two decimals:
# TikTok's own IDR examples carry amounts such as "0.01".
_ZERO_DECIMAL = frozenset({"JPY", "KRW", "VND", "CLP", "ISK"})
_CURRENCY = re.compile(r"^[A-Z]{3}$")


def places(currency: str) -> int:
    return 0 if currency in _ZERO_DECIMAL else 2


def valid_currency(currency: object) -> bool:
    return isinstance(currency, str) and bool(_CURRENCY.match(currency))


def valid_amount(amount: object, currency: str) -> bool:
    """A non-negative decimal string with no more decimals than the currency has."""
    if not isinstance(amount, str):
        return False
    decimals = places(currency)
    pattern = r"^\d+$" if decimals == 0 else rf"^\d+(\.\d{{1,{decimals}}})?$"
    return bool(re.match(pattern, amount))


def valid_decimal(amount: object) -> bool:
    """A non-negative decimal string, whatever its number of decimals."""
    return isinstance(amount, str) and bool(re.match(r"^\d+(\.\d+)?$", amount))


def fmt(value: Decimal, currency: str) -> str:
    """``Decimal("12.5")`` -> ``"12.50"`` (USD), ``"1500"`` (JPY)."""
    return f"{value:.{places(currency)}f}"


def total(amounts: list[str]) -> Decimal:
    return sum((Decimal(a) for a in amounts), Decimal(0))
