"""Decimal helpers: half-up rounding, strict parsing, exchange-rate direction. Expected values are
worked out by hand and written as literals."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from billing.domain.errors import ValidationFailed
from billing.domain.money import (
    CENT,
    UNIT_PRICE_STEP,
    Direction,
    convert,
    decimal_places,
    direction_between,
    parse_decimal,
    require_exchange_rate,
    round_half_up,
    round_money,
)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("0.005", "0.01"),
        ("0.015", "0.02"),
        ("0.025", "0.03"),  # banker's rounding would give 0.02
        ("2.665", "2.67"),  # banker's rounding would give 2.66
        ("1.0049999", "1.00"),
        ("-0.025", "-0.03"),  # halves go away from zero on both sides
        ("-2.665", "-2.67"),
        ("3.456", "3.46"),
        ("-3.456", "-3.46"),
        ("12", "12.00"),
    ],
)
def test_round_money_is_half_up_to_cents(value: str, expected: str) -> None:
    assert str(round_money(D(value))) == expected


def test_round_money_never_returns_negative_zero() -> None:
    assert str(round_money(D("-0.001"))) == "0.00"
    assert str(round_money(D("-0"))) == "0.00"


def test_round_half_up_to_unit_price_step() -> None:
    assert round_half_up(D("1.23445"), UNIT_PRICE_STEP) == D("1.2345")  # banker's: 1.2344
    assert str(round_half_up(D("3.404"), UNIT_PRICE_STEP)) == "3.4040"
    assert round_half_up(D("0.125"), CENT) == D("0.13")


@pytest.mark.parametrize(
    ("value", "places"),
    [
        ("19.50", 1),
        ("100", 0),
        ("0.74", 2),
        ("1E+2", 0),
        ("8.250", 2),
        ("0.000", 0),
        ("1E-999999999", 999999999),
    ],
)
def test_decimal_places_ignores_trailing_zeros(value: str, places: int) -> None:
    assert decimal_places(D(value)) == places


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("12", "12"),
        ("-12", "-12"),
        (" 12.50 ", "12.50"),
        ("0.74", "0.74"),
        ("+3", "3"),
        (".5", "0.5"),
        ("5.", "5"),
        ("1e3", "1000"),
        ("1.5000000000000", "1.5"),
        ("-0", "0"),
        ("-0.00", "0.00"),
        ("999999999999999", "999999999999999"),
        ("0.0000000001", "0.0000000001"),
        ("0E-999999999", "0"),
        ("0E+999999999", "0"),
        (12, "12"),
        (-7, "-7"),
        (D("3.5"), "3.5"),
        (D("1E+2"), "100"),
    ],
)
def test_parse_decimal_accepts(value: object, expected: str) -> None:
    parsed = parse_decimal(value, "price")
    assert isinstance(parsed, D)
    assert format(parsed, "f") == expected


@pytest.mark.parametrize(
    ("value", "message"),
    [
        (1.5, "price must be a decimal string or an integer, not a binary float"),
        (0.1, "price must be a decimal string or an integer, not a binary float"),
        (True, "price must be a number"),
        ("abc", "price must be a number"),
        ("NaN", "price must be a number"),
        ("Infinity", "price must be a number"),
        ("-inf", "price must be a number"),
        ("1_000", "price must be a number"),
        ("0,74", "price must be a number"),
        ("\u0661\u0662", "price must be a number"),  # Arabic-Indic digits, which Decimal() would accept
        ("12 EUR", "price must be a number"),
        (None, "price must be a number"),
        ([1], "price must be a number"),
        ("", "price must not be empty"),
        ("   ", "price must not be empty"),
        (D("NaN"), "price must be a finite number"),
        (D("sNaN"), "price must be a finite number"),
        (D("-Infinity"), "price must be a finite number"),
        ("1e400", "price must have at most 15 digits before the decimal point"),
        ("1000000000000000", "price must have at most 15 digits before the decimal point"),
        (10**15, "price must have at most 15 digits before the decimal point"),
        ("-1000000000000000", "price must have at most 15 digits before the decimal point"),
        ("1e-20", "price must have at most 10 decimal places"),
        ("0.12345678901", "price must have at most 10 decimal places"),
        (D("1E-999999999"), "price must have at most 10 decimal places"),
        ("1e999999999", "price must have at most 15 digits before the decimal point"),
        (D("1E+999999999"), "price must have at most 15 digits before the decimal point"),
    ],
)
def test_parse_decimal_refuses(value: object, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_decimal(value, "price")
    assert caught.value.messages == [message]


def test_convert_foreign_to_home_multiplies() -> None:
    # "4.6 on EUR / RON": 1 EUR = 4.6 RON
    assert convert(D("100"), D("4.6"), Direction.FOREIGN_TO_HOME) == D("460.00")
    assert str(convert(D("0.74"), D("4.6"), Direction.FOREIGN_TO_HOME, UNIT_PRICE_STEP)) == "3.4040"


def test_convert_home_to_foreign_divides() -> None:
    # 100 / 4.6 = 21.7391...; 51 / 4.6 = 11.08695...; 0.74 / 4.6 = 0.16087...
    assert convert(D("100"), D("4.6"), Direction.HOME_TO_FOREIGN) == D("21.74")
    assert convert(D("51"), D("4.6"), Direction.HOME_TO_FOREIGN, UNIT_PRICE_STEP) == D("11.0870")
    assert convert(D("0.74"), D("4.6"), Direction.HOME_TO_FOREIGN, UNIT_PRICE_STEP) == D("0.1609")


def test_convert_rounds_half_up() -> None:
    assert convert(D("1.00"), D("4.565"), Direction.FOREIGN_TO_HOME) == D("4.57")  # banker's: 4.56
    assert convert(D("1"), D("1.23445"), Direction.FOREIGN_TO_HOME, UNIT_PRICE_STEP) == D("1.2345")


@pytest.mark.parametrize("rate", [D("0"), D("-4.6")])
def test_convert_refuses_a_rate_that_is_not_positive(rate: D) -> None:
    with pytest.raises(ValidationFailed, match="exchange_rate must be greater than 0"):
        convert(D("100"), rate, Direction.FOREIGN_TO_HOME)


def test_require_exchange_rate() -> None:
    assert require_exchange_rate(D("4.6")) == D("4.6")
    with pytest.raises(ValidationFailed, match="exchange_rate is required"):
        require_exchange_rate(None)


def test_direction_reverse() -> None:
    assert Direction.FOREIGN_TO_HOME.reverse is Direction.HOME_TO_FOREIGN
    assert Direction.HOME_TO_FOREIGN.reverse is Direction.FOREIGN_TO_HOME


def test_direction_between_follows_the_home_currency() -> None:
    assert direction_between("EUR", "RON", "RON") is Direction.FOREIGN_TO_HOME
    assert direction_between("RON", "EUR", "RON") is Direction.HOME_TO_FOREIGN
    # a EUR account quoting USD: 1 USD = rate EUR
    assert direction_between("USD", "EUR", "EUR") is Direction.FOREIGN_TO_HOME


def test_direction_between_two_foreign_currencies_is_refused() -> None:
    with pytest.raises(ValidationFailed) as caught:
        direction_between("USD", "EUR", "RON")
    assert caught.value.messages == [
        "exchange_rate cannot convert between USD and EUR: one of them must be the account currency RON"
    ]


def test_direction_between_a_currency_and_itself_is_a_programming_error() -> None:
    with pytest.raises(ValueError, match="itself"):
        direction_between("RON", "RON", "RON")
