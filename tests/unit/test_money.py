"""Decimal strings to integer minor units and back, exactly."""

import pytest

from service.domain.money import (
    MAX_MINOR_UNITS,
    currency_exponent,
    from_minor_units,
    optional_minor_units,
    to_minor_units,
)


@pytest.mark.parametrize(
    ("amount", "currency", "minor"),
    [
        ("12.34", "USD", 1234),
        ("0.10", "USD", 10),
        ("0.1", "USD", 10),
        ("7", "USD", 700),
        ("12.500", "USD", 1250),  # trailing zeros carry no extra precision
        ("-0.00", "USD", 0),
        ("0.00", "GBP", 0),
        ("1500", "JPY", 1500),
        ("1500.00", "JPY", 1500),
        ("250000", "IDR", 25000000),
        ("0.01", "IDR", 1),
        ("99000", "VND", 99000),
        ("1.234", "KWD", 1234),
        ("19.99", "usd", 1999),
        # The largest amount taken, beyond a float's exact digits: still exact.
        ("9999999999999.99", "USD", MAX_MINOR_UNITS),
        ("999999999999999", "JPY", MAX_MINOR_UNITS),
        ("9999999999999.990000000000000000000000000000", "USD", MAX_MINOR_UNITS),
        ("0." + "0" * 5000, "USD", 0),
        ("0.29", "USD", 29),  # 0.29 * 100 is 28.999999999999996 in floating point
    ],
)
def test_to_minor_units(amount: str, currency: str, minor: int) -> None:
    assert to_minor_units(amount, currency) == minor


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("1.005", "USD"),  # more precision than cents: refused, not rounded
        ("100.5", "JPY"),
        ("1.2345", "KWD"),
        ("1e3", "USD"),
        ("NaN", "USD"),
        ("Infinity", "USD"),
        ("1,000.00", "USD"),
        ("", "USD"),
        ("$5", "USD"),
        ("5.", "USD"),
        ("5.00", "US"),
        ("5.00", "DOLLARS"),
    ],
)
def test_to_minor_units_refuses(amount: str, currency: str) -> None:
    with pytest.raises(ValueError, match=r"."):
        to_minor_units(amount, currency)


@pytest.mark.parametrize(
    ("amount", "currency"),
    [
        ("10000000000000.00", "USD"),  # one minor unit past the largest amount taken
        ("1000000000000000", "JPY"),
        ("92233720368547758.08", "USD"),  # 2**63 cents: past what the database stores
        ("99999999999999999999.99", "USD"),
        ("99999999999999999999999.00", "USD"),
        ("-99999999999999999999.99", "USD"),
        ("9" * 5000, "USD"),  # refused before converting its digits
    ],
)
def test_an_amount_beyond_the_largest_taken_is_refused_with_the_reason(
    amount: str, currency: str
) -> None:
    with pytest.raises(ValueError, match=rf"is beyond the largest amount taken \(.* {currency}\)"):
        to_minor_units(amount, currency)


@pytest.mark.parametrize("amount", ["-5", "-0.01", "-5.00", " -12.50 "])
def test_a_negative_amount_is_refused_unless_signed_amounts_are_read(amount: str) -> None:
    with pytest.raises(ValueError, match="is below zero, which an amount of money never is"):
        to_minor_units(amount, "USD")
    with pytest.raises(ValueError, match="is below zero"):
        optional_minor_units(amount, "USD")
    # A finance statement writes what TikTok withheld as a negative amount.
    assert to_minor_units(amount, "USD", signed=True) == -to_minor_units(amount.strip()[1:], "USD")


def test_a_refusal_quotes_a_long_amount_cut_short() -> None:
    with pytest.raises(ValueError, match="more precision than USD allows") as refused:
        to_minor_units("1" * 5000 + ".005", "USD")
    assert len(str(refused.value)) < 200


@pytest.mark.parametrize(
    ("minor", "currency", "amount"),
    [
        (1234, "USD", "12.34"),
        (5, "USD", "0.05"),
        (-5, "USD", "-0.05"),
        (0, "EUR", "0.00"),
        (1500, "JPY", "1500"),
        (1234, "KWD", "1.234"),
    ],
)
def test_from_minor_units(minor: int, currency: str, amount: str) -> None:
    assert from_minor_units(minor, currency) == amount


@pytest.mark.parametrize("currency", ["USD", "GBP", "JPY", "IDR", "KWD", "MYR", "VND"])
@pytest.mark.parametrize("minor", [0, 1, 99, 100, 123456789])
def test_round_trip(minor: int, currency: str) -> None:
    assert to_minor_units(from_minor_units(minor, currency), currency) == minor


def test_exponents() -> None:
    # ISO 4217's exponents: IDR has 2 (TikTok's own Indonesian examples carry "0.01").
    exponents = {c: currency_exponent(c) for c in ("USD", "JPY", "KRW", "VND", "IDR", "BHD")}
    assert exponents == {"USD": 2, "JPY": 0, "KRW": 0, "VND": 0, "IDR": 2, "BHD": 3}


def test_a_code_that_is_not_an_iso_4217_currency_is_refused() -> None:
    with pytest.raises(ValueError, match="ISO 4217"):
        currency_exponent("XYZ")


def test_optional_amounts() -> None:
    assert optional_minor_units(None, "USD") is None
    assert optional_minor_units("", "USD") is None
    assert optional_minor_units("1.50", "USD") == 150


def test_from_minor_units_takes_ints_only() -> None:
    with pytest.raises(TypeError):
        from_minor_units(1.5, "USD")  # type: ignore[arg-type]
