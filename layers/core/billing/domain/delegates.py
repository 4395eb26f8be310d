"""Delegates (reference §7.1.5): the person who accompanies shipped goods, printed on a
document that displays transport data. A document's `delegate_id` names one; the document keeps
a snapshot of it as `delegate_xxx` fields (read-only), taken when the delegate is set.

Served at /api/v1/delegates (CRUD, .xml/.json) by the series function. `first_name` and
`last_name` are required on create; `identity_document_issue_date` is a date (YYYY-MM-DD).
Deleting a delegate leaves the documents that name it unchanged (they hold a snapshot).
"""

from __future__ import annotations

from datetime import date
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, Field, StringConstraints

from billing.domain.clients import as_text
from billing.domain.records import Record, WritePayload

READ_ONLY_FIELDS: Final = frozenset({"id", "created_at", "updated_at"})

SNAPSHOT_FIELDS: Final = (
    "first_name",
    "last_name",
    "cnp",
    "identity_document",
    "identity_document_series",
    "identity_document_number",
    "identity_document_issued_by",
    "identity_document_issue_date",
)
"""Delegate fields copied onto documents as delegate_<field>."""


class Delegate(Record):
    first_name: str
    last_name: str
    cnp: str = ""
    identity_document: str = ""
    identity_document_series: str = ""
    identity_document_number: str = ""
    identity_document_issued_by: str = ""
    identity_document_issue_date: date | None = None


def _blank_to_none(value: Any) -> Any:
    return None if value is None or (isinstance(value, str) and not value.strip()) else value


Text = Annotated[str, BeforeValidator(as_text), StringConstraints(max_length=255)]
OptionalDate = Annotated[date | None, BeforeValidator(_blank_to_none)]


class DelegateUpdate(WritePayload):
    first_name: Text = Field(default="", min_length=1)
    last_name: Text = Field(default="", min_length=1)
    cnp: Text = ""
    identity_document: Text = ""
    identity_document_series: Text = ""
    identity_document_number: Text = ""
    identity_document_issued_by: Text = ""
    identity_document_issue_date: OptionalDate = None

    read_only_fields = READ_ONLY_FIELDS


class DelegateCreate(DelegateUpdate):
    first_name: Text = Field(min_length=1)
    last_name: Text = Field(min_length=1)


def delegate_snapshot(delegate: Delegate | None) -> dict[str, Any]:
    """The document's delegate_xxx fields (all None when no delegate is set)."""
    return {
        f"delegate_{name}": (getattr(delegate, name) if delegate is not None else None)
        for name in SNAPSHOT_FIELDS
    }
