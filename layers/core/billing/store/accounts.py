"""Tenants: the account item, its users and API keys (stored as digests only)."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from billing.domain.account import Account, User
from billing.domain.credentials import IssuedKey, issue_api_key
from billing.domain.errors import NotFound
from billing.domain.ids import new_id
from billing.domain.records import utc_now
from billing.store import keys
from billing.store.table import UsesTable

ACCOUNT_KIND = "account"
USER_KIND = "user"
API_KEY_KIND = "apikey"
TOTALS_SK = "totals"


@dataclass(frozen=True)
class ApiKeyGrant:
    """What a stored key digest grants: a user of a tenant."""

    tenant_id: int
    user_id: int


@dataclass(frozen=True)
class NewTenant:
    account: Account
    user: User
    api_key: IssuedKey


class Accounts(UsesTable):
    def create_tenant(self, account_fields: dict[str, Any], user_fields: dict[str, Any]) -> NewTenant:
        """Account, first user and first API key, written in one transaction."""
        tenant_id = new_id()
        account = Account.model_validate({**account_fields, "id": tenant_id})
        user = User.model_validate({**user_fields, "id": new_id()})
        key = issue_api_key(tenant_id)
        self.table.transact(
            [
                {
                    "Put": {
                        "Item": self._account_item(account),
                        "ConditionExpression": "attribute_not_exists(PK)",
                    }
                },
                {"Put": {"Item": self._user_item(tenant_id, user)}},
                {"Put": {"Item": self._key_item(tenant_id, user.id, key.digest)}},
            ]
        )
        return NewTenant(account=account, user=user, api_key=key)

    def add_api_key(self, tenant_id: int, user_id: int) -> IssuedKey:
        self.get_user(tenant_id, user_id)
        key = issue_api_key(tenant_id)
        self.table.put(self._key_item(tenant_id, user_id, key.digest))
        return key

    def revoke_api_key(self, tenant_id: int, key_digest: str) -> None:
        self.table.delete(keys.tenant_pk(tenant_id, API_KEY_KIND), key_digest)

    def find_api_key(self, tenant_id: int, key_digest: str) -> ApiKeyGrant | None:
        item = self.table.get(keys.tenant_pk(tenant_id, API_KEY_KIND), key_digest)
        if item is None:
            return None
        return ApiKeyGrant(tenant_id=tenant_id, user_id=int(item["user_id"]))

    def get_account(self, tenant_id: int) -> Account:
        item = self.table.get(keys.tenant_pk(tenant_id, ACCOUNT_KIND), keys.SINGLETON)
        if item is None:
            raise NotFound(f"account {tenant_id} not found")
        return Account.model_validate(item)

    def get_totals(self, tenant_id: int) -> tuple[Decimal, Decimal]:
        """(total_open, total_overdue) of the account, kept as counters by document writes."""
        item = self.table.get(keys.tenant_pk(tenant_id, ACCOUNT_KIND), TOTALS_SK) or {}
        return Decimal(item.get("total_open", 0)), Decimal(item.get("total_overdue", 0))

    def get_user(self, tenant_id: int, user_id: int) -> User:
        item = self.table.get(keys.tenant_pk(tenant_id, USER_KIND), keys.record_sk(user_id))
        if item is None:
            raise NotFound(f"user {user_id} not found")
        return User.model_validate(item)

    def _account_item(self, account: Account) -> dict[str, Any]:
        return {**account.model_dump(), "PK": keys.tenant_pk(account.id, ACCOUNT_KIND), "SK": keys.SINGLETON}

    def _user_item(self, tenant_id: int, user: User) -> dict[str, Any]:
        return {
            **user.model_dump(),
            "PK": keys.tenant_pk(tenant_id, USER_KIND),
            "SK": keys.record_sk(user.id),
        }

    def _key_item(self, tenant_id: int, user_id: int, key_digest: str) -> dict[str, Any]:
        return {
            "PK": keys.tenant_pk(tenant_id, API_KEY_KIND),
            "SK": key_digest,
            "user_id": user_id,
            "created_at": utc_now(),
        }
