"""Managing webhook endpoints and replaying deliveries (what the v1 routes of the webhooks
function do, below HTTP). The dispatcher uses `disable_endpoint`."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any, Final

from aws_lambda_powertools import Logger

from billing.domain.errors import ValidationFailed
from billing.domain.records import utc_now
from billing.domain.webhooks import MAX_ENDPOINTS_PER_TENANT, WebhookEndpoint
from billing.payments.callbacks import CallbackMessage, send_messages
from billing.payments.config import webhook_settings
from billing.payments.urls import AddressRefused, check_webhook_url
from billing.store.webhooks import webhook_deliveries, webhook_endpoints, webhook_secrets

logger = Logger()

DEFAULT_OVERLAP_SECONDS: Final = 24 * 3600
MAX_OVERLAP_SECONDS: Final = 7 * 24 * 3600
DISABLED_BY_MERCHANT: Final = "disabled through the API"


def check_url(url: str) -> None:
    try:
        check_webhook_url(url, allow_loopback=webhook_settings().allow_loopback)
    except AddressRefused as refused:
        raise ValidationFailed(*(f"webhook_endpoint.url: {m}" for m in refused.messages)) from None


def create_endpoint(tenant_id: int, fields: dict[str, Any]) -> tuple[WebhookEndpoint, str]:
    """Store a new endpoint and its signing secret; returns both (the secret is shown once)."""
    check_url(fields["url"])
    if len(webhook_endpoints.all(tenant_id)) >= MAX_ENDPOINTS_PER_TENANT:
        raise ValidationFailed(f"at most {MAX_ENDPOINTS_PER_TENANT} webhook endpoints per account")
    if fields.get("enabled") is False:
        fields = {**fields, "disabled_reason": DISABLED_BY_MERCHANT}
    record = webhook_endpoints.insert(tenant_id, lambda new_id: WebhookEndpoint(id=new_id, **fields))
    try:
        secret = webhook_secrets.create(tenant_id, record.id)
    except Exception:
        webhook_endpoints.delete(tenant_id, record.id)
        raise
    return record, secret


def update_endpoint(tenant_id: int, endpoint_id: int, changes: dict[str, Any]) -> WebhookEndpoint:
    if "url" in changes:
        check_url(changes["url"])
    if "enabled" in changes:
        current = webhook_endpoints.get(tenant_id, endpoint_id)
        if changes["enabled"]:
            changes = {**changes, "disabled_reason": None}
        elif current.enabled:
            changes = {**changes, "disabled_reason": DISABLED_BY_MERCHANT}
    return webhook_endpoints.update(tenant_id, endpoint_id, changes)


def disable_endpoint(tenant_id: int, endpoint_id: int, reason: str) -> None:
    """Stop deliveries to an endpoint (the receiver answered 410 Gone)."""
    webhook_endpoints.update(tenant_id, endpoint_id, {"enabled": False, "disabled_reason": reason})
    logger.info("webhook endpoint disabled", tenant_id=tenant_id, endpoint_id=endpoint_id, reason=reason)


def rotate_secret(
    tenant_id: int, endpoint_id: int, overlap_seconds: int = DEFAULT_OVERLAP_SECONDS
) -> tuple[WebhookEndpoint, str]:
    """A new signing secret (returned, shown once). The previous one keeps signing, beside the new
    one, for `overlap_seconds`, so receivers can switch without losing callbacks; 0 revokes it at
    once (a leaked secret)."""
    if not 0 <= overlap_seconds <= MAX_OVERLAP_SECONDS:
        raise ValidationFailed(f"overlap_seconds must be from 0 to {MAX_OVERLAP_SECONDS}")
    endpoint = webhook_endpoints.get(tenant_id, endpoint_id)
    rotated = webhook_secrets.rotate(tenant_id, endpoint_id, overlap_seconds=overlap_seconds, now=time.time())
    expires = rotated.previous_expires_at
    record = webhook_endpoints.update(
        tenant_id,
        endpoint_id,
        {
            "secret_version": endpoint.secret_version + 1,
            "previous_secret_expires_at": datetime.fromtimestamp(expires, UTC) if expires else None,
        },
    )
    return record, rotated.current


def delete_endpoint(tenant_id: int, endpoint_id: int) -> WebhookEndpoint:
    record = webhook_endpoints.get(tenant_id, endpoint_id)
    webhook_endpoints.delete(tenant_id, endpoint_id)
    try:
        webhook_secrets.delete(tenant_id, endpoint_id)
    except Exception:  # the endpoint is gone; an orphan secret signs nothing
        logger.exception("could not delete the signing secret", tenant_id=tenant_id, endpoint_id=endpoint_id)
    return record


def replay_delivery(tenant_id: int, delivery_id: int) -> CallbackMessage:
    """Queue the callback of a logged attempt again: same body, same webhook id, a fresh retry
    schedule. The endpoint must still exist and be enabled."""
    delivery = webhook_deliveries.get(tenant_id, delivery_id)
    endpoint = webhook_endpoints.find(tenant_id, delivery.endpoint_id)
    if endpoint is None:
        raise ValidationFailed(
            f"webhook endpoint {delivery.endpoint_id} was deleted; there is nothing to replay to"
        )
    if not endpoint.enabled:
        raise ValidationFailed(
            f"webhook endpoint {endpoint.id} is disabled ({endpoint.disabled_reason or 'no reason'}); "
            "enable it before replaying"
        )
    message = CallbackMessage(
        webhook_id=delivery.webhook_id,
        tenant_id=tenant_id,
        endpoint_id=endpoint.id,
        event_type=delivery.event_type,
        body=delivery.body,
        enqueued_at=utc_now().timestamp(),
        replay=True,
    )
    send_messages([message])
    return message
