"""Webhook endpoints (where a merchant receives callbacks) and the delivery log.

An endpoint subscribes to event types; `payment.online_registered` is the reference's "Callback
URL" (§8: the invoice and the payment, POSTed after an online payment is registered). Its signing
secret is not part of the record: it lives in Secrets Manager (`billing.store.webhooks`), and is
shown to the merchant only when created or rotated.

Wire fields of an endpoint: url, event_types, description, enabled; read-only: id,
disabled_reason (why it was disabled: by the merchant, or by a receiver answering 410 Gone),
previous_secret_expires_at (until when the secret replaced by the last rotation still signs),
created_at, updated_at. A read-only field sent back is ignored, so a GET can be sent back with
PUT. Setting `enabled` to true clears `disabled_reason`.

`event_types` may be sent as a list (JSON, `<event_types type="array"><event_type>…`,
`webhook_endpoint[event_types][]=…`) or as one comma-separated string."""

from __future__ import annotations

import base64
import secrets
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any, Final

from pydantic import BeforeValidator, Field, StringConstraints
from pydantic_core import PydanticCustomError

from billing.domain.records import Record, WritePayload


class EventType(StrEnum):
    PAYMENT_ONLINE_REGISTERED = "payment.online_registered"
    PAYMENT_REGISTERED = "payment.registered"
    DOCUMENT_ISSUED = "document.issued"
    DOCUMENT_STATE_CHANGED = "document.state_changed"


EVENT_TYPES: Final = tuple(e.value for e in EventType)
READ_ONLY_FIELDS: Final = frozenset(
    {"id", "created_at", "updated_at", "disabled_reason", "previous_secret_expires_at", "secret"}
)
MAX_ENDPOINTS_PER_TENANT: Final = 20
DELIVERY_LOG_DAYS: Final = 30


class WebhookEndpoint(Record):
    url: str
    event_types: list[str]
    description: str = ""
    enabled: bool = True
    disabled_reason: str | None = None
    secret_version: int = 1
    """Bumped by every rotation, so signers caching the secret know to read it again."""
    previous_secret_expires_at: datetime | None = None

    def subscribes(self, event_type: str) -> bool:
        return self.enabled and event_type in self.event_types


class Outcome(StrEnum):
    DELIVERED = "delivered"
    FAILED = "failed"
    """Failed; another attempt is scheduled (`next_attempt_at`)."""
    EXHAUSTED = "exhausted"
    """Failed, and it was the last attempt: the callback went to the dead-letter queue."""
    GONE = "gone"
    """The receiver answered 410 Gone: the endpoint was disabled, no retry."""
    SKIPPED = "skipped"
    """Not sent: the endpoint was disabled or deleted before this attempt."""


class WebhookDelivery(Record):
    """One attempt to deliver one callback (`webhook_id`) to one endpoint. Kept DELIVERY_LOG_DAYS
    (`expires_at` is the table's TTL attribute). `body` is the exact JSON that was signed, so a
    replay sends the same bytes under the same webhook id."""

    webhook_id: str
    endpoint_id: int
    event_type: str
    url: str
    attempt: int
    outcome: Outcome
    status_code: int | None = None
    latency_ms: int | None = None
    error: str | None = None
    next_attempt_at: datetime | None = None
    replay: bool = False
    body: str
    expires_at: int


# -- write payloads ----------------------------------------------------------------------------


def parse_event_types(value: Any) -> list[str]:
    """Event types from any wire form, de-duplicated, each one known."""
    if isinstance(value, str):
        items: list[Any] = [part for part in value.split(",") if part.strip()]
    elif isinstance(value, list):
        items = value
    elif isinstance(value, dict) and value and all(str(k).isdigit() for k in value):
        items = [value[k] for k in sorted(value, key=int)]
    elif isinstance(value, dict) and len(value) == 1:  # <event_types><event_type>…</event_type>…
        (inner,) = value.values()
        items = inner if isinstance(inner, list) else [inner]
    else:
        raise PydanticCustomError("event_types", "must be a list of event types")
    result: list[str] = []
    for item in items:
        if not isinstance(item, str) or item.strip() not in EVENT_TYPES:
            raise PydanticCustomError(
                "event_types",
                "'{item}' is not an event type (known: {known})",
                {"item": str(item)[:60], "known": ", ".join(EVENT_TYPES)},
            )
        if item.strip() not in result:
            result.append(item.strip())
    if not result:
        raise PydanticCustomError("event_types", "must name at least one event type")
    return result


EventTypes = Annotated[list[str], BeforeValidator(parse_event_types)]
Url = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=2000)]
Description = Annotated[
    str,
    BeforeValidator(lambda value: "" if value is None else value),
    StringConstraints(strip_whitespace=True, max_length=255),
]


class WebhookEndpointUpdate(WritePayload):
    """Modify: every field optional; the URL is checked against the address policy by the
    service (`billing.payments.webhooks`), which needs DNS."""

    url: Url = ""
    event_types: EventTypes = Field(default_factory=list)
    description: Description = ""
    enabled: bool = True

    read_only_fields = READ_ONLY_FIELDS


class WebhookEndpointCreate(WebhookEndpointUpdate):
    url: Url
    event_types: EventTypes


SECRET_PREFIX: Final = "whsec_"
SECRET_BYTES: Final = 32


def new_signing_secret() -> str:
    """A Standard Webhooks secret: `whsec_` + base64 of 32 random bytes."""
    return SECRET_PREFIX + base64.b64encode(secrets.token_bytes(SECRET_BYTES)).decode()
