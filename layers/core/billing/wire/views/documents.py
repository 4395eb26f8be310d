"""v1 representations of invoices, proforma invoices, notices and receipts, and the reading of
their create/modify payloads from any wire form.

A document is shown with the reference's field groups in order (issuer, client, currency,
document data, shipping, other fields, flags, positions; receipts add their own fields).
Positions (`<document_positions type="array"><document_position>…`) show what was entered and
the computed figures in the document currency:

    type, position, description, unit, unit_count, product_code, vat, discount_rate (discounts),
    price       net unit price (None on discounts)
    net_total   quantity x price, rounded (the discount's amount on discounts, negative)
    vat_total   VAT of the line(s)
    total       net_total + vat_total (gross)
    input_currency_price / input_currency_total   the same in the second currency, when there is one

and the document carries total, total_without_vat, total_vat, vat_totals (per VAT rate:
vat_rate, net, vat, total), input_currency_total and total_due.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from pydantic import ValidationError

from billing.domain.documents import (
    Document,
    DocumentChanges,
    DocumentKind,
    DocumentPosition,
    normalize_changes,
    payload_model,
)
from billing.domain.errors import ValidationFailed
from billing.domain.totals import PositionInput, PositionType, parse_positions
from billing.http.errors import validation_messages
from billing.wire.codec import as_list
from billing.wire.xml import XmlArray

_INTERNAL = frozenset({"issue_version", "home_currency", "pdf_key", "pdf_sha256"})
_RECEIPT_ONLY = ("receipt_amount", "amount", "invoice_id", "invoice_date", "invoice_number")


def document(kind: DocumentKind, doc: Document) -> dict[str, Any]:
    data = doc.model_dump(exclude={*_INTERNAL, "document_positions", "account_banks", "vat_totals"})
    if kind is not DocumentKind.RECEIPT:
        for name in _RECEIPT_ONLY:
            data.pop(name, None)
    data["cached_total"] = doc.total
    data["account_banks"] = XmlArray(
        [
            {
                "name": bank.name,
                "bic": bank.bic,
                "accounts": XmlArray([a.model_dump() for a in bank.accounts], "account"),
            }
            for bank in doc.account_banks
        ],
        "bank",
    )
    data["vat_totals"] = XmlArray([v.model_dump() for v in doc.vat_totals], "vat_total")
    data["document_positions"] = XmlArray([position(p) for p in doc.document_positions], "document_position")
    return data


def position(item: DocumentPosition) -> dict[str, Any]:
    figures = item.figures()
    data: dict[str, Any] = {
        "type": item.type.value,
        "position": item.position,
        "description": item.description,
    }
    if item.type is PositionType.DISCOUNT:
        data["discount_rate"] = item.discount_rate
    else:
        data.update(unit=item.unit, unit_count=item.unit_count, product_code=item.product_code)
        data["price"] = figures.unit_price
    data["vat"] = item.vat if item.type is PositionType.POSITION else _single_rate(item)
    data.update(net_total=figures.net, vat_total=figures.vat, total=figures.total)
    second = item.input_figures()
    if second is not None:
        if item.type is PositionType.POSITION:
            data["input_currency_price"] = second.unit_price
        data["input_currency_total"] = second.total
    return data


def _single_rate(item: DocumentPosition) -> Any:
    rates = {line.vat_rate for line in item.lines}
    return rates.pop() if len(rates) == 1 else None


def document_list(kind: DocumentKind) -> Any:
    return lambda doc: document(kind, doc)


# ---------------------------------------------------------------------------------- payloads


def parse_changes(kind: DocumentKind, payload: Mapping[str, Any], root: str) -> DocumentChanges:
    """Type a create/modify payload (`<invoice>…`, `invoice[…]`, `{"invoice": {…}}`) and its
    positions (form `[1][description]`, XML `<document_positions><document_position>`, JSON
    list); every problem, of the fields and of the positions, in one 422."""
    problems: list[str] = []
    fields: dict[str, Any] = {}
    try:
        fields = payload_model(kind).model_validate(payload).changes()
    except ValidationError as error:
        problems.extend(validation_messages(error, root))
    positions: list[PositionInput] | None = None
    if "document_positions" in payload:
        raw = as_list(payload.get("document_positions"), field=f"{root}.document_positions")
        not_positions = [i for i, item in enumerate(raw, start=1) if not isinstance(item, Mapping)]
        if not_positions:
            problems.extend(
                f"{root}.document_positions[{i}] must be a position (a set of fields)" for i in not_positions
            )
        else:
            try:
                positions = parse_positions(raw)
            except ValidationFailed as err:
                problems.extend(f"{root}.{message}" for message in err.messages)
    if problems:
        raise ValidationFailed(*problems)
    return normalize_changes(fields, positions)
