"""Payments (reference §7.5): money received against an invoice or a proforma invoice. Pure: no
AWS; billing.payments.registration writes them together with the document they pay.

Fields (v1 names): amount * (> 0, at most 2 decimals, in the payment's currency), currency_id
(ISO 4217 numeric id or code; default: the paid document's currency), currency (R: ISO code),
payment_date *, description, invoice_id / proforma_invoice_id (at least one), and computed:
amount_in_document_currency, id, created_at, updated_at. Factura also keeps `source` ("api",
"online" for provider payments, "receipt" for the payment a receipt registers), the provider's
event id, the user who registered it and, for receipt payments, the receipt's id.

Which document a payment pays: the invoice when invoice_id is given, else the proforma. A
payment that names both pays the invoice; the proforma id is checked (a proforma of the tenant)
and kept as a link, so the payment is found by both searches, but the proforma's total_due is
left as it is (the money settles the invoice that replaced the proforma, and is counted once).

Conversion rule (`amount_in_document_currency`): a payment in the paid document's currency
counts as sent. A payment in another currency is converted with the DOCUMENT's exchange_rate
(billing.domain.money: the price of one foreign unit in the account's home currency), rounded
half-up to cents: 460 RON on an EUR invoice at 4.6 -> 100.00 EUR; 100 EUR on a RON invoice that
carries EUR figures at 4.6 -> 460.00 RON. One of the two currencies must be the account's home
currency, and the document must carry an exchange rate; otherwise the payment is refused (422),
because a rate of our own choosing would change what the client owes.

Payments are immutable records: a wrong payment is deleted (which restores the document's
total_due) and registered again.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from decimal import Decimal
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import BeforeValidator
from pydantic_core import PydanticCustomError

from billing.domain.clients import as_text
from billing.domain.documents import CurrencyId, OptionalDate, RecordId
from billing.domain.errors import ValidationFailed
from billing.domain.money import (
    Direction,
    convert,
    decimal_places,
    direction_between,
    parse_decimal,
    require_exchange_rate,
)
from billing.domain.records import Record, WritePayload
from billing.domain.reference_data import known_currency
from billing.domain.search import FieldKind

ROOT: Final = "payment"
PLURAL: Final = "payments"
MAX_PROVIDER_EVENT_ID: Final = 255
MAX_DESCRIPTION: Final = 255
"""A description is searched by prefix, so it is a key of its search slot (<= 1024 bytes)."""


class PaymentSource(StrEnum):
    API = "api"
    """Registered through the v1 API (POST /payments)."""
    ONLINE = "online"
    """An online payment confirmed by a payment provider (the reference's §8 callback)."""
    RECEIPT = "receipt"
    """Registered by issuing a receipt for the invoice (cash received, §7.4)."""


SEARCH_FIELDS: Final[Mapping[str, FieldKind]] = {
    "payment_date": FieldKind.DATE,
    "proforma_invoice_id": FieldKind.INTEGER,
    "invoice_id": FieldKind.INTEGER,
    "description": FieldKind.TEXT,
    "created_at": FieldKind.DATETIME,
    "updated_at": FieldKind.DATETIME,
}
"""§7.5.1 search fields, in search-slot order (slot n = GSI<n>)."""


class Payment(Record):
    """A stored payment."""

    amount: Decimal
    currency_id: int
    payment_date: date
    description: str = ""
    invoice_id: int | None = None
    proforma_invoice_id: int | None = None
    amount_in_document_currency: Decimal
    source: PaymentSource = PaymentSource.API
    provider_event_id: str | None = None
    user_id: int | None = None
    receipt_id: int | None = None

    @property
    def currency(self) -> str:
        return known_currency(self.currency_id, "currency_id").iso_name

    @property
    def paid_kind(self) -> str:
        """Record kind of the document whose total_due this payment lowered."""
        return "invoice" if self.invoice_id is not None else "proforma_invoice"

    @property
    def paid_document_id(self) -> int:
        document_id = self.invoice_id if self.invoice_id is not None else self.proforma_invoice_id
        assert document_id is not None  # a stored payment always names a document
        return document_id


def _amount(value: Any) -> Any:
    """Any number the wire sends, typed by money.parse_decimal (no floats); range checked in
    `check_amount`, so "abc", -5 and 0 all get a sentence naming the field."""
    if value is None or (isinstance(value, str) and not value.strip()):
        return None
    try:
        return parse_decimal(value, "value")
    except ValidationFailed as err:
        reason = err.messages[0].removeprefix("value ")
        raise PydanticCustomError("decimal", "{reason}", {"reason": reason}) from None


Amount = Annotated[Decimal | None, BeforeValidator(_amount)]


def _description(value: Any) -> str:
    text = as_text(value)
    if len(text) > MAX_DESCRIPTION:
        raise PydanticCustomError(
            "description", "must be at most {limit} characters", {"limit": MAX_DESCRIPTION}
        )
    return text


Description = Annotated[str, BeforeValidator(_description)]


READ_ONLY_FIELDS: Final = frozenset(
    {
        "id",
        "created_at",
        "updated_at",
        "currency",
        "amount_in_document_currency",
        "source",
        "provider_event_id",
        "receipt_id",
        "user_id",
    }
)
"""Computed fields: ignored when sent, as on every v1 write (a payment read with GET can be sent
back)."""


class PaymentFields(WritePayload):
    """What POST /payments accepts. Unknown fields are a 422; read-only ones are dropped."""

    read_only_fields = READ_ONLY_FIELDS

    amount: Amount = None
    currency_id: CurrencyId = None
    payment_date: OptionalDate = None
    description: Description = ""
    invoice_id: RecordId = None
    proforma_invoice_id: RecordId = None


def check_amount(amount: Decimal | None, field: str) -> Decimal:
    """A payment amount: given, > 0, at most 2 decimal places."""
    if amount is None:
        raise ValidationFailed(f"{field} is required")
    if amount <= 0:
        raise ValidationFailed(f"{field} must be greater than 0")
    if decimal_places(amount) > 2:
        raise ValidationFailed(f"{field} must have at most 2 decimal places")
    return amount


def amount_in_document_currency(
    amount: Decimal,
    payment_currency: str,
    document_currency: str,
    exchange_rate: Decimal | None,
    *,
    home_currency: str,
    field: str,
) -> Decimal:
    """`amount` (in `payment_currency`) in the paid document's currency, by the module's
    conversion rule. Refusals name `field` (the payment's currency field)."""
    if payment_currency == document_currency:
        return amount
    try:
        direction: Direction = direction_between(payment_currency, document_currency, home_currency)
        rate = require_exchange_rate(exchange_rate)
    except ValidationFailed:
        raise ValidationFailed(
            f"{field}: a payment in {payment_currency} cannot be counted on a document in "
            f"{document_currency}"
            + (
                " that has no exchange rate"
                if exchange_rate is None
                else f" (the exchange rate is quoted against the account currency {home_currency})"
            )
            + f"; pay in {document_currency}"
        ) from None
    return convert(amount, rate, direction)


def check_description(value: object, field: str) -> str:
    """Text of at most MAX_DESCRIPTION characters (and so at most 1020 bytes in its slot key)."""
    if not isinstance(value, str) or len(value.strip()) > MAX_DESCRIPTION:
        raise ValidationFailed(f"{field} must be text of at most {MAX_DESCRIPTION} characters")
    return value.strip()


def check_provider_event_id(value: str | None) -> str | None:
    if value is None:
        return None
    if not isinstance(value, str) or not value.strip() or len(value) > MAX_PROVIDER_EVENT_ID:
        raise ValidationFailed(
            f"provider_event_id must be 1 to {MAX_PROVIDER_EVENT_ID} characters when given"
        )
    return value
