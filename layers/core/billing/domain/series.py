"""Document numbering schemes (reference §7.6): one series model, four kinds (invoice,
proforma invoice, notice, receipt series), each at its own URL.

Fields (wire names; `sepparator` is the reference's spelling and IS the field name):

- counter_start: the first number of the scheme (default 1);
- counter_current: the number of the last document generated on the scheme (default
  counter_start - 1, so the first document gets counter_start). The reference's example creates
  a series with counter_start = counter_current = 100: its next document is 101;
- prefix, sepparator, suffix: the parts of the printed number;
- year: the year of the scheme's validity. Informational: it is printed and returned but not
  checked against document dates, because the reference's own examples pair series and dates
  freely.

The printed number (`document_number` on documents) is prefix, counter and suffix joined by
the separator, empty parts left out (`format_number`):

    prefix "INV", sepparator "-", suffix "2024", counter 7  ->  "INV-7-2024"
    prefix "INV", sepparator "-", no suffix,     counter 7  ->  "INV-7"
    no prefix,    sepparator "/", no suffix,     counter 7  ->  "7"
    prefix "FCT", no separator,                  counter 12 ->  "FCT12"

The counter is printed without padding (the reference has no padding field).
"""

from __future__ import annotations

from typing import Annotated, Any, Final

from pydantic import BeforeValidator, ConfigDict, Field, StringConstraints
from pydantic_core import PydanticCustomError

from billing.domain.clients import as_text
from billing.domain.records import Record, WritePayload

SERIES_KINDS: Final = ("invoice_series", "proforma_invoice_series", "notice_series", "receipt_series")
"""Record kinds (and XML roots) of the four series, in the order of the reference."""

MAX_COUNTER: Final = 10**12 - 1
"""Counters stay below 10**12: they are zero-padded to 20 digits in keys with room to spare."""

READ_ONLY_FIELDS: Final = frozenset({"id", "created_at", "updated_at", "next_number"})


class Series(Record):
    """A stored numbering scheme. `document_count` (documents numbered on it, not shown on the
    wire) is kept by the document writes and guards deletion."""

    counter_start: int = 1
    counter_current: int = 0
    prefix: str = ""
    suffix: str = ""
    sepparator: str = ""
    year: int | None = None
    document_count: int = 0

    def number(self, counter: int) -> str:
        return format_number(self.prefix, self.sepparator, self.suffix, counter)


def format_number(prefix: str, separator: str, suffix: str, counter: int) -> str:
    """The printed document number: non-empty parts joined by the separator (module docstring)."""
    return separator.join(part for part in (prefix, str(counter), suffix) if part)


def _blank_to_none(value: Any) -> Any:
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool):
        raise PydanticCustomError("int_type", "must be a whole number")
    return value


def _separator(value: Any) -> str:
    """Separators are kept as sent (a space is a valid separator); nil is none."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    raise PydanticCustomError("string_type", "must be text")


Counter = Annotated[Annotated[int, Field(ge=0, le=MAX_COUNTER)] | None, BeforeValidator(_blank_to_none)]
StartCounter = Annotated[Annotated[int, Field(ge=1, le=MAX_COUNTER)] | None, BeforeValidator(_blank_to_none)]
Part = Annotated[str, BeforeValidator(as_text), StringConstraints(max_length=50)]
Separator = Annotated[str, BeforeValidator(_separator), StringConstraints(max_length=5)]
Year = Annotated[Annotated[int, Field(ge=1900, le=9999)] | None, BeforeValidator(_blank_to_none)]


class SeriesUpdate(WritePayload):
    """Modify: only the fields sent change. Read-only fields sent back are ignored."""

    # a separator may be a space; the other text fields are stripped by their own reader
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=False)

    counter_start: StartCounter = None
    counter_current: Counter = None
    prefix: Part = ""
    suffix: Part = ""
    sepparator: Separator = ""
    year: Year = None

    read_only_fields = READ_ONLY_FIELDS


class SeriesCreate(SeriesUpdate):
    def record_fields(self) -> dict[str, Any]:
        """The stored fields of a new series, defaults applied and the counters checked."""
        fields = self.changes()
        start = fields.get("counter_start")
        start = 1 if start is None else start
        current = fields.get("counter_current")
        current = start - 1 if current is None else current
        fields.update(counter_start=start, counter_current=current)
        return fields


def check_counters(counter_start: int, counter_current: int, root: str) -> list[str]:
    """counter_current counts generated documents, so it cannot be below counter_start - 1."""
    if counter_current < counter_start - 1:
        return [
            f"{root}.counter_current must be at least counter_start - 1 ({counter_start - 1}): "
            "it is the number of the last document generated on the series"
        ]
    return []
