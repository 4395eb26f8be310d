"""Payment providers' webhooks, below HTTP and without AWS: who may call, how a call is
verified, and what a verified event means (a normalized `PaymentEvent`, or `Ignored`).

Providers (the `{provider}` of `POST /webhooks/payments/{provider}/{tenant_id}`):

- `standard`: any sender that signs with Standard Webhooks (`webhook-id`, `webhook-timestamp`,
  `webhook-signature`; 5 minutes' tolerance), verified with the `standardwebhooks` library.
  Factura's event is `payment.succeeded`:

      {"type": "payment.succeeded", "timestamp": "2025-01-31T10:00:00Z",
       "data": {"id": "pay_123", "invoice_id": 1234, "amount": "238.00", "currency": "RON",
                "paid_at": "2025-01-31T09:59:58Z"}}

  `data.id` is the sender's id of the payment (deduplication; the `webhook-id` when absent);
  exactly one of `invoice_id`, `proforma_invoice_id`, `hashcode` (the document's share code);
  `amount` in major units (a decimal string or a JSON number, never more decimals than the
  currency has); `currency` an ISO 4217 code or numeric id; `paid_at` ISO 8601 (default: the
  `webhook-timestamp`).
- `stripe`: the `Stripe-Signature` header `t=<unix time>,v1=<hex>[,v1=<hex>…]`: HMAC-SHA256
  with the endpoint's signing secret (the whole `whsec_…` text is the key) over
  `<t>.<raw body>`; any v1 signature may match (Stripe sends several while a secret is being
  rolled); `t` within 300 s of now, either way. Events: `payment_intent.succeeded`
  (`amount_received`), `checkout.session.completed` and `checkout.session.async_payment_succeeded`
  (`amount_total`, only when `payment_status` is `paid`), with the document in the object's
  `metadata` (`invoice_id`, `proforma_invoice_id` or `hashcode`). The payment is identified by
  its PaymentIntent (`pi_…`), so a Checkout Session and its PaymentIntent, both reported,
  register one payment.

Outcomes: a verified supported event becomes a `PaymentEvent` (what the PaymentEventsQueue
carries). A verified event of another type, a Stripe payment whose metadata names no Factura
document (the merchant's Stripe account has other business too), an unpaid Checkout Session
or a zero amount is `Ignored` (answered 2xx: providers send many events and retry on errors).
Errors: a body over MAX_BODY_BYTES `PayloadTooLarge`; missing or wrong signature headers
`VerificationFailed` (400); a body that is not a JSON object `MalformedInput` (400); a
supported event with unusable data (no document, a bad amount or currency) `ValidationFailed`
(422).

Minor units (Stripe amounts are integers in the currency's minor unit): Stripe's own table,
which is ISO 4217's except that Stripe keeps ISK two-decimal (amounts divisible by 100) and
treats MGA as zero-decimal. pycountry has no exponents, so both tables below list only the
currencies whose exponent is not 2.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from enum import StrEnum
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict
from standardwebhooks import Webhook, WebhookVerificationError

from billing.domain.documents import hashcode_tenant
from billing.domain.errors import MalformedInput, ValidationFailed
from billing.domain.money import MAX_INTEGER_DIGITS, decimal_places, parse_decimal
from billing.domain.reference_data import known_currency


class Provider(StrEnum):
    STANDARD = "standard"
    STRIPE = "stripe"

    @property
    def label(self) -> str:
        return "Standard Webhooks" if self is Provider.STANDARD else "Stripe"


PROVIDERS: Final = tuple(p.value for p in Provider)
MAX_BODY_BYTES: Final = 64 * 1024
"""Provider events are a few KiB; anything larger is refused before it is read further."""
STRIPE_TOLERANCE_SECONDS: Final = 300
MAX_EVENT_ID: Final = 200
STANDARD_PAYMENT_SUCCEEDED: Final = "payment.succeeded"
STRIPE_PAYMENT_INTENT_SUCCEEDED: Final = "payment_intent.succeeded"
STRIPE_CHECKOUT_EVENTS: Final = ("checkout.session.completed", "checkout.session.async_payment_succeeded")
DOCUMENT_FIELDS: Final = ("invoice_id", "proforma_invoice_id", "hashcode")

ISO_4217_EXPONENTS: Final[Mapping[str, int]] = {
    **dict.fromkeys(
        (
            *("BIF", "CLP", "DJF", "GNF", "ISK", "JPY", "KMF", "KRW", "PYG"),
            *("RWF", "UGX", "UYI", "VND", "VUV", "XAF", "XOF", "XPF"),
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "IQD", "JOD", "KWD", "LYD", "OMR", "TND"), 3),
    **dict.fromkeys(("CLF", "UYW"), 4),
}
"""ISO 4217 minor-unit exponents that are not 2 (every other currency has 2)."""

STRIPE_EXPONENTS: Final[Mapping[str, int]] = {
    **dict.fromkeys(
        (
            *("BIF", "CLP", "DJF", "GNF", "JPY", "KMF", "KRW", "MGA"),
            *("PYG", "RWF", "UGX", "VND", "VUV", "XAF", "XOF", "XPF"),
        ),
        0,
    ),
    **dict.fromkeys(("BHD", "JOD", "KWD", "OMR", "TND"), 3),
}
"""Stripe's zero- and three-decimal currencies (https://docs.stripe.com/currencies); every other
currency is two-decimal in Stripe's API, ISK, HUF and TWD included."""


# -- errors ----------------------------------------------------------------------------------------


class VerificationFailed(MalformedInput):
    """Missing, malformed or non-matching signature headers, or a timestamp out of tolerance."""


class PayloadTooLarge(MalformedInput):
    """A body over MAX_BODY_BYTES (answered 413)."""


# -- the queue message -------------------------------------------------------------------------------


class PaymentEvent(BaseModel):
    """A verified payment, normalized: the PaymentEventsQueue message."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    v: Literal[1] = 1
    tenant_id: int
    provider: Provider
    event_id: str
    """The provider's id of the payment (Standard: data.id; Stripe: the PaymentIntent id)."""
    event_type: str
    delivery_id: str | None = None
    """The provider's id of the notification (`webhook-id`, Stripe's `evt_…`), for the logs."""
    invoice_id: int | None = None
    proforma_invoice_id: int | None = None
    hashcode: str | None = None
    amount: Decimal
    """In major units of `currency` (238.00 RON, 5000 JPY)."""
    currency: str
    """ISO 4217 code, upper case."""
    paid_at: datetime
    received_at: datetime

    @property
    def provider_event_id(self) -> str:
        """What register_payment deduplicates on: `<provider>:<event id>`."""
        return f"{self.provider.value}:{self.event_id}"

    def to_body(self) -> str:
        return self.model_dump_json()


@dataclass(frozen=True)
class Ignored:
    """A verified event that registers nothing (answered 2xx so the provider stops sending it)."""

    reason: str


# -- providers and tenants in the URL -------------------------------------------------------------


def provider_named(name: str) -> Provider | None:
    try:
        return Provider(name)
    except ValueError:
        return None


def tenant_from_path(text: str) -> int | None:
    """A tenant id as the URL carries it: 1 to 19 ASCII digits, not 0."""
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) == 0:
        return None
    return int(text)


def check_body_size(body: str | None, base64_encoded: bool) -> None:
    """Refuse an oversized body from the length API Gateway gives, before decoding it."""
    length = len(body or "")
    if base64_encoded:
        length = length * 3 // 4
    if length > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")


# -- signatures ----------------------------------------------------------------------------------


def verify_standard(body: bytes, headers: Mapping[str, str], signing_secrets: Sequence[str]) -> None:
    """Standard Webhooks, with the `standardwebhooks` library (its 5-minute tolerance). Any of
    `signing_secrets` (the current one and, during a rotation's overlap, the previous) may match."""
    lowered = {key.lower(): value for key, value in headers.items()}
    missing = [
        name for name in ("webhook-id", "webhook-timestamp", "webhook-signature") if not lowered.get(name)
    ]
    if missing:
        raise VerificationFailed(f"missing signature header(s): {', '.join(missing)}")
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError:
        raise VerificationFailed("the body is not UTF-8 text") from None
    reason = "no signing secret"
    for secret in signing_secrets:
        try:
            Webhook(secret).verify(text, lowered, json_parse=False)
            return
        except WebhookVerificationError as error:
            reason = str(error)
        except (ValueError, OverflowError):  # a signature entry that is not `v1,<base64>`
            reason = "malformed webhook-signature header"
    raise VerificationFailed(f"signature verification failed: {reason}")


def stripe_signature(secret: str, timestamp: int, body: bytes) -> str:
    """The v1 signature Stripe sends: hex HMAC-SHA256 over `<timestamp>.<body>`, keyed with the
    signing secret's text as it is (the `whsec_` prefix included)."""
    return hmac.new(secret.encode(), f"{timestamp}.".encode() + body, hashlib.sha256).hexdigest()


def stripe_signature_header(secret: str, timestamp: int, body: bytes) -> str:
    """A `Stripe-Signature` value (tests, samples and the local demo sign with it)."""
    return f"t={timestamp},v1={stripe_signature(secret, timestamp, body)}"


def parse_stripe_header(header: str) -> tuple[int, list[str]]:
    """`t=…,v1=…,v1=…,v0=…` -> (t, the v1 signatures). Other schemes are ignored."""
    timestamp: str | None = None
    signatures: list[str] = []
    for item in header.split(","):
        key, sep, value = item.strip().partition("=")
        if not sep:
            continue
        if key == "t" and timestamp is None:
            timestamp = value
        elif key == "v1" and value:
            signatures.append(value)
    if timestamp is None or not timestamp.isascii() or not timestamp.isdigit() or len(timestamp) > 12:
        raise VerificationFailed("Stripe-Signature has no valid timestamp (t=…)")
    if not signatures:
        raise VerificationFailed("Stripe-Signature has no v1 signature")
    return int(timestamp), signatures


def verify_stripe(
    body: bytes,
    header: str | None,
    signing_secrets: Sequence[str],
    *,
    now: float,
    tolerance: int = STRIPE_TOLERANCE_SECONDS,
) -> None:
    """Check a `Stripe-Signature` header: some v1 signature made with one of `signing_secrets`
    (constant-time comparisons), then a timestamp within `tolerance` seconds of `now`."""
    if not header:
        raise VerificationFailed("missing signature header: Stripe-Signature")
    timestamp, signatures = parse_stripe_header(header)
    presented = [s.encode() for s in signatures]
    matched = False
    for secret in signing_secrets:
        expected = stripe_signature(secret, timestamp, body).encode()
        for candidate in presented:
            matched |= hmac.compare_digest(expected, candidate)
    if not matched:
        raise VerificationFailed("signature verification failed: no signature matches the payload")
    if timestamp < now - tolerance:
        raise VerificationFailed("signature verification failed: timestamp too old")
    if timestamp > now + tolerance:
        raise VerificationFailed("signature verification failed: timestamp too new")


# -- payloads ------------------------------------------------------------------------------------


def _refuse_constant(name: str) -> Any:
    raise MalformedInput(f"JSON constant {name} is not allowed")


def load_event(body: bytes) -> dict[str, Any]:
    """The body as a JSON object; numbers with a fraction are Decimal (never float)."""
    try:
        value = json.loads(body.decode("utf-8"), parse_float=Decimal, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as error:
        raise MalformedInput(f"malformed JSON: {error}") from None
    if not isinstance(value, dict):
        raise MalformedInput("the event must be a JSON object")
    return value


def iso_exponent(currency: str) -> int:
    return ISO_4217_EXPONENTS.get(currency.upper(), 2)


def stripe_exponent(currency: str) -> int:
    return STRIPE_EXPONENTS.get(currency.upper(), 2)


def from_minor_units(value: int, exponent: int) -> Decimal:
    """1999 with exponent 2 -> 19.99; 5000 JPY (0) -> 5000; 5120 KWD (3) -> 5.120."""
    return Decimal(value).scaleb(-exponent)


@dataclass(frozen=True)
class _DocumentRef:
    invoice_id: int | None = None
    proforma_invoice_id: int | None = None
    hashcode: str | None = None


def _record_id(value: Any) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value if 0 < value < 10**19 else None
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        number = int(value.strip())
        return number if 0 < number < 10**19 else None
    return None


def _document_ref(
    source: Mapping[str, Any], where: str, tenant_id: int, problems: list[str]
) -> _DocumentRef | None:
    """The one document a payment pays, from `invoice_id`, `proforma_invoice_id` or `hashcode`;
    None when none is given (problems get a sentence when what is given is unusable)."""
    given = [name for name in DOCUMENT_FIELDS if source.get(name) not in (None, "")]
    if not given:
        return None
    if len(given) > 1:
        problems.append(f"{where}: give one of {', '.join(DOCUMENT_FIELDS)}, not {' and '.join(given)}")
        return None
    (name,) = given
    value = source[name]
    if name == "hashcode":
        if not isinstance(value, str) or hashcode_tenant(value.strip()) != tenant_id:
            problems.append(f"{where}.hashcode is not a share code of this account")
            return None
        return _DocumentRef(hashcode=value.strip())
    record_id = _record_id(value)
    if record_id is None:
        problems.append(f"{where}.{name} must be a document id (a positive integer)")
        return None
    if name == "invoice_id":
        return _DocumentRef(invoice_id=record_id)
    return _DocumentRef(proforma_invoice_id=record_id)


def _currency(value: Any, field: str, problems: list[str]) -> str | None:
    if not isinstance(value, str | int) or isinstance(value, bool) or not str(value).strip():
        problems.append(f"{field} must be an ISO 4217 currency code")
        return None
    try:
        return known_currency(value, field).iso_name
    except ValidationFailed as error:
        problems.extend(error.messages)
        return None


def _event_id(value: Any, field: str, problems: list[str]) -> str | None:
    if not isinstance(value, str | int) or isinstance(value, bool):
        problems.append(f"{field} must be a string")
        return None
    text = str(value).strip()
    if not text or len(text) > MAX_EVENT_ID or not text.isascii() or not text.isprintable() or " " in text:
        problems.append(f"{field} must be 1 to {MAX_EVENT_ID} printable ASCII characters without spaces")
        return None
    return text


def _major_amount(value: Any, currency: str | None, field: str, problems: list[str]) -> Decimal | None:
    try:
        amount = parse_decimal(value, field)
    except ValidationFailed as error:
        problems.extend(error.messages if value is not None else [f"{field} is required"])
        return None
    if amount <= 0:
        problems.append(f"{field} must be greater than 0")
        return None
    if currency is not None and decimal_places(amount) > iso_exponent(currency):
        problems.append(f"{field} has more decimal places than {currency} has ({iso_exponent(currency)})")
        return None
    return amount


def _datetime(value: Any, field: str, problems: list[str]) -> datetime | None:
    if not isinstance(value, str):
        problems.append(f"{field} must be an ISO 8601 date-time")
        return None
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        problems.append(f"{field} must be an ISO 8601 date-time")
        return None
    return parsed.replace(tzinfo=UTC) if parsed.tzinfo is None else parsed.astimezone(UTC)


def _event_type(payload: Mapping[str, Any]) -> str:
    event_type = payload.get("type")
    if not isinstance(event_type, str) or not event_type.strip():
        raise MalformedInput("the event has no 'type'")
    return event_type.strip()


def parse_standard(
    payload: Mapping[str, Any], tenant_id: int, headers: Mapping[str, str], *, received_at: datetime
) -> PaymentEvent | Ignored:
    event_type = _event_type(payload)
    if event_type != STANDARD_PAYMENT_SUCCEEDED:
        return Ignored(
            f"event type {event_type[:80]!r} is not handled (Factura handles {STANDARD_PAYMENT_SUCCEEDED})"
        )
    data = payload.get("data")
    if not isinstance(data, dict):
        raise ValidationFailed("data must be an object")
    lowered = {key.lower(): value for key, value in headers.items()}
    problems: list[str] = []
    ref = _document_ref(data, "data", tenant_id, problems)
    if ref is None and not problems:
        problems.append(f"data must name the paid document: one of {', '.join(DOCUMENT_FIELDS)}")
    currency = _currency(data.get("currency"), "data.currency", problems)
    amount = _major_amount(data.get("amount"), currency, "data.amount", problems)
    event_id = _event_id(data.get("id") or lowered.get("webhook-id"), "data.id", problems)
    if data.get("paid_at") is None:
        paid_at: datetime | None = datetime.fromtimestamp(int(float(lowered["webhook-timestamp"])), UTC)
    else:
        paid_at = _datetime(data["paid_at"], "data.paid_at", problems)
    if problems or ref is None or currency is None or amount is None or event_id is None or paid_at is None:
        raise ValidationFailed(*problems)
    return PaymentEvent(
        tenant_id=tenant_id,
        provider=Provider.STANDARD,
        event_id=event_id,
        event_type=event_type,
        delivery_id=lowered.get("webhook-id"),
        invoice_id=ref.invoice_id,
        proforma_invoice_id=ref.proforma_invoice_id,
        hashcode=ref.hashcode,
        amount=amount,
        currency=currency,
        paid_at=paid_at,
        received_at=received_at,
    )


def parse_stripe(
    payload: Mapping[str, Any], tenant_id: int, *, received_at: datetime
) -> PaymentEvent | Ignored:
    event_type = _event_type(payload)
    if event_type != STRIPE_PAYMENT_INTENT_SUCCEEDED and event_type not in STRIPE_CHECKOUT_EVENTS:
        return Ignored(f"event type {event_type[:80]!r} is not handled")
    data = payload.get("data")
    obj = data.get("object") if isinstance(data, dict) else None
    if not isinstance(obj, dict):
        raise MalformedInput("the event has no data.object")
    metadata = obj.get("metadata") or {}
    if not isinstance(metadata, dict):
        raise ValidationFailed("data.object.metadata must be an object")
    problems: list[str] = []
    ref = _document_ref(metadata, "data.object.metadata", tenant_id, problems)
    if ref is None and not problems:
        return Ignored("the metadata names no Factura document (invoice_id, proforma_invoice_id or hashcode)")
    if event_type == STRIPE_PAYMENT_INTENT_SUCCEEDED:
        minor, minor_field = obj.get("amount_received"), "data.object.amount_received"
        payment_id: Any = obj.get("id")
    else:
        if obj.get("payment_status") != "paid":
            return Ignored(
                f"the checkout session is not paid (payment_status {str(obj.get('payment_status'))[:20]!r})"
            )
        minor, minor_field = obj.get("amount_total"), "data.object.amount_total"
        intent = obj.get("payment_intent")
        payment_id = (intent.get("id") if isinstance(intent, dict) else intent) or obj.get("id")
    event_id = _event_id(payment_id, "data.object.id", problems)
    currency = _currency(obj.get("currency"), "data.object.currency", problems)
    amount: Decimal | None = None
    if isinstance(minor, bool) or not isinstance(minor, int) or minor < 0:
        problems.append(f"{minor_field} must be a whole number of minor units")
    elif currency is not None:
        amount = from_minor_units(minor, stripe_exponent(currency))
        if amount.copy_abs() >= Decimal(10) ** MAX_INTEGER_DIGITS:
            problems.append(f"{minor_field} is too large")
    delivery_id = payload.get("id") if isinstance(payload.get("id"), str) else None
    if problems or ref is None or currency is None or amount is None or event_id is None:
        raise ValidationFailed(*problems)
    if amount == 0:
        return Ignored("nothing was paid (amount 0)")
    created = payload.get("created")
    paid_at = (
        datetime.fromtimestamp(created, UTC)
        if isinstance(created, int) and not isinstance(created, bool) and 0 < created < 10**11
        else received_at
    )
    return PaymentEvent(
        tenant_id=tenant_id,
        provider=Provider.STRIPE,
        event_id=event_id,
        event_type=event_type,
        delivery_id=delivery_id,
        invoice_id=ref.invoice_id,
        proforma_invoice_id=ref.proforma_invoice_id,
        hashcode=ref.hashcode,
        amount=amount,
        currency=currency,
        paid_at=paid_at,
        received_at=received_at,
    )


def verify_and_parse(
    provider: Provider,
    tenant_id: int,
    body: bytes,
    headers: Mapping[str, str],
    signing_secrets: Sequence[str],
    *,
    now: float,
) -> PaymentEvent | Ignored:
    """Verify the signature with the tenant's secrets, then read the event (see the module
    docstring for what each outcome and error means)."""
    if len(body) > MAX_BODY_BYTES:
        raise PayloadTooLarge(f"the body is larger than {MAX_BODY_BYTES} bytes")
    lowered = {key.lower(): value for key, value in headers.items()}
    if provider is Provider.STANDARD:
        verify_standard(body, lowered, signing_secrets)
    else:
        verify_stripe(body, lowered.get("stripe-signature"), signing_secrets, now=now)
    payload = load_event(body)
    received_at = datetime.fromtimestamp(now, UTC)
    if provider is Provider.STANDARD:
        return parse_standard(payload, tenant_id, lowered, received_at=received_at)
    return parse_stripe(payload, tenant_id, received_at=received_at)


# -- the merchant's secrets ------------------------------------------------------------------------

_SECRET_CHARS: Final = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/=_-")


def check_signing_secret(provider: Provider, secret: Any, field: str = "payment_provider.secret") -> str:
    """A secret the merchant brings (Stripe issues the endpoint's secret in its dashboard; a
    Standard Webhooks sender may issue its own): `whsec_…`, and for `standard` base64 of 24 to
    64 bytes as the specification requires."""
    if not isinstance(secret, str) or not secret.strip():
        raise ValidationFailed(f"{field} is required")
    text = secret.strip()
    body = text.removeprefix("whsec_")
    if body == text or not 16 <= len(body) <= 200 or not set(body) <= _SECRET_CHARS:
        raise ValidationFailed(f"{field} must be a signing secret: whsec_ followed by 16 to 200 characters")
    if provider is Provider.STANDARD:
        try:
            key = base64.b64decode(body + "=" * (-len(body) % 4), validate=True)
        except (binascii.Error, ValueError):
            key = b""
        if not 24 <= len(key) <= 64:
            raise ValidationFailed(f"{field} must be whsec_ followed by base64 of 24 to 64 bytes")
    return text
