"""Merchant callbacks: the payload, the queue message, the signature, and `enqueue_event`, which
the rest of the system calls when something a merchant may subscribe to happens.

Payload (Standard Webhooks shape; the body of the POST, signed as sent):

    {"type": "payment.online_registered", "timestamp": "2025-01-31T10:00:00.123Z",
     "data": {"invoice": {…}, "payment": {…}}}

`data` holds already-rendered v1 representations (the JSON the API would answer), so a callback
shows an invoice exactly as GET /api/v1/invoices/<id>.json does. Decimals are written as strings
("12.5"), datetimes as ISO 8601 UTC, as in every v1 JSON body.

One message per subscribed, enabled endpoint goes on the CallbacksQueue. Each message carries a
`webhook_id` (`msg_<32 hex>`) that is the `webhook-id` header of every attempt, of every retry and
of a replay: receivers de-duplicate on it. Given an `event_id` (the payment id, the provider's
event id, …) the webhook id is derived from it, so an event enqueued twice by a retried caller
reaches the receiver with the same webhook id both times."""

from __future__ import annotations

import hashlib
import secrets
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any, Final, Literal

from pydantic import BaseModel, ConfigDict
from standardwebhooks import Webhook

from billing.config import settings
from billing.domain.records import utc_now
from billing.domain.webhooks import EVENT_TYPES
from billing.store.aws import client
from billing.store.webhooks import webhook_endpoints
from billing.wire.jsonio import render_json

MAX_BODY_BYTES: Final = 200_000
"""SQS takes 256 KiB per message; the payload must fit with the message's other fields."""
_SEND_BATCH: Final = 10


class CallbackMessage(BaseModel):
    """What the dispatcher receives: everything needed to sign and POST one callback."""

    model_config = ConfigDict(frozen=True, extra="ignore")

    v: Literal[1] = 1
    webhook_id: str
    tenant_id: int
    endpoint_id: int
    event_type: str
    body: str
    """The exact JSON text that is signed and POSTed (stable across retries)."""
    enqueued_at: float
    """Epoch seconds when the callback was first enqueued; the retry budget counts from here."""
    chained: bool = False
    """A copy requeued for a long wait (see billing.payments.retry); it makes one attempt."""
    attempts_before: int = 0
    not_before: float | None = None
    replay: bool = False

    def to_body(self) -> str:
        return self.model_dump_json(exclude_defaults=False)


# -- pure parts ----------------------------------------------------------------------------------


def payment_callback_data(invoice: Mapping[str, Any], payment: Mapping[str, Any]) -> dict[str, Any]:
    """`data` of a payment event (§8: "the details of the invoice and the payment")."""
    return {"invoice": dict(invoice), "payment": dict(payment)}


def check_event_type(event_type: str) -> str:
    if event_type not in EVENT_TYPES:
        raise ValueError(f"unknown webhook event type {event_type!r}; known: {', '.join(EVENT_TYPES)}")
    return event_type


def build_payload(event_type: str, data: Mapping[str, Any], *, occurred_at: datetime | None = None) -> str:
    """The callback body, as the JSON text that will be signed and sent."""
    check_event_type(event_type)
    when = (occurred_at or utc_now()).astimezone(UTC)
    timestamp = when.strftime("%Y-%m-%dT%H:%M:%S.") + f"{when.microsecond // 1000:03d}Z"
    body = render_json({"type": event_type, "timestamp": timestamp, "data": dict(data)}).decode()
    if len(body.encode()) > MAX_BODY_BYTES:
        raise ValueError(f"callback payload of {len(body)} bytes exceeds {MAX_BODY_BYTES}")
    return body


def new_webhook_id(tenant_id: int, endpoint_id: int, event_type: str, event_id: str | None = None) -> str:
    """`msg_<32 hex>`: random, or derived from (tenant, endpoint, event type, event id)."""
    if event_id is None:
        return "msg_" + secrets.token_hex(16)
    digest = hashlib.sha256(
        f"{tenant_id}\x1f{endpoint_id}\x1f{event_type}\x1f{event_id}".encode()
    ).hexdigest()
    return "msg_" + digest[:32]


def signature_header(signing_secrets: Sequence[str], webhook_id: str, timestamp: int, body: str) -> str:
    """`webhook-signature`: one `v1,<base64>` per secret, space-separated (several while a
    rotation's overlap lasts; a receiver accepts if any one matches its secret)."""
    when = datetime.fromtimestamp(timestamp, UTC)
    return " ".join(Webhook(secret).sign(webhook_id, when, body) for secret in signing_secrets)


def webhook_headers(
    signing_secrets: Sequence[str], webhook_id: str, body: str, *, timestamp: int | None = None
) -> dict[str, str]:
    """The Standard Webhooks headers of one attempt (the timestamp is the attempt's)."""
    ts = int(time.time()) if timestamp is None else timestamp
    return {
        "webhook-id": webhook_id,
        "webhook-timestamp": str(ts),
        "webhook-signature": signature_header(signing_secrets, webhook_id, ts, body),
    }


def messages_for(
    tenant_id: int,
    endpoint_ids: Iterable[int],
    event_type: str,
    body: str,
    *,
    event_id: str | None = None,
    now: float | None = None,
) -> list[CallbackMessage]:
    enqueued_at = time.time() if now is None else now
    return [
        CallbackMessage(
            webhook_id=new_webhook_id(tenant_id, endpoint_id, event_type, event_id),
            tenant_id=tenant_id,
            endpoint_id=endpoint_id,
            event_type=event_type,
            body=body,
            enqueued_at=enqueued_at,
        )
        for endpoint_id in endpoint_ids
    ]


# -- queue -----------------------------------------------------------------------------------------


def send_messages(messages: Sequence[CallbackMessage], *, queue_url: str | None = None) -> None:
    """Put messages on the CallbacksQueue (batches of 10); raises if SQS refused any."""
    url = queue_url or settings().callbacks_queue_url
    if not url:
        raise RuntimeError("CALLBACKS_QUEUE_URL is not set")
    sqs = client("sqs")
    for start in range(0, len(messages), _SEND_BATCH):
        chunk = messages[start : start + _SEND_BATCH]
        response = sqs.send_message_batch(
            QueueUrl=url,
            Entries=[{"Id": str(i), "MessageBody": m.to_body()} for i, m in enumerate(chunk)],
        )
        if response.get("Failed"):
            failed = ", ".join(f"{f.get('Code')}: {f.get('Message')}" for f in response["Failed"])
            raise RuntimeError(f"SQS refused callback messages: {failed}")


def enqueue_event(
    tenant_id: int,
    event_type: str,
    data: Mapping[str, Any],
    *,
    event_id: str | None = None,
    occurred_at: datetime | None = None,
) -> list[str]:
    """Queue a callback of `event_type` with `data` to every enabled endpoint of the tenant that
    subscribes to it. Returns the webhook ids queued (empty when nobody subscribes).

    `data` holds rendered v1 representations, e.g. `payment_callback_data(invoice, payment)`.
    Pass `event_id` (stable for the event, e.g. the payment id) when the caller may run twice for
    the same event, so that both runs give the receiver the same webhook id.

    Needs: DynamoDB read of the table, sqs:SendMessage on CallbacksQueue, CALLBACKS_QUEUE_URL."""
    check_event_type(event_type)
    endpoints = [e for e in webhook_endpoints.all(tenant_id) if e.subscribes(event_type)]
    if not endpoints:
        return []
    body = build_payload(event_type, data, occurred_at=occurred_at)
    messages = messages_for(tenant_id, [e.id for e in endpoints], event_type, body, event_id=event_id)
    send_messages(messages)
    return [m.webhook_id for m in messages]
