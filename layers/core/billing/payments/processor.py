"""The payment processor: one PaymentEventsQueue message (a verified, normalized provider
payment, `billing.payments.providers.PaymentEvent`) becomes one registered payment and the
merchant's callbacks.

For each event:

1. claim it (`billing.store.provider_events`): the same event delivered again, one delivery
   after another or at the same moment, is answered from the claim (`duplicate`,
   `in_progress`) and does nothing;
2. find the paid document in the tenant: `invoice_id`, `proforma_invoice_id`, or the share code
   (`hashcode`) of an invoice or proforma;
3. `register_payment(..., source="online", provider_event_id="<provider>:<event id>")` in the
   currency the provider reports. register_payment counts it in the document's currency: as
   sent when the currencies are the same, else converted with the document's exchange rate when
   one of the two is the account currency; any other currency is refused (no guessed rates);
4. queue `payment.online_registered` and `payment.registered` callbacks (the document and the
   payment as the v1 JSON shows them), with the payment id as the event id, so a retried
   message gives the merchant the same webhook ids;
5. mark the event done.

Failures:

- permanent (the document does not exist or is cancelled, the currency cannot be counted,
  register_payment refuses the payment with a 422, an unreadable message): retrying cannot
  help, so the event is marked `failed` with the reason, logged, sent to the PaymentEventsDLQ
  at once (message attribute `reason`; the DLQ alarm fires) and the record is reported done.
  An operator who fixed the cause (reopened the invoice, …) redrives the DLQ: the claim of a
  failed event can be taken again.
- anything else (throttling, a conflict with a concurrent write, SQS down): the claim is given
  back and the exception propagates; the batch reports the record failed, SQS delivers it
  again after the queue's visibility timeout and, after maxReceiveCount (5) receives, moves
  it to the PaymentEventsDLQ.

Receipts are not issued for online payments: a receipt (§7.4) documents cash received by the
issuing person, and the provider's record is the evidence of an online payment. A tenant
setting that issues one per online payment can be added later here, after step 3."""

from __future__ import annotations

import time
from datetime import UTC
from enum import StrEnum
from typing import Final

from aws_lambda_powertools import Logger
from pydantic import ValidationError

from billing.domain.documents import Document, DocumentKind
from billing.domain.errors import Conflict, NotFound, ValidationFailed
from billing.domain.payments import Payment
from billing.domain.states import DocumentState
from billing.payments.callbacks import enqueue_event, payment_callback_data
from billing.payments.config import webhook_settings
from billing.payments.providers import PaymentEvent
from billing.store.aws import client
from billing.store.provider_events import DONE, ProviderEvents, provider_events

logger = Logger()

LEASE_SECONDS: Final = 120
"""How long a claim keeps other deliveries of the event away: longer than the processor's
timeout (30 s), shorter than the queue's visibility timeout (180 s), so a redelivery after a
crash finds the lease run out."""
CALLBACK_EVENTS: Final = ("payment.online_registered", "payment.registered")


class Outcome(StrEnum):
    REGISTERED = "registered"
    DUPLICATE = "duplicate"
    """Already registered (and its callbacks queued) by an earlier delivery."""
    IN_PROGRESS = "in_progress"
    """Another delivery is working on it right now (its own message guarantees completion)."""
    FAILED = "failed"
    """Permanently refused: recorded and dead-lettered."""


class PermanentFailure(Exception):
    """The event can never be registered as it is."""


def description(event: PaymentEvent) -> str:
    return f"Online payment ({event.provider.label} {event.event_id})"


class PaymentProcessor:
    def __init__(self, *, ledger: ProviderEvents | None = None, lease_seconds: int = LEASE_SECONDS) -> None:
        self.ledger = ledger or provider_events
        self.lease_seconds = lease_seconds

    def process_message(self, body: str, *, now: float | None = None) -> Outcome:
        try:
            event = PaymentEvent.model_validate_json(body)
        except ValidationError as error:
            reason = f"not a payment event message: {error.errors(include_url=False)[:3]}"
            logger.error("payment event refused", reason=reason)
            self.dead_letter(body, reason)
            return Outcome.FAILED
        return self.process(event, now=now)

    def process(self, event: PaymentEvent, *, now: float | None = None) -> Outcome:
        at = time.time() if now is None else now
        tenant_id, key, body = event.tenant_id, event.provider_event_id, event.to_body()
        if not self.ledger.claim(tenant_id, key, event=body, now=at, lease_seconds=self.lease_seconds):
            state = self.ledger.get(tenant_id, key) or {}
            outcome = Outcome.DUPLICATE if state.get("event_state") == DONE else Outcome.IN_PROGRESS
            logger.info(
                "payment event already handled",
                outcome=outcome.value,
                tenant_id=tenant_id,
                provider_event_id=key,
            )
            return outcome
        try:
            kind, document = self.paid_document(event)
            payment = self.register(event, kind, document)
        except (PermanentFailure, NotFound, ValidationFailed) as error:
            if isinstance(error, Conflict):  # a concurrent write: worth another try
                self.ledger.release(tenant_id, key, event=body, now=at)
                raise
            reason = (
                "; ".join(error.messages) if isinstance(error, ValidationFailed | NotFound) else str(error)
            )
            logger.warning(
                "payment event cannot be registered",
                reason=reason,
                tenant_id=tenant_id,
                provider_event_id=key,
            )
            self.ledger.fail(tenant_id, key, reason=reason, event=body, now=at)
            self.dead_letter(body, reason)
            return Outcome.FAILED
        except Exception:
            self.ledger.release(tenant_id, key, event=body, now=at)
            raise
        try:
            self.queue_callbacks(tenant_id, kind, document.id, payment)
        except Exception:
            self.ledger.release(tenant_id, key, event=body, now=at)
            raise
        self.ledger.done(tenant_id, key, payment_id=payment.id, event=body, now=at)
        logger.info(
            "online payment registered", payment_id=payment.id, tenant_id=tenant_id, provider_event_id=key
        )
        return Outcome.REGISTERED

    # -- steps -------------------------------------------------------------------------------

    def paid_document(self, event: PaymentEvent) -> tuple[DocumentKind, Document]:
        from billing.store.documents import DOCUMENTS, find_by_hashcode

        if event.hashcode is not None:
            found = find_by_hashcode(event.hashcode)
            if (
                found is None
                or found[1] != event.tenant_id
                or found[0] not in (DocumentKind.INVOICE, DocumentKind.PROFORMA_INVOICE)
            ):
                raise PermanentFailure(f"no invoice or proforma invoice has the share code {event.hashcode}")
            kind, document = found[0], found[2]
        elif event.invoice_id is not None:
            kind, document = (
                DocumentKind.INVOICE,
                DOCUMENTS[DocumentKind.INVOICE].get(event.tenant_id, event.invoice_id),
            )
        elif event.proforma_invoice_id is not None:
            kind = DocumentKind.PROFORMA_INVOICE
            document = DOCUMENTS[kind].get(event.tenant_id, event.proforma_invoice_id)
        else:
            raise PermanentFailure("the event names no document")
        if document.document_state is DocumentState.CANCELLED:
            raise PermanentFailure(f"{kind.label} {document.id} is cancelled")
        return kind, document

    def register(self, event: PaymentEvent, kind: DocumentKind, document: Document) -> Payment:
        from billing.payments.registration import register_payment

        return register_payment(
            event.tenant_id,
            invoice_id=document.id if kind is DocumentKind.INVOICE else None,
            proforma_invoice_id=document.id if kind is DocumentKind.PROFORMA_INVOICE else None,
            amount=event.amount,
            currency=event.currency,
            payment_date=event.paid_at.astimezone(UTC).date(),
            description=description(event),
            source="online",
            provider_event_id=event.provider_event_id,
        )

    def queue_callbacks(self, tenant_id: int, kind: DocumentKind, document_id: int, payment: Payment) -> None:
        """§8's callback (`payment.online_registered`) and the generic `payment.registered`, with
        the document as it is now (total_due lowered, closed when fully paid)."""
        from billing.store.documents import DOCUMENTS
        from billing.wire.views.documents import document as document_view
        from billing.wire.views.payments import payment_view

        document = DOCUMENTS[kind].get(tenant_id, document_id)
        data = payment_callback_data(document_view(kind, document), payment_view(payment))
        for event_type in CALLBACK_EVENTS:
            enqueue_event(tenant_id, event_type, data, event_id=str(payment.id))

    def dead_letter(self, body: str, reason: str) -> None:
        url = webhook_settings().payment_events_dlq_url
        if not url:
            logger.error("PAYMENT_EVENTS_DLQ_URL is not set; the failed event is only logged", reason=reason)
            return
        client("sqs").send_message(
            QueueUrl=url,
            MessageBody=body,
            MessageAttributes={"reason": {"DataType": "String", "StringValue": reason[:1000] or "unknown"}},
        )


processor = PaymentProcessor()
