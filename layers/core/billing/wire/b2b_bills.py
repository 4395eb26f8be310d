"""Bills in the B2B Billing API's JSON shape (`billing.domain.b2b_schema.BILL_FIELDS`).

A bill is an issued invoice of the merchant (`billing.domain.documents.Document` of kind
invoice): open, closed or cancelled, once it has been issued (`issue_version` >= 1). Drafts are
never bills, and neither is a draft cancelled without ever being issued (it was never sent).
A reversal invoice (`reversed_document_id` set) is a credit note.

| field                     | from                                                              |
|---------------------------|-------------------------------------------------------------------|
| id                        | the invoice id, as a string                                       |
| number                    | document_number (the printed number, e.g. "FCT-0012")             |
| type                      | "creditNote" when reversed_document_id is set, else "invoice"     |
| state                     | document_state: open, closed or cancelled                         |
| sendingFormat             | "email" when flag_sent_by_email is set, else "paper" (Factura has |
|                           | no e-invoicing channel yet, so "eInvoicing" does not occur)       |
| customer.id, .name        | client_id and the client's name as printed on the invoice         |
| customer.segment          | "company" / "individual" (client_is_company), as billing accounts |
| billingAccount.id, .name  | the same client: a Factura client is one customer and one account |
| currency.id               | the invoice currency, ISO 4217 ("EUR")                            |
| amounts.totalExcludingTax | total_without_vat                                                 |
| amounts.totalTax          | total_vat                                                         |
| amounts.totalIncludingTax | total                                                             |
| amounts.due               | total_due (what is still to be paid)                              |
| billDate                  | document_date, "YYYY-MM-DD"                                       |
| dueDate                   | due_date, "YYYY-MM-DD"; null when the invoice has no due date     |
| createdAt, updatedAt      | UTC with milliseconds, "2018-06-20T06:43:32.092Z"                 |

Amounts are JSON strings with exactly two decimals ("119.00", "-23.80" on a credit note): a
string keeps money exact through every JSON parser (a JavaScript client would read the number
0.1 + 0.2 wrong), and the query language reads numeric strings as decimals, so
`{"amounts.due": {"$gt": 0}}` and `sort=-amounts.totalIncludingTax` compare numerically.
"""

from __future__ import annotations

from decimal import Decimal
from typing import Any, Final

from billing.domain.documents import Document, DocumentKind
from billing.domain.states import DocumentState
from billing.wire.b2b import COMPANY, INDIVIDUAL, timestamp

INVOICE: Final = "invoice"
CREDIT_NOTE: Final = "creditNote"
PAPER: Final = "paper"
EMAIL: Final = "email"
_CENT: Final = Decimal("0.01")


def is_bill(kind: DocumentKind, document: Document) -> bool:
    return (
        kind is DocumentKind.INVOICE
        and document.document_state is not DocumentState.DRAFT
        and document.issue_version >= 1
    )


def bill_type(document: Document) -> str:
    return CREDIT_NOTE if document.reversed_document_id is not None else INVOICE


def sending_format(document: Document) -> str:
    return EMAIL if document.flag_sent_by_email else PAPER


def money(amount: Decimal) -> str:
    return str(amount.quantize(_CENT))


def bill(document: Document) -> dict[str, Any]:
    """The bill's JSON representation (the caller checks `is_bill` first)."""
    customer_id = str(document.client_id)
    return {
        "id": str(document.id),
        "number": document.document_number,
        "type": bill_type(document),
        "state": document.document_state.value,
        "sendingFormat": sending_format(document),
        "customer": {
            "id": customer_id,
            "name": document.client_name,
            "segment": COMPANY if document.client_is_company else INDIVIDUAL,
        },
        "billingAccount": {"id": customer_id, "name": document.client_name},
        "currency": {"id": document.currency},
        "amounts": {
            "totalExcludingTax": money(document.total_without_vat),
            "totalTax": money(document.total_vat),
            "totalIncludingTax": money(document.total),
            "due": money(document.total_due),
        },
        "billDate": document.document_date.isoformat(),
        "dueDate": document.due_date.isoformat() if document.due_date is not None else None,
        "createdAt": timestamp(document.created_at),
        "updatedAt": timestamp(document.updated_at),
    }
