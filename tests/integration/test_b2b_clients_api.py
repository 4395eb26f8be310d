"""B2B API clients managed by the merchant through the v1 API: create (secrets shown once, only
digests stored), scope validation, list, read, revoke, tenant isolation."""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET
from datetime import datetime
from typing import Any

import pytest

from tests.conftest import Tenant
from tests.support.aws import LocalStack
from tests.support.client import ApiClient


def xml(response: Any) -> ET.Element:
    return ET.fromstring(response.body)


def add_client(tenant_id: int, name: str = "ACME Corp") -> int:
    from billing.domain.clients import Client
    from billing.store.clients import clients

    return clients.insert(tenant_id, lambda new_id: Client(id=new_id, name=name)).id


def create_json(client: ApiClient, fields: dict[str, Any]) -> Any:
    return client.send_json("POST", "/api/v1/b2b_clients.json", {"b2b_client": fields})


def test_create_with_scope_all_shows_secrets_once(client: ApiClient, tenant: Tenant) -> None:
    response = create_json(client, {"name": "ACME ERP", "scope": "all"})
    assert response.status == 201, response.text
    body = response.json()
    assert body["client_id"] == f"fcid_{tenant.tenant_id}_{body['id']}"
    assert body["client_secret"].startswith("fcsec_") and len(body["client_secret"]) == 70
    assert body["api_key"].startswith("fckey_") and len(body["api_key"]) == 70
    assert body["scope"] == "all" and body["billing_account_ids"] == []
    assert body["name"] == "ACME ERP"
    assert body["revoked_at"] is None
    created = datetime.fromisoformat(body["created_at"])
    expires = datetime.fromisoformat(body["api_key_expires_at"])
    assert (expires.year - created.year, expires.month, expires.day) == (2, created.month, created.day)
    assert response.header("Location").endswith(f"/api/v1/b2b_clients/{body['id']}")

    for read in (
        client.get(f"/api/v1/b2b_clients/{body['id']}.json").json(),
        next(c for c in client.get("/api/v1/b2b_clients.json").json() if c["id"] == body["id"]),
    ):
        assert read["client_id"] == body["client_id"]
        assert "client_secret" not in read and "api_key" not in read
        assert read["api_key_expires_at"] == body["api_key_expires_at"]


def test_only_digests_are_stored(aws: LocalStack, client: ApiClient, tenant: Tenant) -> None:
    from billing.store import keys
    from billing.store.table import Table

    body = create_json(client, {"scope": "all"}).json()
    item = Table().get(keys.tenant_pk(tenant.tenant_id, "b2b_client"), keys.record_sk(body["id"]))
    assert item is not None
    stored = repr(item)
    assert body["client_secret"] not in stored and body["api_key"] not in stored
    assert item["client_secret_digest"] == hashlib.sha256(body["client_secret"].encode()).hexdigest()
    assert item["api_key_digest"] == hashlib.sha256(body["api_key"].encode()).hexdigest()


def test_create_in_xml_with_listed_billing_accounts(client: ApiClient, tenant: Tenant) -> None:
    first, second = add_client(tenant.tenant_id), add_client(tenant.tenant_id, "Globex")
    response = client.send_xml(
        "POST",
        "/api/v1/b2b_clients.xml",
        f"""<?xml version="1.0" encoding="UTF-8"?>
        <b2b_client><name>Globex AP</name>
          <billing_account_ids type="array">
            <billing_account_id>{first}</billing_account_id>
            <billing_account_id>{second}</billing_account_id>
            <billing_account_id>{first}</billing_account_id>
          </billing_account_ids>
        </b2b_client>""",
    )
    assert response.status == 201, response.text
    doc = xml(response)
    assert doc.tag == "b2b_client"
    assert doc.findtext("scope") == "billing_accounts"
    assert doc.find("billing_account_ids").get("type") == "array"
    assert [e.text for e in doc.find("billing_account_ids")] == [str(first), str(second)]
    assert doc.findtext("client_secret").startswith("fcsec_")
    assert doc.find("revoked_at").get("nil") == "true"


@pytest.mark.parametrize("form", ["ids[]", "ids[0]"])
def test_create_with_a_form(client: ApiClient, tenant: Tenant, form: str) -> None:
    account = add_client(tenant.tenant_id)
    name = form.replace("ids", "b2b_client[billing_account_ids]")
    response = client.request(
        "POST",
        "/api/v1/b2b_clients.json",
        body=f"{name}={account}",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status == 201, response.text
    assert response.json()["billing_account_ids"] == [account]


@pytest.mark.parametrize(
    ("fields", "fragment"),
    [
        ({}, "choose a scope"),
        ({"name": "no scope"}, "choose a scope"),
        ({"scope": "billing_accounts"}, "choose a scope"),
        ({"scope": "all", "billing_account_ids": [1]}, "left out when scope is 'all'"),
        ({"scope": "everything"}, "b2b_client.scope"),
        ({"billing_account_ids": ["abc"]}, "b2b_client.billing_account_ids[0]"),
        ({"billing_account_ids": [0]}, "b2b_client.billing_account_ids[0]"),
        ({"billing_account_ids": list(range(1, 102))}, "at most 100"),
        ({"scope": "all", "colour": "red"}, "b2b_client.colour is not a known field"),
        ({"billing_account_ids": [123456789]}, "no billing account (client) 123456789"),
    ],
)
def test_bad_scope_is_422_and_creates_nothing(
    client: ApiClient, fields: dict[str, Any], fragment: str
) -> None:
    before = client.get("/api/v1/b2b_clients.json").json()
    response = create_json(client, fields)
    assert response.status == 422, response.text
    assert any(fragment in message for message in response.json()["errors"]), response.json()
    assert client.get("/api/v1/b2b_clients.json").json() == before


def test_scope_cannot_name_another_tenants_client(
    client: ApiClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    mine, theirs = add_client(tenant.tenant_id), add_client(other_tenant.tenant_id)
    response = create_json(client, {"billing_account_ids": [mine, theirs]})
    assert response.status == 422
    assert response.json()["errors"] == [
        f"b2b_client.billing_account_ids: no billing account (client) {theirs} in this account"
    ]


def test_revoke_keeps_the_record(client: ApiClient) -> None:
    body = create_json(client, {"scope": "all"}).json()
    revoked = client.delete(f"/api/v1/b2b_clients/{body['id']}.json")
    assert revoked.status == 200
    revoked_at = revoked.json()["revoked_at"]
    assert revoked_at is not None
    again = client.delete(f"/api/v1/b2b_clients/{body['id']}.json")
    assert again.status == 200 and again.json()["revoked_at"] == revoked_at
    read = client.get(f"/api/v1/b2b_clients/{body['id']}.xml")
    assert read.status == 200 and xml(read).findtext("revoked_at")


def test_other_tenant_sees_nothing(aws: LocalStack, client: ApiClient, other_tenant: Tenant) -> None:
    body = create_json(client, {"scope": "all"}).json()
    intruder = ApiClient(aws.gateway, other_tenant.api_key)
    assert intruder.get(f"/api/v1/b2b_clients/{body['id']}.json").status == 404
    assert intruder.delete(f"/api/v1/b2b_clients/{body['id']}.json").status == 404
    assert intruder.get("/api/v1/b2b_clients.json").json() == []
    assert client.get(f"/api/v1/b2b_clients/{body['id']}.json").json()["revoked_at"] is None


def test_unknown_ref_and_verbs(client: ApiClient) -> None:
    assert client.get("/api/v1/b2b_clients/99.xml").status == 404
    assert client.get("/api/v1/b2b_clients/abc.xml").status == 404
    response = client.request("PUT", "/api/v1/b2b_clients/1.xml")
    assert response.status == 405 and response.header("Allow") == "DELETE, GET"
    assert client.request("DELETE", "/api/v1/b2b_clients.xml").status == 405


def test_requires_the_merchants_api_key(aws: LocalStack) -> None:
    assert ApiClient(aws.gateway).get("/api/v1/b2b_clients.xml").status == 401
