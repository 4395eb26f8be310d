"""The B2B token endpoint (RFC 6749 §4.4, errors per §5.2) and the authentication of B2B calls
(access token + X-Api-Key), through the gateway."""

from __future__ import annotations

import base64
import hashlib
from typing import Any

import pytest

from tests.conftest import Tenant
from tests.support.aws import LocalStack
from tests.support.b2b import B2bCredentials, B2bHttp, make_b2b_client
from tests.support.client import ApiClient

TOKEN = "/oauth/v3/token"
STATUS = "/billing/b2b/v1/status"
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def http(aws: LocalStack) -> ApiClient:
    return ApiClient(aws.gateway)


@pytest.fixture
def creds(tenant: Tenant) -> B2bCredentials:
    return make_b2b_client(tenant.tenant_id)


def token_request(
    http: ApiClient,
    body: str = "grant_type=client_credentials",
    authorization: str | None = None,
    content_type: str | None = FORM,
    method: str = "POST",
) -> Any:
    headers = {"Authorization": authorization} if authorization is not None else {}
    return http.request(method, TOKEN, body=body, content_type=content_type, headers=headers, auth=False)


def get_token(http: ApiClient, creds: B2bCredentials) -> str:
    response = token_request(http, authorization=creds.basic())
    assert response.status == 200, response.text
    return str(response.json()["access_token"])


def basic(user: str, password: str) -> str:
    return "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()


def assert_error(response: Any, status: int, error: str, fragment: str = "") -> None:
    assert response.status == status, response.text
    assert response.header("Content-Type") == "application/json; charset=UTF-8"
    body = response.json()
    assert set(body) == {"error", "error_description"}
    assert body["error"] == error, body
    assert fragment in body["error_description"], body


# -- the token endpoint ------------------------------------------------------------------------


def test_token_is_issued_for_client_credentials(http: ApiClient, creds: B2bCredentials) -> None:
    response = token_request(http, authorization=creds.basic())
    assert response.status == 200, response.text
    assert response.header("Content-Type") == "application/json; charset=UTF-8"
    assert response.header("Cache-Control") == "no-store"
    assert response.header("Pragma") == "no-cache"
    body = response.json()
    assert set(body) == {"token_type", "access_token", "expires_in"}
    assert body["token_type"] == "Bearer" and body["expires_in"] == 3600
    assert body["access_token"].startswith(f"fctok_{creds.tenant_id}_")
    assert body["access_token"] != get_token(http, creds), "every request gets a fresh token"


def test_token_is_stored_as_a_digest_with_a_ttl(http: ApiClient, creds: B2bCredentials) -> None:
    from billing.domain import b2b_credentials
    from billing.store import keys
    from billing.store.table import Table

    token = get_token(http, creds)
    digest = hashlib.sha256(token.encode()).hexdigest()
    item = Table().get(keys.tenant_pk(creds.tenant_id, "b2b_token"), digest)
    assert item is not None and token not in repr(item)
    assert item["client_id"] == creds.record_id and item["scope"] == "all"
    assert 3590 <= item["expires_at"] - b2b_credentials.now() <= 3600


def test_form_may_carry_a_matching_client_id_and_a_scope(http: ApiClient, creds: B2bCredentials) -> None:
    body = f"grant_type=client_credentials&client_id={creds.client_id}&scope=bills"
    assert token_request(http, body, authorization=creds.basic()).status == 200


@pytest.mark.parametrize(
    ("body", "content_type", "fragment"),
    [
        ("", FORM, "grant_type is required"),
        ("grant_type=", FORM, "grant_type is required"),
        ("scope=x", FORM, "grant_type is required"),
        ("grant_type=client_credentials&grant_type=client_credentials", FORM, "'grant_type' is repeated"),
        ('{"grant_type": "client_credentials"}', "application/json", "application/x-www-form-urlencoded"),
        ("grant_type=client_credentials&client_secret=x", FORM, "HTTP Basic only"),
        ("grant_type=client_credentials&client_id=fcid_1_1", FORM, "differs"),
        ("grant_type=client_credentials&x=%ff", FORM, "not a valid form"),
        ("grant_type=client_credentials&pad=" + "x" * 5000, FORM, "larger than"),
    ],
)
def test_invalid_request(
    http: ApiClient, creds: B2bCredentials, body: str, content_type: str, fragment: str
) -> None:
    response = token_request(http, body, authorization=creds.basic(), content_type=content_type)
    assert_error(response, 400, "invalid_request", fragment)
    assert response.header("Cache-Control") == "no-store"


@pytest.mark.parametrize(
    "grant_type", ["password", "authorization_code", "refresh_token", "CLIENT_CREDENTIALS"]
)
def test_unsupported_grant_type(http: ApiClient, creds: B2bCredentials, grant_type: str) -> None:
    response = token_request(http, f"grant_type={grant_type}", authorization=creds.basic())
    assert_error(response, 400, "unsupported_grant_type", "client_credentials")


def invalid_client_cases(creds: B2bCredentials, other: B2bCredentials) -> dict[str, str | None]:
    return {
        "no Authorization": None,
        "Bearer instead of Basic": "Bearer " + creds.client_secret,
        "not base64": "Basic !!!",
        "no colon": "Basic " + base64.b64encode(creds.client_id.encode()).decode(),
        "wrong secret": basic(creds.client_id, "fcsec_" + "0" * 64),
        "malformed secret": basic(creds.client_id, "secret"),
        "another client's secret": basic(creds.client_id, other.client_secret),
        "unknown client": basic(f"fcid_{creds.tenant_id}_12345", creds.client_secret),
        "malformed client id": basic("acme", creds.client_secret),
        "client id moved to another tenant": basic(
            f"fcid_{other.tenant_id}_{creds.record_id}", creds.client_secret
        ),
    }


@pytest.mark.parametrize(
    "case",
    [
        "no Authorization",
        "Bearer instead of Basic",
        "not base64",
        "no colon",
        "wrong secret",
        "malformed secret",
        "another client's secret",
        "unknown client",
        "malformed client id",
        "client id moved to another tenant",
    ],
)
def test_invalid_client(http: ApiClient, creds: B2bCredentials, other_tenant: Tenant, case: str) -> None:
    other = make_b2b_client(other_tenant.tenant_id)
    response = token_request(http, authorization=invalid_client_cases(creds, other)[case])
    assert_error(response, 401, "invalid_client")
    assert response.header("WWW-Authenticate") == 'Basic realm="factura-b2b"'
    assert response.header("Cache-Control") == "no-store"


def test_revoked_client_gets_no_token(http: ApiClient, client: ApiClient, creds: B2bCredentials) -> None:
    assert client.delete(f"/api/v1/b2b_clients/{creds.record_id}.json").status == 200
    assert_error(token_request(http, authorization=creds.basic()), 401, "invalid_client", "revoked")


def test_urlencoded_basic_credentials(http: ApiClient, creds: B2bCredentials) -> None:
    """RFC 6749 §2.3.1: the id and secret are form-urlencoded before base64."""
    encoded = basic(creds.client_id.replace("_", "%5F"), creds.client_secret.replace("_", "%5F"))
    assert token_request(http, authorization=encoded).status == 200


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE"])
def test_other_verbs_are_405(http: ApiClient, method: str) -> None:
    response = token_request(http, method=method)
    assert_error(response, 405, "method_not_allowed")
    assert response.header("Allow") == "POST"


# -- authenticating B2B calls ----------------------------------------------------------------------


@pytest.mark.parametrize("bearer", [False, True], ids=["bare", "bearer"])
def test_token_and_key_authenticate(http: ApiClient, creds: B2bCredentials, bearer: bool) -> None:
    response = B2bHttp(http, get_token(http, creds), creds.api_key, bearer=bearer).get(STATUS)
    assert response.status == 200, response.text
    assert response.header("Content-Type") == "application/json; charset=UTF-8"
    body = response.json()
    assert body["status"] == "ok" and body["version"] == "1.0"
    assert str(creds.tenant_id) not in response.text


def b2b_error(response: Any, error: str, fragment: str) -> None:
    assert_error(response, 401, error, fragment)
    challenge = response.header("WWW-Authenticate")
    assert challenge.startswith('Bearer realm="factura-b2b"')
    if error == "invalid_token":
        assert 'error="invalid_token"' in challenge


@pytest.mark.parametrize(
    ("authorization", "fragment"),
    [
        (None, "an access token is required"),
        ("", "an access token is required"),
        ("Bearer", "carries no access token"),
        ("Bearer ", "carries no access token"),
        ("fctok_1_" + "0" * 64, "not valid"),
        ("garbage", "not valid"),
        ("Basic Zm9vOmJhcg==", "must be '<access token>' or 'Bearer <access token>'"),
    ],
)
def test_missing_or_unknown_token(
    http: ApiClient, creds: B2bCredentials, authorization: str | None, fragment: str
) -> None:
    headers = {"X-Api-Key": creds.api_key}
    if authorization is not None:
        headers["Authorization"] = authorization
    b2b_error(http.get(STATUS, auth=False, headers=headers), "invalid_token", fragment)


def test_expired_token(http: ApiClient, creds: B2bCredentials, monkeypatch: pytest.MonkeyPatch) -> None:
    from billing.domain import b2b_credentials

    before = b2b_credentials.now()
    token = get_token(http, creds)
    after = b2b_credentials.now()
    caller = B2bHttp(http, token, creds.api_key)
    monkeypatch.setattr(b2b_credentials, "now", lambda: before + 3590)
    assert caller.get(STATUS).status == 200
    monkeypatch.setattr(b2b_credentials, "now", lambda: after + 3601)
    b2b_error(caller.get(STATUS), "invalid_token", "the access token has expired")


def test_revoking_the_client_revokes_its_token_at_once(
    http: ApiClient, client: ApiClient, creds: B2bCredentials
) -> None:
    caller = B2bHttp(http, get_token(http, creds), creds.api_key)
    assert caller.get(STATUS).status == 200
    assert client.delete(f"/api/v1/b2b_clients/{creds.record_id}.json").status == 200
    b2b_error(caller.get(STATUS), "invalid_token", "its client was revoked")


@pytest.mark.parametrize("key", [None, "", "   "])
def test_missing_key(http: ApiClient, creds: B2bCredentials, key: str | None) -> None:
    response = B2bHttp(http, get_token(http, creds), key).get(STATUS)
    b2b_error(response, "invalid_api_key", "an API key is required in the X-Api-Key header")


def test_malformed_key(http: ApiClient, creds: B2bCredentials, tenant: Tenant) -> None:
    for key in ("nope", tenant.api_key, creds.client_secret):
        response = B2bHttp(http, get_token(http, creds), key).get(STATUS)
        b2b_error(response, "invalid_api_key", "the API key is not valid")


def test_key_of_another_client(
    http: ApiClient, creds: B2bCredentials, tenant: Tenant, other_tenant: Tenant
) -> None:
    token = get_token(http, creds)
    for other in (make_b2b_client(tenant.tenant_id), make_b2b_client(other_tenant.tenant_id)):
        response = B2bHttp(http, token, other.api_key).get(STATUS)
        b2b_error(response, "invalid_api_key", "not the key of the client the access token was issued to")
        other_token = get_token(http, other)
        assert B2bHttp(http, other_token, creds.api_key).get(STATUS).status == 401
        assert B2bHttp(http, other_token, other.api_key).get(STATUS).status == 200


def test_expired_api_key(http: ApiClient, creds: B2bCredentials, monkeypatch: pytest.MonkeyPatch) -> None:
    from billing.domain import b2b_credentials

    two_years_and_a_day = (2 * 366 + 1) * 86400
    started = b2b_credentials.now()
    monkeypatch.setattr(b2b_credentials, "now", lambda: started + two_years_and_a_day)
    response = B2bHttp(http, get_token(http, creds), creds.api_key).get(STATUS)
    b2b_error(response, "invalid_api_key", "the API key has expired")


def test_token_of_a_forged_tenant_is_unknown(
    http: ApiClient, creds: B2bCredentials, other_tenant: Tenant
) -> None:
    """A token is looked up in the tenant it names; moving it to another tenant breaks it."""
    token = get_token(http, creds)
    forged = token.replace(f"fctok_{creds.tenant_id}_", f"fctok_{other_tenant.tenant_id}_")
    b2b_error(B2bHttp(http, forged, creds.api_key).get(STATUS), "invalid_token", "not valid")


def test_status_method_not_allowed(http: ApiClient, creds: B2bCredentials) -> None:
    response = http.request(
        "POST", STATUS, auth=False, headers=B2bHttp(http, get_token(http, creds), creds.api_key).headers()
    )
    assert_error(response, 405, "method_not_allowed")
