"""B2B API clients: the machines of a merchant's business customers that pull bills through the
B2B Billing API. The merchant creates and revokes them through the v1 API.

A B2B client has a client id and secret (for `POST /oauth/v3/token`), an API key (the
`X-Api-Key` of every B2B call, valid 2 years) and a scope: which of the merchant's billing
accounts it may read. Billing accounts are the merchant's clients (`billing.domain.clients`).

Scope on the wire (v1, every format):
- `scope` = "all": every billing account of the tenant, present and future;
- `billing_account_ids` = [client ids] (with `scope` left out or "billing_accounts"): only those,
  at most MAX_SCOPE_ACCOUNTS, each of which must exist in the tenant when the client is created.
There is no default: a client created with neither is refused (422), so nobody hands out
"all" by omission.

Revoking sets `revoked_at`; the record stays (listed, readable) so the merchant keeps a trace.
A revoked client can no longer obtain tokens, and its tokens and API key stop working at once
(the client is checked on every B2B call).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from typing import Annotated, Any

from pydantic import Field, model_validator
from pydantic_core import PydanticCustomError

from billing.domain.errors import ValidationFailed
from billing.domain.records import Record, ShortText, WritePayload

MAX_SCOPE_ACCOUNTS = 100


class ScopeKind(StrEnum):
    ALL = "all"
    BILLING_ACCOUNTS = "billing_accounts"


@dataclass(frozen=True)
class Scope:
    """What a B2B caller may read: every billing account of its tenant, or the listed ones."""

    all: bool
    billing_account_ids: frozenset[int] = frozenset()

    def allows(self, billing_account_id: int) -> bool:
        return self.all or billing_account_id in self.billing_account_ids


class B2bClient(Record):
    """A stored B2B client. Secrets are kept as digests only; views never show them."""

    name: str = ""
    scope: ScopeKind
    billing_account_ids: list[int] = Field(default_factory=list)
    client_secret_digest: str
    api_key_digest: str
    api_key_expires_at: datetime
    revoked_at: datetime | None = None
    rate_limit_per_second: Annotated[int, Field(ge=0)] | None = None
    """Requests per second and per minute this client may make (billing.store.b2b_throttle);
    None: the defaults (B2B_RATE_PER_SECOND / B2B_RATE_PER_MINUTE); 0: no limit."""
    rate_limit_per_minute: Annotated[int, Field(ge=0)] | None = None

    @property
    def access(self) -> Scope:
        if self.scope is ScopeKind.ALL:
            return Scope(all=True)
        return Scope(all=False, billing_account_ids=frozenset(self.billing_account_ids))


BillingAccountId = Annotated[int, Field(gt=0, lt=2**63)]


class B2bClientCreate(WritePayload):
    name: ShortText = ""
    scope: ScopeKind | None = None
    billing_account_ids: list[BillingAccountId] | None = None

    @model_validator(mode="after")
    def _scope_is_explicit(self) -> B2bClientCreate:
        ids = list(dict.fromkeys(self.billing_account_ids or ()))
        if self.scope is ScopeKind.ALL:
            if ids:
                raise PydanticCustomError("scope", "billing_account_ids must be left out when scope is 'all'")
        elif not ids:
            raise PydanticCustomError(
                "scope",
                "choose a scope: scope 'all' (every billing account) or billing_account_ids "
                "(a list of client ids)",
            )
        elif len(ids) > MAX_SCOPE_ACCOUNTS:
            raise PydanticCustomError(
                "scope",
                "billing_account_ids lists {count} accounts; at most {limit}",
                {"count": len(ids), "limit": MAX_SCOPE_ACCOUNTS},
            )
        self.scope = ScopeKind.ALL if self.scope is ScopeKind.ALL else ScopeKind.BILLING_ACCOUNTS
        self.billing_account_ids = ids
        return self

    def record_fields(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "scope": self.scope,
            "billing_account_ids": list(self.billing_account_ids or ()),
        }


def check_scope_exists(requested: list[int], found: set[int]) -> None:
    """A scope may only name billing accounts (clients) the tenant has."""
    missing = [str(i) for i in requested if i not in found]
    if missing:
        raise ValidationFailed(
            f"b2b_client.billing_account_ids: no billing account (client) {', '.join(missing)} in this account"
        )
