"""Webhook endpoints, their signing secrets and the delivery log.

Keys (docs/webhooks.md has the access patterns):

- endpoint: `T#<t>#webhook_endpoint` / `<id>` (generic `Records`; at most
  MAX_ENDPOINTS_PER_TENANT per tenant, so "every endpoint of a tenant" is one small Query);
- delivery attempt: `T#<t>#webhook_delivery` / `<id>` (ids grow with time: newest first is a
  backward Query), search slot 1 = endpoint_id, slot 2 = webhook_id, TTL `expires_at`;
- signing secrets: one Secrets Manager secret per endpoint, named
  `<WEBHOOK_SECRETS_PREFIX><tenant>/<endpoint id>`, holding JSON
  `{"current": "whsec_…", "previous": "whsec_…" | null, "previous_expires_at": <epoch> | null}`.
  Nothing secret is written to DynamoDB.
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass
from typing import Any

from botocore.exceptions import ClientError

from billing.domain.errors import NotFound
from billing.domain.webhooks import (
    MAX_ENDPOINTS_PER_TENANT,
    WebhookDelivery,
    WebhookEndpoint,
    new_signing_secret,
)
from billing.payments.config import webhook_settings
from billing.store import keys
from billing.store.aws import client
from billing.store.records import Records, normalize_search_value
from billing.store.table import Table

ENDPOINT_KIND = "webhook_endpoint"
DELIVERY_KIND = "webhook_delivery"
SECRET_CACHE_SECONDS = 300


class EndpointRecords(Records[WebhookEndpoint]):
    def all(self, tenant_id: int) -> list[WebhookEndpoint]:
        records, _ = self.page(tenant_id, limit=MAX_ENDPOINTS_PER_TENANT + 1)
        return records

    def find(self, tenant_id: int, endpoint_id: int) -> WebhookEndpoint | None:
        item = self.get_item(tenant_id, endpoint_id)
        return self.from_item(item) if item else None


class DeliveryLog(Records[WebhookDelivery]):
    """The attempts, newest first; `where` narrows a listing to one endpoint and/or one webhook
    id through their search slots (O(page) either way)."""

    def __init__(
        self, *, table: Table | None = None, endpoint_id: int | None = None, webhook_id: str | None = None
    ) -> None:
        super().__init__(
            DELIVERY_KIND, WebhookDelivery, searchable=("endpoint_id", "webhook_id"), table=table
        )
        self.endpoint_id = endpoint_id
        self.webhook_id = webhook_id

    def where(self, *, endpoint_id: int | None = None, webhook_id: str | None = None) -> DeliveryLog:
        return DeliveryLog(table=self._table, endpoint_id=endpoint_id, webhook_id=webhook_id)

    def page(
        self, tenant_id: int, *, limit: int, cursor: str | None = None
    ) -> tuple[list[WebhookDelivery], str | None]:
        if self.webhook_id is None and self.endpoint_id is None:
            page = self.table.query_page(
                keys.tenant_pk(tenant_id, self.kind), limit=limit, cursor=cursor, forward=False
            )
        else:
            # A webhook id belongs to one endpoint, so with both filters the webhook id's slot
            # is read and the endpoint only confirms it.
            field, value = (
                ("webhook_id", self.webhook_id)
                if self.webhook_id is not None
                else ("endpoint_id", self.endpoint_id)
            )
            page = self.table.query_page(
                keys.search_pk(tenant_id, self.kind, field),
                index=self.slot_index(field),
                sort_prefix=f"{normalize_search_value(value)}#",
                limit=limit,
                cursor=cursor,
                forward=False,
            )
        records = [self.from_item(item) for item in page.items]
        if self.webhook_id is not None and self.endpoint_id is not None:
            records = [r for r in records if r.endpoint_id == self.endpoint_id]
        return records, page.cursor

    def record(self, tenant_id: int, fields: dict[str, Any]) -> WebhookDelivery:
        return self.insert(tenant_id, lambda new_id: WebhookDelivery(id=new_id, **fields))


@dataclass(frozen=True)
class SigningSecrets:
    current: str
    previous: str | None = None
    previous_expires_at: float | None = None

    def valid(self, now: float) -> list[str]:
        """The secrets that sign at `now`: the current one, and the one it replaced while the
        rotation's overlap lasts."""
        active = [self.current]
        if self.previous and self.previous_expires_at is not None and now < self.previous_expires_at:
            active.append(self.previous)
        return active

    def to_json(self) -> str:
        return json.dumps(
            {
                "current": self.current,
                "previous": self.previous,
                "previous_expires_at": self.previous_expires_at,
            }
        )

    @classmethod
    def from_json(cls, text: str) -> SigningSecrets:
        data = json.loads(text)
        return cls(
            current=str(data["current"]),
            previous=data.get("previous"),
            previous_expires_at=data.get("previous_expires_at"),
        )


class WebhookSecrets:
    """One Secrets Manager secret per endpoint. Readers that sign many callbacks use `signing`,
    which caches a secret per endpoint for SECRET_CACHE_SECONDS and re-reads it as soon as the
    endpoint's `secret_version` changes (a rotation)."""

    def __init__(self, prefix: str | None = None) -> None:
        self._prefix = prefix
        self._cache: dict[tuple[int, int], tuple[int, float, SigningSecrets]] = {}
        self._lock = threading.Lock()

    @property
    def prefix(self) -> str:
        return self._prefix if self._prefix is not None else webhook_settings().secrets_prefix

    def name(self, tenant_id: int, endpoint_id: int) -> str:
        return f"{self.prefix}{tenant_id}/{endpoint_id}"

    @property
    def _sm(self) -> Any:
        return client("secretsmanager")

    def create(self, tenant_id: int, endpoint_id: int) -> str:
        secret = new_signing_secret()
        self._sm.create_secret(
            Name=self.name(tenant_id, endpoint_id),
            Description="Factura webhook signing secret (Standard Webhooks)",
            SecretString=SigningSecrets(current=secret).to_json(),
        )
        return secret

    def read(self, tenant_id: int, endpoint_id: int) -> SigningSecrets:
        try:
            value = self._sm.get_secret_value(SecretId=self.name(tenant_id, endpoint_id))
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ResourceNotFoundException":
                raise NotFound(f"webhook endpoint {endpoint_id} has no signing secret") from None
            raise
        return SigningSecrets.from_json(value["SecretString"])

    def rotate(self, tenant_id: int, endpoint_id: int, *, overlap_seconds: int, now: float) -> SigningSecrets:
        """A new current secret; the old one keeps signing for `overlap_seconds` (0: not at all)."""
        old = self.read(tenant_id, endpoint_id)
        rotated = SigningSecrets(
            current=new_signing_secret(),
            previous=old.current if overlap_seconds > 0 else None,
            previous_expires_at=now + overlap_seconds if overlap_seconds > 0 else None,
        )
        self._sm.put_secret_value(SecretId=self.name(tenant_id, endpoint_id), SecretString=rotated.to_json())
        with self._lock:
            self._cache.pop((tenant_id, endpoint_id), None)
        return rotated

    def delete(self, tenant_id: int, endpoint_id: int) -> None:
        try:
            self._sm.delete_secret(
                SecretId=self.name(tenant_id, endpoint_id), ForceDeleteWithoutRecovery=True
            )
        except ClientError as exc:
            if exc.response["Error"]["Code"] != "ResourceNotFoundException":
                raise
        with self._lock:
            self._cache.pop((tenant_id, endpoint_id), None)

    def signing(self, endpoint: WebhookEndpoint, tenant_id: int) -> SigningSecrets:
        key = (tenant_id, endpoint.id)
        now = time.monotonic()
        with self._lock:
            cached = self._cache.get(key)
        if cached and cached[0] == endpoint.secret_version and now - cached[1] < SECRET_CACHE_SECONDS:
            return cached[2]
        value = self.read(tenant_id, endpoint.id)
        with self._lock:
            self._cache[key] = (endpoint.secret_version, now, value)
        return value


webhook_endpoints = EndpointRecords(ENDPOINT_KIND, WebhookEndpoint)
webhook_deliveries = DeliveryLog()
webhook_secrets = WebhookSecrets()
