"""Invoices, proforma invoices, notices and receipts (reference §7.1 to §7.4): one document model,
four kinds, each at its own URL and XML root. Pure: no AWS; billing.store.documents resolves the
referenced records and writes.

Field groups (§7.1.1 to §7.1.8), as stored and shown:

- issuer (R): `account_company_xxx` (the account's company_xxx fields), `account_banks`,
  taken from the account when the document is created and again on `update_account_data`;
  `branch_office_id` (writable) -> `branch_office_data` (R, a snapshot of the branch office).
  `account_company_pays_vat_on_payment` is writable (the document's "VAT on payment" mention).
- client: `client_id` * -> `client_xxx` (R, every field of the client), taken when the document
  is written with a client_id and again on `update_client_data`.
- issuing user: `user_id` (R: the user of the API key that created the document) and
  `user_xxx` (R: name and identity data), re-taken on `update_user_data`. The reference lists
  user_xxx under receipts; every kind stores them (update_user_data is an invoice field).
- currency (§7.1.3): `currency_id` * (ISO 4217 numeric id or code), `input_currency_id`,
  `exchange_rate` (price of one foreign unit in the account's home currency, see
  billing.domain.money). The three cases of the reference:
    1. amounts entered and shown in the home currency: currency_id only;
    2. entered and shown in a foreign currency, also shown in the home currency: currency_id =
       the foreign currency + exchange_rate; lines carry home-currency figures as their
       input_currency_xxx amounts;
    3. entered in a foreign currency, shown only in the home currency: currency_id = home,
       input_currency_id = the foreign one + exchange_rate.
  exchange_rate is therefore required whenever currency_id or input_currency_id is not the
  home currency, which also lets account totals be kept in the home currency.
- document data (§7.1.4): document_date *, document_series_id *, document_series_counter
  (optional: taken from the series when absent; see billing.store.series), document_number (R,
  the printed number, see billing.domain.series.format_number), vat_type * (0..6, see
  billing.domain.vat), due_days -> due_date (R) = document_date + due_days, total (R),
  total_due (R), document_state (see billing.domain.states), source_document_id,
  reversed_document_id (an issued invoice of the tenant; allows negative prices),
  input_currency_reversing (> 0, only with reversed_document_id).
- shipping (§7.1.5): display_transport_data, delegate_id -> delegate_xxx (R snapshot),
  expedition_time.
- other (§7.1.6): late_fees_cycle (d|m), late_fees_percentage (0..100), locale (default "en"),
  hide_domestic_translations, lower/upper_annotation, delivery_date, advance_date,
  means_of_transport(_number), notice_date, notice_number, note, hashcode (R, see new_hashcode).
- flags (§7.1.7): flag_downloaded_pdf, flag_filed, flag_sent_by_email, flag_sent_by_fax,
  flag_sent_by_postal_mail.
- positions (§7.1.8): computed by billing.domain.totals (rounding rules there); each stored
  position keeps what was entered (to recompute) and its computed lines; the document keeps
  total, total_without_vat, total_vat and the per-rate vat_totals.
- receipts (§7.4) also: receipt_amount * (in the receipt's currency_id), amount (R: the receipt
  amount in the invoice's currency), invoice_id (an issued invoice of the tenant), invoice_date
  and invoice_number (taken from the invoice when invoice_id is given, else as sent). A receipt's
  positions are optional; given alone they set receipt_amount; total = receipt_amount and
  total_due = 0. With invoice_id, client_id and currency_id default to the invoice's.

total_due starts at total; payments (billing.payments) lower it. Recomputing a draft keeps what
was already paid: total_due = new total - (old total - old total_due).

Read-only fields sent back (a GET body sent with PUT) are ignored; other unknown fields are a 422.
"""

from __future__ import annotations

import re
import secrets
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import BaseModel, BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from billing.domain.account import Account, Bank, BranchOffice, User
from billing.domain.clients import Client, as_text, parse_flag
from billing.domain.delegates import Delegate, delegate_snapshot
from billing.domain.errors import ValidationFailed
from billing.domain.money import Direction, convert, parse_decimal, round_money
from billing.domain.records import Record, WritePayload
from billing.domain.reference_data import known_currency
from billing.domain.search import FieldKind
from billing.domain.states import CREATE_STATES, DocumentState
from billing.domain.totals import (
    DocumentTotals,
    LineAmounts,
    PositionInput,
    PositionType,
    compute_document,
    compute_receipt_amount,
)
from billing.domain.vat import VatType, parse_vat_type

MAX_ID: Final = 2**63 - 1
MAX_DUE_DAYS: Final = 3650


class DocumentKind(StrEnum):
    INVOICE = "invoice"
    PROFORMA_INVOICE = "proforma_invoice"
    NOTICE = "notice"
    RECEIPT = "receipt"

    @property
    def plural(self) -> str:
        """URL segment and list root: invoices, proforma_invoices, notices, receipts."""
        return f"{self.value}s"

    @property
    def series_kind(self) -> str:
        """Record kind of this document kind's numbering series (invoice_series, …)."""
        return f"{self.value}_series"

    @property
    def label(self) -> str:
        return self.value.replace("_", " ")


SEARCH_FIELDS: Final[Mapping[str, FieldKind]] = {
    "document_state": FieldKind.EXACT,
    "client_id": FieldKind.INTEGER,
    "document_series_id": FieldKind.INTEGER,
    "document_date": FieldKind.DATE,
    "document_series_counter": FieldKind.INTEGER,
    "created_at": FieldKind.DATETIME,
    "updated_at": FieldKind.DATETIME,
    "vat_type": FieldKind.INTEGER,
    "cached_total": FieldKind.DECIMAL,
}
"""§7.1.12 search fields, in search-slot order: slot n = GSI<n>. client_id MUST stay slot 2
(the clients' delete guard queries GSI2 of every document kind)."""

OPEN_DUE_DATE_FIELD: Final = "open_due_date"
SEARCH_SLOTS: Final = (*SEARCH_FIELDS, OPEN_DUE_DATE_FIELD)
"""Slot 10 is internal and sparse: the due date of open documents (overdue totals)."""


# ----------------------------------------------------------------------------- stored model


class Figures(BaseModel):
    """A line's or position's amounts in one currency (unit_price: net unit price)."""

    unit_price: Decimal | None = None
    net: Decimal
    vat: Decimal
    total: Decimal

    @classmethod
    def of(cls, amounts: LineAmounts) -> Figures:
        return cls(unit_price=amounts.unit_price, net=amounts.net, vat=amounts.vat, total=amounts.total)


class PositionLine(BaseModel):
    """One computed line: a normal position has one, a discount one per discounted VAT rate."""

    vat_rate: Decimal
    amounts: Figures
    input_amounts: Figures | None = None


class DocumentPosition(BaseModel):
    """A stored position: what was entered (`entered`: the one price field given) and what it
    computes to (`lines`)."""

    type: PositionType = PositionType.POSITION
    position: int
    description: str
    unit: str | None = None
    unit_count: Decimal | None = None
    product_code: str | None = None
    vat: Decimal | None = None
    discount_rate: Decimal | None = None
    entered: dict[str, Decimal] = Field(default_factory=dict)
    lines: list[PositionLine] = Field(default_factory=list)

    def figures(self) -> Figures:
        """The position's amounts in the document currency (summed over its lines)."""
        return _sum_figures([line.amounts for line in self.lines])

    def input_figures(self) -> Figures | None:
        amounts = [line.input_amounts for line in self.lines if line.input_amounts is not None]
        return _sum_figures(amounts) if amounts else None

    def to_input(self) -> PositionInput:
        """Back to what was entered, to recompute the document."""
        return PositionInput(
            type=self.type,
            description=self.description,
            unit=self.unit,
            unit_count=self.unit_count,
            product_code=self.product_code,
            vat=self.vat,
            position=self.position,
            discount_rate=self.discount_rate,
            **self.entered,
        )


def _sum_figures(items: Sequence[Figures]) -> Figures:
    zero = Decimal("0.00")
    return Figures(
        unit_price=items[0].unit_price if len(items) == 1 else None,
        net=sum((f.net for f in items), zero),
        vat=sum((f.vat for f in items), zero),
        total=sum((f.total for f in items), zero),
    )


class VatTotal(BaseModel):
    vat_rate: Decimal
    net: Decimal
    vat: Decimal
    total: Decimal


ACCOUNT_SNAPSHOT_FIELDS: Final = (
    "company_name",
    "company_uid",
    "company_registration_id",
    "company_tax_id",
    "company_vat_id",
    "company_euid",
    "company_address_1",
    "company_address_2",
    "company_state",
    "company_city",
    "company_country_id",
    "company_zip",
    "company_web",
    "company_phone",
    "company_fax",
    "company_email",
)
CLIENT_SNAPSHOT_FIELDS: Final = (
    "name",
    "is_company",
    "registration_id",
    "tax_id",
    "uid",
    "address",
    "address_2",
    "city",
    "zip",
    "state",
    "country_id",
    "bank_iban",
    "bank_name",
    "email",
    "fax",
    "homepage",
    "telephone",
)
USER_SNAPSHOT_FIELDS: Final = (
    "first_name",
    "last_name",
    "cnp",
    "identity_document",
    "identity_document_series",
    "identity_document_number",
    "identity_document_issued_by",
    "identity_document_issue_date",
)
BRANCH_OFFICE_SNAPSHOT_FIELDS: Final = (
    "name",
    "address_1",
    "address_2",
    "state",
    "city",
    "zip",
    "phone",
    "fax",
)


class Document(Record):
    """A stored document of any kind (the repository knows which)."""

    # state and numbering
    document_state: DocumentState = DocumentState.DRAFT
    issuance_status: str | None = None
    issue_version: int = 0
    # issuance (billing.issuance): written by the workflow only, each write bumping `rev`
    issuance_error: str | None = None
    pdf_key: str | None = None
    """S3 key of the archived PDF of this issue version (set once archived; never re-rendered)."""
    pdf_sha256: str | None = None
    document_series_id: int
    document_series_counter: int
    document_number: str = ""
    # issuer
    account_company_name: str = ""
    account_company_uid: str = ""
    account_company_registration_id: str = ""
    account_company_tax_id: str = ""
    account_company_vat_id: str = ""
    account_company_euid: str = ""
    account_company_address_1: str = ""
    account_company_address_2: str = ""
    account_company_state: str = ""
    account_company_city: str = ""
    account_company_country_id: int | None = None
    account_company_zip: str = ""
    account_company_web: str = ""
    account_company_phone: str = ""
    account_company_fax: str = ""
    account_company_email: str = ""
    account_banks: list[Bank] = Field(default_factory=list)
    account_company_pays_vat_on_payment: bool = False
    branch_office_id: int | None = None
    branch_office_data: dict[str, str] | None = None
    # client
    client_id: int
    client_name: str = ""
    client_is_company: bool = False
    client_registration_id: str = ""
    client_tax_id: str = ""
    client_uid: str = ""
    client_address: str = ""
    client_address_2: str = ""
    client_city: str = ""
    client_zip: str = ""
    client_state: str = ""
    client_country_id: int | None = None
    client_bank_iban: str = ""
    client_bank_name: str = ""
    client_email: str = ""
    client_fax: str = ""
    client_homepage: str = ""
    client_telephone: str = ""
    # issuing user
    user_id: int
    user_first_name: str = ""
    user_last_name: str = ""
    user_cnp: str = ""
    user_identity_document: str = ""
    user_identity_document_series: str = ""
    user_identity_document_number: str = ""
    user_identity_document_issued_by: str = ""
    user_identity_document_issue_date: str = ""
    # currency
    currency_id: int
    input_currency_id: int | None = None
    exchange_rate: Decimal | None = None
    home_currency: str = "EUR"
    # document data
    document_date: date
    vat_type: int
    due_days: int | None = None
    due_date: date | None = None
    total: Decimal = Decimal(0)
    total_due: Decimal = Decimal(0)
    total_without_vat: Decimal = Decimal(0)
    total_vat: Decimal = Decimal(0)
    input_currency_total: Decimal | None = None
    vat_totals: list[VatTotal] = Field(default_factory=list)
    source_document_id: int | None = None
    reversed_document_id: int | None = None
    input_currency_reversing: Decimal | None = None
    # shipping
    display_transport_data: bool = False
    delegate_id: int | None = None
    delegate_first_name: str | None = None
    delegate_last_name: str | None = None
    delegate_cnp: str | None = None
    delegate_identity_document: str | None = None
    delegate_identity_document_series: str | None = None
    delegate_identity_document_number: str | None = None
    delegate_identity_document_issued_by: str | None = None
    delegate_identity_document_issue_date: date | None = None
    expedition_time: datetime | None = None
    # other
    late_fees_cycle: str | None = None
    late_fees_percentage: Decimal | None = None
    locale: str = "en"
    hide_domestic_translations: bool = False
    lower_annotation: str = ""
    upper_annotation: str = ""
    delivery_date: date | None = None
    advance_date: date | None = None
    means_of_transport: str = ""
    means_of_transport_number: str = ""
    notice_date: date | None = None
    notice_number: str = ""
    hashcode: str
    note: str = ""
    # flags
    flag_downloaded_pdf: bool = False
    flag_filed: bool = False
    flag_sent_by_email: bool = False
    flag_sent_by_fax: bool = False
    flag_sent_by_postal_mail: bool = False
    # positions
    document_positions: list[DocumentPosition] = Field(default_factory=list)
    # receipts
    receipt_amount: Decimal | None = None
    amount: Decimal | None = None
    invoice_id: int | None = None
    invoice_date: date | None = None
    invoice_number: str | None = None

    @property
    def cached_total(self) -> Decimal:
        """The reference's search name for the total (§7.1.12)."""
        return self.total

    @property
    def open_due_date(self) -> date | None:
        """Sparse search slot: set only while the document is open (overdue queries)."""
        return self.due_date if self.document_state is DocumentState.OPEN else None

    @property
    def currency(self) -> str:
        return known_currency(self.currency_id, "currency_id").iso_name

    def home_amount(self, amount: Decimal) -> Decimal:
        """`amount` (in the document currency) in the account's home currency, at the
        document's exchange rate (rounded to cents)."""
        if self.currency == self.home_currency or self.exchange_rate is None:
            return amount
        return convert(amount, self.exchange_rate, Direction.FOREIGN_TO_HOME)


def open_total_contribution(kind: DocumentKind, doc: Document) -> Decimal:
    """What `doc` adds to the account's total_open: an open invoice's total_due, in the home
    currency (proformas, notices and receipts owe nothing on the account; closed and cancelled
    invoices are settled or void)."""
    if kind is not DocumentKind.INVOICE or doc.document_state is not DocumentState.OPEN:
        return Decimal(0)
    return doc.home_amount(doc.total_due)


def new_hashcode(tenant_id: int) -> str:
    """The read-only share code: the tenant id (so the share page can find the tenant's
    partition; tenant ids are not secret, they are in every API key) and 192 random bits,
    URL-safe: "<tenant>-<32 characters of base64url>"."""
    return f"{tenant_id}-{secrets.token_urlsafe(24)}"


def hashcode_tenant(hashcode: str) -> int | None:
    """The tenant a share code belongs to, or None when it is not one of ours."""
    tenant, dash, token = hashcode.partition("-")
    if not dash or not tenant.isdigit() or len(tenant) > 19 or len(token) < 22:
        return None
    return int(tenant)


# ------------------------------------------------------------------------------ write payload


def _blank_to_none(value: Any) -> Any:
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


def _id(value: Any) -> Any:
    value = _blank_to_none(value)
    if isinstance(value, bool | Decimal | float):
        raise PydanticCustomError("int_type", "must be a record id (a whole number)")
    if isinstance(value, str) and not value.strip().isdigit():
        raise PydanticCustomError("int_type", "must be a record id (a whole number)")
    return value


def _whole(value: Any) -> Any:
    value = _blank_to_none(value)
    if isinstance(value, bool | Decimal | float):
        raise PydanticCustomError("int_type", "must be a whole number")
    if isinstance(value, str) and not re.fullmatch(r"\s*[0-9]{1,15}\s*", value):
        raise PydanticCustomError("int_type", "must be a whole number")
    return value


def _currency(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PydanticCustomError("currency", "must be a currency id or ISO code")
    try:
        return known_currency(value, "currency").id
    except ValidationFailed:
        raise PydanticCustomError(
            "currency",
            "'{ref}' is not a known currency (use its ISO 4217 numeric id or code)",
            {"ref": str(value).strip()[:40]},
        ) from None


def _decimal(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None:
        return None
    try:
        return parse_decimal(value, "value")
    except ValidationFailed as err:
        reason = err.messages[0].removeprefix("value ")
        raise PydanticCustomError("decimal", "{reason}", {"reason": reason}) from None


def _date(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None or (isinstance(value, date) and not isinstance(value, datetime)):
        return value
    if isinstance(value, str) and re.fullmatch(r"\s*\d{4}-\d{2}-\d{2}\s*", value):
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise PydanticCustomError("date", "must be a date (YYYY-MM-DD)")


def _datetime(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None or isinstance(value, datetime):
        return value
    if isinstance(value, str) and re.fullmatch(
        r"\s*\d{4}-\d{2}-\d{2}([T ][0-9:.]+)?(Z|[+-]\d{2}:?\d{2})?\s*", value
    ):
        try:
            parsed = datetime.fromisoformat(value.strip())
        except ValueError:
            pass
        else:
            return parsed if parsed.tzinfo else parsed.replace(tzinfo=UTC)
    raise PydanticCustomError("datetime", "must be a date and time (YYYY-MM-DDTHH:MM:SS)")


def _vat_type(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None:
        return None
    try:
        return int(parse_vat_type(value))
    except ValidationFailed as err:
        reason = err.messages[0].removeprefix("vat_type ")
        raise PydanticCustomError("vat_type", "{reason}", {"reason": reason}) from None


def _state(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() in tuple(DocumentState):
        return value.strip().lower()
    raise PydanticCustomError("state", "must be one of draft, open, closed, cancelled")


def _late_fees_cycle(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None:
        return None
    if isinstance(value, str) and value.strip().lower() in ("d", "m"):
        return value.strip().lower()
    raise PydanticCustomError("late_fees_cycle", "must be d (daily) or m (monthly)")


def _locale(value: Any) -> Any:
    value = _blank_to_none(value)
    if value is None:
        return "en"
    if isinstance(value, str) and re.fullmatch(r"[A-Za-z]{2}(?:[-_][A-Za-z]{2})?", value.strip()):
        return value.strip()
    raise PydanticCustomError("locale", "must be an ISO 639-1 language code such as en or ro")


def _flag(value: Any) -> Any:
    return parse_flag(value)


RecordId = Annotated[Annotated[int, Field(ge=1, le=MAX_ID)] | None, BeforeValidator(_id)]
CurrencyId = Annotated[int | None, BeforeValidator(_currency)]
PositiveAmount = Annotated[Annotated[Decimal, Field(gt=0)] | None, BeforeValidator(_decimal)]
Percentage = Annotated[Annotated[Decimal, Field(ge=0, le=100)] | None, BeforeValidator(_decimal)]
OptionalDate = Annotated[date | None, BeforeValidator(_date)]
OptionalDateTime = Annotated[datetime | None, BeforeValidator(_datetime)]
Flag = Annotated[bool, BeforeValidator(_flag)]
Text = Annotated[str, BeforeValidator(as_text), StringConstraints(max_length=255)]
LongText = Annotated[str, BeforeValidator(as_text), StringConstraints(max_length=10_000)]
Counter = Annotated[Annotated[int, Field(ge=1, le=10**12 - 1)] | None, BeforeValidator(_whole)]
DueDays = Annotated[Annotated[int, Field(ge=0, le=MAX_DUE_DAYS)] | None, BeforeValidator(_whole)]

READ_ONLY_FIELDS: Final = frozenset(
    {
        "id",
        "created_at",
        "updated_at",
        "document_number",
        "issuance_status",
        "issuance_error",
        "pdf_key",
        "pdf_sha256",
        "due_date",
        "total",
        "total_due",
        "total_without_vat",
        "total_vat",
        "input_currency_total",
        "vat_totals",
        "cached_total",
        "hashcode",
        "user_id",
        "account_banks",
        "branch_office_data",
        "amount",
        *(f"account_{name}" for name in ACCOUNT_SNAPSHOT_FIELDS),
        *(f"client_{name}" for name in CLIENT_SNAPSHOT_FIELDS),
        *(f"user_{name}" for name in USER_SNAPSHOT_FIELDS),
        *delegate_snapshot(None),
    }
)
"""Computed or snapshot fields: ignored when sent back, so a GET body can be sent with PUT."""


class DocumentFields(WritePayload):
    """The writable fields of an invoice, proforma invoice or notice (create and modify; what is
    required on create is checked by `check_required`). `document_positions` is read by
    billing.domain.totals."""

    client_id: RecordId = None
    currency_id: CurrencyId = None
    input_currency_id: CurrencyId = None
    exchange_rate: PositiveAmount = None
    document_date: OptionalDate = None
    document_series_id: RecordId = None
    document_series_counter: Counter = None
    vat_type: Annotated[int | None, BeforeValidator(_vat_type)] = None
    due_days: DueDays = None
    document_state: Annotated[DocumentState | None, BeforeValidator(_state)] = None
    source_document_id: RecordId = None
    reversed_document_id: RecordId = None
    input_currency_reversing: PositiveAmount = None
    branch_office_id: RecordId = None
    account_company_pays_vat_on_payment: Flag = False
    display_transport_data: Flag = False
    delegate_id: RecordId = None
    expedition_time: OptionalDateTime = None
    late_fees_cycle: Annotated[str | None, BeforeValidator(_late_fees_cycle)] = None
    late_fees_percentage: Percentage = None
    locale: Annotated[str, BeforeValidator(_locale)] = "en"
    hide_domestic_translations: Flag = False
    lower_annotation: LongText = ""
    upper_annotation: LongText = ""
    delivery_date: OptionalDate = None
    advance_date: OptionalDate = None
    means_of_transport: Text = ""
    means_of_transport_number: Text = ""
    notice_date: OptionalDate = None
    notice_number: Text = ""
    note: LongText = ""
    update_account_data: Flag = False
    update_client_data: Flag = False
    update_user_data: Flag = False
    flag_downloaded_pdf: Flag = False
    flag_filed: Flag = False
    flag_sent_by_email: Flag = False
    flag_sent_by_fax: Flag = False
    flag_sent_by_postal_mail: Flag = False
    document_positions: Any = None

    read_only_fields = READ_ONLY_FIELDS


class ReceiptFields(DocumentFields):
    receipt_amount: PositiveAmount = None
    invoice_id: RecordId = None
    invoice_date: OptionalDate = None
    invoice_number: Text = ""


REQUIRED_ON_CREATE: Final = ("client_id", "currency_id", "document_date", "document_series_id", "vat_type")
NOT_EMPTY: Final = frozenset({*REQUIRED_ON_CREATE, "locale"})
"""Fields that, once set, cannot be emptied by a modify request."""
RETAKES: Final = frozenset({"update_account_data", "update_client_data", "update_user_data"})


@dataclass(frozen=True)
class DocumentChanges:
    """A parsed create/modify request: the fields sent (typed) and the positions, if sent."""

    fields: dict[str, Any]
    positions: list[PositionInput] | None

    def sent(self, name: str) -> bool:
        return name in self.fields

    @property
    def names(self) -> set[str]:
        """Names of the fields sent, positions included."""
        return set(self.fields) | ({"document_positions"} if self.positions is not None else set())


def payload_model(kind: DocumentKind) -> type[DocumentFields]:
    return ReceiptFields if kind is DocumentKind.RECEIPT else DocumentFields


def normalize_changes(fields: dict[str, Any], positions: list[PositionInput] | None) -> DocumentChanges:
    """A typed payload (`payload_model(kind).model_validate(...).changes()`) and its positions
    (billing.domain.totals.parse_positions) as a DocumentChanges. `update_xxx_data=0` asks for
    nothing and is dropped."""
    fields = dict(fields)
    fields.pop("document_positions", None)
    for flag in RETAKES:
        if flag in fields and not fields[flag]:
            fields.pop(flag)
    return DocumentChanges(fields, positions)


def check_required(kind: DocumentKind, changes: DocumentChanges, root: str) -> None:
    """Mandatory fields of a create request (receipts: see the module docstring)."""
    fields = changes.fields
    required: list[str] = ["document_date", "document_series_id"]
    if kind is DocumentKind.RECEIPT:
        if fields.get("invoice_id") is None:
            required += ["client_id", "currency_id"]
        if changes.positions is None and fields.get("receipt_amount") is None:
            required.append("receipt_amount")
    else:
        required += ["client_id", "currency_id", "vat_type"]
        if changes.positions is None:
            required.append("document_positions")
    missing = [
        f"{root}.{name} is required"
        for name in required
        if name != "document_positions" and fields.get(name) is None
    ]
    if "document_positions" in required:
        missing.append(f"{root}.document_positions is required (at least one position)")
    state = fields.get("document_state")
    if state is not None and state not in CREATE_STATES:
        missing.append(f"{root}.document_state must be draft or open when a document is created")
    if missing:
        raise ValidationFailed(*missing)


def check_modify_fields(changes: DocumentChanges, root: str) -> None:
    problems = []
    if changes.sent("document_state"):
        problems.append(
            f"{root}.document_state cannot be set by a modify request; "
            "use PUT …/[id]/mark_draft|mark_open|mark_closed|mark_cancelled.xml"
        )
    problems.extend(
        f"{root}.{name} cannot be empty"
        for name in sorted(NOT_EMPTY)
        if changes.sent(name) and changes.fields[name] is None
    )
    if problems:
        raise ValidationFailed(*problems)


# ---------------------------------------------------------------------------------- assembly


@dataclass(frozen=True)
class Resolved:
    """Records the write refers to, already looked up in the tenant (None: not needed)."""

    account: Account | None = None
    user: User | None = None
    client: Client | None = None
    delegate: Delegate | None = None
    branch_office: BranchOffice | None = None
    reversed_invoice: Document | None = None
    receipt_invoice: Document | None = None


def account_snapshot(account: Account) -> dict[str, Any]:
    data: dict[str, Any] = {f"account_{name}": getattr(account, name) for name in ACCOUNT_SNAPSHOT_FIELDS}
    data["account_banks"] = [bank.model_dump() for bank in account.account_banks]
    return data


def client_snapshot(client: Client) -> dict[str, Any]:
    return {f"client_{name}": getattr(client, name, None) for name in CLIENT_SNAPSHOT_FIELDS}


def user_snapshot(user: User) -> dict[str, Any]:
    return {f"user_{name}": getattr(user, name, "") or "" for name in USER_SNAPSHOT_FIELDS}


def branch_office_snapshot(office: BranchOffice | None) -> dict[str, str] | None:
    if office is None:
        return None
    return {name: getattr(office, name) for name in BRANCH_OFFICE_SNAPSHOT_FIELDS}


def new_document_base(*, document_id: int, user_id: int, hashcode: str, home_currency: str) -> dict[str, Any]:
    """Fields of a new document that the caller does not send."""
    return {
        "id": document_id,
        "user_id": user_id,
        "hashcode": hashcode,
        "home_currency": home_currency,
        "document_state": DocumentState.DRAFT,
        # placeholders until the number is taken (billing.store.series)
        "document_series_counter": 0,
    }


def assemble(
    kind: DocumentKind,
    base: Mapping[str, Any],
    changes: DocumentChanges,
    resolved: Resolved,
    *,
    root: str,
    recompute: bool,
) -> Document:
    """The document as it will be stored: `base` (a new document's defaults or the stored
    document) with `changes` applied, snapshots (re)taken from `resolved`, derived fields
    and (when `recompute`) totals computed. Raises ValidationFailed naming each field."""
    data = dict(base)
    paid = Decimal(base.get("total", 0)) - Decimal(base.get("total_due", 0))
    fields = dict(changes.fields)
    for flag in RETAKES:
        fields.pop(flag, None)
    data.update(fields)
    if resolved.account is not None:
        data.update(account_snapshot(resolved.account))
        if recompute:  # an issued document keeps the currency its account totals were counted in
            data["home_currency"] = resolved.account.currency
    if resolved.user is not None:
        data.update(user_snapshot(resolved.user))
    if resolved.client is not None:
        data.update(client_snapshot(resolved.client))
    if changes.sent("delegate_id"):
        data.update(delegate_snapshot(resolved.delegate))
    if changes.sent("branch_office_id"):
        data["branch_office_data"] = branch_office_snapshot(resolved.branch_office)
    elif resolved.account is not None and resolved.branch_office is not None:
        data["branch_office_data"] = branch_office_snapshot(resolved.branch_office)  # update_account_data
    if kind is DocumentKind.RECEIPT and resolved.receipt_invoice is not None:
        invoice = resolved.receipt_invoice
        data["invoice_date"] = invoice.document_date
        data["invoice_number"] = invoice.document_number
        if data.get("client_id") is None:
            data["client_id"] = invoice.client_id
        if data.get("currency_id") is None:
            data["currency_id"] = invoice.currency_id
    if kind is DocumentKind.RECEIPT and data.get("vat_type") is None:
        data["vat_type"] = int(VatType.WITHOUT_VAT)
    data["due_date"] = (
        data["document_date"] + timedelta(days=data["due_days"])
        if data.get("due_days") is not None and data.get("document_date") is not None
        else None
    )
    problems = _cross_field_problems(kind, data, root)
    if problems:
        raise ValidationFailed(*problems)
    if recompute:
        positions = changes.positions
        if positions is None:
            positions = [
                DocumentPosition.model_validate(p).to_input() for p in data.get("document_positions", [])
            ]
        _apply_totals(kind, data, positions, resolved, root, paid)
    return Document.model_validate(data)


def _cross_field_problems(kind: DocumentKind, data: Mapping[str, Any], root: str) -> list[str]:
    problems = []
    if data.get("input_currency_reversing") is not None and data.get("reversed_document_id") is None:
        problems.append(f"{root}.input_currency_reversing is only allowed with reversed_document_id")
    if data.get("reversed_document_id") is not None and kind is not DocumentKind.INVOICE:
        problems.append(f"{root}.reversed_document_id is only allowed on invoices")
    if data.get("late_fees_percentage") is not None and data.get("late_fees_cycle") is None:
        problems.append(f"{root}.late_fees_cycle is required with late_fees_percentage (d or m)")
    return problems


def _apply_totals(
    kind: DocumentKind,
    data: dict[str, Any],
    positions: list[PositionInput],
    resolved: Resolved,
    root: str,
    paid: Decimal,
) -> None:
    home = data["home_currency"]
    currency = known_currency(data["currency_id"], "currency_id").iso_name
    input_currency = (
        known_currency(data["input_currency_id"], "input_currency_id").iso_name
        if data.get("input_currency_id") is not None
        else None
    )
    if input_currency is None or input_currency == currency:
        # cases 1 and 2 of "Invoice currency": a foreign-currency document also carries its
        # home-currency figures, so it needs the rate as well
        input_currency = home if currency != home else None
    exchange_rate = data.get("exchange_rate")
    problems: list[str] = []
    totals: DocumentTotals | None = None
    receipt_without_positions = kind is DocumentKind.RECEIPT and not positions
    if not receipt_without_positions:
        try:
            totals = compute_document(
                positions,
                VatType(data["vat_type"]),
                currency,
                input_currency,
                exchange_rate,
                home_currency=home,
                reversal=data.get("reversed_document_id") is not None,
            )
        except ValidationFailed as err:
            problems.extend(f"{root}.{message}" for message in err.messages)
    elif input_currency is not None and exchange_rate is None:
        problems.append(
            f"{root}.exchange_rate is required for a document in {currency} (the account currency is {home})"
        )
    if problems:
        raise ValidationFailed(*problems)
    if totals is not None:
        data["document_positions"] = _stored_positions(positions, totals)
        data["total"] = totals.totals.total
        data["total_without_vat"] = totals.totals.net
        data["total_vat"] = totals.totals.vat
        data["vat_totals"] = [
            {"vat_rate": r.rate, "net": r.net, "vat": r.vat, "total": r.total} for r in totals.totals.per_rate
        ]
        data["input_currency_total"] = totals.input_totals.total if totals.input_totals else None
        data["exchange_rate"] = totals.exchange_rate
    else:
        data["document_positions"] = []
        data["total"] = data["total_without_vat"] = data["total_vat"] = Decimal("0.00")
        data["vat_totals"] = []
        data["input_currency_total"] = None
    if kind is DocumentKind.RECEIPT:
        _apply_receipt(data, totals, resolved, currency, home, root)
    else:
        data["total_due"] = round_money(data["total"] - paid)


def _apply_receipt(
    data: dict[str, Any],
    totals: DocumentTotals | None,
    resolved: Resolved,
    currency: str,
    home: str,
    root: str,
) -> None:
    received = data.get("receipt_amount")
    if totals is not None:
        if received is None:
            received = totals.totals.total
        elif received != totals.totals.total:
            raise ValidationFailed(
                f"{root}.receipt_amount {received} differs from the total of the receipt's positions "
                f"{totals.totals.total}; send one of them, or make them agree"
            )
    if received is None or received <= 0:
        raise ValidationFailed(f"{root}.receipt_amount must be greater than 0")
    received = round_money(received)
    data["receipt_amount"] = received
    data["total"] = received
    data["total_due"] = Decimal("0.00")
    invoice = resolved.receipt_invoice
    if invoice is None:
        data["amount"] = received
        return
    rate = data.get("exchange_rate") or invoice.exchange_rate  # default: the invoice's own rate
    try:
        data["amount"] = compute_receipt_amount(
            received, currency, invoice.currency, rate, home_currency=home
        )
    except ValidationFailed as err:
        raise ValidationFailed(*(f"{root}.{message}" for message in err.messages)) from None


def _stored_positions(positions: Sequence[PositionInput], totals: DocumentTotals) -> list[dict[str, Any]]:
    by_index: dict[int, list[PositionLine]] = {}
    for line in totals.lines:
        by_index.setdefault(line.index, []).append(
            PositionLine(
                vat_rate=line.vat_rate,
                amounts=Figures.of(line.amounts),
                input_amounts=Figures.of(line.input_amounts) if line.input_amounts else None,
            )
        )
    stored = []
    for index, position in enumerate(positions, start=1):
        stored.append(
            DocumentPosition(
                type=position.type,
                position=position.position if position.position is not None else index,
                description=position.description or "",
                unit=position.unit,
                unit_count=position.unit_count,
                product_code=position.product_code,
                vat=position.vat,
                discount_rate=position.discount_rate,
                entered=position.prices(),
                lines=by_index.get(index, []),
            ).model_dump()
        )
    return stored
