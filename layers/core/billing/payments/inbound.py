"""Receiving a payment provider's webhook (what `POST /webhooks/payments/{provider}/{tenant_id}`
does below HTTP): find the tenant's secret, verify, read, and put a verified payment on the
PaymentEventsQueue. Nothing is enqueued unless the answer is 2xx; the processor
(`billing.payments.processor`) does the registering, so the provider gets its answer fast.

Unknown provider, malformed tenant id, unknown tenant and a tenant without that provider
configured all get the same 404, so the URL reveals nothing about which tenants exist.

Needs: secretsmanager:GetSecretValue under PROVIDER_SECRETS_PREFIX, sqs:SendMessage on the
PaymentEventsQueue (PAYMENT_EVENTS_QUEUE_URL). No DynamoDB access."""

from __future__ import annotations

import base64
import binascii
import time
from collections.abc import Mapping
from typing import Any, Final

from aws_lambda_powertools import Logger

from billing.config import settings
from billing.domain.errors import MalformedInput, NotFound
from billing.payments.providers import (
    Ignored,
    PaymentEvent,
    Provider,
    VerificationFailed,
    check_body_size,
    provider_named,
    tenant_from_path,
    verify_and_parse,
)
from billing.store.aws import client
from billing.store.provider_secrets import REFRESH_AFTER_SECONDS, ProviderSecrets, provider_secrets

logger = Logger()

NO_ENDPOINT: Final = "no payment webhook endpoint at this URL"


def decode_body(body: str | None, base64_encoded: bool) -> bytes:
    """The raw bytes the provider sent (API Gateway base64-encodes binary media types)."""
    check_body_size(body, base64_encoded)
    if not body:
        return b""
    if not base64_encoded:
        return body.encode("utf-8")
    try:
        return base64.b64decode(body, validate=True)
    except (binascii.Error, ValueError):
        raise MalformedInput("the body is not valid base64") from None


def enqueue(event: PaymentEvent, *, queue_url: str | None = None) -> None:
    url = queue_url or settings().payment_events_queue_url
    if not url:
        raise RuntimeError("PAYMENT_EVENTS_QUEUE_URL is not set")
    client("sqs").send_message(QueueUrl=url, MessageBody=event.to_body())


def receive(
    provider_name: str,
    tenant_ref: str,
    headers: Mapping[str, str],
    body: str | None,
    *,
    base64_encoded: bool = False,
    now: float | None = None,
    secrets_store: ProviderSecrets | None = None,
) -> dict[str, Any]:
    """Verify and enqueue one provider event; returns the 2xx answer's body. Raises
    PayloadTooLarge (413), NotFound (404), VerificationFailed / MalformedInput (400) or
    ValidationFailed (422), having enqueued nothing."""
    raw = decode_body(body, base64_encoded)
    provider = provider_named(provider_name)
    tenant_id = tenant_from_path(tenant_ref)
    if provider is None or tenant_id is None:
        raise NotFound(NO_ENDPOINT)
    store = secrets_store or provider_secrets
    signing, age = store.signing(tenant_id, provider.value)
    if signing is None:
        raise NotFound(NO_ENDPOINT)
    at = time.time() if now is None else now
    try:
        outcome = verify_and_parse(provider, tenant_id, raw, headers, signing.valid(at), now=at)
    except VerificationFailed:
        if age < REFRESH_AFTER_SECONDS:
            _log_refused(provider, tenant_id)
            raise
        fresh, _ = store.signing(tenant_id, provider.value, refresh=True)  # rotated meanwhile?
        if fresh is None:
            raise NotFound(NO_ENDPOINT) from None
        try:
            outcome = verify_and_parse(provider, tenant_id, raw, headers, fresh.valid(at), now=at)
        except VerificationFailed:
            _log_refused(provider, tenant_id)
            raise
    if isinstance(outcome, Ignored):
        logger.info(
            "provider event ignored", provider=provider.value, tenant_id=tenant_id, reason=outcome.reason
        )
        return {"received": True, "queued": False, "ignored": outcome.reason}
    enqueue(outcome)
    logger.info(
        "provider event queued",
        provider=provider.value,
        tenant_id=tenant_id,
        provider_event_id=outcome.provider_event_id,
        delivery_id=outcome.delivery_id,
    )
    return {"received": True, "queued": True, "provider_event_id": outcome.provider_event_id}


def _log_refused(provider: Provider, tenant_id: int) -> None:
    logger.warning("provider event refused: signature", provider=provider.value, tenant_id=tenant_id)
