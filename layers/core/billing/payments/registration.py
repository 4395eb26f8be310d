"""Registering and deleting payments: the one place a payment is written, for the v1 API
(POST/DELETE /payments), for receipts (billing.store.documents calls
`receipt_payment_operations`) and for the payment processor (online payments).

Contract used by the payment processor (issue #5):

    register_payment(tenant_id, *, invoice_id, proforma_invoice_id, amount, currency,
                     payment_date, description, source="api", provider_event_id=None,
                     user_id=None) -> Payment

Rules (billing.domain.payments has the model and the conversion rule):

- the paid document (the invoice when invoice_id is given, else the proforma) must be a
  document of the tenant (unknown or another tenant's: 422 naming the field) and OPEN: a draft
  is not issued yet; a closed one is settled, so paying it again would be an overpayment; a
  cancelled one is void. All 422.
- amount > 0 with at most 2 decimals; its value in the document currency
  (amount_in_document_currency) must not exceed the document's total_due (422 "exceeds the
  amount due"): Factura does not keep client credit, so an overpayment is refused rather than
  recorded as a negative amount due. billing.domain.totals.apply_payment computes the new
  total_due.
- registering is ONE TransactWriteItems: Put payment (attribute_not_exists) + Put document
  conditioned on the `rev` read, with the lowered total_due (and state closed when it reaches 0)
  + the account totals item (billing.store.documents.totals_operation / open_total_delta: an open
  invoice's total_due counts in total_open) + the B2B bill index writes of the invoice
  (billing.store.bills.bill_operations) + for provider payments the event guard
  `T#<t>#payment_event` / <provider_event_id> (attribute_not_exists). A concurrent write of the
  document cancels the transaction; it is retried from a fresh read (backoff with jitter).
- idempotency per (tenant, provider_event_id): a repeat, sequential or concurrent, finds the
  guard and returns the payment registered the first time; concurrent repeats race on the
  guard's condition, so exactly one payment is written and total_due is lowered once. The guard
  outlives a deleted payment: a provider event is never registered twice, and a repeat of one
  whose payment the merchant deleted raises PaymentEventDeleted (a 422) instead.
- proformas are paid the same way: their total_due goes down and a fully paid proforma becomes
  closed (it is settled); proformas never count in the account totals, so no totals item.
- deleting a payment is ONE transaction too: Delete payment (conditioned on its rev) + Put
  document with total_due restored, reopened (closed -> open) when it was closed + totals item
  + bill index writes.
  A cancelled document stays cancelled. Payments are immutable: there is no modify; delete and
  register again.
- receipts (§7.4: proof of a cash payment): a receipt for an invoice registers the payment of
  its `amount` (the receipt amount in the invoice's currency, as the receipt shows it) on the
  invoice when the receipt is issued (created open, or draft -> open), in the receipt's own
  transaction; the payment has the receipt's id, source "receipt" and receipt_id. Cancelling the
  issued receipt deletes that payment in the same transaction (total_due restored, invoice
  reopened). Such a payment cannot be deleted through /payments (cancel the receipt). A draft
  receipt registers nothing; a receipt without invoice_id pays nothing.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Any, Final

from billing.domain.documents import Document, DocumentKind
from billing.domain.errors import Conflict, NotFound, ValidationFailed
from billing.domain.ids import new_id
from billing.domain.money import parse_decimal
from billing.domain.payments import (
    ROOT,
    Payment,
    PaymentSource,
    amount_in_document_currency,
    check_amount,
    check_description,
    check_provider_event_id,
)
from billing.domain.records import utc_now
from billing.domain.reference_data import Currency, known_currency
from billing.domain.states import DocumentState, check_transition
from billing.domain.totals import apply_payment
from billing.store.bills import bill_operations
from billing.store.documents import DOCUMENTS, open_total_delta, totals_operation
from billing.store.payments import event_guard, event_guard_key, payment_key, payments
from billing.store.series import backoff
from billing.store.table import ConditionFailed

Operation = Mapping[str, Any]

MAX_ATTEMPTS: Final = 20
PUBLIC_SOURCES: Final = (PaymentSource.API, PaymentSource.ONLINE)


class PaymentEventDeleted(ValidationFailed):
    """A provider event repeated after the payment it registered was deleted by the merchant."""


@dataclass(frozen=True)
class Registration:
    """What `register` did: the payment, and whether this call wrote it (False: a repeat of a
    provider event returned the payment registered the first time)."""

    payment: Payment
    created: bool


# ------------------------------------------------------------------------------ registering


def register_payment(
    tenant_id: int,
    *,
    invoice_id: int | None,
    proforma_invoice_id: int | None,
    amount: Decimal,
    currency: str | int,
    payment_date: date,
    description: str,
    source: str = "api",
    provider_event_id: str | None = None,
    user_id: int | None = None,
) -> Payment:
    """Register a payment (see the module docstring); idempotent per provider_event_id.
    Raises ValidationFailed (422) for every refusal, naming the `payment.<field>`,
    PaymentEventDeleted for a repeated event whose payment was deleted, Conflict when the
    document stays busy through every retry."""
    return register(
        tenant_id,
        invoice_id=invoice_id,
        proforma_invoice_id=proforma_invoice_id,
        amount=amount,
        currency=currency,
        payment_date=payment_date,
        description=description,
        source=source,
        provider_event_id=provider_event_id,
        user_id=user_id,
    ).payment


def register(
    tenant_id: int,
    *,
    invoice_id: int | None,
    proforma_invoice_id: int | None,
    amount: Decimal | None,
    currency: str | int | None,
    payment_date: date | None,
    description: str = "",
    source: str = "api",
    provider_event_id: str | None = None,
    user_id: int | None = None,
) -> Registration:
    """`register_payment`, telling a new payment from a repeat; `currency` None means the paid
    document's currency (the v1 API's default), and missing fields are reported as 422s."""
    payment_currency, checked_amount = _check_input(
        amount,
        currency,
        payment_date,
        description,
        source,
        provider_event_id,
        invoice_id,
        proforma_invoice_id,
    )
    kind, paid_id = _paid_target(invoice_id, proforma_invoice_id)
    assert payment_date is not None  # checked
    for attempt in range(MAX_ATTEMPTS):
        if provider_event_id is not None:
            existing = registered_payment(tenant_id, provider_event_id)
            if existing is not None:
                return Registration(existing, created=False)
        document, rev = _read_target(tenant_id, kind, paid_id, invoice_id, proforma_invoice_id)
        currency_id = payment_currency.id if payment_currency else document.currency_id
        in_document = amount_in_document_currency(
            checked_amount,
            payment_currency.iso_name if payment_currency else document.currency,
            document.currency,
            document.exchange_rate,
            home_currency=document.home_currency,
            field=f"{ROOT}.currency_id",
        )
        payment = Payment(
            id=new_id(),
            amount=checked_amount,
            currency_id=currency_id,
            payment_date=payment_date,
            description=description.strip(),
            invoice_id=invoice_id,
            proforma_invoice_id=proforma_invoice_id,
            amount_in_document_currency=in_document,
            source=PaymentSource(source),
            provider_event_id=provider_event_id,
            user_id=user_id,
        )
        operations = [
            _put_payment(tenant_id, payment),
            *_settle(tenant_id, kind, document, rev, payment, root=ROOT, amount_field="amount"),
        ]
        if provider_event_id is not None:
            operations.append(_guard(tenant_id, provider_event_id, payment.id))
        try:
            payments.table.transact(operations)
            return Registration(payment, created=True)
        except ConditionFailed:
            backoff(attempt)  # the document changed, the event was registered meanwhile, or an id collided
    raise Conflict(f"{kind.label} {paid_id} is busy: the payment could not be registered; retry")


def registered_payment(tenant_id: int, provider_event_id: str) -> Payment | None:
    """The payment registered for a provider event, None when the event was never registered.
    Raises PaymentEventDeleted when that payment has since been deleted."""
    guard = event_guard(tenant_id, provider_event_id)
    if guard is None:
        return None
    payment_id = int(guard["payment_id"])
    item = payments.get_item(tenant_id, payment_id)
    if item is None:
        raise PaymentEventDeleted(
            f"{ROOT}.provider_event_id: provider event {provider_event_id} was registered as payment "
            f"{payment_id}, which has since been deleted; it is not registered again"
        )
    return payments.from_item(item)


def _paid_target(invoice_id: int | None, proforma_invoice_id: int | None) -> tuple[DocumentKind, int]:
    """Which document a payment pays: the invoice when named, else the proforma."""
    if invoice_id is not None:
        return DocumentKind.INVOICE, invoice_id
    assert proforma_invoice_id is not None  # checked by _check_input
    return DocumentKind.PROFORMA_INVOICE, proforma_invoice_id


def _check_input(
    amount: Decimal | None,
    currency: str | int | None,
    payment_date: date | None,
    description: str,
    source: str,
    provider_event_id: str | None,
    invoice_id: int | None,
    proforma_invoice_id: int | None,
) -> tuple[Currency | None, Decimal]:
    """Everything that can be checked without reading a record; all problems in one 422."""
    problems: list[str] = []
    checked = Decimal(0)
    try:
        number = None if amount is None else parse_decimal(amount, f"{ROOT}.amount")
        checked = check_amount(number, f"{ROOT}.amount")
    except ValidationFailed as err:
        problems.extend(err.messages)
    payment_currency = None
    if currency is not None:
        try:
            payment_currency = known_currency(currency, f"{ROOT}.currency_id")
        except ValidationFailed as err:
            problems.extend(err.messages)
    if payment_date is None:
        problems.append(f"{ROOT}.payment_date is required")
    elif not isinstance(payment_date, date) or isinstance(payment_date, datetime):
        problems.append(f"{ROOT}.payment_date must be a date")
    try:
        check_description(description, f"{ROOT}.description")
    except ValidationFailed as err:
        problems.extend(err.messages)
    if source not in PUBLIC_SOURCES:
        problems.append(f"source must be one of: {', '.join(PUBLIC_SOURCES)}")
    try:
        check_provider_event_id(provider_event_id)
    except ValidationFailed as err:
        problems.extend(err.messages)
    if invoice_id is None and proforma_invoice_id is None:
        problems.append(
            f"{ROOT}.invoice_id or {ROOT}.proforma_invoice_id is required: a payment pays an invoice "
            "or a proforma invoice"
        )
    for name, value in (("invoice_id", invoice_id), ("proforma_invoice_id", proforma_invoice_id)):
        if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
            problems.append(f"{ROOT}.{name} must be a record id (a whole number)")
    if problems:
        raise ValidationFailed(*problems)
    return payment_currency, checked


def _read_target(
    tenant_id: int,
    kind: DocumentKind,
    paid_id: int,
    invoice_id: int | None,
    proforma_invoice_id: int | None,
) -> tuple[Document, int]:
    """The paid document and its rev; every named document must exist in the tenant."""
    problems: list[str] = []
    found: dict[DocumentKind, tuple[Document, int]] = {}
    for name, document_kind, document_id in (
        ("invoice_id", DocumentKind.INVOICE, invoice_id),
        ("proforma_invoice_id", DocumentKind.PROFORMA_INVOICE, proforma_invoice_id),
    ):
        if document_id is None:
            continue
        read = _read_document(tenant_id, document_kind, document_id)
        if read is None:
            problems.append(f"{ROOT}.{name}: there is no {document_kind.label} {document_id}")
        else:
            found[document_kind] = read
    if problems:
        raise ValidationFailed(*problems)
    return found[kind]


def _read_document(tenant_id: int, kind: DocumentKind, document_id: int) -> tuple[Document, int] | None:
    records = DOCUMENTS[kind]
    item = records.get_item(tenant_id, document_id)
    if item is None:
        return None
    return records.from_item(item), int(item.get("rev", 0))


# ------------------------------------------------------------------------------- operations


def _put_payment(tenant_id: int, payment: Payment) -> Operation:
    return {
        "Put": {
            "Item": payments.to_item(tenant_id, payment, rev=1),
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }


def _guard(tenant_id: int, provider_event_id: str, payment_id: int) -> Operation:
    return {
        "Put": {
            "Item": {
                **event_guard_key(tenant_id, provider_event_id),
                "payment_id": payment_id,
                "created_at": utc_now(),
            },
            "ConditionExpression": "attribute_not_exists(PK)",
        }
    }


def _document_field(kind: DocumentKind) -> str:
    return "invoice_id" if kind is DocumentKind.INVOICE else "proforma_invoice_id"


def _settle(
    tenant_id: int,
    kind: DocumentKind,
    document: Document,
    rev: int,
    payment: Payment,
    *,
    root: str,
    amount_field: str,
) -> list[Operation]:
    """The document writes of a payment: total_due lowered (closed at 0) + account totals.
    Refusals name `root.<field>`."""
    label = f"{kind.label} {document.id}"
    field = f"{root}.{_document_field(kind)}"
    state = document.document_state
    if state is DocumentState.DRAFT:
        raise ValidationFailed(
            f"{field}: {label} is a draft; issue it (mark_open) before registering a payment"
        )
    if state is DocumentState.CLOSED:
        raise ValidationFailed(
            f"{field}: {label} is closed (settled); a further payment would be an overpayment"
        )
    if state is DocumentState.CANCELLED:
        raise ValidationFailed(f"{field}: {label} is cancelled; a cancelled document cannot be paid")
    paid = payment.amount_in_document_currency
    currency = document.currency
    if paid <= 0:
        raise ValidationFailed(
            f"{root}.{amount_field}: {payment.amount} {payment.currency} is {paid} {currency} at the "
            f"{label}'s exchange rate; a payment must be worth at least 0.01 {currency}"
        )
    if paid > document.total_due:
        converted = (
            "" if payment.currency_id == document.currency_id else f" ({payment.amount} {payment.currency})"
        )
        raise ValidationFailed(
            f"{root}.{amount_field}: {paid} {currency}{converted} exceeds the amount due on {label} "
            f"({document.total_due} {currency}); a payment cannot be larger than what is due"
        )
    total_due = apply_payment(document.total_due, paid)
    return _rewrite(tenant_id, kind, document, rev, total_due)


def _unsettle(
    tenant_id: int, kind: DocumentKind, document: Document, rev: int, payment: Payment
) -> list[Operation]:
    """The document writes of deleting a payment: total_due restored (reopened when closed)."""
    total_due = document.total_due + payment.amount_in_document_currency
    return _rewrite(tenant_id, kind, document, rev, total_due)


def _rewrite(
    tenant_id: int, kind: DocumentKind, document: Document, rev: int, total_due: Decimal
) -> list[Operation]:
    state = document.document_state
    target = state
    if state is DocumentState.OPEN and total_due == 0:
        target = DocumentState.CLOSED
    elif state is DocumentState.CLOSED and total_due > 0:
        target = DocumentState.OPEN
    if target is not state:
        check_transition(state, target, f"{kind.label} {document.id}")
    updated = document.model_copy(
        update={"total_due": total_due, "document_state": target, "updated_at": utc_now()}
    )
    records = DOCUMENTS[kind]
    operations: list[Operation] = [
        {
            "Put": {
                "Item": records.to_item(tenant_id, updated, rev=rev + 1),
                "ConditionExpression": "rev = :rev",
                "ExpressionAttributeValues": {":rev": rev},
            }
        }
    ]
    totals = totals_operation(tenant_id, open_total_delta(kind, document, updated))
    if totals is not None:
        operations.append(totals)
    operations.extend(bill_operations(tenant_id, kind, document, updated))  # the B2B bill index
    return operations


# --------------------------------------------------------------------------------- deleting


def delete_payment(tenant_id: int, payment_id: int) -> Payment:
    """Delete a payment and give its amount back to the document (see the module docstring)."""
    for attempt in range(MAX_ATTEMPTS):
        item = payments.get_item(tenant_id, payment_id)
        if item is None:
            raise NotFound(f"payment {payment_id} not found")
        payment = payments.from_item(item)
        if payment.source is PaymentSource.RECEIPT:
            raise ValidationFailed(
                f"payment {payment_id} was registered by receipt {payment.receipt_id}; cancel the receipt "
                f"(PUT /api/v1/receipts/{payment.receipt_id}/mark_cancelled.xml) to take the payment back"
            )
        try:
            payments.table.transact(_removal(tenant_id, payment, int(item.get("rev", 0))))
            return payment
        except ConditionFailed:
            backoff(attempt)
    raise Conflict(f"payment {payment_id} could not be deleted: its document is busy; retry")


def _removal(tenant_id: int, payment: Payment, rev: int) -> list[Operation]:
    operations: list[Operation] = [
        {
            "Delete": {
                "Key": payment_key(tenant_id, payment.id),
                "ConditionExpression": "rev = :rev",
                "ExpressionAttributeValues": {":rev": rev},
            }
        }
    ]
    kind = DocumentKind(payment.paid_kind)
    read = _read_document(tenant_id, kind, payment.paid_document_id)
    if read is not None:  # paid documents are issued and so never deleted; be safe anyway
        document, document_rev = read
        operations += _unsettle(tenant_id, kind, document, document_rev, payment)
    return operations


# --------------------------------------------------------------------------------- receipts


def receipt_payment_operations(tenant_id: int, before: Document | None, after: Document) -> list[Operation]:
    """The payment writes that go in the transaction of a receipt written from `before` (None:
    created) to `after`: registered when the receipt becomes issued, deleted when an issued
    receipt is cancelled (see the module docstring)."""
    if after.invoice_id is None:
        return []
    was_issued = before is not None and before.document_state.issued
    if not was_issued and after.document_state.issued:
        return _receipt_registration(tenant_id, after)
    if was_issued and after.document_state is DocumentState.CANCELLED:
        item = payments.get_item(tenant_id, after.id)
        if item is None:
            return []
        payment = payments.from_item(item)
        if payment.source is not PaymentSource.RECEIPT or payment.receipt_id != after.id:
            return []
        return _removal(tenant_id, payment, int(item.get("rev", 0)))
    return []


def _receipt_registration(tenant_id: int, receipt: Document) -> list[Operation]:
    invoice_id = receipt.invoice_id
    assert invoice_id is not None
    read = _read_document(tenant_id, DocumentKind.INVOICE, invoice_id)
    if read is None:
        raise ValidationFailed(f"receipt.invoice_id: there is no invoice {invoice_id}")
    invoice, rev = read
    received = receipt.receipt_amount if receipt.receipt_amount is not None else receipt.total
    payment = Payment(
        id=receipt.id,
        amount=received,
        currency_id=receipt.currency_id,
        payment_date=receipt.document_date,
        description=f"Receipt {receipt.document_number}".strip(),
        invoice_id=invoice_id,
        amount_in_document_currency=receipt.amount if receipt.amount is not None else received,
        source=PaymentSource.RECEIPT,
        user_id=receipt.user_id,
        receipt_id=receipt.id,
    )
    return [
        _put_payment(tenant_id, payment),
        *_settle(
            tenant_id,
            DocumentKind.INVOICE,
            invoice,
            rev,
            payment,
            root="receipt",
            amount_field="receipt_amount",
        ),
    ]
