"""Settings of webhook delivery, read from the environment once per container (never at import
time), beside `billing.config.Settings` (which has CALLBACKS_QUEUE_URL)."""

from __future__ import annotations

import os
from functools import lru_cache

from pydantic import BaseModel, ConfigDict

LOCAL_STAGE = "local"


class WebhookSettings(BaseModel):
    model_config = ConfigDict(frozen=True)

    secrets_prefix: str
    """Name prefix of the endpoints' signing secrets in Secrets Manager; the functions' IAM
    policies are scoped to it (template.yaml: WEBHOOK_SECRETS_PREFIX)."""
    allow_loopback: bool = False
    """Whether callback URLs may point at this machine (http://127.0.0.1:…). Only ever true in
    the local runtime: it needs STAGE=local *and* ALLOW_LOOPBACK_WEBHOOKS=true, which the local
    runtime sets and the template never does."""
    dead_letter_queue_url: str = ""
    """CALLBACKS_DLQ_URL: where the dispatcher puts callbacks whose retries are used up."""
    provider_secrets_prefix: str = ""
    """Name prefix of the payment providers' signing secrets (inbound webhooks) in Secrets
    Manager, beside the endpoints' but under their own prefix so the public provider-webhooks
    function can read them and nothing else (template.yaml: PROVIDER_SECRETS_PREFIX)."""
    payment_events_dlq_url: str = ""
    """PAYMENT_EVENTS_DLQ_URL: where the payment processor puts events it can never register."""


@lru_cache(maxsize=1)
def webhook_settings() -> WebhookSettings:
    env = os.environ
    stage = env.get("STAGE", "dev")
    return WebhookSettings(
        secrets_prefix=env.get("WEBHOOK_SECRETS_PREFIX") or f"factura/{stage}/webhooks/",
        allow_loopback=stage == LOCAL_STAGE
        and env.get("ALLOW_LOOPBACK_WEBHOOKS", "").strip().lower() in ("1", "true"),
        dead_letter_queue_url=env.get("CALLBACKS_DLQ_URL", ""),
        provider_secrets_prefix=env.get("PROVIDER_SECRETS_PREFIX") or f"factura/{stage}/payment-providers/",
        payment_events_dlq_url=env.get("PAYMENT_EVENTS_DLQ_URL", ""),
    )
