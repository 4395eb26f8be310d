"""Credentials of the B2B Billing API: client ids and secrets, API keys and access tokens.

Every secret is random (256 bits), shown once, and stored only as its SHA-256 digest (as the v1
API keys of `billing.domain.credentials`; with that much entropy a fast digest is enough).

| credential     | form                             | stored                                        |
|----------------|----------------------------------|-----------------------------------------------|
| client_id      | `fcid_<tenant id>_<client id>`   | not a secret: names the B2B client record     |
| client_secret  | `fcsec_<64 hex>`                 | digest on the B2B client record               |
| API key        | `fckey_<64 hex>`                 | digest on the B2B client record, with expiry  |
| access token   | `fctok_<tenant id>_<64 hex>`     | digest as its own item, with a TTL            |

The tenant id inside the client id and the token keeps every lookup inside the tenant's own
partition (one GetItem, never a scan). The API key needs no lookup of its own: it is always
presented with a token, and the token names the client whose key digest it must match.

Lifetimes: an API key expires 2 years after it is issued (the reference: "the API key expires
after 2 years"); an access token after TOKEN_LIFETIME seconds.

The errors below carry the OAuth 2.0 / RFC 6750 error code the JSON error body shows
(`{"error": code, "error_description": …}`); their HTTP status comes from their base class
through `billing.http.errors`, like every other error.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ClassVar

from billing.domain.credentials import IssuedKey, PresentedKey, digest
from billing.domain.errors import MalformedInput, Unauthorized

TOKEN_LIFETIME = 3600
"""Seconds an access token is valid (the `expires_in` of the token response)."""

API_KEY_LIFETIME_YEARS = 2

_ID = r"[1-9][0-9]{0,18}"
_HEX = r"[0-9a-f]{64}"
_CLIENT_ID = re.compile(rf"fcid_({_ID})_({_ID})")
_CLIENT_SECRET = re.compile(rf"fcsec_{_HEX}")
_API_KEY = re.compile(rf"fckey_{_HEX}")
_ACCESS_TOKEN = re.compile(rf"fctok_({_ID})_{_HEX}")


def now() -> float:
    """Epoch seconds; the one clock of token and key expiry (tests move it)."""
    return time.time()


# -- errors ------------------------------------------------------------------------------------


class InvalidRequest(MalformedInput):
    """RFC 6749 §5.2: a missing, repeated or malformed parameter (400)."""

    code: ClassVar[str] = "invalid_request"


class UnsupportedGrantType(MalformedInput):
    """RFC 6749 §5.2: a grant type other than client_credentials (400)."""

    code: ClassVar[str] = "unsupported_grant_type"


class InvalidClient(Unauthorized):
    """RFC 6749 §5.2: client authentication failed (401, challenged with Basic)."""

    code: ClassVar[str] = "invalid_client"


class InvalidToken(Unauthorized):
    """RFC 6750 §3.1: the access token is missing, unknown, expired or revoked (401)."""

    code: ClassVar[str] = "invalid_token"


class InvalidApiKey(Unauthorized):
    """The X-Api-Key is missing, unknown, expired, or not the key of the token's client (401)."""

    code: ClassVar[str] = "invalid_api_key"


# -- client ids --------------------------------------------------------------------------------


@dataclass(frozen=True)
class ClientRef:
    tenant_id: int
    client_id: int
    """Id of the B2B client record."""


def client_id_for(tenant_id: int, record_id: int) -> str:
    return f"fcid_{tenant_id}_{record_id}"


def parse_client_id(text: str) -> ClientRef | None:
    match = _CLIENT_ID.fullmatch(text)
    return ClientRef(int(match.group(1)), int(match.group(2))) if match else None


# -- secrets -----------------------------------------------------------------------------------


def issue_client_secret() -> IssuedKey:
    return _issue(f"fcsec_{secrets.token_hex(32)}")


def issue_api_key() -> IssuedKey:
    return _issue(f"fckey_{secrets.token_hex(32)}")


def issue_access_token(tenant_id: int) -> IssuedKey:
    return _issue(f"fctok_{tenant_id}_{secrets.token_hex(32)}")


def client_secret_digest(text: str) -> str | None:
    """The digest of a presented client secret; None if it cannot be one of ours."""
    return digest(text) if _CLIENT_SECRET.fullmatch(text) else None


def api_key_digest(text: str) -> str | None:
    return digest(text) if _API_KEY.fullmatch(text) else None


def parse_access_token(text: str) -> PresentedKey | None:
    match = _ACCESS_TOKEN.fullmatch(text)
    return PresentedKey(tenant_id=int(match.group(1)), digest=digest(text)) if match else None


def _issue(plaintext: str) -> IssuedKey:
    return IssuedKey(plaintext=plaintext, digest=digest(plaintext))


# -- lifetimes ---------------------------------------------------------------------------------


def api_key_expiry(issued_at: datetime) -> datetime:
    """Two calendar years after `issued_at` (29 February falls back to 28 February)."""
    year = issued_at.year + API_KEY_LIFETIME_YEARS
    try:
        return issued_at.replace(year=year)
    except ValueError:
        return issued_at.replace(year=year, day=28)


def has_expired(expires_at: datetime | float) -> bool:
    """Whether an expiry (a datetime or epoch seconds) has passed by `now()`."""
    moment = expires_at.astimezone(UTC).timestamp() if isinstance(expires_at, datetime) else expires_at
    return moment <= now()
