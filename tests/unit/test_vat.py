"""VAT types (numbering, meaning for computation) and VAT rate validation."""

from __future__ import annotations

from decimal import Decimal as D

import pytest
from billing.domain.errors import ValidationFailed
from billing.domain.vat import VatType, parse_vat_rate, parse_vat_type, validate_vat_rate


def test_numbering_follows_the_reference_list_and_1_is_standard_vat() -> None:
    assert [(t.value, t.label) for t in VatType] == [
        (0, "Without VAT"),
        (1, "VAT (standard)"),
        (2, "included VAT"),
        (3, "VAT exempt with deduction right"),
        (4, "VAT exempt without deduction right"),
        (5, "VAT reverse charge"),
        (6, "VAT not included in the tax base"),
    ]
    assert VatType(1) is VatType.STANDARD  # the reference's examples: vat_type=1 with vat 19 / 24


def test_only_standard_and_included_charge_vat() -> None:
    assert {t for t in VatType if t.charges_vat} == {VatType.STANDARD, VatType.INCLUDED}


def test_only_included_vat_has_gross_prices() -> None:
    assert {t for t in VatType if t.prices_include_vat} == {VatType.INCLUDED}


def test_mentions_explain_why_no_vat_is_charged() -> None:
    assert {t: t.mention for t in VatType} == {
        VatType.WITHOUT_VAT: None,
        VatType.STANDARD: None,
        VatType.INCLUDED: None,
        VatType.EXEMPT_WITH_DEDUCTION: "VAT exempt with deduction right",
        VatType.EXEMPT_WITHOUT_DEDUCTION: "VAT exempt without deduction right",
        VatType.REVERSE_CHARGE: "Reverse charge",
        VatType.NOT_IN_TAX_BASE: "Not included in the VAT tax base",
    }


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (1, VatType.STANDARD),
        ("1", VatType.STANDARD),
        (" 5 ", VatType.REVERSE_CHARGE),
        (0, VatType.WITHOUT_VAT),
    ],
)
def test_parse_vat_type(value: object, expected: VatType) -> None:
    assert parse_vat_type(value) is expected


@pytest.mark.parametrize("value", [7, -1, "7", "abc", "1.0", "", True, None, 1.0, "\u0661"])
def test_parse_vat_type_refuses(value: object) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_vat_type(value)
    assert caught.value.messages == [
        "vat_type must be one of 0 (Without VAT), 1 (VAT (standard)), 2 (included VAT), "
        "3 (VAT exempt with deduction right), 4 (VAT exempt without deduction right), "
        "5 (VAT reverse charge), 6 (VAT not included in the tax base)"
    ]


@pytest.mark.parametrize("rate", ["0", "5", "5.5", "8.25", "19", "19.000", "100"])
def test_vat_rate_accepted(rate: str) -> None:
    assert validate_vat_rate(D(rate), "vat") == D(rate)


@pytest.mark.parametrize(
    ("rate", "message"),
    [
        ("120", "vat must be between 0 and 100"),
        ("100.01", "vat must be between 0 and 100"),
        ("-1", "vat must be between 0 and 100"),
        ("19.125", "vat must have at most 2 decimal places"),
    ],
)
def test_vat_rate_refused(rate: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        validate_vat_rate(D(rate), "vat")
    assert caught.value.messages == [message]


def test_parse_vat_rate_reads_the_wire() -> None:
    assert parse_vat_rate("19", "products.vat") == D("19")
    assert parse_vat_rate(24, "products.vat") == D("24")
    with pytest.raises(ValidationFailed, match=r"^products\.vat must be a number$"):
        parse_vat_rate("19%", "products.vat")
    with pytest.raises(ValidationFailed, match="not a binary float"):
        parse_vat_rate(19.0, "products.vat")
    with pytest.raises(ValidationFailed, match="between 0 and 100"):
        parse_vat_rate("120", "products.vat")
