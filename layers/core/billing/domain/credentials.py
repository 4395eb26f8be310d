"""API keys: random, shown once, stored only as a SHA-256 digest.

A key reads `fct_<tenant id>_<64 hex chars>`. Carrying the tenant id lets us look the digest up
inside the tenant's own partition, so authentication never reads across tenants. The secret
part has 256 bits of entropy, so a fast digest is enough (no password hashing needed)."""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
from dataclasses import dataclass

_KEY_PATTERN = re.compile(r"^fct_([1-9][0-9]{0,18})_([0-9a-f]{64})$")


@dataclass(frozen=True)
class IssuedKey:
    plaintext: str
    digest: str


@dataclass(frozen=True)
class PresentedKey:
    tenant_id: int
    digest: str


def digest(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()


def issue_api_key(tenant_id: int) -> IssuedKey:
    plaintext = f"fct_{tenant_id}_{secrets.token_hex(32)}"
    return IssuedKey(plaintext=plaintext, digest=digest(plaintext))


def parse_api_key(text: str) -> PresentedKey | None:
    """None when the text cannot be one of our keys (then no lookup is needed)."""
    match = _KEY_PATTERN.match(text.strip())
    if not match:
        return None
    return PresentedKey(tenant_id=int(match.group(1)), digest=digest(match.group(0)))


def same_digest(a: str, b: str) -> bool:
    return hmac.compare_digest(a, b)
