"""v1 representation of a B2B API client: fields in alphabetical order (as Rails' `to_xml`), the
client_id always, and the client secret and API key only in the response that created them
(only their digests are stored)."""

from __future__ import annotations

from typing import Any

from billing.domain.b2b_clients import B2bClient
from billing.domain.b2b_credentials import client_id_for
from billing.store.b2b_clients import IssuedB2bClient
from billing.wire.xml import XmlArray


def b2b_client(tenant_id: int, record: B2bClient) -> dict[str, Any]:
    data: dict[str, Any] = {
        "api_key_expires_at": record.api_key_expires_at,
        "billing_account_ids": XmlArray(list(record.billing_account_ids), "billing_account_id"),
        "client_id": client_id_for(tenant_id, record.id),
        "created_at": record.created_at,
        "id": record.id,
        "name": record.name,
        "revoked_at": record.revoked_at,
        "scope": record.scope.value,
        "updated_at": record.updated_at,
    }
    return data


def issued_b2b_client(tenant_id: int, issued: IssuedB2bClient) -> dict[str, Any]:
    data = b2b_client(tenant_id, issued.record)
    data.update(api_key=issued.api_key, client_secret=issued.client_secret)
    return dict(sorted(data.items()))
