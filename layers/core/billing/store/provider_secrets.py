"""The payment providers' signing secrets of each tenant (inbound webhooks), stored the way the
webhook endpoints' secrets are (`billing.store.webhooks`): one Secrets Manager secret per tenant
and provider, named `<PROVIDER_SECRETS_PREFIX><tenant>/<provider>` (default prefix
`factura/<stage>/payment-providers/`), holding the same JSON,
`{"current": "whsec_…", "previous": "whsec_…" | null, "previous_expires_at": <epoch> | null}`.
Nothing secret is written to DynamoDB.

A tenant has a provider configured when its secret exists. The public provider-webhooks
function may only read these secrets; the payment-providers function (the merchant's v1
resource) creates, replaces and deletes them. Readers that verify many events use `signing`,
which caches a secret for SECRET_CACHE_SECONDS; the verifier re-reads it once when a signature
does not match a cached value older than REFRESH_AFTER_SECONDS (a rotation made elsewhere)."""

from __future__ import annotations

import threading
import time
from typing import Any, Final

from botocore.exceptions import ClientError

from billing.domain.webhooks import new_signing_secret
from billing.payments.config import webhook_settings
from billing.store.aws import client
from billing.store.webhooks import SigningSecrets

SECRET_CACHE_SECONDS: Final = 300
REFRESH_AFTER_SECONDS: Final = 10


class ProviderSecrets:
    def __init__(self, prefix: str | None = None) -> None:
        self._prefix = prefix
        self._cache: dict[tuple[int, str], tuple[float, SigningSecrets]] = {}
        self._lock = threading.Lock()

    @property
    def prefix(self) -> str:
        return self._prefix if self._prefix is not None else webhook_settings().provider_secrets_prefix

    def name(self, tenant_id: int, provider: str) -> str:
        return f"{self.prefix}{tenant_id}/{provider}"

    @property
    def _sm(self) -> Any:
        return client("secretsmanager")

    def read(self, tenant_id: int, provider: str) -> SigningSecrets | None:
        try:
            value = self._sm.get_secret_value(SecretId=self.name(tenant_id, provider))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                return None
            raise
        return SigningSecrets.from_json(value["SecretString"])

    def create(self, tenant_id: int, provider: str, secret: str | None = None) -> str:
        """Store a first secret (a new one unless given); raises ClientError
        ResourceExistsException when the provider is already configured."""
        secret = secret or new_signing_secret()
        self._sm.create_secret(
            Name=self.name(tenant_id, provider),
            Description=f"Factura: signing secret of the tenant's {provider} payment webhooks",
            SecretString=SigningSecrets(current=secret).to_json(),
        )
        self.forget(tenant_id, provider)
        return secret

    def replace(
        self, tenant_id: int, provider: str, *, secret: str | None, overlap_seconds: int, now: float
    ) -> tuple[SigningSecrets, bool]:
        """Make `secret` (a new one when None) current; the one it replaces still verifies for
        `overlap_seconds` (0: not at all). Creates the secret when the provider was not
        configured. Returns the secrets and whether they were created."""
        old = self.read(tenant_id, provider)
        if old is None:
            try:
                return SigningSecrets(current=self.create(tenant_id, provider, secret)), True
            except ClientError as exc:  # created meanwhile by a concurrent request: rotate it
                if exc.response["Error"]["Code"] != "ResourceExistsException":
                    raise
                old = self.read(tenant_id, provider)
                if old is None:
                    raise
        replaced = SigningSecrets(
            current=secret or new_signing_secret(),
            previous=old.current if overlap_seconds > 0 else None,
            previous_expires_at=now + overlap_seconds if overlap_seconds > 0 else None,
        )
        self._sm.put_secret_value(SecretId=self.name(tenant_id, provider), SecretString=replaced.to_json())
        self.forget(tenant_id, provider)
        return replaced, False

    def delete(self, tenant_id: int, provider: str) -> bool:
        """Remove the provider's secret (its webhooks then answer 404); False when there was none."""
        if self.read(tenant_id, provider) is None:  # (moto's force delete of a missing secret succeeds)
            self.forget(tenant_id, provider)
            return False
        try:
            self._sm.delete_secret(SecretId=self.name(tenant_id, provider), ForceDeleteWithoutRecovery=True)
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
            return False
        finally:
            self.forget(tenant_id, provider)
        return True

    def signing(
        self, tenant_id: int, provider: str, *, refresh: bool = False
    ) -> tuple[SigningSecrets | None, float]:
        """The secrets (None: not configured) and how old the cached copy is, in seconds."""
        key = (tenant_id, provider)
        now = time.monotonic()
        if not refresh:
            with self._lock:
                cached = self._cache.get(key)
            if cached and now - cached[0] < SECRET_CACHE_SECONDS:
                return cached[1], now - cached[0]
        value = self.read(tenant_id, provider)
        with self._lock:
            if value is None:
                self._cache.pop(key, None)
            else:
                self._cache[key] = (now, value)
        return value, 0.0

    def forget(self, tenant_id: int, provider: str) -> None:
        with self._lock:
            self._cache.pop((tenant_id, provider), None)

    def reset(self) -> None:
        with self._lock:
            self._cache.clear()


provider_secrets = ProviderSecrets()
