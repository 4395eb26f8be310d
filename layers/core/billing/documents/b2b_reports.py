"""B2B reports: the charges report of a bill, as the reference's 50-column, `;`-separated CSV.

Every bill has one report, named `R189-Charges+<bill id>` (the reference's report code and
shape of name; the bill id rather than its number, because ids are unique in the tenant and
always URL-safe, and numbers are neither). A download asks for a representation with Accept
(`text/csv`: this CSV, `application/pdf`: the bill's PDF); the name may carry `.csv` or
`.pdf`, which then is the only representation offered.

The CSV: the header line (CHARGES_COLUMNS, exactly the reference's, in its order), then one row
per printed line of the invoice (one per position; one per VAT rate for a discount position,
as on the PDF). RFC 4180 quoting with `;` as the separator: a cell holding `;`, `"` or a line
break is quoted and its quotes doubled. Lines end with CRLF, UTF-8 without BOM. Text cells that
a spreadsheet would run as a formula (starting with = + - @ or a tab/CR) get a leading `'`
(OWASP CSV injection); number cells never start that way except with a minus sign and are
written as they are. docs/b2b-reports.md maps every column.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal
from typing import Final
from urllib.parse import unquote

from billing.documents.mapping import country_name, position_lines
from billing.domain.documents import Document
from billing.domain.errors import NotAcceptable, NotFound
from billing.domain.reference_data import country
from billing.domain.vat import VatType
from billing.wire.b2b_bills import bill_type

CHARGES_COLUMNS: Final = (
    "Customer Number",
    "Customer name",
    "Account number",
    "Invoice number",
    "Invoice Date",
    "Document type",
    "Period from",
    "Period to",
    "Charge Month",
    "Division code",
    "Division name",
    "Service description",
    "Service start date",
    "Site ID",
    "Site name",
    "Site address",
    "Site City",
    "Site State",
    "Postal Code",
    "Country",
    "Country Name",
    "Speed",
    "Bandwidth",
    "Charge Description",
    "Tax Description",
    "Frequency",
    "Number of days",
    "Monthly price",
    "Charge Currency",
    "Exchange rate",
    "Pre-discount amount",
    "Discount percentage",
    "Discount amount",
    "Taxable amount",
    "Tax rate",
    "Tax amount",
    "Invoicing Amount",
    "Invoicing Currency",
    "Total including Tax",
    "TC Cross Reference",
    "Serial Number",
    "Order reference",
    "Credit Comments",
    "Invoice Contact",
    "Phone Number",
    "Payment Term",
    "Payment Due Date",
    "Installed Offer ID",
    "PO Reference",
    "External Reference",
)
assert len(CHARGES_COLUMNS) == 50

REPORT_CODE: Final = "R189-Charges"
CSV: Final = "text/csv"
PDF: Final = "application/pdf"
CSV_CONTENT_TYPE: Final = "text/csv; charset=UTF-8"
EXTENSIONS: Final = {"csv": CSV, "pdf": PDF}
FORMATS: Final = (CSV, PDF)
"""What a report can be downloaded as, the default first."""

_NAME = re.compile(rf"{re.escape(REPORT_CODE)}[+ ]([1-9][0-9]{{0,18}})(?:\.(csv|pdf))?")
_FORMULA_START: Final = ("=", "+", "-", "@", "\t", "\r")


def report_name(bill_id: int | str) -> str:
    return f"{REPORT_CODE}+{bill_id}"


@dataclass(frozen=True)
class ReportRequest:
    bill_id: int
    media_type: str | None
    """The representation the name's extension asks for, None when it has none."""


def parse_report_name(text: str) -> ReportRequest:
    """The bill and extension of a report name (`R189-Charges+123`, `…+123.csv`; `%2B` for `+`
    and a `+` decoded to a space are accepted too); anything else is not a report (404)."""
    name = unquote(text) if "%" in text else text
    match = _NAME.fullmatch(name)
    if match is None:
        raise NotFound(f"no report named {text[:80]!r}")
    extension = match.group(2)
    return ReportRequest(int(match.group(1)), EXTENSIONS[extension] if extension else None)


def negotiate(accept: str | None, offered: tuple[str, ...]) -> str:
    """The offered media type the Accept header prefers (RFC 9110 §12.5.1: q-values, the most
    specific matching range decides each type's q; ties go to the first offered). No Accept
    header accepts anything. NotAcceptable (406) when nothing offered is acceptable."""
    ranges = _accept_ranges(accept if accept and accept.strip() else "*/*")
    best: tuple[float, int] | None = None
    chosen = None
    for position, media_type in enumerate(offered):
        q = _quality(media_type, ranges)
        if q > 0 and (best is None or (q, -position) > best):
            best, chosen = (q, -position), media_type
    if chosen is None:
        raise NotAcceptable(
            f"cannot produce {(accept or '').strip()[:100]!r}; this report is available as "
            + " or ".join(offered)
        )
    return chosen


def _accept_ranges(header: str) -> list[tuple[str, str, float]]:
    ranges = []
    for part in header.split(","):
        media, *params = (piece.strip() for piece in part.split(";"))
        if "/" not in media:
            continue
        kind, _, subtype = media.lower().partition("/")
        q = 1.0
        for param in params:
            name, _, value = param.partition("=")
            if name.strip().lower() == "q":
                try:
                    q = min(max(float(value.strip()), 0.0), 1.0)
                except ValueError:
                    q = 0.0
        ranges.append((kind, subtype, q))
    return ranges


def _quality(media_type: str, ranges: list[tuple[str, str, float]]) -> float:
    kind, _, subtype = media_type.partition("/")
    best_specificity, q = -1, 0.0
    for range_kind, range_subtype, range_q in ranges:
        if range_kind == kind and range_subtype == subtype:
            specificity = 2
        elif range_kind == kind and range_subtype == "*":
            specificity = 1
        elif range_kind == "*" and range_subtype == "*":
            specificity = 0
        else:
            continue
        if specificity > best_specificity:
            best_specificity, q = specificity, range_q
    return q


def filename(bill_id: int | str, media_type: str) -> str:
    return f"{report_name(bill_id)}.{'pdf' if media_type == PDF else 'csv'}"


def report_descriptor(view: dict[str, object]) -> dict[str, object]:
    """An entry of GET /reports: the report of one bill (`view`: the bill's JSON)."""
    bill_id = str(view["id"])
    return {
        "name": report_name(bill_id),
        "type": "charges",
        "formats": list(FORMATS),
        "bill": {"id": bill_id, "number": view["number"], "type": view["type"]},
        "billingAccount": view["billingAccount"],
        "billDate": view["billDate"],
        "updatedAt": view["updatedAt"],
    }


# -- the CSV ------------------------------------------------------------------------------------


def charges_csv(document: Document, *, reversed_number: str | None = None) -> bytes:
    """The charges report of an invoice (see the module docstring)."""
    out = io.StringIO(newline="")
    writer = csv.writer(out, delimiter=";", quotechar='"', quoting=csv.QUOTE_MINIMAL, lineterminator="\r\n")
    writer.writerow(CHARGES_COLUMNS)
    writer.writerows(charge_rows(document, reversed_number=reversed_number))
    return out.getvalue().encode("utf-8")


def charge_rows(document: Document, *, reversed_number: str | None = None) -> Iterator[list[str]]:
    d = document
    currency = d.currency
    foreign = currency != d.home_currency and d.exchange_rate is not None
    credit = (
        f"Reversal of invoice {reversed_number or d.reversed_document_id}"
        if d.reversed_document_id is not None
        else ""
    )
    vat_type = VatType(d.vat_type)
    common_head = [
        str(d.client_id),
        _text(d.client_name),
        str(d.client_id),
        _text(d.document_number),
        d.document_date.isoformat(),
        bill_type(d),
        "",
        "",
        d.document_date.strftime("%Y-%m"),
        str(d.branch_office_id) if d.branch_office_id is not None else "",
        _text((d.branch_office_data or {}).get("name", "")),
    ]
    site = [
        "",
        "",
        _text(", ".join(part for part in (d.client_address, d.client_address_2) if part)),
        _text(d.client_city),
        _text(d.client_state),
        _text(d.client_zip),
        _country_code(d.client_country_id),
        _text(country_name(d.client_country_id)),
        "",
        "",
    ]
    contact_tail = [
        "",
        "",
        "",
        _text(credit),
        _text(d.client_email),
        _text(d.client_telephone),
        str(d.due_days) if d.due_days is not None else "",
        d.due_date.isoformat() if d.due_date is not None else "",
    ]
    for position in d.document_positions:
        for line in position_lines(position):
            net = line.line_total
            total = net + line.vat_amount
            yield [
                *common_head,
                _text(position.description),
                d.delivery_date.isoformat() if d.delivery_date is not None else "",
                *site,
                _text(line.description),
                _tax_description(vat_type, line.vat_rate),
                "",
                "",
                "",
                currency,
                _rate(d.exchange_rate) if foreign and d.exchange_rate is not None else "",
                "" if line.is_discount else _number(net),
                _rate(position.discount_rate) if line.is_discount and position.discount_rate else "",
                _number(net) if line.is_discount else "",
                _number(net),
                _rate(line.vat_rate),
                _number(line.vat_amount),
                _number(net),
                currency,
                _number(total),
                *contact_tail,
                _text(position.product_code or ""),
                "",
                str(d.id),
            ]


def _tax_description(vat_type: VatType, rate: Decimal) -> str:
    if vat_type.charges_vat:
        return f"VAT {_rate(rate)}%"
    return vat_type.mention or vat_type.label


def _number(value: Decimal) -> str:
    """An amount in plain notation, as stored (two decimals)."""
    return format(value, "f")


def _rate(value: Decimal) -> str:
    """A rate or percentage without trailing zeros ("19", "5.5", "4.9735")."""
    return format(value.normalize(), "f")


def _country_code(country_id: int | None) -> str:
    if country_id is None:
        return ""
    try:
        return country(country_id).iso
    except NotFound:
        return ""


def _text(value: str) -> str:
    """A text cell, defused for spreadsheets (see the module docstring)."""
    return f"'{value}" if value.startswith(_FORMULA_START) else value


def rows_of(data: bytes) -> Iterable[list[str]]:
    """Parse a report back (tests, and clients in Python): `;`-separated, quoted as written."""
    return csv.reader(io.StringIO(data.decode("utf-8"), newline=""), delimiter=";", quotechar='"')
