"""v1 representations of webhook endpoints, delivery attempts and replays. A signing secret is
only ever part of the answer to a create or a rotation."""

from __future__ import annotations

from typing import Any

from billing.domain.webhooks import WebhookDelivery, WebhookEndpoint
from billing.payments.callbacks import CallbackMessage
from billing.wire.xml import XmlArray


def endpoint(record: WebhookEndpoint, *, secret: str | None = None) -> dict[str, Any]:
    data: dict[str, Any] = {
        "id": record.id,
        "url": record.url,
        "event_types": XmlArray(list(record.event_types), "event_type"),
        "description": record.description,
        "enabled": record.enabled,
        "disabled_reason": record.disabled_reason,
        "previous_secret_expires_at": record.previous_secret_expires_at,
        "created_at": record.created_at,
        "updated_at": record.updated_at,
    }
    if secret is not None:
        data["secret"] = secret
    return dict(sorted(data.items()))


def delivery(record: WebhookDelivery) -> dict[str, Any]:
    return {
        "id": record.id,
        "webhook_id": record.webhook_id,
        "endpoint_id": record.endpoint_id,
        "event_type": record.event_type,
        "url": record.url,
        "attempt": record.attempt,
        "outcome": record.outcome.value,
        "status_code": record.status_code,
        "latency_ms": record.latency_ms,
        "error": record.error,
        "next_attempt_at": record.next_attempt_at,
        "replay": record.replay,
        "created_at": record.created_at,
    }


def replay(message: CallbackMessage, delivery_id: int) -> dict[str, Any]:
    return {
        "webhook_id": message.webhook_id,
        "endpoint_id": message.endpoint_id,
        "event_type": message.event_type,
        "replay_of": delivery_id,
        "status": "queued",
    }
