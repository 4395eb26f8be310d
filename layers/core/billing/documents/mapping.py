"""A stored document (billing.domain.documents.Document) as the PDF renderer's view
(billing.documents.view.PdfDocument), for the four kinds.

Pure and light: no AWS, no fpdf (the share page renders the same view as HTML, and the
documents function imports this only inside its .pdf route). Everything printed comes from
the document's own snapshots (account_xxx, client_xxx, delegate_xxx, branch_office_data,
user_xxx), never from the live records: a PDF shows the document as it was issued.

Mapping rules:

- issuer: the account snapshot; its VAT id is `account_company_vat_id` (intra-Community code),
  else `account_company_tax_id`; its bank accounts are every account of every bank; a branch
  office, when set, adds a line "<name>: <address>" under the address.
- client: the client snapshot; VAT id = `client_tax_id` (the reference's "VAT identifier"); the
  client's IBAN, if any, is printed as its bank account.
- lines: one per stored position, in the document currency. A discount position (several
  computed lines, one per VAT rate) is printed as one line per VAT rate so the VAT column stays
  exact; its description names the discount rate when it is not already there.
- second currency (reference case 2, "displayed in foreign currency and in EUR"): a document in
  a foreign currency also shows its total in the home currency, at the document's rate
  (home units per one foreign unit, which is the view's convention). Case 3 (entered in a
  foreign currency, shown only in the home currency) shows no second currency.
- reversal invoices print "Reversal of invoice <number>" when the reversed number is known
  (`reversed_document_number`, filled by the caller from the reversed invoice) or else its id.
- receipts: the amount received, in the receipt's currency, and the invoice it pays
  (invoice_number / invoice_date); no positions table.
- shipping: only when display_transport_data is set (delegate snapshot, transport, expedition).
- locale: "ro" prints Romanian with English translations (unless hide_domestic_translations);
  every other locale prints English (the renderer's labels exist in these two languages).
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Final

from billing.documents.view import (
    BankAccount,
    Line,
    Locale,
    Party,
    PdfDocument,
    ReceiptDetails,
    SecondCurrency,
    Shipping,
    VatTotal,
)
from billing.domain.documents import Document, DocumentKind, DocumentPosition
from billing.domain.totals import PositionType

_ZERO: Final = Decimal("0.00")


def pdf_locale(locale: str) -> Locale:
    """The renderer's language for a document locale: Romanian for ro / ro-RO, else English."""
    return "ro" if locale.strip().lower()[:2] == "ro" else "en"


def country_name(country_id: int | None) -> str:
    if country_id is None:
        return ""
    from billing.domain.reference_data import country

    try:
        return country(country_id).name
    except Exception:  # an id no longer in pycountry's data: print nothing rather than fail
        return ""


def _texts(*values: str | None) -> tuple[str, ...]:
    return tuple(v.strip() for v in values if v and v.strip())


def issuer(doc: Document) -> Party:
    accounts = tuple(
        BankAccount(bank_name=bank.name, bic=bank.bic, iban=account.iban, currency=account.currency)
        for bank in doc.account_banks
        for account in bank.accounts
    )
    address = list(_texts(doc.account_company_address_1, doc.account_company_address_2))
    office = doc.branch_office_data or {}
    if office.get("name"):
        where = ", ".join(_texts(office.get("address_1"), office.get("address_2"), office.get("city")))
        address.append(f"{office['name']}: {where}" if where else office["name"])
    return Party(
        name=doc.account_company_name,
        uid=doc.account_company_uid,
        registration_id=doc.account_company_registration_id,
        vat_id=doc.account_company_vat_id or doc.account_company_tax_id,
        address_lines=tuple(address),
        city=doc.account_company_city,
        state=doc.account_company_state,
        zip=doc.account_company_zip,
        country=country_name(doc.account_company_country_id),
        phone=doc.account_company_phone,
        email=doc.account_company_email,
        bank_accounts=accounts,
    )


def client(doc: Document) -> Party:
    accounts: tuple[BankAccount, ...] = ()
    if doc.client_bank_iban:
        accounts = (BankAccount(bank_name=doc.client_bank_name, iban=doc.client_bank_iban),)
    return Party(
        name=doc.client_name,
        uid=doc.client_uid,
        registration_id=doc.client_registration_id,
        vat_id=doc.client_tax_id,
        address_lines=_texts(doc.client_address, doc.client_address_2),
        city=doc.client_city,
        state=doc.client_state,
        zip=doc.client_zip,
        country=country_name(doc.client_country_id),
        phone=doc.client_telephone,
        email=doc.client_email,
        bank_accounts=accounts,
    )


def _format_rate(rate: Decimal) -> str:
    return format(rate.normalize(), "f")


def position_lines(position: DocumentPosition) -> Iterable[Line]:
    """The printed line(s) of one stored position (see the module docstring)."""
    if position.type is PositionType.DISCOUNT:
        description = position.description
        if position.discount_rate is not None:
            percent = f"{_format_rate(position.discount_rate)}%"
            if percent not in description:
                description = f"{description} ({percent})".strip()
        for computed in position.lines:
            yield Line(
                description=description,
                vat_rate=computed.vat_rate,
                vat_amount=computed.amounts.vat,
                line_total=computed.amounts.net,
                is_discount=True,
            )
        return
    figures = position.figures()
    rate = position.vat
    if rate is None:
        rates = {line.vat_rate for line in position.lines}
        rate = rates.pop() if len(rates) == 1 else _ZERO
    yield Line(
        description=position.description,
        unit=position.unit or "",
        quantity=position.unit_count,
        unit_price=figures.unit_price,
        vat_rate=rate,
        vat_amount=figures.vat,
        line_total=figures.net,
    )


def second_currency(doc: Document) -> SecondCurrency | None:
    """Case 2 of the reference's "Invoice currency": the total restated in the home currency."""
    currency = doc.currency
    if currency == doc.home_currency or doc.exchange_rate is None:
        return None
    total = doc.input_currency_total
    if total is None:
        total = doc.home_amount(doc.total)
    return SecondCurrency(currency=doc.home_currency, exchange_rate=doc.exchange_rate, total=total)


def shipping(doc: Document) -> Shipping | None:
    if not doc.display_transport_data:
        return None
    name = " ".join(_texts(doc.delegate_first_name, doc.delegate_last_name))
    series_number = " ".join(
        _texts(doc.delegate_identity_document_series, doc.delegate_identity_document_number)
    )
    identity = " ".join(_texts(doc.delegate_identity_document, series_number))
    issued = ", ".join(
        _texts(
            doc.delegate_identity_document_issued_by,
            doc.delegate_identity_document_issue_date.isoformat()
            if doc.delegate_identity_document_issue_date
            else None,
        )
    )
    if issued:
        identity = f"{identity}, {issued}" if identity else issued
    if doc.delegate_cnp:
        identity = f"{identity} (CNP {doc.delegate_cnp})" if identity else f"CNP {doc.delegate_cnp}"
    return Shipping(
        delegate_name=name,
        identity_document=identity,
        means_of_transport=doc.means_of_transport,
        means_of_transport_number=doc.means_of_transport_number,
        expedition_time=doc.expedition_time,
    )


def receipt(doc: Document) -> ReceiptDetails:
    amount = doc.receipt_amount if doc.receipt_amount is not None else doc.total
    return ReceiptDetails(
        amount=amount,
        currency=doc.currency,
        invoice_number=doc.invoice_number or "",
        invoice_date=doc.invoice_date,
    )


def to_pdf_document(
    kind: DocumentKind, doc: Document, *, reversed_document_number: str | None = None
) -> PdfDocument:
    """The renderer's view of `doc` (see the module docstring). `reversed_document_number` is
    the printed number of the invoice a reversal reverses, when the caller has it."""
    is_receipt = kind is DocumentKind.RECEIPT
    lines = () if is_receipt else tuple(line for p in doc.document_positions for line in position_lines(p))
    reversal = ""
    if doc.reversed_document_id is not None:
        reversal = reversed_document_number or str(doc.reversed_document_id)
    notes = "\n".join(_texts(doc.note))
    if doc.account_company_pays_vat_on_payment:
        mention = "TVA la încasare" if pdf_locale(doc.locale) == "ro" else "VAT on payment (cash accounting)"
        notes = f"{mention}\n{notes}" if notes else mention
    return PdfDocument(
        kind=kind.value,
        number=doc.document_number or str(doc.id),
        document_date=doc.document_date,
        issuer=issuer(doc),
        client=client(doc),
        currency=doc.currency,
        locale=pdf_locale(doc.locale),
        hide_domestic_translations=doc.hide_domestic_translations,
        due_date=None if is_receipt else doc.due_date,
        delivery_date=doc.delivery_date,
        second_currency=None if is_receipt else second_currency(doc),
        lines=lines,
        vat_totals=()
        if is_receipt
        else tuple(VatTotal(rate=v.vat_rate, net=v.net, vat=v.vat) for v in doc.vat_totals),
        net_total=doc.total_without_vat,
        vat_total=doc.total_vat,
        grand_total=doc.total,
        total_due=None if is_receipt or kind is DocumentKind.NOTICE else doc.total_due,
        upper_annotation=doc.upper_annotation,
        lower_annotation=doc.lower_annotation,
        note=notes,
        display_transport_data=doc.display_transport_data,
        shipping=shipping(doc),
        reversed_document_number=reversal,
        receipt=receipt(doc) if is_receipt else None,
    )
