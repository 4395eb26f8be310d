"""B2B Billing API authentication: an OAuth 2.0 access token (client credentials grant) plus the
client's API key, on every `/billing/b2b/v1/*` call.

- The token goes in `Authorization`, bare (`Authorization: <token>`, the reference's examples) or
  as `Authorization: Bearer <token>` (RFC 6750 §2.1).
- The key goes in `X-Api-Key` and must be the key of the client the token was issued to.
- The client is read on every call (one GetItem, besides the token's): a revoked client's tokens
  and key stop working at once, without deleting tokens.
- An authenticated call is counted against its client's rate limits (billing.store.b2b_throttle:
  per second and per minute); past them it is refused with 429 and Retry-After. Its scope is taken from that read too,
  so the scope in force is always the client's current one (tokens keep a copy of the scope they
  were issued with, for audit).

A route of a `JsonApi(authenticate=authenticate_b2b)` gets the caller as `api.caller`:
`api.caller.tenant_id` (every read must stay in that tenant) and `api.caller.scope`
(`scope.allows(billing_account_id)`; `scope.all`, `scope.billing_account_ids`).
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_plus

from billing.domain import b2b_credentials as credentials
from billing.domain.b2b_clients import Scope
from billing.domain.b2b_credentials import InvalidApiKey, InvalidClient, InvalidToken
from billing.domain.credentials import same_digest
from billing.store.b2b_clients import B2bClients, b2b_clients
from billing.store.b2b_throttle import throttle


@dataclass(frozen=True)
class B2bCaller:
    tenant_id: int
    client_id: int
    """Id of the B2B client record."""
    scope: Scope


def presented_token(event: Any) -> str | None:
    """The access token of `Authorization: <token>` or `Authorization: Bearer <token>`."""
    header = (event.headers.get("authorization") or "").strip()
    if not header:
        return None
    scheme, _, rest = header.partition(" ")
    if scheme.lower() == "bearer":
        token = rest.strip()
        if not token:
            raise InvalidToken("the Authorization header says Bearer but carries no access token")
        return token
    if rest:
        raise InvalidToken("the Authorization header must be '<access token>' or 'Bearer <access token>'")
    return header


def authenticate_b2b(event: Any, repo: B2bClients | None = None) -> B2bCaller:
    """The caller of a B2B call, or InvalidToken / InvalidApiKey (401) saying what is wrong."""
    repo = repo or b2b_clients
    text = presented_token(event)
    if text is None:
        raise InvalidToken(
            "an access token is required in the Authorization header (get one from POST /oauth/v3/token)"
        )
    presented = credentials.parse_access_token(text)
    grant = repo.find_token(presented) if presented else None
    if grant is None:
        raise InvalidToken("the access token is not valid")
    if credentials.has_expired(grant.expires_at):
        raise InvalidToken("the access token has expired")

    key_text = (event.headers.get("x-api-key") or "").strip()
    if not key_text:
        raise InvalidApiKey("an API key is required in the X-Api-Key header")
    key_digest = credentials.api_key_digest(key_text)
    if key_digest is None:
        raise InvalidApiKey("the API key is not valid")

    client = repo.find_client(grant.tenant_id, grant.client_id)
    if client is None or client.revoked_at is not None:
        raise InvalidToken("the access token was revoked: its client was revoked")
    if not same_digest(client.api_key_digest, key_digest):
        raise InvalidApiKey("the API key is not the key of the client the access token was issued to")
    if credentials.has_expired(client.api_key_expires_at):
        raise InvalidApiKey("the API key has expired; ask the merchant for a new B2B client")
    throttle.check(grant.tenant_id, client)  # 429 past the client's rate (billing.store.b2b_throttle)
    return B2bCaller(tenant_id=grant.tenant_id, client_id=client.id, scope=client.access)


def client_credentials(event: Any) -> tuple[str, str]:
    """(client_id, client_secret) from HTTP Basic (RFC 6749 §2.3.1: each form-urlencoded,
    then joined by ':' and base64-encoded)."""
    header = (event.headers.get("authorization") or "").strip()
    scheme, _, value = header.partition(" ")
    if scheme.lower() != "basic" or not value.strip():
        raise InvalidClient("client authentication is required: HTTP Basic with client_id:client_secret")
    try:
        decoded = base64.b64decode(value.strip(), validate=True).decode()
    except (binascii.Error, UnicodeDecodeError):
        raise InvalidClient("the Authorization header is not valid Basic credentials") from None
    user, colon, password = decoded.partition(":")
    if not colon:
        raise InvalidClient("the Basic credentials must be client_id:client_secret")
    return unquote_plus(user), unquote_plus(password)
