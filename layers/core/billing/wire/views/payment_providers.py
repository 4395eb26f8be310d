"""v1 representation of a tenant's payment provider (the inbound webhooks' signing secret). The
secret itself is only ever part of the answer to a POST that generated it."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from billing.payments.providers import Provider
from billing.store.webhooks import SigningSecrets


def payment_provider(
    provider: Provider,
    signing: SigningSecrets | None,
    webhook_url: str,
    *,
    now: float,
    secret: str | None = None,
) -> dict[str, Any]:
    expires = signing.previous_expires_at if signing is not None and signing.previous else None
    data: dict[str, Any] = {
        "provider": provider.value,
        "configured": signing is not None,
        "webhook_url": webhook_url,
        "previous_secret_expires_at": (
            datetime.fromtimestamp(expires, UTC) if expires is not None and expires > now else None
        ),
    }
    if secret is not None:
        data["secret"] = secret
    return data
