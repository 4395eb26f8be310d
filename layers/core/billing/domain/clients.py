"""Clients (reference §7.7): the people and companies a tenant invoices.

Mandatory fields
----------------
The reference stars name, address, city and country_id and marks uid "mandatory if client is
company", yet its own CREATE example (`curl -d "client[name]=MyCompany" -d "client[uid]=999999"`)
sends only name and uid and must be answered 201. Factura's rule, applied to every wire format:

- `name` is required on create and can never be emptied;
- `uid` is required when `is_company` is true. The rule is checked on the record as it will be
  stored (`check_client`, called by the repository on every write), so turning a client into a
  company without a uid, or emptying a company's uid, is refused as well;
- `address`, `city` and `country_id` are optional on the wire and stored empty ("" / nil) when
  not sent; when sent they are validated like any field (country_id must name a known country).

Field forms
-----------
- `is_company`: true / false / 1 / 0 (any case; blank or nil = false); anything else is a 422.
- Text fields accept numbers as text: PHP's `"tax_id" => 1` and JSON `"tax_id": 1` store "1".
  Empty text (or nil) clears an optional field.
- `country_id`: the ISO 3166 numeric id ("642") or alpha-2 code ("RO"); stored as the numeric
  id. `country` (read-only) is the country's name.
- `bank_iban`: must pass the ISO 13616 mod-97 check; stored without spaces, upper-case.
- `email`: must look like an address (local@domain.tld).
- Read-only fields sent back (`id`, `created_at`, `updated_at`, `country`) are ignored, so a
  record read with GET can be sent back with PUT; any other unknown field is a 422.

Search (§7.7.1): `name` by case-insensitive prefix; `uid` and `email` by whole value (case-
insensitive); `created_at` / `updated_at` by day (UTC), month or year, in any of the date forms
of billing.domain.search (`2014-06-06`, `2014.06.06`, `06.06.2014`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from decimal import Decimal
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from billing.domain.errors import ValidationFailed
from billing.domain.records import Record, WritePayload
from billing.domain.reference_data import known_country
from billing.domain.search import FieldKind

SEARCH_FIELDS: Final[Mapping[str, FieldKind]] = {
    "name": FieldKind.TEXT,
    "uid": FieldKind.EXACT,
    "email": FieldKind.EXACT,
    "created_at": FieldKind.DATETIME,
    "updated_at": FieldKind.DATETIME,
}
"""Searchable fields, in search-slot order (slot n = GSI<n>; see billing.store.records)."""

READ_ONLY_FIELDS: Final = frozenset({"id", "created_at", "updated_at", "country"})

SEARCH_KEY_BYTES: Final = 1000
"""A GSI sort key holds at most 1024 bytes and the slot appends "#<20-digit id>": searchable text
must stay within this many UTF-8 bytes once case-folded."""

_TRUE: Final = frozenset({"true", "1"})
_FALSE: Final = frozenset({"false", "0", ""})
_IBAN: Final = re.compile(r"[A-Z]{2}[0-9]{2}[A-Z0-9]{11,30}")
_EMAIL: Final = re.compile(
    r"[^@\s\"(),:;<>\[\]\\]{1,64}@(?=.{4,253}$)(?:[^\W_](?:(?:[^\W_]|-){0,61}[^\W_])?\.)+[^\W\d_]{2,63}"
)


class Client(Record):
    """A stored client (reference field names)."""

    name: str
    is_company: bool = False
    registration_id: str = ""
    tax_id: str = ""
    uid: str = ""
    address: str = ""
    address_2: str = ""
    city: str = ""
    zip: str = ""
    state: str = ""
    country_id: int | None = None
    bank_iban: str = ""
    bank_name: str = ""
    email: str = ""
    fax: str = ""
    homepage: str = ""
    telephone: str = ""


def check_client(client: Client) -> Client:
    """The rules that span fields, checked on the record as it will be stored."""
    if client.is_company and not client.uid:
        raise ValidationFailed("client.uid is required when client.is_company is true")
    return client


# -- field readers (pydantic before-validators; errors name the field through pydantic) -------


def as_text(value: Any) -> str:
    """Wire text: nil is "", numbers are written as text (PHP `"tax_id" => 1`), the rest must
    already be text (a nested list or map is an error, not a string)."""
    if value is None:
        return ""
    if isinstance(value, bool):
        raise PydanticCustomError("string_type", "must be text, not a boolean")
    if isinstance(value, int | str):
        return str(value).strip()
    if isinstance(value, Decimal) and value.is_finite():  # a JSON number with a fraction
        return format(value, "f")
    raise PydanticCustomError("string_type", "must be text")


def searchable_text(value: Any) -> str:
    text = as_text(value)
    if len(text.casefold().encode()) > SEARCH_KEY_BYTES:
        raise PydanticCustomError("string_too_long", "is too long to be searched")
    return text


def parse_flag(value: Any) -> bool:
    """A boolean as the reference's clients send it: true / false / 1 / 0; blank or nil = false."""
    if isinstance(value, bool):
        return value
    if value is None:
        return False
    if isinstance(value, int) and value in (0, 1):
        return bool(value)
    if isinstance(value, str):
        text = value.strip().lower()
        if text in _TRUE:
            return True
        if text in _FALSE:
            return False
    raise PydanticCustomError("bool_parsing", "must be true or false (or 1 / 0)")


def parse_country_id(value: Any) -> int | None:
    """ISO 3166 numeric id or alpha-2 code -> numeric id; blank or nil -> None (no country)."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise PydanticCustomError("country", "must be a country id or ISO code")
    try:
        return known_country(value, "country_id").id
    except ValidationFailed:
        raise PydanticCustomError(
            "country",
            "'{ref}' is not a known country (use its ISO 3166 numeric id or alpha-2 code)",
            {"ref": str(value).strip()[:40]},
        ) from None


def iban_checksum_ok(iban: str) -> bool:
    """ISO 13616 / ISO 7064 mod 97-10 on a normalized IBAN (A-Z, 0-9)."""
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def normalize_iban(value: Any) -> str:
    """An IBAN without spaces, upper-case, checked by mod-97; blank -> "" (no IBAN)."""
    text = "".join(as_text(value).split()).upper()
    if not text:
        return ""
    if not _IBAN.fullmatch(text):
        raise PydanticCustomError(
            "iban", "is not an IBAN (2 letters, 2 check digits, then up to 30 letters or digits)"
        )
    if not iban_checksum_ok(text):
        raise PydanticCustomError("iban", "is not a valid IBAN (its check digits do not match)")
    return text


def normalize_email(value: Any) -> str:
    text = searchable_text(value)
    if text and (len(text) > 254 or not _EMAIL.fullmatch(text)):
        raise PydanticCustomError("email", "is not a valid e-mail address")
    return text


Text = Annotated[str, BeforeValidator(as_text), StringConstraints(max_length=255)]
SearchableText = Annotated[str, BeforeValidator(searchable_text), StringConstraints(max_length=255)]
Flag = Annotated[bool, BeforeValidator(parse_flag)]
CountryId = Annotated[int | None, BeforeValidator(parse_country_id)]
Iban = Annotated[str, BeforeValidator(normalize_iban)]
Email = Annotated[str, BeforeValidator(normalize_email)]


class ClientUpdate(WritePayload):
    """Modify: every field optional; only the fields sent are applied (see `changes`)."""

    name: SearchableText = Field(default="", min_length=1)
    is_company: Flag = False
    registration_id: Text = ""
    tax_id: Text = ""
    uid: SearchableText = ""
    address: Text = ""
    address_2: Text = ""
    city: Text = ""
    zip: Text = ""
    state: Text = ""
    country_id: CountryId = None
    bank_iban: Iban = ""
    bank_name: Text = ""
    email: Email = ""
    fax: Text = ""
    homepage: Text = ""
    telephone: Text = ""

    read_only_fields = READ_ONLY_FIELDS


class ClientCreate(ClientUpdate):
    """Create: name is required; uid too for a company (see the module docstring)."""

    name: SearchableText = Field(min_length=1)
