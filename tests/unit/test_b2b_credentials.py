"""B2B credentials, scopes, token and Basic header parsing, error codes and the B2B JSON views:
pure logic, no AWS."""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta, timezone
from http import HTTPStatus
from typing import Any

import pytest
from billing.domain import b2b_credentials as creds
from billing.domain.b2b_clients import B2bClientCreate, Scope, ScopeKind, check_scope_exists
from billing.domain.b2b_credentials import (
    InvalidApiKey,
    InvalidClient,
    InvalidRequest,
    InvalidToken,
    UnsupportedGrantType,
)
from billing.domain.clients import Client
from billing.domain.errors import MalformedInput, NotFound, ValidationFailed
from billing.http.b2b_auth import client_credentials, presented_token
from billing.http.errors import status_for
from billing.http.json_api import error_code
from billing.wire.b2b import billing_account, timestamp
from pydantic import ValidationError

# -- formats ------------------------------------------------------------------------------------


def test_client_id_round_trip() -> None:
    text = creds.client_id_for(373329733425376, 373329733424613)
    assert text == "fcid_373329733425376_373329733424613"
    assert creds.parse_client_id(text) == creds.ClientRef(373329733425376, 373329733424613)


@pytest.mark.parametrize(
    "text",
    ["", "fcid_1", "fcid_01_2", "fcid_1_02", "fcid_1_2_3", "FCID_1_2", " fcid_1_2", "fcid_1_2\n", "fcid_a_2"],
)
def test_malformed_client_ids_are_not_looked_up(text: str) -> None:
    assert creds.parse_client_id(text) is None


def test_secrets_are_random_and_stored_as_sha256() -> None:
    for issue, prefix in ((creds.issue_client_secret, "fcsec_"), (creds.issue_api_key, "fckey_")):
        first, second = issue(), issue()
        assert first.plaintext.startswith(prefix) and len(first.plaintext) == len(prefix) + 64
        assert first.plaintext != second.plaintext
        assert first.digest == hashlib.sha256(first.plaintext.encode()).hexdigest()
        assert first.plaintext not in first.digest


def test_presented_secrets_are_digested_only_in_their_own_form() -> None:
    secret, key = creds.issue_client_secret(), creds.issue_api_key()
    assert creds.client_secret_digest(secret.plaintext) == secret.digest
    assert creds.api_key_digest(key.plaintext) == key.digest
    assert creds.client_secret_digest(key.plaintext) is None
    assert creds.api_key_digest(secret.plaintext) is None
    assert creds.api_key_digest("fct_1_" + "0" * 64) is None, "a v1 API key is not a B2B key"
    assert creds.api_key_digest(key.plaintext.upper()) is None


def test_access_tokens_carry_their_tenant() -> None:
    token = creds.issue_access_token(42)
    assert token.plaintext.startswith("fctok_42_")
    presented = creds.parse_access_token(token.plaintext)
    assert presented is not None
    assert (presented.tenant_id, presented.digest) == (42, token.digest)
    assert creds.parse_access_token("fctok_42_" + "g" * 64) is None
    assert creds.parse_access_token(token.plaintext + "0") is None
    assert creds.parse_access_token("fctok_0_" + "0" * 64) is None


# -- lifetimes ---------------------------------------------------------------------------------


def test_api_keys_live_two_calendar_years() -> None:
    issued = datetime(2025, 6, 20, 6, 43, 32, 92000, tzinfo=UTC)
    assert creds.api_key_expiry(issued) == datetime(2027, 6, 20, 6, 43, 32, 92000, tzinfo=UTC)
    assert creds.api_key_expiry(datetime(2024, 2, 29, tzinfo=UTC)) == datetime(2026, 2, 28, tzinfo=UTC)


def test_expiry_follows_the_clock(monkeypatch: pytest.MonkeyPatch) -> None:
    moment = datetime(2030, 1, 1, tzinfo=UTC)
    monkeypatch.setattr(creds, "now", lambda: moment.timestamp())
    assert creds.has_expired(moment)
    assert creds.has_expired(moment - timedelta(milliseconds=1))
    assert not creds.has_expired(moment + timedelta(seconds=1))
    assert creds.has_expired(moment.timestamp())
    assert not creds.has_expired(moment.timestamp() + 1)
    plus_two = timezone(timedelta(hours=2))
    assert not creds.has_expired(datetime(2030, 1, 1, 2, 0, 1, tzinfo=plus_two))
    assert creds.TOKEN_LIFETIME == 3600


# -- scope -------------------------------------------------------------------------------------


def test_scope_all_and_listed() -> None:
    assert Scope(all=True).allows(7)
    listed = Scope(all=False, billing_account_ids=frozenset({1, 2}))
    assert listed.allows(1) and not listed.allows(3)


def test_create_payload_scopes() -> None:
    everything = B2bClientCreate.model_validate({"scope": "all"})
    assert everything.record_fields() == {"name": "", "scope": ScopeKind.ALL, "billing_account_ids": []}
    listed = B2bClientCreate.model_validate({"name": " ERP ", "billing_account_ids": ["3", 1, 3]})
    assert listed.record_fields() == {
        "name": "ERP",
        "scope": ScopeKind.BILLING_ACCOUNTS,
        "billing_account_ids": [3, 1],
    }
    explicit = B2bClientCreate.model_validate({"scope": "billing_accounts", "billing_account_ids": [5]})
    assert explicit.scope is ScopeKind.BILLING_ACCOUNTS


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"billing_account_ids": []},
        {"scope": "billing_accounts"},
        {"scope": "all", "billing_account_ids": [1]},
        {"scope": "some"},
        {"billing_account_ids": [-1]},
        {"billing_account_ids": list(range(1, 102))},
        {"scope": "all", "secret": "x"},
    ],
)
def test_create_payload_refuses(payload: dict[str, Any]) -> None:
    with pytest.raises(ValidationError):
        B2bClientCreate.model_validate(payload)


def test_scope_must_name_existing_accounts() -> None:
    check_scope_exists([1, 2], {1, 2, 3})
    with pytest.raises(ValidationFailed, match="no billing account \\(client\\) 2, 4 in this account"):
        check_scope_exists([1, 2, 4], {1})


# -- headers -----------------------------------------------------------------------------------


@dataclass
class Event:
    headers: dict[str, str] = field(default_factory=dict)


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("fctok_1_abc", "fctok_1_abc"),
        ("  fctok_1_abc  ", "fctok_1_abc"),
        ("Bearer fctok_1_abc", "fctok_1_abc"),
        ("bearer   fctok_1_abc", "fctok_1_abc"),
        ("BEARER fctok_1_abc", "fctok_1_abc"),
        ("", None),
    ],
)
def test_presented_token(header: str, token: str | None) -> None:
    assert presented_token(Event({"authorization": header})) == token
    assert presented_token(Event()) is None


@pytest.mark.parametrize("header", ["Bearer", "Bearer  ", "Basic Zm9vOmJhcg==", "Token abc", "a b"])
def test_presented_token_refuses(header: str) -> None:
    with pytest.raises(InvalidToken):
        presented_token(Event({"authorization": header}))


def basic(text: str) -> Event:
    return Event({"authorization": "Basic " + base64.b64encode(text.encode()).decode()})


def test_client_credentials() -> None:
    assert client_credentials(basic("fcid_1_2:fcsec_x")) == ("fcid_1_2", "fcsec_x")
    assert client_credentials(basic("my%20id:p%3Ass+word")) == ("my id", "p:ss word")
    assert client_credentials(basic("id:with:colons")) == ("id", "with:colons")
    assert client_credentials(basic(":")) == ("", "")


@pytest.mark.parametrize(
    "event",
    [
        Event(),
        Event({"authorization": "Bearer x"}),
        Event({"authorization": "Basic"}),
        Event({"authorization": "Basic !!"}),
        basic("no-colon"),
    ],
)
def test_client_credentials_refuses(event: Event) -> None:
    with pytest.raises(InvalidClient):
        client_credentials(event)


# -- errors ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("error", "status", "code"),
    [
        (InvalidRequest("x"), HTTPStatus.BAD_REQUEST, "invalid_request"),
        (UnsupportedGrantType("x"), HTTPStatus.BAD_REQUEST, "unsupported_grant_type"),
        (InvalidClient("x"), HTTPStatus.UNAUTHORIZED, "invalid_client"),
        (InvalidToken("x"), HTTPStatus.UNAUTHORIZED, "invalid_token"),
        (InvalidApiKey("x"), HTTPStatus.UNAUTHORIZED, "invalid_api_key"),
        (MalformedInput("x"), HTTPStatus.BAD_REQUEST, "invalid_request"),
        (NotFound("x"), HTTPStatus.NOT_FOUND, "not_found"),
        (ValidationFailed("x"), HTTPStatus.UNPROCESSABLE_ENTITY, "unprocessable_entity"),
    ],
)
def test_errors_map_to_status_and_code(error: Any, status: int, code: str) -> None:
    assert status_for(error) == status
    assert error_code(error, status) == code


# -- JSON views --------------------------------------------------------------------------------


def test_timestamp_is_utc_with_milliseconds() -> None:
    assert timestamp(datetime(2018, 6, 20, 6, 43, 32, 92000, tzinfo=UTC)) == "2018-06-20T06:43:32.092Z"
    assert timestamp(datetime(2018, 6, 20, 6, 43, 32)) == "2018-06-20T06:43:32.000Z"
    plus_two = timezone(timedelta(hours=2))
    assert timestamp(datetime(2018, 6, 20, 8, 43, 32, 999999, tzinfo=plus_two)) == "2018-06-20T06:43:32.999Z"


def test_billing_account_view() -> None:
    moment = datetime(2018, 6, 20, 6, 43, 32, 92000, tzinfo=UTC)
    client = Client(
        id=9999,
        name="ACME Corp",
        is_company=True,
        uid="RO1",
        country_id=642,
        created_at=moment,
        updated_at=moment,
    )
    assert billing_account(client, "RON") == {
        "id": "9999",
        "name": "ACME Corp",
        "customer": {"id": "9999", "name": "ACME Corp", "segment": "company"},
        "currency": {"id": "RON"},
        "country": {"id": "RO"},
        "createdAt": "2018-06-20T06:43:32.092Z",
        "updatedAt": "2018-06-20T06:43:32.092Z",
    }
    person = Client(id=1, name="Ana", created_at=moment, updated_at=moment)
    view = billing_account(person, "EUR")
    assert view["customer"]["segment"] == "individual" and view["country"] is None
