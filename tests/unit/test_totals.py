"""Document totals, receipts and amounts due. Every expected figure was worked out by hand (the
arithmetic is in the comments) and is written as a literal, never computed by the code under test.
Positions go through `parse_positions`, as the wire layer sends them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal as D

import pytest
from billing.domain.errors import ValidationFailed
from billing.domain.totals import (
    DocumentTotals,
    LineAmounts,
    PositionInput,
    PositionType,
    Totals,
    apply_payment,
    compute_document,
    compute_receipt_amount,
    parse_positions,
    remaining_due,
)
from billing.domain.vat import VatType

Item = Mapping[str, object]


def compute(
    items: Sequence[Item],
    vat_type: VatType = VatType.STANDARD,
    *,
    currency: str = "RON",
    input_currency: str | None = None,
    rate: str | None = None,
    reversal: bool = False,
) -> DocumentTotals:
    return compute_document(
        parse_positions(items),
        vat_type,
        currency,
        input_currency,
        D(rate) if rate is not None else None,
        home_currency="RON",
        reversal=reversal,
    )


def figures(amounts: LineAmounts | Totals | None) -> tuple[str, str, str]:
    assert amounts is not None
    return str(amounts.net), str(amounts.vat), str(amounts.total)


def lines(document: DocumentTotals) -> list[tuple[str, str, str]]:
    return [figures(line.amounts) for line in document.lines]


def input_lines(document: DocumentTotals) -> list[tuple[str, str, str]]:
    return [figures(line.input_amounts) for line in document.lines]


def per_rate(totals: Totals | None) -> list[tuple[str, str, str, str]]:
    assert totals is not None
    return [(str(r.rate), str(r.net), str(r.vat), str(r.total)) for r in totals.per_rate]


def problems(
    items: Sequence[Item],
    vat_type: VatType = VatType.STANDARD,
    *,
    currency: str = "RON",
    input_currency: str | None = None,
    rate: str | None = None,
    reversal: bool = False,
) -> list[str]:
    """The messages of the ValidationFailed that `compute` raises with these arguments."""
    with pytest.raises(ValidationFailed) as caught:
        compute(
            items, vat_type, currency=currency, input_currency=input_currency, rate=rate, reversal=reversal
        )
    return caught.value.messages


def item(**fields: object) -> dict[str, object]:
    """A normal position: 1 unit at 10, 19 % VAT, unless overridden; None drops a field."""
    base: dict[str, object] = {
        "description": "Item",
        "unit": "pcs",
        "unit_count": "1",
        "price": "10",
        "vat": "19",
    }
    base.update(fields)
    return {name: value for name, value in base.items() if value is not None}


def discount(rate: object = "10", **fields: object) -> dict[str, object]:
    return {"type": "DiscountPosition", "description": "Discount", "discount_rate": rate, **fields}


# (a) "Modify invoice": potatoes and Brussels sprouts, prices entered as input_currency_price.

POTATOES: Item = {
    "description": "potatoes",
    "unit": "kg",
    "unit_count": "4",
    "input_currency_price": "0.74",
    "vat": 10,
}
SPROUTS: Item = {
    "description": "Brussels sprouts",
    "unit": "g",
    "unit_count": "250",
    "input_currency_price": "51",
    "vat": 19,
}


def test_reference_vegetables_in_one_currency() -> None:
    """No input currency: input_currency_price is simply the price in the document currency."""
    document = compute([POTATOES, SPROUTS])
    # potatoes: 4 * 0.74 = 2.96; VAT 10 %: 0.296 -> 0.30; 3.26
    # sprouts: 250 * 51 = 12750.00; VAT 19 %: 2422.50; 15172.50
    assert lines(document) == [("2.96", "0.30", "3.26"), ("12750.00", "2422.50", "15172.50")]
    assert per_rate(document.totals) == [
        ("10", "2.96", "0.30", "3.26"),
        ("19", "12750.00", "2422.50", "15172.50"),
    ]
    assert figures(document.totals) == ("12752.96", "2422.80", "15175.76")
    assert document.input_totals is None
    assert document.input_currency is None
    assert [line.input_amounts for line in document.lines] == [None, None]


def test_reference_vegetables_entered_in_eur_on_a_ron_invoice() -> None:
    """Case 3: currency RON, input currency EUR, 1 EUR = 4.6 RON."""
    document = compute([POTATOES, SPROUTS], currency="RON", input_currency="EUR", rate="4.6")
    # potatoes: 0.74 * 4.6 = 3.4040 RON; 4 * 3.404 = 13.616 -> 13.62; VAT 1.362 -> 1.36; 14.98
    # sprouts: 51 * 4.6 = 234.6000 RON; 250 * 234.6 = 58650.00; VAT 11143.50; 69793.50
    assert [str(line.amounts.unit_price) for line in document.lines] == ["3.4040", "234.6000"]
    assert lines(document) == [("13.62", "1.36", "14.98"), ("58650.00", "11143.50", "69793.50")]
    assert per_rate(document.totals) == [
        ("10", "13.62", "1.36", "14.98"),
        ("19", "58650.00", "11143.50", "69793.50"),
    ]
    assert figures(document.totals) == ("58663.62", "11144.86", "69808.48")
    # the EUR figures are the lines computed in EUR (15175.76 * 4.6 = 69808.496: each currency's
    # lines add up on their own, so the converted totals may differ by cents)
    assert input_lines(document) == [("2.96", "0.30", "3.26"), ("12750.00", "2422.50", "15172.50")]
    assert figures(document.input_totals) == ("12752.96", "2422.80", "15175.76")
    assert (document.currency, document.input_currency, document.exchange_rate) == ("RON", "EUR", D("4.6"))


def test_reference_vegetables_entered_in_ron_on_an_eur_invoice() -> None:
    """Case 2: invoice in EUR with the home currency (RON) beside it; the same rate 4.6 divides."""
    document = compute([POTATOES, SPROUTS], currency="EUR", input_currency="RON", rate="4.6")
    # potatoes: 0.74 / 4.6 = 0.16087 -> 0.1609 EUR; 4 * 0.1609 = 0.6436 -> 0.64; VAT 0.064 -> 0.06; 0.70
    # sprouts: 51 / 4.6 = 11.08696 -> 11.0870; 250 * 11.087 = 2771.75; VAT 526.6325 -> 526.63; 3298.38
    assert [str(line.amounts.unit_price) for line in document.lines] == ["0.1609", "11.0870"]
    assert lines(document) == [("0.64", "0.06", "0.70"), ("2771.75", "526.63", "3298.38")]
    assert figures(document.totals) == ("2772.39", "526.69", "3299.08")
    assert figures(document.input_totals) == ("12752.96", "2422.80", "15175.76")


# (b) "Add invoice (xml)": 12 months at 12, 24 % VAT, 10 % discount for advanced payment.

SUBSCRIPTION: Item = {
    "description": "BASIC SUBSCRIPTION",
    "unit": "months",
    "unit_count": "12",
    "price": "12",
}
ADVANCE_DISCOUNT: Item = {
    "type": "DiscountPosition",
    "description": "Discount for advanced payment",
    "discount_rate": "10",
}


def test_reference_xml_invoice_with_discount() -> None:
    document = compute([{**SUBSCRIPTION, "vat": "24"}, ADVANCE_DISCOUNT])
    # 12 * 12 = 144.00; VAT 34.56; discount -14.40, VAT -3.456 -> -3.46
    assert lines(document) == [("144.00", "34.56", "178.56"), ("-14.40", "-3.46", "-17.86")]
    assert figures(document.totals) == ("129.60", "31.10", "160.70")
    assert per_rate(document.totals) == [("24", "129.60", "31.10", "160.70")]
    discount_line = document.lines[1]
    assert (discount_line.index, discount_line.source.type, discount_line.vat_rate) == (
        2,
        PositionType.DISCOUNT,
        D("24"),
    )
    assert discount_line.amounts.unit_price is None


def test_reference_xml_invoice_in_eur_shows_ron_figures() -> None:
    """Case 2 with prices in the document currency: the RON lines are computed from 12 * 4.6."""
    document = compute(
        [{**SUBSCRIPTION, "vat": "24"}, ADVANCE_DISCOUNT], currency="EUR", input_currency="RON", rate="4.6"
    )
    assert figures(document.totals) == ("129.60", "31.10", "160.70")
    # 12 EUR * 4.6 = 55.2000 RON; 12 * 55.2 = 662.40; VAT 158.976 -> 158.98; 821.38
    # discount -66.24; VAT -15.8976 -> -15.90; -82.14
    assert input_lines(document) == [("662.40", "158.98", "821.38"), ("-66.24", "-15.90", "-82.14")]
    assert figures(document.input_totals) == ("596.16", "143.08", "739.24")


def test_reference_modify_positions_example() -> None:
    document = compute(
        [
            {**SUBSCRIPTION, "description": "STANDARD SUBSCRIPTION", "price": "35", "vat": "24"},
            ADVANCE_DISCOUNT,
        ]
    )
    # 12 * 35 = 420.00; VAT 100.80; discount -42.00, VAT -10.08
    assert lines(document) == [("420.00", "100.80", "520.80"), ("-42.00", "-10.08", "-52.08")]
    assert figures(document.totals) == ("378.00", "90.72", "468.72")


# (c) the PHP variant: 19 % VAT and a 12 % discount.


def test_reference_php_invoice_with_discount() -> None:
    php_discount = {**ADVANCE_DISCOUNT, "discount_rate": "12"}
    document = compute([{**SUBSCRIPTION, "product_code": "66XXH663496H", "vat": 19}, php_discount])
    # 144.00; VAT 27.36; discount 144 * 12 % = -17.28, VAT -3.2832 -> -3.28
    assert lines(document) == [("144.00", "27.36", "171.36"), ("-17.28", "-3.28", "-20.56")]
    assert figures(document.totals) == ("126.72", "24.08", "150.80")
    assert document.lines[0].source.product_code == "66XXH663496H"


# (d) the partial reversal example: 12 months at -12, 19 % VAT.

REVERSAL: Item = {
    "description": "Partial reversing of another invoice",
    "unit": "months",
    "unit_count": "12",
    "price": "-12",
    "product_code": "66XXH663496H",
    "vat": 19,
}


def test_reference_reversal() -> None:
    document = compute([REVERSAL], reversal=True)
    # 12 * -12 = -144.00; VAT -27.36
    assert lines(document) == [("-144.00", "-27.36", "-171.36")]
    assert figures(document.totals) == ("-144.00", "-27.36", "-171.36")


def test_negative_price_outside_a_reversal_is_refused() -> None:
    assert problems([REVERSAL]) == [
        "document_positions[1].price must not be negative (only reversal documents have negative amounts)"
    ]


def test_reversal_mixing_reversed_and_new_positions() -> None:
    document = compute([REVERSAL, item(unit_count="2", price="50")], reversal=True)
    # -144.00 / -27.36 and 100.00 / 19.00
    assert figures(document.totals) == ("-44.00", "-8.36", "-52.36")


def test_discount_of_reversed_positions_is_positive() -> None:
    document = compute([REVERSAL, discount("10")], reversal=True)
    # -(-144.00) * 10 % = 14.40; VAT 2.736 -> 2.74
    assert lines(document)[1] == ("14.40", "2.74", "17.14")


# (e) every VAT type on 10 units at 10.00 with 19 %.


@pytest.mark.parametrize(
    ("vat_type", "expected"),
    [
        (VatType.WITHOUT_VAT, ("100.00", "0.00", "100.00")),
        (VatType.STANDARD, ("100.00", "19.00", "119.00")),
        # gross 100.00; net 100 / 1.19 = 84.0336 -> 84.03; VAT 15.97
        (VatType.INCLUDED, ("84.03", "15.97", "100.00")),
        (VatType.EXEMPT_WITH_DEDUCTION, ("100.00", "0.00", "100.00")),
        (VatType.EXEMPT_WITHOUT_DEDUCTION, ("100.00", "0.00", "100.00")),
        (VatType.REVERSE_CHARGE, ("100.00", "0.00", "100.00")),
        (VatType.NOT_IN_TAX_BASE, ("100.00", "0.00", "100.00")),
    ],
)
def test_every_vat_type(vat_type: VatType, expected: tuple[str, str, str]) -> None:
    document = compute([item(unit_count="10", price="10.00")], vat_type)
    assert lines(document) == [expected]
    assert figures(document.totals) == expected
    assert document.lines[0].vat_rate == D("19")  # kept for display even when no VAT is charged
    assert per_rate(document.totals) == [("19", *expected)]
    assert document.vat_type is vat_type


def test_included_vat_unit_price_is_the_derived_net() -> None:
    document = compute([item(unit_count="10", price="10.00")], VatType.INCLUDED)
    assert str(document.lines[0].amounts.unit_price) == "8.4030"  # 84.03 / 10


def test_included_vat_with_discount_discounts_the_gross() -> None:
    document = compute([item(price="119.00"), discount("10")], VatType.INCLUDED)
    # line: gross 119.00, net 100.00, VAT 19.00; discount gross -11.90, net -10.00, VAT -1.90
    assert lines(document) == [("100.00", "19.00", "119.00"), ("-10.00", "-1.90", "-11.90")]
    assert figures(document.totals) == ("90.00", "17.10", "107.10")


def test_exempt_invoice_with_discount_has_no_vat() -> None:
    document = compute([{**SUBSCRIPTION, "vat": "24"}, ADVANCE_DISCOUNT], VatType.EXEMPT_WITH_DEDUCTION)
    assert lines(document) == [("144.00", "0.00", "144.00"), ("-14.40", "0.00", "-14.40")]
    assert per_rate(document.totals) == [("24", "129.60", "0.00", "129.60")]


def test_vat_may_be_omitted_when_the_type_charges_none() -> None:
    document = compute([item(vat=None)], VatType.REVERSE_CHARGE)
    assert document.lines[0].vat_rate == D("0")
    assert figures(document.totals) == ("10.00", "0.00", "10.00")


def test_vat_is_required_when_the_type_charges_it() -> None:
    assert problems([item(vat=None)]) == [
        "document_positions[1].vat is required for vat_type 1 (VAT (standard))"
    ]
    assert problems([item(vat=None)], vat_type=VatType.INCLUDED) == [
        "document_positions[1].vat is required for vat_type 2 (included VAT)"
    ]


# (f) rounding edge cases at .005: half-up, never banker's.


@pytest.mark.parametrize(
    ("unit_count", "price", "vat", "expected"),
    [
        ("1", "0.125", "0", ("0.13", "0.00", "0.13")),  # banker's: 0.12
        ("1", "2.665", "0", ("2.67", "0.00", "2.67")),  # banker's: 2.66
        ("3", "0.335", "0", ("1.01", "0.00", "1.01")),  # 1.005; banker's: 1.00
        ("1", "10.50", "5", ("10.50", "0.53", "11.03")),  # VAT 0.525; banker's: 0.52
        ("1", "-10.50", "5", ("-10.50", "-0.53", "-11.03")),  # halves away from zero
        ("1", "-0.125", "0", ("-0.13", "0.00", "-0.13")),
        ("1", "0.01", "50", ("0.01", "0.01", "0.02")),  # VAT 0.005 -> 0.01
    ],
)
def test_line_rounding_is_half_up(
    unit_count: str, price: str, vat: str, expected: tuple[str, str, str]
) -> None:
    document = compute([item(unit_count=unit_count, price=price, vat=vat)], reversal=True)
    assert lines(document) == [expected]


def test_discount_rounding_is_half_up() -> None:
    document = compute([item(price="0.25", vat="0"), discount("10")])
    assert lines(document) == [("0.25", "0.00", "0.25"), ("-0.03", "0.00", "-0.03")]  # -0.025


def test_document_vat_is_the_sum_of_rounded_line_vat() -> None:
    """Two lines of 0.03 at 19 %: each 0.0057 -> 0.01, so 0.02; re-rounding the sum would give 0.01."""
    document = compute([item(price="0.03"), item(price="0.03")])
    assert figures(document.totals) == ("0.06", "0.02", "0.08")
    assert per_rate(document.totals) == [("19", "0.06", "0.02", "0.08")]


def test_unit_prices_are_converted_at_four_decimals_half_up() -> None:
    # 1 EUR * 1.23445 = 1.23445 -> 1.2345 RON (banker's: 1.2344); 1000 * 1.2345 = 1234.50
    document = compute(
        [item(unit_count="1000", price=None, input_currency_price="1", vat="0")],
        currency="RON",
        input_currency="EUR",
        rate="1.23445",
    )
    assert lines(document) == [("1234.50", "0.00", "1234.50")]


def test_discount_of_nothing_is_zero_not_negative_zero() -> None:
    document = compute([item(price="0"), discount("10")])
    assert lines(document)[1] == ("0.00", "0.00", "0.00")


def test_large_amounts_stay_exact() -> None:
    """15-digit quantities and prices exceed the default 28-digit Decimal precision when multiplied."""
    document = compute([item(unit_count="999999999999999", price="999999999999999.99")])
    # 999999999999999 * 999999999999999.99 = 999999999999998990000000000000.01
    # VAT 19 %: 189999999999999808100000000000.0019 -> ...000.00
    assert lines(document) == [
        (
            "999999999999998990000000000000.01",
            "189999999999999808100000000000.00",
            "1189999999999998798100000000000.01",
        )
    ]


# (g) a 3-rate invoice: totals per rate, and discounts scoped to the positions before them.


def test_three_rates() -> None:
    document = compute(
        [
            item(unit_count="2", price="10.00", vat="19"),  # 20.00, VAT 3.80
            item(unit_count="3", price="4.99", vat="9"),  # 14.97, VAT 1.3473 -> 1.35
            item(unit_count="1", price="7.45", vat="5"),  # 7.45, VAT 0.3725 -> 0.37
            item(unit_count="5", price="1.10", vat="19"),  # 5.50, VAT 1.045 -> 1.05
        ]
    )
    assert lines(document) == [
        ("20.00", "3.80", "23.80"),
        ("14.97", "1.35", "16.32"),
        ("7.45", "0.37", "7.82"),
        ("5.50", "1.05", "6.55"),
    ]
    assert per_rate(document.totals) == [
        ("5", "7.45", "0.37", "7.82"),
        ("9", "14.97", "1.35", "16.32"),
        ("19", "25.50", "4.85", "30.35"),
    ]
    assert figures(document.totals) == ("47.92", "6.57", "54.49")


def test_discounts_apply_per_rate_to_the_positions_since_the_previous_discount() -> None:
    document = compute(
        [
            item(unit_count="2", price="10.00", vat="19"),  # 20.00 / 3.80 / 23.80
            item(unit_count="3", price="4.99", vat="9"),  # 14.97 / 1.35 / 16.32
            discount("10"),  # 19 %: -2.00 / -0.38; 9 %: -1.497 -> -1.50 / -0.135 -> -0.14
            item(unit_count="1", price="7.45", vat="5"),  # 7.45 / 0.37 / 7.82
            discount("50"),  # only the 5 % line: -3.725 -> -3.73 / -0.1865 -> -0.19
        ]
    )
    assert [(line.index, str(line.vat_rate)) for line in document.lines] == [
        (1, "19"),
        (2, "9"),
        (3, "19"),
        (3, "9"),
        (4, "5"),
        (5, "5"),
    ]
    assert lines(document) == [
        ("20.00", "3.80", "23.80"),
        ("14.97", "1.35", "16.32"),
        ("-2.00", "-0.38", "-2.38"),
        ("-1.50", "-0.14", "-1.64"),
        ("7.45", "0.37", "7.82"),
        ("-3.73", "-0.19", "-3.92"),
    ]
    assert per_rate(document.totals) == [
        ("5", "3.72", "0.18", "3.90"),
        ("9", "13.47", "1.21", "14.68"),
        ("19", "18.00", "3.42", "21.42"),
    ]
    assert figures(document.totals) == ("35.19", "4.81", "40.00")


def test_rates_written_differently_are_one_rate() -> None:
    document = compute([item(vat="19"), item(vat="19.00")])
    assert [r.rate for r in document.totals.per_rate] == [D("19")]


# (h) gross totals entered instead of unit prices.


def test_gross_total_keeps_the_entered_gross() -> None:
    document = compute([item(price=None, total="100.00")])
    # net 100 / 1.19 = 84.0336 -> 84.03; VAT = 100.00 - 84.03 = 15.97
    assert lines(document) == [("84.03", "15.97", "100.00")]
    assert str(document.lines[0].amounts.unit_price) == "84.0300"


def test_gross_total_over_several_units() -> None:
    document = compute([item(unit_count="3", price=None, total="100")])
    assert lines(document) == [("84.03", "15.97", "100.00")]
    assert str(document.lines[0].amounts.unit_price) == "28.0100"  # 84.03 / 3


def test_small_gross_total() -> None:
    document = compute([item(price=None, total="0.10")])
    assert lines(document) == [("0.08", "0.02", "0.10")]  # 0.10 / 1.19 = 0.084


def test_included_vat_unit_price_is_gross() -> None:
    document = compute([item(unit_count="3", price="11.90")], VatType.INCLUDED)
    # gross 3 * 11.90 = 35.70; net 35.70 / 1.19 = 30.00; VAT 5.70
    assert lines(document) == [("30.00", "5.70", "35.70")]
    assert str(document.lines[0].amounts.unit_price) == "10.0000"


def test_gross_total_in_the_input_currency() -> None:
    document = compute(
        [item(price=None, input_currency_total="100")], currency="RON", input_currency="EUR", rate="4.6"
    )
    # EUR: 100.00 -> 84.03 + 15.97; RON: 100 * 4.6 = 460.00 -> 460 / 1.19 = 386.5546 -> 386.55 + 73.45
    assert input_lines(document) == [("84.03", "15.97", "100.00")]
    assert lines(document) == [("386.55", "73.45", "460.00")]


def test_gross_total_in_the_document_currency_with_an_input_currency() -> None:
    document = compute([item(price=None, total="460")], currency="RON", input_currency="EUR", rate="4.6")
    assert lines(document) == [("386.55", "73.45", "460.00")]
    assert input_lines(document) == [("84.03", "15.97", "100.00")]  # 460 / 4.6 = 100.00


def test_gross_total_without_vat_charged() -> None:
    document = compute([item(price=None, total="100")], VatType.REVERSE_CHARGE)
    assert lines(document) == [("100.00", "0.00", "100.00")]


def test_gross_total_has_at_most_two_decimals() -> None:
    assert problems([item(price=None, total="100.005")]) == [
        "document_positions[1].total must have at most 2 decimal places"
    ]


# currencies


def test_a_rate_is_ignored_without_a_second_currency() -> None:
    for input_currency in (None, "RON"):
        document = compute([item()], input_currency=input_currency, rate="4.6")
        assert (document.input_currency, document.exchange_rate, document.input_totals) == (None, None, None)
        assert figures(document.totals) == ("10.00", "1.90", "11.90")


def test_a_second_currency_needs_a_rate() -> None:
    assert problems([item()], input_currency="EUR") == [
        "exchange_rate is required when amounts are converted between two currencies"
    ]
    assert problems([item()], input_currency="EUR", rate="0") == ["exchange_rate must be greater than 0"]


def test_two_foreign_currencies_are_refused() -> None:
    assert problems([item()], currency="EUR", input_currency="USD", rate="1.1") == [
        "exchange_rate cannot convert between USD and EUR: one of them must be the account currency RON"
    ]


def test_currency_and_position_problems_are_reported_together() -> None:
    assert problems([item(unit_count="0")], input_currency="EUR") == [
        "exchange_rate is required when amounts are converted between two currencies",
        "document_positions[1].unit_count must be greater than 0",
    ]


# (i) bad inputs: 422 naming the field.


@pytest.mark.parametrize(
    ("items", "expected"),
    [
        ([item(description=None)], ["document_positions[1].description is required"]),
        ([item(description="   ")], ["document_positions[1].description is required"]),
        ([item(unit=None)], ["document_positions[1].unit is required"]),
        ([item(unit_count=None)], ["document_positions[1].unit_count is required"]),
        ([item(), item(unit_count="0")], ["document_positions[2].unit_count must be greater than 0"]),
        ([item(unit_count="-1")], ["document_positions[1].unit_count must be greater than 0"]),
        (
            [item(total="11.90")],
            [
                "document_positions[1] gives price and total: "
                "give exactly one of price, total, input_currency_price, input_currency_total"
            ],
        ),
        (
            [item(input_currency_price="2", input_currency_total="3")],
            [
                "document_positions[1] gives price and input_currency_price and input_currency_total: "
                "give exactly one of price, total, input_currency_price, input_currency_total"
            ],
        ),
        (
            [item(price=None)],
            [
                "document_positions[1] gives no price: "
                "give exactly one of price, total, input_currency_price, input_currency_total"
            ],
        ),
        ([item(vat="120")], ["document_positions[1].vat must be between 0 and 100"]),
        ([item(vat="-5")], ["document_positions[1].vat must be between 0 and 100"]),
        ([item(vat="19.125")], ["document_positions[1].vat must have at most 2 decimal places"]),
        (
            [item(discount_rate="5")],
            ["document_positions[1].discount_rate is only allowed on discount positions"],
        ),
        (
            [item(), discount(price="5")],
            ["document_positions[2].price must not be given on a discount position"],
        ),
        (
            [item(), discount(unit="pcs", unit_count="1", total="5", vat="19")],
            [
                "document_positions[2].unit must not be given on a discount position",
                "document_positions[2].unit_count must not be given on a discount position",
                "document_positions[2].vat must not be given on a discount position",
                "document_positions[2].total must not be given on a discount position",
            ],
        ),
        (
            [item(), discount("0")],
            ["document_positions[2].discount_rate must be greater than 0 and at most 100"],
        ),
        (
            [item(), discount("150")],
            ["document_positions[2].discount_rate must be greater than 0 and at most 100"],
        ),
        (
            [item(), discount("-10")],
            ["document_positions[2].discount_rate must be greater than 0 and at most 100"],
        ),
        ([item(), discount(None)], ["document_positions[2].discount_rate is required"]),
        ([item(), discount(description=None)], ["document_positions[2].description is required"]),
        (
            [discount("10"), item()],
            [
                "document_positions[1] is a discount with no position before it to discount "
                "(a discount applies to the positions since the previous discount)"
            ],
        ),
        (
            [item(), discount("10"), discount("5")],
            [
                "document_positions[3] is a discount with no position before it to discount "
                "(a discount applies to the positions since the previous discount)"
            ],
        ),
        ([], ["document_positions must contain at least one position"]),
    ],
)
def test_bad_positions(items: list[Item], expected: list[str]) -> None:
    assert problems(items) == expected


def test_negative_unit_count_is_refused_even_on_a_reversal() -> None:
    assert problems([item(unit_count="-12", price="12")], reversal=True) == [
        "document_positions[1].unit_count must be greater than 0"
    ]


def test_every_problem_of_a_position_is_reported() -> None:
    assert problems([{"unit_count": "0", "vat": "120"}]) == [
        "document_positions[1].description is required",
        "document_positions[1].unit is required",
        "document_positions[1].unit_count must be greater than 0",
        "document_positions[1] gives no price: "
        "give exactly one of price, total, input_currency_price, input_currency_total",
        "document_positions[1].vat must be between 0 and 100",
    ]


def test_a_discount_with_a_missing_rate_and_a_price() -> None:
    """Discount rules also hold for positions built in code, not only parsed ones."""
    positions = [
        PositionInput(description="x", unit="pcs", unit_count=D(1), price=D(1), vat=D(19)),
        PositionInput(type=PositionType.DISCOUNT, description="d", price=D(1)),
    ]
    with pytest.raises(ValidationFailed) as caught:
        compute_document(positions, VatType.STANDARD, "RON", None, None, home_currency="RON")
    assert caught.value.messages == [
        "document_positions[2].discount_rate is required",
        "document_positions[2].price must not be given on a discount position",
    ]


@pytest.mark.parametrize(
    ("fields", "expected"),
    [
        (
            {"price": 1.5},
            "document_positions[1].price must be a decimal string or an integer, not a binary float",
        ),
        ({"unit_count": "abc"}, "document_positions[1].unit_count must be a number"),
        ({"price": "NaN"}, "document_positions[1].price must be a number"),
        ({"price": D("NaN")}, "document_positions[1].price must be a finite number"),
        ({"vat": "19%"}, "document_positions[1].vat must be a number"),
        ({"unit_count": True}, "document_positions[1].unit_count must be a number"),
        ({"colour": "red"}, "document_positions[1].colour is not a known field"),
        ({"type": "Rebate"}, "document_positions[1].type must be Position or DiscountPosition"),
        ({"position": "0"}, "document_positions[1].position must be a whole number of at least 1"),
        ({"position": "1.5"}, "document_positions[1].position must be a whole number of at least 1"),
        ({"description": 12}, "document_positions[1].description must be text"),
        ({"unit": "x" * 256}, "document_positions[1].unit must be at most 255 characters"),
    ],
)
def test_parse_refuses(fields: dict[str, object], expected: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_positions([item(**fields)])
    assert caught.value.messages == [expected]


def test_parse_reports_every_position() -> None:
    with pytest.raises(ValidationFailed) as caught:
        parse_positions([item(price="abc"), item(), item(vat=19.0)])
    assert caught.value.messages == [
        "document_positions[1].price must be a number",
        "document_positions[3].vat must be a decimal string or an integer, not a binary float",
    ]


def test_parse_types_a_position() -> None:
    (parsed,) = parse_positions(
        [
            {
                "type": "Position",
                "description": " potatoes ",
                "unit": "kg",
                "unit_count": "4",
                "input_currency_price": "0.74",
                "vat": 10,
                "position": "1",
                "product_code": "",
                "price": "",
            }
        ]
    )
    assert parsed == PositionInput(
        type=PositionType.POSITION,
        description="potatoes",
        unit="kg",
        unit_count=D("4"),
        vat=D("10"),
        position=1,
        input_currency_price=D("0.74"),
    )


def test_parse_types_a_discount() -> None:
    (parsed,) = parse_positions([ADVANCE_DISCOUNT])
    assert parsed == PositionInput(
        type=PositionType.DISCOUNT, description="Discount for advanced payment", discount_rate=D("10")
    )


# receipts (7.4) and amounts due


def test_receipt_in_the_home_currency_on_an_eur_invoice() -> None:
    # 100 RON / 4.6 = 21.739 -> 21.74 EUR
    assert compute_receipt_amount(D("100"), "RON", "EUR", D("4.6"), home_currency="RON") == D("21.74")


def test_receipt_in_eur_on_a_ron_invoice() -> None:
    assert compute_receipt_amount(D("25"), "EUR", "RON", D("4.6"), home_currency="RON") == D("115.00")


def test_receipt_in_the_invoice_currency() -> None:
    assert str(compute_receipt_amount(D("100"), "EUR", "EUR", None, home_currency="RON")) == "100.00"


def test_receipt_refusals() -> None:
    with pytest.raises(ValidationFailed, match="exchange_rate is required"):
        compute_receipt_amount(D("100"), "RON", "EUR", None, home_currency="RON")
    with pytest.raises(ValidationFailed, match="receipt_amount must be greater than 0"):
        compute_receipt_amount(D("0"), "EUR", "EUR", None, home_currency="RON")
    with pytest.raises(ValidationFailed, match="account currency RON"):
        compute_receipt_amount(D("100"), "USD", "EUR", D("1.1"), home_currency="RON")


def test_remaining_due() -> None:
    assert remaining_due(D("160.70"), []) == D("160.70")
    assert str(remaining_due(D("160.70"), [D("100"), D("60.70")])) == "0.00"
    assert remaining_due(D("160.70"), [D("0.70")]) == D("160.00")


def test_apply_payment() -> None:
    assert apply_payment(D("160.70"), D("60.70")) == D("100.00")
    assert str(apply_payment(D("160.70"), D("160.70"))) == "0.00"


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        ("160.71", "amount 160.71 exceeds the amount due 160.70"),
        ("0", "amount must be greater than 0"),
        ("-5", "amount must be greater than 0"),
        ("10.005", "amount must have at most 2 decimal places"),
    ],
)
def test_apply_payment_refusals(amount: str, message: str) -> None:
    with pytest.raises(ValidationFailed) as caught:
        apply_payment(D("160.70"), D(amount))
    assert caught.value.messages == [message]
