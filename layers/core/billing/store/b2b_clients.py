"""B2B clients (`billing.domain.b2b_clients`) and the access tokens issued to them.

| item          | PK                   | SK                       | notes                                    |
|---------------|----------------------|--------------------------|------------------------------------------|
| B2B client    | `T#<t>#b2b_client`   | `<id>` (zero-padded)     | a `Records` kind: scope, secret and API  |
|               |                      |                          | key digests, key expiry, `revoked_at`    |
| access token  | `T#<t>#b2b_token`    | `<sha256 of the token>`  | client id, scope as issued, `expires_at` |
|               |                      |                          | (epoch seconds, the table's TTL)         |

Access patterns: authenticate a client (GetItem by the id inside the client_id), look a token up
(GetItem by digest, tenant from inside the token), list a tenant's B2B clients (Query, paginated).
TTL deletion is lazy (up to days), so `expires_at` is also checked on every use.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from billing.domain import b2b_credentials as credentials
from billing.domain.b2b_clients import B2bClient, B2bClientCreate, Scope, ScopeKind, check_scope_exists
from billing.domain.b2b_credentials import InvalidClient
from billing.domain.credentials import PresentedKey, same_digest
from billing.domain.errors import NotFound
from billing.domain.records import utc_now
from billing.store import keys
from billing.store.records import Records
from billing.store.table import Table

CLIENT_KIND = "b2b_client"
TOKEN_KIND = "b2b_token"


@dataclass(frozen=True)
class IssuedB2bClient:
    """A new client with its secrets in clear: shown in the create response, never again."""

    record: B2bClient
    client_id: str
    client_secret: str
    api_key: str


@dataclass(frozen=True)
class IssuedToken:
    access_token: str
    expires_in: int


@dataclass(frozen=True)
class TokenGrant:
    """What a stored access token carries."""

    tenant_id: int
    client_id: int
    scope: Scope
    expires_at: int
    """Epoch seconds."""


class B2bClients:
    def __init__(self, table: Table | None = None) -> None:
        self.records = Records(CLIENT_KIND, B2bClient, table=table)

    @property
    def table(self) -> Table:
        return self.records.table

    # -- the merchant's side (v1 API) -------------------------------------------------------

    def create(self, tenant_id: int, payload: B2bClientCreate) -> IssuedB2bClient:
        """Store a new client (after checking that its scope names existing billing accounts)."""
        if payload.billing_account_ids:
            # imported here: the token endpoint uses this module and never needs the clients code
            from billing.store.billing_accounts import billing_accounts

            requested = payload.billing_account_ids
            check_scope_exists(requested, billing_accounts.existing_ids(tenant_id, requested))
        secret = credentials.issue_client_secret()
        key = credentials.issue_api_key()
        created = utc_now()
        fields: dict[str, Any] = {
            **payload.record_fields(),
            "created_at": created,
            "updated_at": created,
            "client_secret_digest": secret.digest,
            "api_key_digest": key.digest,
            "api_key_expires_at": credentials.api_key_expiry(created),
        }
        record = self.records.insert(tenant_id, lambda new_id: B2bClient(id=new_id, **fields))
        return IssuedB2bClient(
            record=record,
            client_id=credentials.client_id_for(tenant_id, record.id),
            client_secret=secret.plaintext,
            api_key=key.plaintext,
        )

    def get(self, tenant_id: int, client_id: int) -> B2bClient:
        try:
            return self.records.get(tenant_id, client_id)
        except NotFound:
            raise NotFound(f"B2B client {client_id} not found") from None

    def page(
        self, tenant_id: int, *, limit: int, cursor: str | None = None
    ) -> tuple[list[B2bClient], str | None]:
        return self.records.page(tenant_id, limit=limit, cursor=cursor)

    def revoke(self, tenant_id: int, client_id: int) -> B2bClient:
        """Mark the client revoked (once; revoking again changes nothing). Its tokens and API key
        stop working at once, because every B2B call checks the client."""
        current = self.get(tenant_id, client_id)
        if current.revoked_at is not None:
            return current
        return self.records.update(tenant_id, client_id, {"revoked_at": utc_now()})

    # -- the token endpoint ------------------------------------------------------------------

    def authenticate(self, client_id: str, client_secret: str) -> tuple[int, B2bClient]:
        """(tenant id, client) for valid, unrevoked credentials; InvalidClient otherwise. The
        message does not say whether the id or the secret was wrong."""
        ref = credentials.parse_client_id(client_id)
        presented = credentials.client_secret_digest(client_secret)
        record = self._find(ref.tenant_id, ref.client_id) if ref and presented else None
        if ref is None or presented is None or record is None:
            raise InvalidClient("client authentication failed: unknown client or wrong secret")
        if not same_digest(record.client_secret_digest, presented):
            raise InvalidClient("client authentication failed: unknown client or wrong secret")
        if record.revoked_at is not None:
            raise InvalidClient("the client was revoked")
        return ref.tenant_id, record

    def issue_token(self, tenant_id: int, client: B2bClient) -> IssuedToken:
        token = credentials.issue_access_token(tenant_id)
        lifetime = credentials.TOKEN_LIFETIME
        access = client.access
        self.table.put(
            {
                "PK": keys.tenant_pk(tenant_id, TOKEN_KIND),
                "SK": token.digest,
                "client_id": client.id,
                "scope": ScopeKind.ALL.value if access.all else ScopeKind.BILLING_ACCOUNTS.value,
                "billing_account_ids": sorted(access.billing_account_ids),
                "issued_at": utc_now(),
                "expires_at": int(credentials.now()) + lifetime,
            },
            condition="attribute_not_exists(PK)",
        )
        return IssuedToken(access_token=token.plaintext, expires_in=lifetime)

    # -- B2B calls -------------------------------------------------------------------------

    def find_token(self, presented: PresentedKey) -> TokenGrant | None:
        """The stored token, expired or not (the caller checks `expires_at`)."""
        item = self.table.get(keys.tenant_pk(presented.tenant_id, TOKEN_KIND), presented.digest)
        if item is None:
            return None
        ids = frozenset(int(i) for i in item.get("billing_account_ids") or ())
        return TokenGrant(
            tenant_id=presented.tenant_id,
            client_id=int(item["client_id"]),
            scope=Scope(all=item.get("scope") == ScopeKind.ALL.value, billing_account_ids=ids),
            expires_at=int(item["expires_at"]),
        )

    def find_client(self, tenant_id: int, client_id: int) -> B2bClient | None:
        return self._find(tenant_id, client_id)

    def _find(self, tenant_id: int, client_id: int) -> B2bClient | None:
        item = self.table.get(keys.tenant_pk(tenant_id, CLIENT_KIND), keys.record_sk(client_id))
        return self.records.from_item(item) if item else None


b2b_clients = B2bClients()
