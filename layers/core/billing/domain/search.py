"""v1 field search (`/[model-plural]/search.xml?field=…&value=…`): how a searched value is read
and turned into the key prefix looked up in the field's search slot.

Text fields match by case-insensitive prefix; ids, numbers and states match exactly; dates match
the day, accepting the forms the reference's own examples send (`2014.06.06`) besides ISO;
a datetime field searched with a date matches every record of that day."""

from __future__ import annotations

import re
from datetime import date
from decimal import Decimal, InvalidOperation
from enum import StrEnum

from billing.domain.errors import ValidationFailed

_DATE_FORMS = (
    re.compile(r"^(?P<y>\d{4})[-./](?P<m>\d{1,2})[-./](?P<d>\d{1,2})$"),
    re.compile(r"^(?P<d>\d{1,2})[-./](?P<m>\d{1,2})[-./](?P<y>\d{4})$"),
)
_PARTIAL_DATE = re.compile(r"^(?P<y>\d{4})(?:[-./](?P<m>\d{1,2}))?$")


class FieldKind(StrEnum):
    TEXT = "text"  # case-insensitive prefix
    EXACT = "exact"  # whole value, case-insensitive (states, codes)
    INTEGER = "integer"  # ids, counters
    DECIMAL = "decimal"  # amounts: numerically equal
    DATE = "date"  # a day (or a month / year given as 2014-06 / 2014)
    DATETIME = "datetime"  # a day (or month / year) of a timestamp


def parse_date(raw: str, field: str) -> date:
    text = raw.strip()
    for form in _DATE_FORMS:
        match = form.match(text)
        if match:
            try:
                return date(int(match["y"]), int(match["m"]), int(match["d"]))
            except ValueError:
                break
    raise ValidationFailed(f"{field}: '{raw}' is not a date (use YYYY-MM-DD)")


def _date_prefix(raw: str, field: str) -> str:
    match = _PARTIAL_DATE.match(raw.strip())
    if match:
        month = match["m"]
        if month and not 1 <= int(month) <= 12:
            raise ValidationFailed(f"{field}: '{raw}' is not a date (use YYYY-MM-DD)")
        return match["y"] + (f"-{int(month):02d}" if month else "")
    return parse_date(raw, field).isoformat()


def search_prefix(kind: FieldKind, raw: str | None, field: str) -> str:
    """The begins_with prefix for a searched value (see billing.store.records: slots hold
    `<normalized value>#<id>`)."""
    if raw is None or not raw.strip():
        raise ValidationFailed("value is required")
    text = raw.strip()
    if kind is FieldKind.TEXT:
        return text.casefold()
    if kind is FieldKind.EXACT:
        return text.casefold() + "#"
    if kind is FieldKind.INTEGER:
        if not text.isdigit():
            raise ValidationFailed(f"{field}: '{raw}' is not a whole number")
        return str(int(text)) + "#"
    if kind is FieldKind.DECIMAL:
        try:
            number = Decimal(text)
        except InvalidOperation:
            raise ValidationFailed(f"{field}: '{raw}' is not a number") from None
        if not number.is_finite():
            raise ValidationFailed(f"{field}: '{raw}' is not a number")
        return format(number.normalize(), "f") + "#"
    if kind is FieldKind.DATE:
        prefix = _date_prefix(text, field)
        return prefix + ("#" if len(prefix) == 10 else "")
    return _date_prefix(text, field)
