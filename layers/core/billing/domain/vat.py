"""VAT types (the invoice's `vat_type`) and per-position VAT rates.

Numbering. The reference lists seven VAT types and its examples send `vat_type=1` for an
ordinary invoice carrying 19 % / 24 % VAT on its positions. Numbering that list in its printed
order from 0 gives exactly this (1 = VAT (standard)), keeps every type at its place in the
reference, and leaves "Without VAT" at 0. Numbering from 1 would make 1 "Without VAT" and
contradict the examples; moving "Without VAT" to 7 would be an arbitrary reorder.

    value  member                    reference wording                     VAT on lines   prices
    0      WITHOUT_VAT               Without VAT                           0              net
    1      STANDARD                  VAT (standard)                        charged        net
    2      INCLUDED                  included VAT                          charged        gross
    3      EXEMPT_WITH_DEDUCTION     VAT exempt with deduction right       0 + mention    net
    4      EXEMPT_WITHOUT_DEDUCTION  VAT exempt without deduction right    0 + mention    net
    5      REVERSE_CHARGE            VAT reverse charge                    0 + mention    net
    6      NOT_IN_TAX_BASE           VAT not included in the tax base      0 + mention    net

Types that do not charge VAT still keep each position's rate on its line, for display; the
amount of VAT is 0 and the document prints the type's `mention` (the legal reason no VAT is
charged, e.g. "Reverse charge" for the customer to self-assess).
"""

from __future__ import annotations

import re
from decimal import Decimal
from enum import IntEnum

from billing.domain.errors import ValidationFailed
from billing.domain.money import decimal_places, parse_decimal

_WHOLE_NUMBER = re.compile(r"[0-9]{1,3}")


class VatType(IntEnum):
    WITHOUT_VAT = 0
    STANDARD = 1
    INCLUDED = 2
    EXEMPT_WITH_DEDUCTION = 3
    EXEMPT_WITHOUT_DEDUCTION = 4
    REVERSE_CHARGE = 5
    NOT_IN_TAX_BASE = 6

    @property
    def label(self) -> str:
        """The reference's wording, for display and error messages."""
        return _LABELS[self]

    @property
    def charges_vat(self) -> bool:
        """Whether lines carry a VAT amount computed from their rate."""
        return self in (VatType.STANDARD, VatType.INCLUDED)

    @property
    def prices_include_vat(self) -> bool:
        """Whether unit prices are gross (VAT extracted from them) rather than net."""
        return self is VatType.INCLUDED

    @property
    def mention(self) -> str | None:
        """Text the document must print to explain why no VAT is charged; None when VAT is
        charged or the issuer simply does not charge VAT."""
        return _MENTIONS.get(self)


_LABELS = {
    VatType.WITHOUT_VAT: "Without VAT",
    VatType.STANDARD: "VAT (standard)",
    VatType.INCLUDED: "included VAT",
    VatType.EXEMPT_WITH_DEDUCTION: "VAT exempt with deduction right",
    VatType.EXEMPT_WITHOUT_DEDUCTION: "VAT exempt without deduction right",
    VatType.REVERSE_CHARGE: "VAT reverse charge",
    VatType.NOT_IN_TAX_BASE: "VAT not included in the tax base",
}

_MENTIONS = {
    VatType.EXEMPT_WITH_DEDUCTION: "VAT exempt with deduction right",
    VatType.EXEMPT_WITHOUT_DEDUCTION: "VAT exempt without deduction right",
    VatType.REVERSE_CHARGE: "Reverse charge",
    VatType.NOT_IN_TAX_BASE: "Not included in the VAT tax base",
}


def parse_vat_type(value: object, field: str = "vat_type") -> VatType:
    """The wire's vat_type (integer or digit string) as a VatType; anything else is a 422."""
    number: int | None = None
    if isinstance(value, int) and not isinstance(value, bool):
        number = value
    elif isinstance(value, str) and _WHOLE_NUMBER.fullmatch(value.strip()):
        number = int(value.strip())
    if number is not None and number in tuple(VatType):
        return VatType(number)
    choices = ", ".join(f"{t.value} ({t.label})" for t in VatType)
    raise ValidationFailed(f"{field} must be one of {choices}")


def validate_vat_rate(rate: Decimal, field: str) -> Decimal:
    """A VAT percentage: 0..100 with at most 2 decimal places (19, 5.5, 8.25)."""
    if not 0 <= rate <= 100:
        raise ValidationFailed(f"{field} must be between 0 and 100")
    if decimal_places(rate) > 2:
        raise ValidationFailed(f"{field} must have at most 2 decimal places")
    return rate


def parse_vat_rate(value: object, field: str) -> Decimal:
    """Read and validate a VAT percentage from the wire (product and position `vat`)."""
    return validate_vat_rate(parse_decimal(value, field), field)
