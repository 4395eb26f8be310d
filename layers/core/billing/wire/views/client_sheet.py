"""v1 representation of the client sheet (§7.7.2): the client's fields (as
billing.wire.views.clients shows them), then

    <invoices type="array"><invoice>… <payments type="array"><payment>…</payment></payments></invoice></invoices>
    <dues><due currency="EUR" amount="100.0"/><due currency="RON" amount="200.0"/></dues>
    <recurrent_jobs type="array"/>

Invoices are shown as GET /invoices/[id] shows them, each with its payments (billing.wire.views.
payments). `dues` is what the client owes on open invoices, per currency, as attributes like
the reference's example (JSON: a list of {"currency", "amount"} objects).

`recurrent_jobs` lists the client's active recurring invoices. Factura has no recurring
invoices yet, so the collection is always empty; when they exist, each `<recurrent_job/>`
carries, as attributes like the reference's example: id, recurrent_name, schedule_unit (d, w, m,
y), schedule_unit_count, price (per cycle), currency, payment_start_at, payment_end_at,
covered_until (all read-only).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from decimal import Decimal
from typing import Any, Final

from billing.domain.clients import Client
from billing.domain.documents import Document, DocumentKind
from billing.domain.payments import Payment
from billing.wire.views.clients import client
from billing.wire.views.documents import document
from billing.wire.views.payments import payment_view
from billing.wire.xml import XmlArray, XmlAttributes

ROOT: Final = "client"
RECURRENT_JOB_FIELDS: Final = (
    "id",
    "recurrent_name",
    "schedule_unit",
    "schedule_unit_count",
    "price",
    "currency",
    "payment_start_at",
    "payment_end_at",
    "covered_until",
)
"""The reference's fields of a recurrent job (none exist yet; see the module docstring)."""


def client_sheet(
    record: Client,
    invoices: Sequence[tuple[Document, Sequence[Payment]]],
    dues: Mapping[str, Decimal],
) -> dict[str, Any]:
    """`invoices`: a page of the client's invoices with their payments; `dues`: per currency."""
    data = client(record)
    data["invoices"] = XmlArray(
        [
            {
                **document(DocumentKind.INVOICE, invoice),
                "payments": XmlArray([payment_view(p) for p in invoice_payments], "payment"),
            }
            for invoice, invoice_payments in invoices
        ],
        "invoice",
    )
    data["dues"] = XmlArray(
        [XmlAttributes({"currency": currency, "amount": amount}) for currency, amount in dues.items()],
        "due",
        typed=False,
    )
    data["recurrent_jobs"] = XmlArray([], "recurrent_job")
    return data
