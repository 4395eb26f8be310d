"""Money arithmetic: `Decimal` only, every rounding explicit and ROUND_HALF_UP (never banker's).

Exchange-rate convention
------------------------
`exchange_rate` is the price of ONE unit of the foreign currency in the issuer's home (account)
currency, the way national banks quote it: the reference's "4.6 on EUR / RON" means
1 EUR = 4.6 RON for a RON account. The same number serves whichever of the two currencies the
document is in, so a conversion's direction follows from which side is the home currency:

- foreign -> home: amount * rate. Case 3 of "Invoice currency": amounts entered in EUR
  (input_currency_id), invoice in RON (currency_id).
- home -> foreign: amount / rate. Case 2: invoice in EUR, RON figures shown or entered
  beside it; and receipts: 100 RON received on an EUR invoice at 4.6 -> 21.74 EUR.
- one currency (case 1): no rate is used.

A conversion between two currencies neither of which is the home currency is refused: a single
rate cannot say which way it is quoted.
"""

from __future__ import annotations

import re
from contextlib import AbstractContextManager
from decimal import (
    ROUND_HALF_UP,
    Context,
    Decimal,
    DivisionByZero,
    InvalidOperation,
    Overflow,
    localcontext,
)
from enum import Enum

from billing.domain.errors import ValidationFailed

CENT = Decimal("0.01")
UNIT_PRICE_STEP = Decimal("0.0001")
"""Unit prices converted between currencies keep 4 decimals; line amounts are then rounded to cents."""

MAX_INTEGER_DIGITS = 15
MAX_DECIMAL_PLACES = 10

_LIMIT = Decimal(10) ** MAX_INTEGER_DIGITS
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]+)?")
# Two bounded inputs multiply to at most 30 integer + 20 decimal digits: 64 digits keep every
# intermediate exact, so the only roundings are the ones written in the code.
_ARITHMETIC = Context(prec=64, rounding=ROUND_HALF_UP, traps=[InvalidOperation, DivisionByZero, Overflow])


def arithmetic() -> AbstractContextManager[Context]:
    """Context for money computations: wide precision, errors trapped instead of silently NaN."""
    return localcontext(_ARITHMETIC)


def round_half_up(value: Decimal, step: Decimal) -> Decimal:
    """Round to the exponent of `step`, halves away from zero; never returns a negative zero."""
    with arithmetic():
        rounded = value.quantize(step, rounding=ROUND_HALF_UP)
    return rounded.copy_abs() if rounded.is_zero() else rounded


def round_money(value: Decimal) -> Decimal:
    """Round to cents, ROUND_HALF_UP: 0.005 -> 0.01, -0.005 -> -0.01."""
    return round_half_up(value, CENT)


def decimal_places(value: Decimal) -> int:
    """Significant decimal places, trailing zeros ignored: 19.50 -> 1, 100 -> 0. Reads the digits
    directly: normalize() would go through a context and turn 1E-999999999 into 0."""
    _, digits, exponent = value.as_tuple()
    if not isinstance(exponent, int) or exponent >= 0 or not any(digits):
        return 0
    trailing_zeros = len(digits) - len("".join(map(str, digits)).rstrip("0"))
    return max(0, -exponent - trailing_zeros)


def parse_decimal(value: object, field: str) -> Decimal:
    """Read a number from the wire (str, int or Decimal) without ever passing through float.

    Refused with ValidationFailed naming `field`: floats (already inexact), booleans, NaN and
    infinities, empty text, anything but plain ASCII decimal notation (no "1_000", no "0,74"),
    more than 15 integer digits or more than 10 significant decimal places (which also bounds
    exponent notation). The result is never negative zero and its exponent lies in -10..0, so
    `format(value, "f")` prints it plainly ("1e3" -> 1000).
    """
    if isinstance(value, float):
        raise ValidationFailed(f"{field} must be a decimal string or an integer, not a binary float")
    if isinstance(value, bool):
        raise ValidationFailed(f"{field} must be a number")
    if isinstance(value, int):
        number = Decimal(value)
    elif isinstance(value, Decimal):
        number = value
    elif isinstance(value, str):
        text = value.strip()
        if not text:
            raise ValidationFailed(f"{field} must not be empty")
        if not _NUMBER.fullmatch(text):
            raise ValidationFailed(f"{field} must be a number")
        number = Decimal(text)
    else:
        raise ValidationFailed(f"{field} must be a number")
    if not number.is_finite():
        raise ValidationFailed(f"{field} must be a finite number")
    if number.copy_abs() >= _LIMIT:
        raise ValidationFailed(
            f"{field} must have at most {MAX_INTEGER_DIGITS} digits before the decimal point"
        )
    places = decimal_places(number)
    if places > MAX_DECIMAL_PLACES:
        raise ValidationFailed(f"{field} must have at most {MAX_DECIMAL_PLACES} decimal places")
    exponent = number.as_tuple().exponent
    if isinstance(exponent, int) and not -MAX_DECIMAL_PLACES <= exponent <= 0:
        with arithmetic():
            number = number.quantize(Decimal(1).scaleb(-places))
    return number.copy_abs() if number.is_zero() else number


class Direction(Enum):
    """Which way an amount crosses the exchange rate (see the module docstring)."""

    FOREIGN_TO_HOME = "foreign_to_home"
    HOME_TO_FOREIGN = "home_to_foreign"

    @property
    def reverse(self) -> Direction:
        return Direction.HOME_TO_FOREIGN if self is Direction.FOREIGN_TO_HOME else Direction.FOREIGN_TO_HOME


def require_exchange_rate(exchange_rate: Decimal | None) -> Decimal:
    """The rate a conversion needs: present and positive."""
    if exchange_rate is None:
        raise ValidationFailed("exchange_rate is required when amounts are converted between two currencies")
    if exchange_rate <= 0:
        raise ValidationFailed("exchange_rate must be greater than 0")
    return exchange_rate


def direction_between(source: str, target: str, home_currency: str) -> Direction:
    """Direction of converting from `source` to `target` (two different currency codes)."""
    if source == target:
        raise ValueError(f"no conversion from {source} to itself")
    if source == home_currency:
        return Direction.HOME_TO_FOREIGN
    if target == home_currency:
        return Direction.FOREIGN_TO_HOME
    raise ValidationFailed(
        f"exchange_rate cannot convert between {source} and {target}: "
        f"one of them must be the account currency {home_currency}"
    )


def convert(amount: Decimal, exchange_rate: Decimal, direction: Direction, step: Decimal = CENT) -> Decimal:
    """`amount` * rate (foreign -> home) or / rate (home -> foreign), rounded half-up to `step`:
    cents for amounts, UNIT_PRICE_STEP for unit prices."""
    rate = require_exchange_rate(exchange_rate)
    with arithmetic():
        converted = amount * rate if direction is Direction.FOREIGN_TO_HOME else amount / rate
    return round_half_up(converted, step)
