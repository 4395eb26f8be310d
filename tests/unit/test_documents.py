"""Documents as pure logic (billing.domain.documents) and the reading of their payloads
(billing.wire.views.documents): totals, currencies, receipts, snapshots, derived fields."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from billing.domain.account import Account, Bank, BankAccount, BranchOffice, User
from billing.domain.clients import Client
from billing.domain.delegates import Delegate
from billing.domain.documents import (
    Document,
    DocumentKind,
    DocumentPosition,
    Resolved,
    assemble,
    check_required,
    hashcode_tenant,
    new_document_base,
    new_hashcode,
    open_total_contribution,
)
from billing.domain.errors import MalformedInput, ValidationFailed
from billing.domain.states import DocumentState
from billing.wire.views.documents import document as document_view
from billing.wire.views.documents import parse_changes

ACCOUNT = Account(
    id=1,
    name="acme",
    company_name="Issuer SRL",
    company_city="Iași",
    currency="EUR",
    account_banks=[
        Bank(name="BT", bic="BTRL", accounts=[BankAccount(iban="RO49AAAA1B31007593840000", currency="RON")])
    ],
)
USER = User(id=2, first_name="Ana", last_name="Pop", cnp="2900101123456")
CLIENT = Client(id=3, name="Client SA", uid="RO123", city="Cluj", country_id=642, is_company=True)
POSITION = {"description": "Service", "unit": "pcs", "unit_count": "2", "price": "50", "vat": "19"}


def changes(kind: DocumentKind = DocumentKind.INVOICE, **fields: Any) -> Any:
    payload = {
        "client_id": "3",
        "currency_id": "EUR",
        "document_date": "2024-05-20",
        "document_series_id": "9",
        "vat_type": "1",
        "document_positions": [POSITION],
        **fields,
    }
    return parse_changes(kind, {k: v for k, v in payload.items() if v is not None}, kind.value)


def build(
    kind: DocumentKind = DocumentKind.INVOICE, resolved: Resolved | None = None, **fields: Any
) -> Document:
    base = new_document_base(document_id=10, user_id=2, hashcode="1-abc", home_currency="EUR")
    return assemble(
        kind,
        base,
        changes(kind, **fields),
        resolved or Resolved(account=ACCOUNT, user=USER, client=CLIENT),
        root=kind.value,
        recompute=True,
    )


def test_snapshots_and_totals() -> None:
    doc = build()
    assert doc.account_company_name == "Issuer SRL" and doc.account_company_city == "Iași"
    assert doc.account_banks[0].accounts[0].currency == "RON"
    assert doc.client_name == "Client SA" and doc.client_country_id == 642 and doc.client_is_company
    assert doc.user_first_name == "Ana" and doc.user_cnp == "2900101123456" and doc.user_id == 2
    assert doc.currency_id == 978 and doc.vat_type == 1 and doc.document_date == date(2024, 5, 20)
    assert (doc.total, doc.total_without_vat, doc.total_vat, doc.total_due) == (
        Decimal("119.00"),
        Decimal("100.00"),
        Decimal("19.00"),
        Decimal("119.00"),
    )
    assert doc.cached_total == doc.total
    assert [(v.vat_rate, v.total) for v in doc.vat_totals] == [(Decimal(19), Decimal("119.00"))]
    (position,) = doc.document_positions
    assert position.entered == {"price": Decimal(50)} and position.position == 1
    assert position.figures().total == Decimal("119.00") and position.figures().unit_price == 50


def test_reference_add_invoice_totals() -> None:
    doc = build(
        document_positions=[
            {
                "description": "BASIC SUBSCRIPTION",
                "unit": "months",
                "unit_count": "12",
                "price": "12",
                "vat": "24",
            },
            {"type": "DiscountPosition", "description": "Discount", "discount_rate": "10"},
        ]
    )
    assert doc.total == Decimal("160.70")
    discount = doc.document_positions[1]
    assert discount.figures().net == Decimal("-14.40") and discount.figures().unit_price is None


def test_positions_round_trip_through_storage() -> None:
    doc = build(document_positions=[{**POSITION, "total": "119", "price": None, "position": "4"}])
    stored = DocumentPosition.model_validate(doc.document_positions[0].model_dump())
    again = stored.to_input()
    assert again.total == Decimal(119) and again.price is None and again.position == 4


def test_due_date_is_document_date_plus_due_days() -> None:
    assert build(due_days="10").due_date == date(2024, 5, 30)
    assert build().due_date is None


@pytest.mark.parametrize(
    ("fields", "total", "input_total"),
    [
        ({}, Decimal("119.00"), None),  # case 1: home currency only
        ({"exchange_rate": "4.9"}, Decimal("119.00"), None),  # a rate on a one-currency document is ignored
        ({"currency_id": "USD", "exchange_rate": "0.9"}, Decimal("119.00"), Decimal("107.10")),  # case 2
    ],
)
def test_currency_cases(fields: dict[str, Any], total: Decimal, input_total: Decimal | None) -> None:
    doc = build(**fields)
    assert doc.total == total and doc.input_currency_total == input_total


def test_currency_case_3() -> None:
    position = {**POSITION, "price": None, "input_currency_price": "50"}
    doc = build(input_currency_id="USD", exchange_rate="0.9", document_positions=[position])
    assert doc.input_currency_id == 840
    assert doc.total == Decimal("107.10") and doc.input_currency_total == Decimal("119.00")


def test_foreign_currency_without_rate_is_refused() -> None:
    with pytest.raises(ValidationFailed) as error:
        build(currency_id="USD")
    assert any(m.startswith("invoice.exchange_rate is required") for m in error.value.messages)


def test_home_amount_and_open_total_contribution() -> None:
    usd = build(currency_id="USD", exchange_rate="0.9").model_copy(
        update={"document_state": DocumentState.OPEN}
    )
    assert usd.home_amount(Decimal("119.00")) == Decimal("107.10")
    assert open_total_contribution(DocumentKind.INVOICE, usd) == Decimal("107.10")
    assert open_total_contribution(DocumentKind.PROFORMA_INVOICE, usd) == 0
    draft = build()
    assert open_total_contribution(DocumentKind.INVOICE, draft) == 0
    assert draft.open_due_date is None
    opened = build(due_days="3").model_copy(update={"document_state": DocumentState.OPEN})
    assert opened.open_due_date == date(2024, 5, 23)


def test_recomputing_keeps_what_was_paid() -> None:
    doc = build().model_copy(update={"total_due": Decimal("19.00")})  # 100 paid
    more = assemble(
        DocumentKind.INVOICE,
        doc.model_dump(),
        changes(document_positions=[{**POSITION, "unit_count": "4"}]),
        Resolved(),
        root="invoice",
        recompute=True,
    )
    assert more.total == Decimal("238.00") and more.total_due == Decimal("138.00")


def test_cross_field_rules() -> None:
    with pytest.raises(ValidationFailed) as error:
        build(input_currency_reversing="5", late_fees_percentage="2")
    assert set(error.value.messages) == {
        "invoice.input_currency_reversing is only allowed with reversed_document_id",
        "invoice.late_fees_cycle is required with late_fees_percentage (d or m)",
    }
    with pytest.raises(ValidationFailed) as error:
        build(DocumentKind.NOTICE, reversed_document_id="5")
    assert error.value.messages == ["notice.reversed_document_id is only allowed on invoices"]


def test_reversal_allows_negative_prices() -> None:
    position = {**POSITION, "price": "-12", "unit_count": "12"}
    with pytest.raises(ValidationFailed):
        build(document_positions=[position])
    assert build(document_positions=[position], reversed_document_id="77").total == Decimal("-171.36")


def test_delegate_and_branch_office_snapshots() -> None:
    delegate = Delegate(
        id=5, first_name="Ion", last_name="Rus", identity_document_issue_date=date(2020, 1, 2)
    )
    office = BranchOffice(id=6, name="Cluj", city="Cluj")
    doc = build(
        resolved=Resolved(account=ACCOUNT, user=USER, client=CLIENT, delegate=delegate, branch_office=office),
        delegate_id="5",
        branch_office_id="6",
    )
    assert doc.delegate_first_name == "Ion" and doc.delegate_identity_document_issue_date == date(2020, 1, 2)
    assert doc.branch_office_data is not None and doc.branch_office_data["city"] == "Cluj"


def _receipt(resolved: Resolved | None = None, **fields: Any) -> Document:
    base = {"vat_type": None, "document_positions": None, "client_id": None, "currency_id": None}
    return build(DocumentKind.RECEIPT, resolved, **{**base, **fields})


def test_receipts() -> None:
    invoice = build().model_copy(
        update={
            "document_state": DocumentState.OPEN,
            "document_number": "INV-4",
            "document_series_counter": 4,
        }
    )
    receipt = _receipt(
        Resolved(account=ACCOUNT, user=USER, client=CLIENT, receipt_invoice=invoice),
        receipt_amount="119",
        invoice_id="10",
    )
    assert receipt.receipt_amount == receipt.total == receipt.amount == Decimal("119.00")
    assert receipt.total_due == 0 and receipt.vat_type == 0 and receipt.document_positions == []
    assert (receipt.invoice_number, receipt.invoice_date) == ("INV-4", date(2024, 5, 20))
    assert receipt.client_id == invoice.client_id and receipt.currency_id == invoice.currency_id


def test_receipt_amount_in_the_invoice_currency() -> None:
    ron = Account(id=1, name="ro", currency="RON")
    invoice = build(currency_id="EUR").model_copy(
        update={"home_currency": "RON", "exchange_rate": Decimal("4.6"), "document_state": DocumentState.OPEN}
    )
    receipt = _receipt(
        Resolved(account=ron, user=USER, client=CLIENT, receipt_invoice=invoice),
        receipt_amount="100",
        currency_id="RON",
        invoice_id="10",
    )
    assert receipt.amount == Decimal("21.74")


def test_receipt_positions_set_or_must_match_the_amount() -> None:
    assert _receipt(
        client_id="3", currency_id="EUR", document_positions=[POSITION], vat_type="1"
    ).receipt_amount == Decimal("119.00")
    with pytest.raises(ValidationFailed) as error:
        _receipt(
            client_id="3", currency_id="EUR", document_positions=[POSITION], vat_type="1", receipt_amount="5"
        )
    assert (
        "receipt.receipt_amount 5 differs from the total of the receipt's positions 119.00"
        in error.value.messages[0]
    )


def test_hashcodes() -> None:
    codes = {new_hashcode(373329733425376) for _ in range(100)}
    assert len(codes) == 100
    code = codes.pop()
    tenant, token = code.split("-", 1)
    assert tenant == "373329733425376" and len(token) == 32
    assert all(ch.isalnum() or ch in "-_" for ch in token), "URL-safe"
    assert hashcode_tenant(code) == 373329733425376
    assert hashcode_tenant("abc-" + token) is None and hashcode_tenant("12-short") is None


# -------------------------------------------------------------------------------- payloads


def test_required_fields_per_kind() -> None:
    with pytest.raises(ValidationFailed) as error:
        check_required(DocumentKind.INVOICE, parse_changes(DocumentKind.INVOICE, {}, "invoice"), "invoice")
    assert set(error.value.messages) == {
        "invoice.document_date is required",
        "invoice.document_series_id is required",
        "invoice.client_id is required",
        "invoice.currency_id is required",
        "invoice.vat_type is required",
        "invoice.document_positions is required (at least one position)",
    }
    receipt = parse_changes(
        DocumentKind.RECEIPT,
        {"document_date": "2024-01-01", "document_series_id": "1", "invoice_id": "4", "receipt_amount": "1"},
        "receipt",
    )
    check_required(DocumentKind.RECEIPT, receipt, "receipt")


def test_positions_from_every_wire_form() -> None:
    form = {"document_positions": {"2": {**POSITION, "description": "second"}, "1": POSITION}}
    xml_many = {
        "document_positions": {"document_position": [POSITION, {**POSITION, "description": "second"}]}
    }
    xml_one = {"document_positions": {"document_position": POSITION}}
    for payload, count in ((form, 2), (xml_many, 2), (xml_one, 1), ({"document_positions": [POSITION]}, 1)):
        parsed = parse_changes(DocumentKind.INVOICE, payload, "invoice")
        assert parsed.positions is not None and len(parsed.positions) == count
    ordered = parse_changes(DocumentKind.INVOICE, form, "invoice").positions
    assert ordered is not None and [p.description for p in ordered] == ["Service", "second"]
    with pytest.raises(MalformedInput):
        parse_changes(DocumentKind.INVOICE, {"document_positions": "x"}, "invoice")


def test_payload_errors_are_all_reported_with_field_names() -> None:
    with pytest.raises(ValidationFailed) as error:
        parse_changes(
            DocumentKind.INVOICE,
            {
                "client_id": "x",
                "document_date": "20.05.2024",
                "receipt_amount": "1",
                "document_positions": [{"description": "a", "unit": "u", "unit_count": "-1", "price": "1"}],
            },
            "invoice",
        )
    messages = error.value.messages
    assert any(m.startswith("invoice.client_id") for m in messages)
    assert any(m.startswith("invoice.document_date: must be a date") for m in messages)
    assert "invoice.receipt_amount is not a known field" in messages
    assert not any("unit_count" in m for m in messages), "positions are checked against the document later"


def test_read_only_fields_are_ignored_and_retake_zero_is_dropped() -> None:
    parsed = parse_changes(
        DocumentKind.INVOICE,
        {
            "total": "5",
            "hashcode": "x",
            "client_name": "y",
            "delegate_cnp": "1",
            "update_client_data": "0",
            "note": "n",
        },
        "invoice",
    )
    assert parsed.fields == {"note": "n"} and parsed.positions is None


def test_view_shows_reference_field_groups() -> None:
    doc = build()
    view = document_view(DocumentKind.INVOICE, doc)
    for name in (
        "account_company_name",
        "account_banks",
        "branch_office_id",
        "branch_office_data",
        "client_id",
        "client_name",
        "currency_id",
        "input_currency_id",
        "exchange_rate",
        "total",
        "total_due",
        "document_date",
        "document_series_id",
        "document_series_counter",
        "vat_type",
        "due_days",
        "due_date",
        "document_state",
        "source_document_id",
        "reversed_document_id",
        "input_currency_reversing",
        "display_transport_data",
        "delegate_id",
        "delegate_cnp",
        "expedition_time",
        "late_fees_cycle",
        "late_fees_percentage",
        "locale",
        "hide_domestic_translations",
        "lower_annotation",
        "upper_annotation",
        "delivery_date",
        "advance_date",
        "means_of_transport",
        "means_of_transport_number",
        "notice_date",
        "notice_number",
        "user_id",
        "hashcode",
        "note",
        "account_company_pays_vat_on_payment",
        "flag_downloaded_pdf",
        "flag_filed",
        "flag_sent_by_email",
        "flag_sent_by_fax",
        "flag_sent_by_postal_mail",
        "document_positions",
        "cached_total",
    ):
        assert name in view, name
    assert "receipt_amount" not in view and "home_currency" not in view and "issue_version" not in view
    receipt_view = document_view(DocumentKind.RECEIPT, doc)
    assert {"receipt_amount", "amount", "invoice_id", "invoice_date", "invoice_number"} <= set(receipt_view)
