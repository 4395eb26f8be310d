"""What the PDF renderer prints: a storage-independent, fully computed view of one document.

Everything here is already decided (numbers formatted, totals computed and rounded); the
renderer only lays it out. Money and quantities are `Decimal`, dates are `date`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Literal

DocumentKind = Literal["invoice", "proforma_invoice", "notice", "receipt"]
Locale = Literal["ro", "en"]


@dataclass(frozen=True, slots=True, kw_only=True)
class BankAccount:
    """One account of the issuer (or client) as printed under its address."""

    bank_name: str
    iban: str
    bic: str = ""
    currency: str = ""


@dataclass(frozen=True, slots=True, kw_only=True)
class Party:
    """Issuer or client block."""

    name: str
    uid: str = ""  # fiscal identifier (CUI/CIF)
    registration_id: str = ""  # trade register number
    vat_id: str = ""
    address_lines: tuple[str, ...] = ()
    city: str = ""
    state: str = ""
    zip: str = ""
    country: str = ""
    phone: str = ""
    email: str = ""
    bank_accounts: tuple[BankAccount, ...] = ()


@dataclass(frozen=True, slots=True, kw_only=True)
class Line:
    """One position. Discount positions have no unit, quantity or unit price."""

    description: str
    unit: str = ""
    quantity: Decimal | None = None
    unit_price: Decimal | None = None  # without VAT
    vat_rate: Decimal  # percent, e.g. Decimal("19")
    vat_amount: Decimal
    line_total: Decimal  # value without VAT, as printed in the "Value" column
    is_discount: bool = False


@dataclass(frozen=True, slots=True, kw_only=True)
class VatTotal:
    """Totals of the lines taxed at one VAT rate."""

    rate: Decimal
    net: Decimal
    vat: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class SecondCurrency:
    """The grand total restated in another currency: total = grand total x exchange_rate."""

    currency: str
    exchange_rate: Decimal  # units of `currency` for one unit of the document currency
    total: Decimal


@dataclass(frozen=True, slots=True, kw_only=True)
class Shipping:
    """Delegate and transport data (printed only when the document displays transport data)."""

    delegate_name: str = ""
    identity_document: str = ""  # e.g. "CI RX 123456, eliberat de SPCLEP Iași"
    means_of_transport: str = ""
    means_of_transport_number: str = ""
    expedition_time: datetime | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class ReceiptDetails:
    """What a receipt acknowledges: the amount received and the invoice it pays."""

    amount: Decimal
    currency: str
    invoice_number: str
    invoice_date: date | None = None


@dataclass(frozen=True, slots=True, kw_only=True)
class PdfDocument:
    """Input of `billing.documents.pdf.render_pdf`."""

    kind: DocumentKind
    number: str  # prefix, separator, counter and suffix already joined
    document_date: date
    issuer: Party
    client: Party
    currency: str
    locale: Locale = "en"
    hide_domestic_translations: bool = False
    due_date: date | None = None
    delivery_date: date | None = None
    second_currency: SecondCurrency | None = None
    lines: tuple[Line, ...] = ()
    vat_totals: tuple[VatTotal, ...] = ()
    net_total: Decimal = Decimal(0)
    vat_total: Decimal = Decimal(0)
    grand_total: Decimal = Decimal(0)
    total_due: Decimal | None = None
    upper_annotation: str = ""
    lower_annotation: str = ""
    note: str = ""
    display_transport_data: bool = False
    shipping: Shipping | None = None
    reversed_document_number: str = ""  # set on reversal (storno) invoices
    receipt: ReceiptDetails | None = None  # set on receipts
