"""Products (reference §7.8): a tenant's catalogue of goods and services.

Fields
------
- `description` (required) and `currency_id` (required: the ISO 4217 numeric id "978" or the code
  "EUR"; stored as the numeric id; `currency`, read-only, is the ISO code).
- `price`: money, a Decimal (never float), not negative, at most 4 decimal places (unit prices
  keep 4, see billing.domain.money.UNIT_PRICE_STEP). Read with `parse_decimal`: "12", "12.5",
  12 (JSON) are accepted, "abc", "1,5", 1.5 as a binary float are not.
- `quantity`: a Decimal, not negative. `vat`: a percentage 0..100 with at most 2 decimals
  (`parse_vat_rate`, shared with document positions).
- `code`, `unit`: text. Empty text clears them; an empty (or nil) number clears it too.
- Read-only fields sent back (`id`, `created_at`, `updated_at`, `currency`) are ignored, so a
  record read with GET can be sent back with PUT; any other unknown field is a 422.

Search (§7.8.1): `code` by whole value (case-insensitive); `description` by case-insensitive
prefix; `price` by numeric equality (100 = 100.0 = 100.00); `created_at` / `updated_at` by day
(UTC), month or year in any date form of billing.domain.search (`2014.06.06` included).
"""

from __future__ import annotations

from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from billing.domain.clients import Text, searchable_text
from billing.domain.errors import ValidationFailed
from billing.domain.money import decimal_places, parse_decimal
from billing.domain.records import Record, WritePayload
from billing.domain.reference_data import known_currency
from billing.domain.search import FieldKind
from billing.domain.vat import parse_vat_rate

SEARCH_FIELDS: Final[Mapping[str, FieldKind]] = {
    "code": FieldKind.EXACT,
    "description": FieldKind.TEXT,
    "price": FieldKind.DECIMAL,
    "created_at": FieldKind.DATETIME,
    "updated_at": FieldKind.DATETIME,
}
"""Searchable fields, in search-slot order (slot n = GSI<n>; see billing.store.records)."""

READ_ONLY_FIELDS: Final = frozenset({"id", "created_at", "updated_at", "currency"})

PRICE_DECIMAL_PLACES: Final = 4
DESCRIPTION_MAX_LENGTH: Final = 1000


class Product(Record):
    """A stored product (reference field names)."""

    code: str = ""
    description: str
    quantity: Decimal | None = None
    unit: str = ""
    price: Decimal | None = None
    vat: Decimal | None = None
    currency_id: int


def _reason(error: ValidationFailed) -> PydanticCustomError:
    """A domain check's message as a pydantic error, so it is reported with the field's full
    name (`product.price: …`) together with the payload's other errors."""
    text = "; ".join(error.messages).removeprefix("value").strip()
    return PydanticCustomError("value_error", "{reason}", {"reason": text})


def _blank(value: Any) -> bool:
    return value is None or (isinstance(value, str) and not value.strip())


def parse_price(value: Any) -> Decimal | None:
    if _blank(value):
        return None
    try:
        price = parse_decimal(value, "value")
    except ValidationFailed as error:
        raise _reason(error) from None
    if price < 0:
        raise PydanticCustomError("value_error", "must not be negative")
    if decimal_places(price) > PRICE_DECIMAL_PLACES:
        raise PydanticCustomError(
            "value_error", "must have at most {places} decimal places", {"places": PRICE_DECIMAL_PLACES}
        )
    return price


def parse_quantity(value: Any) -> Decimal | None:
    if _blank(value):
        return None
    try:
        quantity = parse_decimal(value, "value")
    except ValidationFailed as error:
        raise _reason(error) from None
    if quantity < 0:
        raise PydanticCustomError("value_error", "must not be negative")
    return quantity


def parse_vat(value: Any) -> Decimal | None:
    if _blank(value):
        return None
    try:
        return parse_vat_rate(value, "value")
    except ValidationFailed as error:
        raise _reason(error) from None


def parse_currency_id(value: Any) -> int:
    """ISO 4217 numeric id or code -> numeric id. Required: blank or nil is refused."""
    if _blank(value):
        raise PydanticCustomError("missing", "is required")
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PydanticCustomError("value_error", "must be a currency id or ISO code")
    try:
        return known_currency(value, "currency_id").id
    except ValidationFailed:
        raise PydanticCustomError(
            "value_error",
            "'{ref}' is not a known currency (use its ISO 4217 numeric id or code, e.g. 978 or EUR)",
            {"ref": str(value).strip()[:40]},
        ) from None


Price = Annotated[Decimal | None, BeforeValidator(parse_price)]
Quantity = Annotated[Decimal | None, BeforeValidator(parse_quantity)]
VatRate = Annotated[Decimal | None, BeforeValidator(parse_vat)]
CurrencyId = Annotated[int, BeforeValidator(parse_currency_id)]
Code = Annotated[str, BeforeValidator(searchable_text), StringConstraints(max_length=255)]
Description = Annotated[
    str, BeforeValidator(searchable_text), StringConstraints(max_length=DESCRIPTION_MAX_LENGTH)
]


class ProductUpdate(WritePayload):
    """Modify: every field optional; only the fields sent are applied (see `changes`)."""

    code: Code = ""
    description: Description = Field(default="", min_length=1)
    quantity: Quantity = None
    unit: Text = ""
    price: Price = None
    vat: VatRate = None
    currency_id: CurrencyId = 0  # never used: changes() holds only what was sent

    read_only_fields = READ_ONLY_FIELDS


class ProductCreate(ProductUpdate):
    description: Description = Field(min_length=1)
    currency_id: CurrencyId
