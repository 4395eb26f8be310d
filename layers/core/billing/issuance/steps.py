"""The Lambda steps of the issuance workflow (statemachines/issue_invoice.asl.json); one
IssuanceFunction runs them all, chosen by the task's `step` field:

    {"step": "load" | "store" | "email" | "publish" | "fail", "input": <the execution's state>}

The state starts as the execution input written by billing.store.issuance
(`{tenant_id, kind, document_id, version, pk, sk[, email]}`) and collects each step's result
(`document`, `pdf`, `email_result`, `error`). Results stay small: the state machine passes at
most 256 KB between states, so the PDF itself never travels in the state; the store step
renders and archives in one invocation and the e-mail step reads the archived object back.

Exactly once, per document version (the execution is named after it, so it runs once):

- store: the archive key is fixed per version and the put is conditional on absence
  (If-None-Match: *); a retried or repeated store reads back the object already there, so
  there is one object (one S3 version) and the document records its key and SHA-256.
- email: a conditional put of a marker item claims the sending before SES is called and records
  SES's message id after; a retried step finds the marker and does not send again. SES refusing
  the message or being unreachable releases the claim (nothing was sent); a lost answer keeps it
  (the message may have left) and the e-mail is not sent again: never twice, at the price of
  possibly never in that rare case (the step reports outcome "unknown" and logs it).
- publish: EventBridge and the merchant callback queue are at-least-once; the event carries
  `event_id` = the execution name and the callback a webhook id derived from it, so consumers
  de-duplicate a retried publish.
- every write on the document bumps `rev` and is conditioned on the issue version
  (billing.store.document_marks).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from typing import Any, Final

from aws_lambda_powertools import Logger
from pydantic import BaseModel, ConfigDict

from billing.config import settings
from billing.documents import delivery, mailer
from billing.documents.mailer import EmailRequest, MailNotSent
from billing.domain.documents import Document, DocumentKind
from billing.domain.errors import ValidationFailed
from billing.domain.states import DocumentState
from billing.issuance.errors import (
    IssuanceSuperseded,
    PermanentIssuanceError,
    TransientIssuanceError,
    classify,
)
from billing.store import document_marks as marks
from billing.store import files

logger = Logger()

EVENT_SOURCE: Final = "factura.documents"
ISSUED: Final = "document.issued"


class ArchivedPdf(BaseModel):
    model_config = ConfigDict(extra="ignore")

    key: str
    sha256: str
    size: int


class IssuanceState(BaseModel):
    """The execution's state as the steps read it."""

    model_config = ConfigDict(extra="ignore")

    tenant_id: int
    kind: DocumentKind
    document_id: int
    version: int
    email: EmailRequest | None = None
    pdf: ArchivedPdf | None = None
    email_result: dict[str, Any] | None = None
    error: dict[str, Any] | None = None

    @property
    def execution_name(self) -> str:
        return f"{self.kind.value}-{self.tenant_id}-{self.document_id}-v{self.version}"


def _document(state: IssuanceState) -> Document:
    from billing.store.documents import DOCUMENTS

    repository = DOCUMENTS[state.kind]
    item = repository.get_item(state.tenant_id, state.document_id)
    if item is None:
        raise IssuanceSuperseded(f"{state.kind.label} {state.document_id} no longer exists")
    doc = repository.from_item(item)
    if doc.issue_version != state.version:
        raise IssuanceSuperseded(
            f"{state.kind.label} {state.document_id} is at issue version {doc.issue_version}, "
            f"not {state.version}"
        )
    if doc.document_state is DocumentState.DRAFT:
        raise PermanentIssuanceError(f"{state.kind.label} {state.document_id} is a draft")
    return doc


# -- steps ---------------------------------------------------------------------------------


def load(state: IssuanceState) -> dict[str, Any]:
    """Check the document can be issued; a summary for the execution's history."""
    doc = _document(state)
    return {
        "number": doc.document_number,
        "document_state": doc.document_state.value,
        "archived": delivery.archived_key(state.tenant_id, state.kind, doc) is not None,
    }


def store(state: IssuanceState) -> dict[str, Any]:
    """Render the PDF and archive it (once) under the tenant's prefix; record key and SHA-256."""
    doc = _document(state)
    key = files.archive_key(state.tenant_id, state.kind.value, doc.id, state.version)
    if doc.pdf_key == key and doc.pdf_sha256:
        stored = files.existing(key)  # archived by an earlier attempt: nothing to render
    else:
        pdf = delivery.render(state.tenant_id, state.kind, doc)
        stored = files.put_once(
            key,
            pdf,
            {
                "tenant-id": str(state.tenant_id),
                "kind": state.kind.value,
                "document-id": str(doc.id),
                "issue-version": str(state.version),
            },
        )
    if not stored.sha256:
        raise PermanentIssuanceError(f"the archived object {key} has no sha256 metadata")
    marks.record_archive(
        state.tenant_id, state.kind.value, doc.id, state.version, key=key, sha256=stored.sha256
    )
    logger.info("archived", extra={"key": key, "new_object": stored.created, "size": stored.size})
    return {"key": key, "sha256": stored.sha256, "size": stored.size, "created": stored.created}


def _retrying(action: Callable[[], Any], what: str) -> None:
    """Bookkeeping after an e-mail left: a few quick tries, then a log (never an error: the
    e-mail is sent, and a failed step would only make its retry report 'unknown')."""
    for attempt in range(3):
        try:
            action()
            return
        except Exception:
            if attempt == 2:
                logger.exception(f"could not record {what}")
                return
            time.sleep(0.2 * (attempt + 1))


def email(state: IssuanceState) -> dict[str, Any]:
    """Send the archived PDF to the recipients the issuance was asked to e-mail (at most once)."""
    request = state.email
    if request is None:
        return {"outcome": "not_requested"}
    if state.pdf is None:
        raise PermanentIssuanceError("the e-mail step runs after the PDF is archived")
    doc = _document(state)
    pdf = files.read(state.pdf.key)
    if files.sha256_hex(pdf) != state.pdf.sha256:
        raise PermanentIssuanceError(f"the archived object {state.pdf.key} does not match its SHA-256")
    where = (state.tenant_id, state.kind.value, doc.id, state.version)
    marker = marks.claim_email(*where)
    if marker.claim is marks.Claim.SENT:
        return {"outcome": "already_sent", "message_id": marker.message_id}
    if marker.claim is marks.Claim.UNKNOWN:
        logger.warning(
            "an earlier attempt may have sent the e-mail; not sending again",
            extra={"execution": state.execution_name},
        )
        return {"outcome": "unknown"}
    try:
        message_id = mailer.send(state.kind, doc, pdf, request)
    except MailNotSent as exc:
        if not exc.maybe_sent:
            marks.release_email(*where)
        raise TransientIssuanceError("; ".join(exc.messages)) from exc
    except ValidationFailed as exc:  # SES refused the message: nothing was sent
        marks.release_email(*where)
        raise PermanentIssuanceError("; ".join(exc.messages)) from exc
    _retrying(lambda: marks.confirm_email(*where, message_id), "the sent e-mail's marker")
    _retrying(
        lambda: marks.set_flag(state.tenant_id, state.kind.value, doc.id, "flag_sent_by_email"),
        "flag_sent_by_email",
    )
    return {"outcome": "sent", "message_id": message_id, "recipients": len(request.destinations)}


def publish(state: IssuanceState) -> dict[str, Any]:
    """`document.issued` on the event bus, and to the merchant's webhook endpoints that
    subscribe to it. Published right before the completion write, so it presents the document
    as completed."""
    from billing.wire.views.documents import document as document_view

    doc = _document(state)
    pdf = state.pdf
    detail = {
        "event_id": state.execution_name,
        "tenant_id": state.tenant_id,
        "kind": state.kind.value,
        "document_id": doc.id,
        "document_number": doc.document_number,
        "issue_version": state.version,
        "document_state": doc.document_state.value,
        "currency": doc.currency,
        "total": str(doc.total),
        "pdf": pdf.model_dump() if pdf else None,
        "email": (state.email_result or {}).get("outcome", "not_requested"),
    }
    bus = settings().event_bus_name
    if not bus:
        raise PermanentIssuanceError("EVENT_BUS_NAME is not set")
    from billing.store.aws import client

    response = client("events").put_events(
        Entries=[
            {
                "Source": EVENT_SOURCE,
                "DetailType": ISSUED,
                "Detail": json.dumps(detail, separators=(",", ":")),
                "EventBusName": bus,
            }
        ]
    )
    if response.get("FailedEntryCount"):
        entry = response["Entries"][0]
        text = f"PutEvents: {entry.get('ErrorCode')}: {entry.get('ErrorMessage')}"
        transient = entry.get("ErrorCode") in ("ThrottlingException", "InternalFailure")
        raise TransientIssuanceError(text) if transient else PermanentIssuanceError(text)
    callbacks: list[str] = []
    if settings().callbacks_queue_url:
        from billing.payments.callbacks import enqueue_event

        shown = doc.model_copy(update={"issuance_status": marks.IssuanceStatus.COMPLETED.value})
        callbacks = enqueue_event(
            state.tenant_id,
            ISSUED,
            {state.kind.value: document_view(state.kind, shown)},
            event_id=state.execution_name,
        )
    return {"event_id": response["Entries"][0].get("EventId"), "callbacks": len(callbacks)}


def failure_reason(error: Mapping[str, Any] | None) -> str:
    """The reason kept on the document: the error name and the function's message, without
    the stack trace Lambda puts in the cause."""
    if not error:
        return "issuance failed"
    name = str(error.get("Error") or "Error")
    cause: Any = error.get("Cause") or ""
    message = cause
    if isinstance(cause, str) and cause.startswith("{"):
        try:
            parsed = json.loads(cause)
        except ValueError:
            parsed = None
        if isinstance(parsed, dict):
            message = parsed.get("errorMessage") or parsed.get("Message") or ""
    text = " ".join(str(message).split())
    return f"{name}: {text}" if text else name


def fail(state: IssuanceState) -> dict[str, Any]:
    """issuance_status failed, with the reason (unless the issuance completed meanwhile)."""
    reason = failure_reason(state.error)
    try:
        marks.fail_issuance(
            state.tenant_id, state.kind.value, state.document_id, state.version, reason=reason
        )
    except marks.Superseded:
        return {"recorded": False, "reason": reason}
    logger.warning("issuance failed", extra={"execution": state.execution_name, "reason": reason})
    return {"recorded": True, "reason": reason}


STEPS: Final[dict[str, Callable[[IssuanceState], dict[str, Any]]]] = {
    "load": load,
    "store": store,
    "email": email,
    "publish": publish,
    "fail": fail,
}


def run(event: Mapping[str, Any]) -> dict[str, Any]:
    """Run the step an event names. Whatever goes wrong leaves as an IssuanceError (see
    billing.issuance.errors), whose class name the state machine retries or catches."""
    step = STEPS.get(str(event.get("step")))
    if step is None:
        raise PermanentIssuanceError(f"unknown step {event.get('step')!r}; known: {', '.join(STEPS)}")
    try:
        state = IssuanceState.model_validate(event.get("input") or {})
        logger.append_keys(execution=state.execution_name, step=event.get("step"))
        return step(state)
    except Exception as exc:
        error = classify(exc)
        if error is exc:
            raise
        logger.warning("step failed", extra={"error": type(error).__name__, "reason": str(error)})
        raise error from exc
