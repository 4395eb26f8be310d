"""Payments of a tenant and the guards that make provider payments idempotent.

Items:

| item | PK | SK | notes |
|---|---|---|---|
| payment | `T#<t>#payment` | `<id>` | Records item (billing.domain.payments.Payment) |
| provider event guard | `T#<t>#payment_event` | `<provider_event_id>` | `payment_id`; at most one payment per provider event |

Search slots (billing.domain.payments.SEARCH_FIELDS): GSI1 payment_date, GSI2
proforma_invoice_id, GSI3 invoice_id, GSI4 description, GSI5 created_at, GSI6 updated_at.

Access patterns added: list payments (Query PK, O(page)); search by a §7.5.1 field (Query GSI n,
begins_with, O(page)); payments of one document (Query GSI3 `T#<t>#payment#invoice_id` /
GSI2 `…#proforma_invoice_id`, begins_with `<document id>#`: O(its payments)); a provider event's
payment (GetItem guard + GetItem payment, O(1)).

Writes are made by billing.payments.registration, each in ONE transaction with the document
the payment pays.
"""

from __future__ import annotations

from typing import Any, Final

from billing.domain.payments import SEARCH_FIELDS, Payment
from billing.store import keys
from billing.store.records import Records

PAYMENT_KIND: Final = "payment"
EVENT_GUARD_KIND: Final = "payment_event"
_PAGE: Final = 100

payments: Records[Payment] = Records(PAYMENT_KIND, Payment, searchable=tuple(SEARCH_FIELDS))


def payment_key(tenant_id: int, payment_id: int) -> dict[str, str]:
    return {"PK": keys.tenant_pk(tenant_id, PAYMENT_KIND), "SK": keys.record_sk(payment_id)}


def event_guard_key(tenant_id: int, provider_event_id: str) -> dict[str, str]:
    return {"PK": keys.tenant_pk(tenant_id, EVENT_GUARD_KIND), "SK": provider_event_id}


def event_guard(tenant_id: int, provider_event_id: str) -> dict[str, Any] | None:
    """The guard of a provider event (strongly consistent), or None when it was never registered."""
    key = event_guard_key(tenant_id, provider_event_id)
    return payments.table.get(key["PK"], key["SK"], consistent=True)


def payments_of(tenant_id: int, field: str, document_id: int) -> list[Payment]:
    """Every payment naming the document (`field`: invoice_id or proforma_invoice_id), oldest
    first by id within the slot's order (all pages: a document has few payments)."""
    found: list[Payment] = []
    cursor: str | None = None
    while True:
        page, cursor = payments.search(tenant_id, field, f"{document_id}#", limit=_PAGE, cursor=cursor)
        found.extend(page)
        if cursor is None:
            return found
