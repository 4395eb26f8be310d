"""Document states (reference §7.1.9) and what may change in each: a pure, table-driven state
machine shared by invoices, proforma invoices, notices and receipts.

States: draft, open, closed, cancelled. A document is created as a draft (or directly open,
when the create request says `document_state=open`); afterwards the state changes only through
`PUT …/[id]/mark_<state>.xml`, never through a field of a modify request.

Transitions (anything not listed is refused with a 422 that says why):

    from \\ to   draft      open                 closed      cancelled
    draft        (same)     issue                -           cancel a numbered draft
    open         -          (same)               close/paid  cancel
    closed       -          reopen (e.g. a       (same)      -  (reopen first)
                            payment deleted)
    cancelled    -          -                    -           (same)

- draft -> open issues the document: from then on it is a legal document, starts the issuance
  workflow, and (for invoices) counts in the account's total_open.
- draft -> cancelled is allowed because drafts already hold their number: a draft that will
  never be issued is cancelled so the series stays gap-free (deleting it is allowed only when
  that leaves no gap, see billing.store.documents).
- open -> draft is refused: an issued document is corrected by cancelling it or by a reversal
  invoice, never by editing it back into a draft.
- closed -> cancelled is refused: a settled document must be reopened first (which undoes its
  settlement), so a paid invoice is never cancelled by accident.
- cancelled is final.
- Asking for the state a document is already in is a no-op (PUT is idempotent); mark_open on an
  open document re-sends the issuance start, which runs at most once per document version.

What a modify request may change, by state:

- draft: every writable field;
- open / closed (issued): presentation and bookkeeping fields only (ISSUED_EDITABLE: flags,
  notes, annotations, payment terms and late fees, shipping and delivery data, language) and
  the re-takes update_client_data / update_account_data / update_user_data, which the
  reference describes precisely for changes "since the date of the invoice issue". Anything
  that changes what is owed (client, currencies, positions, VAT type, dates, number, reversal,
  receipt amounts) is refused: cancel the document or issue a reversal instead;
- cancelled: flags and the note only.
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import StrEnum
from typing import Final

from billing.domain.errors import ValidationFailed


class DocumentState(StrEnum):
    DRAFT = "draft"
    OPEN = "open"
    CLOSED = "closed"
    CANCELLED = "cancelled"

    @property
    def issued(self) -> bool:
        """Open and closed documents are issued: legally out, financially frozen."""
        return self in (DocumentState.OPEN, DocumentState.CLOSED)


_D, _O, _C, _X = DocumentState.DRAFT, DocumentState.OPEN, DocumentState.CLOSED, DocumentState.CANCELLED

TRANSITIONS: Final[dict[tuple[DocumentState, DocumentState], str]] = {
    (_D, _O): "issue",
    (_D, _X): "cancel draft",
    (_O, _C): "close",
    (_O, _X): "cancel",
    (_C, _O): "reopen",
}
"""Allowed changes of state, with what each one means."""

_REFUSALS: Final[dict[tuple[DocumentState, DocumentState], str]] = {
    (_D, _C): "a draft must be issued (mark_open) before it can be closed",
    (_O, _D): "an issued document cannot go back to draft; cancel it (mark_cancelled) or issue a reversal",
    (_C, _D): "an issued document cannot go back to draft; issue a reversal instead",
    (_C, _X): "a closed document cannot be cancelled; reopen it first (mark_open)",
    (_X, _D): "a cancelled document is final",
    (_X, _O): "a cancelled document is final",
    (_X, _C): "a cancelled document is final",
}

ACTIONS: Final[dict[str, DocumentState]] = {f"mark_{state.value}": state for state in DocumentState}
"""URL action -> target state (`mark_open` -> open)."""

CREATE_STATES: Final = (DocumentState.DRAFT, DocumentState.OPEN)
"""States a document may be created in."""

FLAG_FIELDS: Final = frozenset(
    {
        "flag_downloaded_pdf",
        "flag_filed",
        "flag_sent_by_email",
        "flag_sent_by_fax",
        "flag_sent_by_postal_mail",
    }
)
RETAKE_FIELDS: Final = frozenset({"update_account_data", "update_client_data", "update_user_data"})
CANCELLED_EDITABLE: Final = FLAG_FIELDS | {"note"}
ISSUED_EDITABLE: Final = (
    CANCELLED_EDITABLE
    | RETAKE_FIELDS
    | {
        "lower_annotation",
        "upper_annotation",
        "due_days",
        "late_fees_cycle",
        "late_fees_percentage",
        "locale",
        "hide_domestic_translations",
        "display_transport_data",
        "delegate_id",
        "expedition_time",
        "means_of_transport",
        "means_of_transport_number",
        "delivery_date",
        "advance_date",
        "notice_date",
        "notice_number",
        "branch_office_id",
    }
)


def is_allowed(current: DocumentState, target: DocumentState) -> bool:
    return current == target or (current, target) in TRANSITIONS


def check_transition(current: DocumentState, target: DocumentState, label: str) -> bool:
    """Whether the transition changes anything (False: already in `target`, a no-op).
    Refused transitions raise ValidationFailed saying why; `label` names the document."""
    if current == target:
        return False
    if (current, target) in TRANSITIONS:
        return True
    reason = _REFUSALS.get((current, target), "this change of state is not allowed")
    raise ValidationFailed(f"{label} is {current.value} and cannot become {target.value}: {reason}")


def editable_fields(state: DocumentState) -> frozenset[str] | None:
    """Fields a modify request may send in `state`; None means all of them."""
    if state is DocumentState.DRAFT:
        return None
    if state is DocumentState.CANCELLED:
        return CANCELLED_EDITABLE
    return ISSUED_EDITABLE


def check_modification(state: DocumentState, fields: Iterable[str], label: str, root: str) -> None:
    """Refuse, naming each field, changes the document's state does not allow."""
    allowed = editable_fields(state)
    if allowed is None:
        return
    refused = sorted(name for name in fields if name not in allowed)
    if not refused:
        return
    if state is DocumentState.CANCELLED:
        why = "a cancelled document only accepts flags and the note"
    else:
        why = (
            f"{label} is issued ({state.value}); amounts, client, currency, dates and numbering "
            "cannot change: cancel it (mark_cancelled) or issue a reversal instead"
        )
    raise ValidationFailed(*(f"{root}.{name} cannot be changed: {why}" for name in refused))
