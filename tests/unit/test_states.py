"""The document state machine (billing.domain.states), table-driven."""

from __future__ import annotations

import pytest
from billing.domain.errors import ValidationFailed
from billing.domain.states import (
    ACTIONS,
    CANCELLED_EDITABLE,
    ISSUED_EDITABLE,
    DocumentState,
    check_modification,
    check_transition,
    editable_fields,
    is_allowed,
)

D, OP, C, X = DocumentState.DRAFT, DocumentState.OPEN, DocumentState.CLOSED, DocumentState.CANCELLED

# (from, to): None = no-op, True = changes, or the reason it is refused
TABLE: dict[tuple[DocumentState, DocumentState], bool | str | None] = {
    (D, D): None,
    (D, OP): True,
    (D, C): "must be issued (mark_open) before it can be closed",
    (D, X): True,
    (OP, D): "cannot go back to draft; cancel it",
    (OP, OP): None,
    (OP, C): True,
    (OP, X): True,
    (C, D): "cannot go back to draft; issue a reversal",
    (C, OP): True,
    (C, C): None,
    (C, X): "reopen it first",
    (X, D): "is final",
    (X, OP): "is final",
    (X, C): "is final",
    (X, X): None,
}


def test_the_table_covers_every_pair() -> None:
    assert set(TABLE) == {(a, b) for a in DocumentState for b in DocumentState}


@pytest.mark.parametrize(("current", "target"), list(TABLE), ids=[f"{a}->{b}" for a, b in TABLE])
def test_transition(current: DocumentState, target: DocumentState) -> None:
    expected = TABLE[(current, target)]
    if isinstance(expected, str):
        assert not is_allowed(current, target)
        with pytest.raises(ValidationFailed) as refused:
            check_transition(current, target, "invoice 7")
        (message,) = refused.value.messages
        assert message.startswith(f"invoice 7 is {current.value} and cannot become {target.value}: ")
        assert expected in message
    else:
        assert is_allowed(current, target)
        assert check_transition(current, target, "invoice 7") is bool(expected)


def test_actions_name_every_state() -> None:
    assert ACTIONS == {"mark_draft": D, "mark_open": OP, "mark_closed": C, "mark_cancelled": X}


def test_issued_states() -> None:
    assert [s for s in DocumentState if s.issued] == [OP, C]


@pytest.mark.parametrize(
    ("state", "fields", "refused"),
    [
        (D, {"client_id", "document_positions", "note"}, set()),
        (OP, {"note", "flag_filed", "due_days", "update_client_data"}, set()),
        (OP, {"note", "document_positions", "client_id"}, {"document_positions", "client_id"}),
        (C, {"currency_id", "exchange_rate", "vat_type"}, {"currency_id", "exchange_rate", "vat_type"}),
        (C, {"lower_annotation", "delegate_id"}, set()),
        (X, {"note", "flag_sent_by_email"}, set()),
        (X, {"note", "upper_annotation", "due_days"}, {"upper_annotation", "due_days"}),
    ],
)
def test_check_modification(state: DocumentState, fields: set[str], refused: set[str]) -> None:
    if not refused:
        check_modification(state, fields, "invoice 1", "invoice")
        return
    with pytest.raises(ValidationFailed) as error:
        check_modification(state, fields, "invoice 1", "invoice")
    named = {m.split(" ", 1)[0].removeprefix("invoice.") for m in error.value.messages}
    assert named == refused


def test_editable_sets() -> None:
    assert editable_fields(D) is None
    assert editable_fields(OP) == editable_fields(C) == ISSUED_EDITABLE
    assert editable_fields(X) == CANCELLED_EDITABLE < ISSUED_EDITABLE
    money = {
        "client_id",
        "currency_id",
        "input_currency_id",
        "exchange_rate",
        "document_date",
        "vat_type",
        "document_positions",
        "reversed_document_id",
        "input_currency_reversing",
        "receipt_amount",
        "document_series_id",
        "document_series_counter",
        "invoice_id",
    }
    assert not money & ISSUED_EDITABLE
