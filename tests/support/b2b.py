"""B2B Billing API credentials for tests, made through the store (as the merchant's v1 call
would) and sent the way the reference's examples send them."""

from __future__ import annotations

import base64
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from local.apigw import HttpResponse
from tests.support.client import ApiClient


@dataclass(frozen=True)
class B2bCredentials:
    tenant_id: int
    record_id: int
    client_id: str
    client_secret: str
    api_key: str

    def basic(self) -> str:
        return "Basic " + base64.b64encode(f"{self.client_id}:{self.client_secret}".encode()).decode()


def make_b2b_client(
    tenant_id: int,
    billing_account_ids: Sequence[int] | None = None,
    *,
    rate_limits: tuple[int | None, int | None] = (0, 0),
) -> B2bCredentials:
    """A B2B client of the tenant: scope "all", or the listed billing accounts. Its rate limits
    (per second, per minute; billing.store.b2b_throttle) are off unless asked for: tests call
    faster than any client should; None leaves a limit at its default."""
    from billing.domain.b2b_clients import B2bClientCreate
    from billing.store.b2b_clients import B2bClients

    payload = (
        B2bClientCreate(scope="all")
        if billing_account_ids is None
        else B2bClientCreate(billing_account_ids=list(billing_account_ids))
    )
    repo = B2bClients()
    issued = repo.create(tenant_id, payload)
    per_second, per_minute = rate_limits
    repo.records.update(
        tenant_id,
        issued.record.id,
        {"rate_limit_per_second": per_second, "rate_limit_per_minute": per_minute},
    )
    return B2bCredentials(tenant_id, issued.record.id, issued.client_id, issued.client_secret, issued.api_key)


def access_token(credentials: B2bCredentials) -> str:
    """A fresh access token, issued as the token endpoint issues it."""
    from billing.store.b2b_clients import B2bClients

    repo = B2bClients()
    tenant_id, record = repo.authenticate(credentials.client_id, credentials.client_secret)
    return repo.issue_token(tenant_id, record).access_token


def sample_event_headers(tenant_id: int, path: str) -> dict[str, str]:
    """Headers that authenticate a sample event of the token endpoint or of the B2B API."""
    credentials = make_b2b_client(tenant_id)
    if path.startswith("/oauth"):
        return {"Authorization": credentials.basic()}
    return {"Authorization": access_token(credentials), "X-Api-Key": credentials.api_key}


class B2bHttp:
    """Calls the B2B API with a token and a key, as in the reference's curl examples."""

    def __init__(self, http: ApiClient, token: str | None, api_key: str | None, *, bearer: bool = False):
        self.http = http
        self.token = token
        self.api_key = api_key
        self.bearer = bearer

    def headers(self) -> dict[str, str]:
        headers: dict[str, str] = {}
        if self.token is not None:
            headers["Authorization"] = f"Bearer {self.token}" if self.bearer else self.token
        if self.api_key is not None:
            headers["X-Api-Key"] = self.api_key
        return headers

    def get(self, url: str, **kwargs: Any) -> HttpResponse:
        return self.http.get(
            url, auth=False, headers={**self.headers(), **kwargs.pop("headers", {})}, **kwargs
        )
