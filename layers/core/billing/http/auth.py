"""v1 API authentication (reference §3): the API key as the HTTP Basic user (password ignored)
or as the `api_key` query parameter."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from typing import Any

from billing.domain.credentials import parse_api_key
from billing.domain.errors import Unauthorized
from billing.store.accounts import Accounts


@dataclass(frozen=True)
class Principal:
    tenant_id: int
    user_id: int


def presented_key(event: Any) -> str | None:
    header = event.headers.get("authorization") or ""
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "basic" and value:
        try:
            user, _, _password = base64.b64decode(value.strip(), validate=True).decode().partition(":")
        except (binascii.Error, UnicodeDecodeError):
            raise Unauthorized("the Authorization header is not valid Basic credentials") from None
        return user or None
    return event.get_query_string_value("api_key") or None


def authenticate(event: Any, accounts: Accounts | None = None) -> Principal:
    text = presented_key(event)
    if text is None:
        raise Unauthorized("an API key is required (HTTP Basic user or the api_key parameter)")
    key = parse_api_key(text)
    grant = (accounts or Accounts()).find_api_key(key.tenant_id, key.digest) if key else None
    if grant is None:
        raise Unauthorized("the API key is not valid")
    return Principal(tenant_id=grant.tenant_id, user_id=grant.user_id)
