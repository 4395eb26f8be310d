"""billing.documents.mapping: a stored Document as the renderer's PdfDocument, for the four kinds,
and what a reader finds in the rendered PDF (extracted with pypdf)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal as D
from io import BytesIO
from typing import Any

import pytest
from billing.documents.mapping import pdf_locale, to_pdf_document
from billing.documents.pdf import render_pdf
from billing.domain.account import Bank, BankAccount
from billing.domain.documents import Document, DocumentKind, DocumentPosition, Figures, PositionLine, VatTotal
from billing.domain.states import DocumentState
from billing.domain.totals import PositionType
from pypdf import PdfReader


def position(description: str, count: str, price: str, rate: str = "19") -> DocumentPosition:
    net = (D(count) * D(price)).quantize(D("0.01"))
    vat = (net * D(rate) / 100).quantize(D("0.01"))
    return DocumentPosition(
        position=1,
        description=description,
        unit="ore",
        unit_count=D(count),
        vat=D(rate),
        entered={"price": D(price)},
        lines=[
            PositionLine(
                vat_rate=D(rate), amounts=Figures(unit_price=D(price), net=net, vat=vat, total=net + vat)
            )
        ],
    )


DISCOUNT = DocumentPosition(
    type=PositionType.DISCOUNT,
    position=3,
    description="Discount for advance payment",
    discount_rate=D(10),
    lines=[
        PositionLine(vat_rate=D(19), amounts=Figures(net=D("-197.50"), vat=D("-37.53"), total=D("-235.03"))),
        PositionLine(vat_rate=D(9), amounts=Figures(net=D("-10.00"), vat=D("-0.90"), total=D("-10.90"))),
    ],
)


def document(**changes: Any) -> Document:
    base: dict[str, Any] = {
        "id": 42,
        "hashcode": "1-abcdefghijklmnopqrstuvwxyz012345",
        "document_state": DocumentState.OPEN,
        "document_series_id": 7,
        "document_series_counter": 42,
        "document_number": "FCT-0042",
        "account_company_name": "Demo Consulting SRL",
        "account_company_uid": "RO12345678",
        "account_company_registration_id": "J40/1234/2020",
        "account_company_tax_id": "RO12345678",
        "account_company_address_1": "Strada Ștefan cel Mare 12",
        "account_company_city": "București",
        "account_company_country_id": 642,
        "account_company_email": "billing@demo.example",
        "account_banks": [
            Bank(
                name="Banca Transilvania",
                bic="BTRLRO22",
                accounts=[BankAccount(iban="RO49AAAA1B31007593840000", currency="RON")],
            ),
            Bank(name="ING", accounts=[BankAccount(iban="RO66INGB0000999901234567", currency="EUR")]),
        ],
        "client_id": 9,
        "client_name": "Șuțu Ăîâ SRL",
        "client_uid": "RO87654321",
        "client_tax_id": "RO87654321",
        "client_address": "Bd. Ștefan cel Mare 45",
        "client_city": "Iași",
        "client_country_id": 642,
        "client_email": "contabilitate@sutu.ro",
        "user_id": 1,
        "currency_id": 978,
        "home_currency": "EUR",
        "document_date": date(2026, 11, 20),
        "due_date": date(2026, 12, 20),
        "vat_type": 1,
        "document_positions": [
            position("Servicii de consultanță IT", "12.5", "150"),
            position("Găzduire", "1", "100", "9"),
        ],
        "vat_totals": [
            VatTotal(vat_rate=D(19), net=D("1875.00"), vat=D("356.25"), total=D("2231.25")),
            VatTotal(vat_rate=D(9), net=D("100.00"), vat=D("9.00"), total=D("109.00")),
        ],
        "total_without_vat": D("1975.00"),
        "total_vat": D("365.25"),
        "total": D("2340.25"),
        "total_due": D("2340.25"),
        "locale": "ro",
    }
    base.update(changes)
    return Document.model_validate(base)


def text_of(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


def test_invoice_parties_lines_and_totals() -> None:
    view = to_pdf_document(DocumentKind.INVOICE, document())
    assert (view.kind, view.number, view.currency, view.locale) == ("invoice", "FCT-0042", "EUR", "ro")
    assert view.issuer.name == "Demo Consulting SRL" and view.issuer.country == "Romania"
    assert view.issuer.vat_id == "RO12345678" and view.issuer.address_lines == ("Strada Ștefan cel Mare 12",)
    assert [(a.bank_name, a.iban, a.currency) for a in view.issuer.bank_accounts] == [
        ("Banca Transilvania", "RO49AAAA1B31007593840000", "RON"),
        ("ING", "RO66INGB0000999901234567", "EUR"),
    ]
    assert (view.client.name, view.client.vat_id, view.client.city) == ("Șuțu Ăîâ SRL", "RO87654321", "Iași")
    first, second = view.lines
    assert (first.quantity, first.unit_price, first.vat_rate, first.vat_amount, first.line_total) == (
        D("12.5"),
        D("150"),
        D(19),
        D("356.25"),
        D("1875.00"),
    )
    assert second.vat_rate == D(9) and not second.is_discount
    assert [(v.rate, v.net, v.vat) for v in view.vat_totals] == [
        (D(19), D("1875.00"), D("356.25")),
        (D(9), D("100.00"), D("9.00")),
    ]
    assert (view.net_total, view.vat_total, view.grand_total, view.total_due) == (
        D("1975.00"),
        D("365.25"),
        D("2340.25"),
        D("2340.25"),
    )
    assert view.due_date == date(2026, 12, 20) and view.receipt is None and view.second_currency is None


def test_discount_prints_one_line_per_vat_rate_naming_the_rate() -> None:
    view = to_pdf_document(DocumentKind.INVOICE, document(document_positions=[DISCOUNT]))
    assert [(line.vat_rate, line.line_total, line.vat_amount, line.is_discount) for line in view.lines] == [
        (D(19), D("-197.50"), D("-37.53"), True),
        (D(9), D("-10.00"), D("-0.90"), True),
    ]
    assert view.lines[0].description == "Discount for advance payment (10%)"
    assert view.lines[0].quantity is None and view.lines[0].unit_price is None


def test_second_currency_is_the_home_currency_of_a_foreign_document() -> None:
    """Case 2: an EUR invoice of a RON account also shows its total in RON at its rate."""
    doc = document(home_currency="RON", exchange_rate=D("4.9748"), input_currency_total=D("11642.07"))
    second = to_pdf_document(DocumentKind.INVOICE, doc).second_currency
    assert second is not None and (second.currency, second.exchange_rate, second.total) == (
        "RON",
        D("4.9748"),
        D("11642.07"),
    )
    # case 3 (entered in EUR, shown only in the home currency): nothing more is printed
    home = document(currency_id=946, home_currency="RON", input_currency_id=978, exchange_rate=D("4.97"))
    assert to_pdf_document(DocumentKind.INVOICE, home).second_currency is None


def test_reversal_reference_uses_the_number_when_known() -> None:
    doc = document(reversed_document_id=1065253810)
    assert to_pdf_document(DocumentKind.INVOICE, doc).reversed_document_number == "1065253810"
    named = to_pdf_document(DocumentKind.INVOICE, doc, reversed_document_number="FCT-0007")
    assert named.reversed_document_number == "FCT-0007"
    assert to_pdf_document(DocumentKind.INVOICE, document()).reversed_document_number == ""


def test_shipping_only_when_transport_data_is_displayed() -> None:
    fields = {
        "delegate_first_name": "Ion",
        "delegate_last_name": "Popa",
        "delegate_cnp": "1800101221144",
        "delegate_identity_document": "CI",
        "delegate_identity_document_series": "IS",
        "delegate_identity_document_number": "123456",
        "delegate_identity_document_issued_by": "SPCLEP Iași",
        "means_of_transport": "Auto",
        "means_of_transport_number": "IS-12-ABC",
        "expedition_time": datetime(2026, 11, 19, 14, 30, tzinfo=UTC),
    }
    assert to_pdf_document(DocumentKind.NOTICE, document(**fields)).shipping is None
    view = to_pdf_document(DocumentKind.NOTICE, document(display_transport_data=True, **fields))
    assert view.display_transport_data and view.shipping is not None
    assert view.shipping.delegate_name == "Ion Popa"
    assert view.shipping.identity_document == "CI IS 123456, SPCLEP Iași (CNP 1800101221144)"
    assert (view.shipping.means_of_transport, view.shipping.means_of_transport_number) == (
        "Auto",
        "IS-12-ABC",
    )
    assert view.total_due is None, "a delivery note asks for no payment"


def test_receipt_prints_the_amount_and_the_invoice_paid() -> None:
    doc = document(
        receipt_amount=D("100.00"),
        total=D("100.00"),
        total_due=D("0.00"),
        invoice_id=5,
        invoice_number="FCT-0041",
        invoice_date=date(2026, 11, 1),
        document_positions=[],
        vat_totals=[],
    )
    view = to_pdf_document(DocumentKind.RECEIPT, doc)
    assert view.receipt is not None
    assert (
        view.receipt.amount,
        view.receipt.currency,
        view.receipt.invoice_number,
        view.receipt.invoice_date,
    ) == (
        D("100.00"),
        "EUR",
        "FCT-0041",
        date(2026, 11, 1),
    )
    assert view.lines == () and view.vat_totals == () and view.total_due is None and view.due_date is None


@pytest.mark.parametrize(
    ("locale", "expected"), [("ro", "ro"), ("ro-RO", "ro"), ("RO", "ro"), ("en", "en"), ("de", "en")]
)
def test_locale(locale: str, expected: str) -> None:
    assert pdf_locale(locale) == expected
    doc = document(locale=locale, hide_domestic_translations=True)
    view = to_pdf_document(DocumentKind.INVOICE, doc)
    assert view.locale == expected and view.hide_domestic_translations


def test_branch_office_and_vat_on_payment_mention() -> None:
    doc = document(
        branch_office_data={
            "name": "Punct de lucru Cluj",
            "address_1": "Str. Memorandumului 1",
            "city": "Cluj-Napoca",
        },
        account_company_pays_vat_on_payment=True,
        note="Vă mulțumim!",
    )
    view = to_pdf_document(DocumentKind.INVOICE, doc)
    assert view.issuer.address_lines[-1] == "Punct de lucru Cluj: Str. Memorandumului 1, Cluj-Napoca"
    assert view.note == "TVA la încasare\nVă mulțumim!"


@pytest.mark.parametrize("kind", list(DocumentKind))
def test_every_kind_renders_with_romanian_text(kind: DocumentKind) -> None:
    changes: dict[str, Any] = {}
    if kind is DocumentKind.RECEIPT:
        changes = {"receipt_amount": D("100.00"), "invoice_number": "FCT-0041", "document_positions": []}
    text = text_of(render_pdf(to_pdf_document(kind, document(**changes))))
    assert "FCT-0042" in text and "Șuțu Ăîâ SRL" in text and "Demo Consulting SRL" in text
    if kind is DocumentKind.RECEIPT:
        assert "100,00 EUR" in text and "FCT-0041" in text
    else:
        assert "2.340,25 EUR" in text and "Servicii de consultanță IT" in text


def test_english_document_prints_english_labels_and_iso_dates() -> None:
    text = text_of(render_pdf(to_pdf_document(DocumentKind.PROFORMA_INVOICE, document(locale="en"))))
    assert "PROFORMA INVOICE" in text and "2026-11-20" in text and "2,340.25 EUR" in text
