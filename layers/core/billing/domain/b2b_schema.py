"""Field schemas of the B2B Billing API resources (bills, billing accounts).

The single source of truth for which fields can be filtered, searched and sorted on, and for
how a value (from a query, a URL or a stored record) is read as that field's type. Fields are
named by their dotted JSON path in the resource (`customer.name` is `{"customer": {"name": …}}`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from decimal import Decimal, InvalidOperation
from enum import StrEnum
from types import MappingProxyType
from typing import Any

Scalar = str | Decimal | date | datetime
"""A field value after coercion. `datetime` values are always timezone-aware, in UTC."""


class Kind(StrEnum):
    STRING = "string"
    ENUM = "enum"
    DECIMAL = "decimal"
    DATE = "date"
    DATETIME = "datetime"


_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")


@dataclass(frozen=True, slots=True)
class FieldType:
    kind: Kind
    values: tuple[str, ...] = ()
    """The allowed values, in their wire spelling; enums only."""

    def __post_init__(self) -> None:
        if (self.kind is Kind.ENUM) != bool(self.values):
            raise ValueError("allowed values are required for enums and only for enums")

    @property
    def ordered(self) -> bool:
        """Whether $gt/$gte/$lt/$lte make sense: an enum's spelling has no meaningful order."""
        return self.kind is not Kind.ENUM

    def coerce(self, raw: Any) -> Scalar:
        """Read `raw` as this type, or raise ValueError("needs …, got …") for the caller to place.

        Accepted: strings for string/enum fields (enums: one of `values`, case-sensitive);
        for decimals a Decimal, an int, a float (through its shortest repr, so 0.1 is
        Decimal("0.1")) or a numeric string, never a boolean, NaN or infinity; for dates a
        `date` or "YYYY-MM-DD"; for datetimes a `datetime` or an ISO 8601 string with or without
        fractional seconds / offset / "Z". A datetime without an offset is taken as UTC; all are
        converted to UTC so that comparisons never mix naive and aware values.
        """
        match self.kind:
            case Kind.STRING:
                if isinstance(raw, str):
                    return raw
            case Kind.ENUM:
                if isinstance(raw, str):
                    if raw in self.values:
                        return raw
                    raise ValueError(f"needs {self.describe()}, got {raw!r}")
            case Kind.DECIMAL:
                number = _decimal(raw)
                if number is not None:
                    return number
            case Kind.DATE:
                if isinstance(raw, date) and not isinstance(raw, datetime):
                    return raw
                if isinstance(raw, str) and _DATE.fullmatch(raw):
                    try:
                        return date.fromisoformat(raw)
                    except ValueError:
                        pass
            case Kind.DATETIME:
                moment = _datetime(raw)
                if moment is not None:
                    return moment
        raise ValueError(f"needs {self.describe()}, got {describe_value(raw)}")

    def describe(self) -> str:
        match self.kind:
            case Kind.STRING:
                return "a string"
            case Kind.ENUM:
                return "one of " + ", ".join(repr(value) for value in self.values)
            case Kind.DECIMAL:
                return "a decimal number"
            case Kind.DATE:
                return "a date (YYYY-MM-DD)"
            case Kind.DATETIME:
                return "an ISO 8601 date-time (e.g. 2018-06-20T06:43:32.092Z)"


def _decimal(raw: Any) -> Decimal | None:
    if isinstance(raw, bool):
        return None
    if isinstance(raw, float):
        raw = repr(raw)
    if isinstance(raw, str | int | Decimal):
        try:
            number = Decimal(raw)
        except InvalidOperation:
            return None
        return number if number.is_finite() else None
    return None


def _datetime(raw: Any) -> datetime | None:
    if isinstance(raw, str):
        try:
            raw = datetime.fromisoformat(raw)
        except ValueError:
            return None
    if not isinstance(raw, datetime):
        return None
    return raw.replace(tzinfo=UTC) if raw.tzinfo is None else raw.astimezone(UTC)


def describe_value(raw: Any) -> str:
    """Name a rejected value for an error message: strings are quoted, containers are named."""
    if isinstance(raw, str):
        return repr(raw) if len(raw) <= 40 else repr(raw[:40] + "…")
    if raw is None:
        return "null"
    if isinstance(raw, bool):
        return "boolean"
    if isinstance(raw, int | float | Decimal):
        return f"number {raw}"
    if isinstance(raw, Mapping):
        return "object"
    if isinstance(raw, list | tuple):
        return "list"
    return type(raw).__name__


STRING = FieldType(Kind.STRING)
DECIMAL = FieldType(Kind.DECIMAL)
DATE = FieldType(Kind.DATE)
DATETIME = FieldType(Kind.DATETIME)

BILL_TYPES = ("invoice", "creditNote")
BILL_STATES = ("open", "closed", "cancelled")
SENDING_FORMATS = ("paper", "email", "eInvoicing")

BILL_FIELDS: Mapping[str, FieldType] = MappingProxyType(
    {
        "id": STRING,
        "number": STRING,
        "type": FieldType(Kind.ENUM, BILL_TYPES),
        "state": FieldType(Kind.ENUM, BILL_STATES),
        "sendingFormat": FieldType(Kind.ENUM, SENDING_FORMATS),
        "customer.id": STRING,
        "customer.name": STRING,
        "customer.segment": STRING,
        "billingAccount.id": STRING,
        "billingAccount.name": STRING,
        "currency.id": STRING,
        "amounts.totalExcludingTax": DECIMAL,
        "amounts.totalTax": DECIMAL,
        "amounts.totalIncludingTax": DECIMAL,
        "amounts.due": DECIMAL,
        "billDate": DATE,
        "dueDate": DATE,
        "createdAt": DATETIME,
        "updatedAt": DATETIME,
    }
)

BILLING_ACCOUNT_FIELDS: Mapping[str, FieldType] = MappingProxyType(
    {
        "id": STRING,
        "name": STRING,
        "customer.id": STRING,
        "customer.name": STRING,
        "customer.segment": STRING,
        "currency.id": STRING,
        "country.id": STRING,
        "createdAt": DATETIME,
        "updatedAt": DATETIME,
    }
)
