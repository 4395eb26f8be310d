"""Document positions in, rounded lines and totals out; receipts and amounts due.

Rounding rule (ROUND_HALF_UP, see money.py), applied per line and then summed:

- unit price entered (net prices):  net = round(unit_count * unit_price, 2)
                                    vat = round(net * rate / 100, 2)
                                    total = net + vat
- gross entered (`total` / `input_currency_total`, or any unit price when the VAT type makes
  prices VAT-inclusive):            gross = the entered total, or round(unit_count * unit_price, 2)
                                    net = round(gross / (1 + rate / 100), 2)
                                    vat = gross - net, total = gross
  so a gross the caller typed is exactly the gross printed; the line's net unit price is then
  round(net / unit_count, 4), for display.
- totals per VAT rate and for the document are sums of the rounded lines, never re-rounded from
  unrounded sums: the printed lines always add up to the printed totals.
- VAT types that charge no VAT keep each line's rate (for display) with a VAT amount of 0.

Currencies. `input_currency` is the second currency amounts may be entered in (case 3 of the
reference's "Invoice currency"; for case 2 pass the home currency as `input_currency` so every
line also carries its home-currency figures). Unit prices cross the exchange rate at 4 decimals,
gross totals at 2, and then each currency's lines follow the rule above on their own, so each
currency's printed lines add up (the input-currency total may differ by a few cents from the
converted document total). Without a distinct input currency, `input_currency_price` and
`input_currency_total` are simply prices in the document currency.

Discount positions. A discount applies to every normal position after the previous discount
position (or the start) and before itself, which is what "Discount for advanced payment" after
a single position means, and lets one document discount groups of positions differently. It
yields one negative line per VAT rate among those positions, so VAT per rate stays right:
net = round(-(sum of their nets) * discount_rate / 100, 2) and VAT by the line rule; when prices
are VAT-inclusive the discount is taken from their gross and split like a gross entry. A discount
with no positions to discount is refused.

Negative amounts: unit_count must be > 0 always; prices and totals may be negative only on a
reversal document (the reference's partial reversal: 12 months at -12).

Positions are computed in the order given; `position` is carried for display only. Error
messages count positions from 1, in the order given: `document_positions[2].unit_count`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from enum import StrEnum

from billing.domain.errors import ValidationFailed
from billing.domain.money import (
    CENT,
    UNIT_PRICE_STEP,
    Direction,
    arithmetic,
    convert,
    decimal_places,
    direction_between,
    parse_decimal,
    require_exchange_rate,
    round_half_up,
    round_money,
)
from billing.domain.vat import VatType, validate_vat_rate

POSITIONS_FIELD = "document_positions"
PRICE_FIELDS = ("price", "total", "input_currency_price", "input_currency_total")
_TOTAL_FIELDS = ("total", "input_currency_total")
_INPUT_FIELDS = ("input_currency_price", "input_currency_total")
_DECIMAL_FIELDS = ("unit_count", "vat", *PRICE_FIELDS, "discount_rate")
_TEXT_LIMITS = {"description": 10_000, "unit": 255, "product_code": 255}
_KNOWN_FIELDS = frozenset({"type", "position", *_TEXT_LIMITS, *_DECIMAL_FIELDS})
_ZERO = Decimal("0.00")


def position_field(index: int, name: str | None = None) -> str:
    """Path of a position (1-based) or one of its fields, as error messages name it."""
    path = f"{POSITIONS_FIELD}[{index}]"
    return f"{path}.{name}" if name else path


class PositionType(StrEnum):
    POSITION = "Position"
    DISCOUNT = "DiscountPosition"


@dataclass(frozen=True, slots=True)
class PositionInput:
    """One document position as the caller sent it, typed but not yet checked against the
    document (that needs the VAT type and reversal flag: see `compute_document`)."""

    type: PositionType = PositionType.POSITION
    description: str | None = None
    unit: str | None = None
    unit_count: Decimal | None = None
    product_code: str | None = None
    vat: Decimal | None = None
    position: int | None = None
    price: Decimal | None = None
    input_currency_price: Decimal | None = None
    total: Decimal | None = None
    input_currency_total: Decimal | None = None
    discount_rate: Decimal | None = None

    def prices(self) -> dict[str, Decimal]:
        """The price fields that were given, by wire name."""
        given = {
            "price": self.price,
            "total": self.total,
            "input_currency_price": self.input_currency_price,
            "input_currency_total": self.input_currency_total,
        }
        return {name: value for name, value in given.items() if value is not None}

    @classmethod
    def from_mapping(cls, data: Mapping[str, object], index: int) -> PositionInput:
        """Type a position from decoded wire fields (str, int or Decimal values). Blank values
        count as absent, as an empty XML element or form field means "not given"."""
        problems = [
            f"{position_field(index, name)} is not a known field"
            for name in data
            if name not in _KNOWN_FIELDS
        ]
        present = {
            name: value
            for name, value in data.items()
            if name in _KNOWN_FIELDS
            and value is not None
            and not (isinstance(value, str) and not value.strip())
        }
        texts: dict[str, str] = {}
        for name, limit in _TEXT_LIMITS.items():
            if name not in present:
                continue
            value = present[name]
            if not isinstance(value, str):
                problems.append(f"{position_field(index, name)} must be text")
            elif len(value.strip()) > limit:
                problems.append(f"{position_field(index, name)} must be at most {limit} characters")
            else:
                texts[name] = value.strip()
        numbers: dict[str, Decimal] = {}
        for name in (*_DECIMAL_FIELDS, "position"):
            if name in present:
                try:
                    numbers[name] = parse_decimal(present[name], position_field(index, name))
                except ValidationFailed as err:
                    problems.extend(err.messages)
        order = numbers.get("position")
        if order is not None and (order < 1 or order != order.to_integral_value()):
            problems.append(f"{position_field(index, 'position')} must be a whole number of at least 1")
        kind = PositionType.POSITION
        if "type" in present:
            raw_type = present["type"]
            if isinstance(raw_type, str) and raw_type.strip() in tuple(PositionType):
                kind = PositionType(raw_type.strip())
            else:
                problems.append(f"{position_field(index, 'type')} must be Position or DiscountPosition")
        if problems:
            raise ValidationFailed(*problems)
        return cls(
            type=kind,
            description=texts.get("description"),
            unit=texts.get("unit"),
            unit_count=numbers.get("unit_count"),
            product_code=texts.get("product_code"),
            vat=numbers.get("vat"),
            position=int(order) if order is not None else None,
            price=numbers.get("price"),
            input_currency_price=numbers.get("input_currency_price"),
            total=numbers.get("total"),
            input_currency_total=numbers.get("input_currency_total"),
            discount_rate=numbers.get("discount_rate"),
        )


def parse_positions(items: Sequence[Mapping[str, object]]) -> list[PositionInput]:
    """Type every position, reporting the problems of all of them at once."""
    problems: list[str] = []
    positions: list[PositionInput] = []
    for index, item in enumerate(items, start=1):
        try:
            positions.append(PositionInput.from_mapping(item, index))
        except ValidationFailed as err:
            problems.extend(err.messages)
    if problems:
        raise ValidationFailed(*problems)
    return positions


@dataclass(frozen=True, slots=True)
class LineAmounts:
    """A line's figures in one currency. `unit_price` is the net unit price (None on discounts)."""

    unit_price: Decimal | None
    net: Decimal
    vat: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class Line:
    """A computed line: one per normal position, one per VAT rate for a discount position."""

    index: int
    source: PositionInput
    vat_rate: Decimal
    amounts: LineAmounts
    input_amounts: LineAmounts | None


@dataclass(frozen=True, slots=True)
class RateTotals:
    rate: Decimal
    net: Decimal
    vat: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class Totals:
    """Sums of rounded lines in one currency, per VAT rate (ascending) and for the document."""

    per_rate: tuple[RateTotals, ...]
    net: Decimal
    vat: Decimal
    total: Decimal


@dataclass(frozen=True, slots=True)
class DocumentTotals:
    vat_type: VatType
    currency: str
    input_currency: str | None
    """None when amounts are entered in the document currency only (no conversion)."""
    exchange_rate: Decimal | None
    lines: tuple[Line, ...]
    totals: Totals
    input_totals: Totals | None


@dataclass(frozen=True, slots=True)
class _Conversion:
    rate: Decimal
    to_document: Direction


def compute_document(
    positions: Sequence[PositionInput],
    vat_type: VatType,
    currency: str,
    input_currency: str | None,
    exchange_rate: Decimal | None,
    *,
    home_currency: str,
    reversal: bool = False,
) -> DocumentTotals:
    """Check the positions against the document's rules and compute its lines and totals.

    `home_currency` is the account's currency, the one `exchange_rate` is quoted in. Every
    problem found is reported in one ValidationFailed, each message naming its field.
    """
    problems: list[str] = []
    conversion: _Conversion | None = None
    try:
        conversion = _conversion(currency, input_currency, exchange_rate, home_currency)
    except ValidationFailed as err:
        problems.extend(err.messages)
    problems.extend(_problems(positions, vat_type, reversal))
    if problems:
        raise ValidationFailed(*problems)

    lines: list[Line] = []
    discountable: list[Line] = []
    with arithmetic():
        for index, position in enumerate(positions, start=1):
            if position.type is PositionType.DISCOUNT:
                lines.extend(_discount_lines(index, position, discountable, vat_type, conversion is not None))
                discountable = []
            else:
                line = _position_line(index, position, vat_type, conversion)
                lines.append(line)
                discountable.append(line)
    return DocumentTotals(
        vat_type=vat_type,
        currency=currency,
        input_currency=input_currency if conversion else None,
        exchange_rate=conversion.rate if conversion else None,
        lines=tuple(lines),
        totals=_totals((line.vat_rate, line.amounts) for line in lines),
        input_totals=(
            _totals((line.vat_rate, line.input_amounts) for line in lines if line.input_amounts)
            if conversion
            else None
        ),
    )


def _conversion(
    currency: str, input_currency: str | None, exchange_rate: Decimal | None, home_currency: str
) -> _Conversion | None:
    """How input-currency amounts become document amounts; None when there is one currency
    (a rate sent anyway is then ignored)."""
    if input_currency is None or input_currency == currency:
        return None
    rate = require_exchange_rate(exchange_rate)
    return _Conversion(rate, direction_between(input_currency, currency, home_currency))


def _problems(positions: Sequence[PositionInput], vat_type: VatType, reversal: bool) -> list[str]:
    if not positions:
        return [f"{POSITIONS_FIELD} must contain at least one position"]
    problems: list[str] = []
    discountable = False
    for index, position in enumerate(positions, start=1):
        if position.type is PositionType.DISCOUNT:
            problems.extend(_discount_problems(index, position, discountable))
            discountable = False
        else:
            problems.extend(_position_problems(index, position, vat_type, reversal))
            discountable = True
    return problems


def _position_problems(index: int, position: PositionInput, vat_type: VatType, reversal: bool) -> list[str]:
    problems = [
        f"{position_field(index, name)} is required"
        for name, value in (("description", position.description), ("unit", position.unit))
        if not value
    ]
    if position.unit_count is None:
        problems.append(f"{position_field(index, 'unit_count')} is required")
    elif position.unit_count <= 0:
        problems.append(f"{position_field(index, 'unit_count')} must be greater than 0")
    prices = position.prices()
    if len(prices) != 1:
        given = f"gives {' and '.join(prices)}" if prices else "gives no price"
        problems.append(f"{position_field(index)} {given}: give exactly one of {', '.join(PRICE_FIELDS)}")
    for name, value in prices.items():
        if value < 0 and not reversal:
            problems.append(
                f"{position_field(index, name)} must not be negative "
                "(only reversal documents have negative amounts)"
            )
        if name in _TOTAL_FIELDS and decimal_places(value) > 2:
            problems.append(f"{position_field(index, name)} must have at most 2 decimal places")
    if position.vat is None:
        if vat_type.charges_vat:
            problems.append(
                f"{position_field(index, 'vat')} is required for vat_type {vat_type.value} ({vat_type.label})"
            )
    else:
        try:
            validate_vat_rate(position.vat, position_field(index, "vat"))
        except ValidationFailed as err:
            problems.extend(err.messages)
    if position.discount_rate is not None:
        problems.append(f"{position_field(index, 'discount_rate')} is only allowed on discount positions")
    return problems


def _discount_problems(index: int, position: PositionInput, discountable: bool) -> list[str]:
    problems = [] if position.description else [f"{position_field(index, 'description')} is required"]
    rate = position.discount_rate
    if rate is None:
        problems.append(f"{position_field(index, 'discount_rate')} is required")
    elif not 0 < rate <= 100:
        problems.append(f"{position_field(index, 'discount_rate')} must be greater than 0 and at most 100")
    given = {
        "unit": position.unit,
        "unit_count": position.unit_count,
        "vat": position.vat,
        **position.prices(),
    }
    problems.extend(
        f"{position_field(index, name)} must not be given on a discount position"
        for name, value in given.items()
        if value is not None
    )
    if not discountable:
        problems.append(
            f"{position_field(index)} is a discount with no position before it to discount "
            "(a discount applies to the positions since the previous discount)"
        )
    return problems


def _position_line(
    index: int, position: PositionInput, vat_type: VatType, conversion: _Conversion | None
) -> Line:
    rate = position.vat if position.vat is not None else Decimal(0)
    effective = rate if vat_type.charges_vat else Decimal(0)
    quantity = position.unit_count
    assert quantity is not None  # checked by _position_problems
    ((name, value),) = position.prices().items()
    is_total = name in _TOTAL_FIELDS
    step = CENT if is_total else UNIT_PRICE_STEP

    def amounts(entered: Decimal) -> LineAmounts:
        return _line_amounts(quantity, entered, is_total, effective, vat_type.prices_include_vat)

    if conversion is None:
        return Line(index, position, rate, amounts(value), None)
    if name in _INPUT_FIELDS:
        document_value = convert(value, conversion.rate, conversion.to_document, step)
        return Line(index, position, rate, amounts(document_value), amounts(value))
    input_value = convert(value, conversion.rate, conversion.to_document.reverse, step)
    return Line(index, position, rate, amounts(value), amounts(input_value))


def _line_amounts(
    quantity: Decimal, entered: Decimal, is_total: bool, rate: Decimal, inclusive: bool
) -> LineAmounts:
    """One line in one currency, by the module's rounding rule. `rate` is the charged rate."""
    if is_total or inclusive:
        gross = round_money(entered if is_total else quantity * entered)
        net, vat = _split_gross(gross, rate)
        return LineAmounts(round_half_up(net / quantity, UNIT_PRICE_STEP), net, vat, gross)
    net = round_money(quantity * entered)
    vat = round_money(net * rate / 100)
    return LineAmounts(entered, net, vat, net + vat)


def _split_gross(gross: Decimal, rate: Decimal) -> tuple[Decimal, Decimal]:
    """Net and VAT of a gross amount, the VAT taking the rounding so they add up to the gross."""
    net = round_money(gross / (1 + rate / 100))
    return net, gross - net


def _discount_lines(
    index: int, position: PositionInput, discounted: Sequence[Line], vat_type: VatType, with_input: bool
) -> list[Line]:
    assert position.discount_rate is not None  # checked by _discount_problems
    share = position.discount_rate / 100
    by_rate: dict[Decimal, list[Line]] = {}
    for line in discounted:
        by_rate.setdefault(line.vat_rate, []).append(line)
    inclusive = vat_type.prices_include_vat
    lines = []
    for rate, group in by_rate.items():
        effective = rate if vat_type.charges_vat else Decimal(0)
        amounts = _discount_amounts([line.amounts for line in group], share, effective, inclusive)
        input_amounts = (
            _discount_amounts(
                [line.input_amounts for line in group if line.input_amounts], share, effective, inclusive
            )
            if with_input
            else None
        )
        lines.append(Line(index, position, rate, amounts, input_amounts))
    return lines


def _discount_amounts(
    bases: list[LineAmounts], share: Decimal, rate: Decimal, inclusive: bool
) -> LineAmounts:
    """The discount of `bases` (lines of one VAT rate), by the module's rounding rule."""
    if inclusive:
        gross = round_money(-sum((b.total for b in bases), _ZERO) * share)
        net, vat = _split_gross(gross, rate)
        return LineAmounts(None, net, vat, gross)
    net = round_money(-sum((b.net for b in bases), _ZERO) * share)
    vat = round_money(net * rate / 100)
    return LineAmounts(None, net, vat, net + vat)


def _totals(lines: Iterable[tuple[Decimal, LineAmounts]]) -> Totals:
    by_rate: dict[Decimal, list[LineAmounts]] = {}
    for rate, amounts in lines:
        by_rate.setdefault(rate, []).append(amounts)
    per_rate = tuple(
        RateTotals(
            rate=rate,
            net=sum((a.net for a in group), _ZERO),
            vat=sum((a.vat for a in group), _ZERO),
            total=sum((a.total for a in group), _ZERO),
        )
        for rate, group in sorted(by_rate.items())
    )
    return Totals(
        per_rate=per_rate,
        net=sum((r.net for r in per_rate), _ZERO),
        vat=sum((r.vat for r in per_rate), _ZERO),
        total=sum((r.total for r in per_rate), _ZERO),
    )


def compute_receipt_amount(
    received: Decimal,
    received_currency: str,
    invoice_currency: str,
    exchange_rate: Decimal | None,
    *,
    home_currency: str,
) -> Decimal:
    """A receipt's `amount`: what was received, in the invoice's currency, rounded to cents
    (100 RON on an EUR invoice at 4.6 RON/EUR -> 21.74)."""
    if received <= 0:
        raise ValidationFailed("receipt_amount must be greater than 0")
    if received_currency == invoice_currency:
        return round_money(received)
    direction = direction_between(received_currency, invoice_currency, home_currency)
    return convert(received, require_exchange_rate(exchange_rate), direction)


def remaining_due(total: Decimal, paid_amounts: Iterable[Decimal]) -> Decimal:
    """The invoice's total_due: its total less what was paid (never re-rounded per payment)."""
    return round_money(total - sum(paid_amounts, _ZERO))


def apply_payment(total_due: Decimal, amount: Decimal) -> Decimal:
    """The amount due after paying `amount`. Overpaying, or paying nothing, is refused: a
    payment must fit in what is due, so total_due never goes below 0."""
    if amount <= 0:
        raise ValidationFailed("amount must be greater than 0")
    if decimal_places(amount) > 2:
        raise ValidationFailed("amount must have at most 2 decimal places")
    if amount > total_due:
        raise ValidationFailed(f"amount {amount} exceeds the amount due {total_due}")
    return round_money(total_due - amount)
