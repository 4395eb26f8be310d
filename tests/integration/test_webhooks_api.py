"""Webhook endpoints over the v1 API (in-process gateway, moto): CRUD, the signing secret shown
only at creation and rotation and kept in Secrets Manager, URL policy, tenant isolation."""

from __future__ import annotations

import json
from collections.abc import Iterator

import boto3
import pytest

from local.template import REGION
from tests.conftest import Tenant
from tests.support.aws import LocalStack
from tests.support.client import ApiClient
from tests.support.webhooks import Receiver, receiver

BASE = "/api/v1/webhook_endpoints"


@pytest.fixture
def loopback(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """The local runtime's setting: callback URLs may point at 127.0.0.1."""
    from billing.payments.config import webhook_settings

    monkeypatch.setenv("ALLOW_LOOPBACK_WEBHOOKS", "true")
    webhook_settings.cache_clear()
    yield
    monkeypatch.delenv("ALLOW_LOOPBACK_WEBHOOKS")
    webhook_settings.cache_clear()


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as running:
        yield running


def create(client: ApiClient, url: str, event_types: list[str] | None = None, **extra: object) -> dict:
    response = client.send_json(
        "POST",
        f"{BASE}.json",
        {
            "webhook_endpoint": {
                "url": url,
                "event_types": event_types or ["payment.online_registered"],
                **extra,
            }
        },
    )
    assert response.status == 201, response.text
    return response.json()


def secrets_manager():  # type: ignore[no-untyped-def]
    return boto3.client("secretsmanager", region_name=REGION)


def test_create_shows_the_secret_once_and_keeps_it_out_of_dynamodb(
    aws: LocalStack, client: ApiClient, tenant: Tenant, loopback: None, hook: Receiver
) -> None:
    created = create(client, hook.url, ["payment.online_registered", "document.issued"], description="ERP")
    assert created["secret"].startswith("whsec_")
    assert created["url"] == hook.url
    assert created["event_types"] == ["payment.online_registered", "document.issued"]
    assert created["enabled"] is True and created["disabled_reason"] is None
    assert created["description"] == "ERP"

    read = client.get(f"{BASE}/{created['id']}.json").json()
    assert "secret" not in read
    assert read["id"] == created["id"]
    listed = client.get(f"{BASE}.json").json()
    assert [e["id"] for e in listed] == [created["id"]]
    assert all("secret" not in e for e in listed)
    xml = client.get(f"{BASE}/{created['id']}.xml").text
    assert "whsec_" not in xml
    assert '<event_types type="array">' in xml and "<event_type>document.issued</event_type>" in xml

    # the secret is in Secrets Manager under the stage prefix, never in the table
    name = f"factura/local/webhooks/{tenant.tenant_id}/{created['id']}"
    stored = json.loads(secrets_manager().get_secret_value(SecretId=name)["SecretString"])
    assert stored["current"] == created["secret"]
    table = boto3.client("dynamodb", region_name=REGION)
    items = table.scan(TableName=aws.stack.ref("BillingTable"))["Items"]
    assert created["secret"] not in json.dumps(items)
    assert not any("whsec_" in json.dumps(item) for item in items)


def test_create_in_every_wire_format(client: ApiClient, loopback: None, hook: Receiver) -> None:
    xml = client.send_xml(
        "POST",
        f"{BASE}.xml",
        f"""<webhook_endpoint><url>{hook.url}</url>
        <event_types type="array"><event_type>payment.registered</event_type>
        <event_type>document.state_changed</event_type></event_types></webhook_endpoint>""",
    )
    assert xml.status == 201, xml.text
    assert "<secret>whsec_" in xml.text
    new_id = xml.text.split('<id type="integer">')[1].split("<")[0]
    assert (xml.header("Location") or "").endswith(f"/api/v1/webhook_endpoints/{new_id}")

    form = client.send_form(
        "POST",
        f"{BASE}.json",
        {"webhook_endpoint": {"url": hook.url, "event_types": ["payment.registered", "document.issued"]}},
    )
    assert form.status == 201, form.text
    assert form.json()["event_types"] == ["payment.registered", "document.issued"]

    comma = client.send_form(
        "POST",
        f"{BASE}.json",
        {"webhook_endpoint": {"url": hook.url, "event_types": "document.issued, payment.registered"}},
    )
    assert comma.status == 201, comma.text
    assert comma.json()["event_types"] == ["document.issued", "payment.registered"]


def test_update_enable_disable_and_delete(
    client: ApiClient, tenant: Tenant, loopback: None, hook: Receiver
) -> None:
    created = create(client, hook.url)
    path = f"{BASE}/{created['id']}.json"
    updated = client.send_json(
        "PUT", path, {"webhook_endpoint": {"event_types": ["document.issued"], "description": "new"}}
    ).json()
    assert updated["event_types"] == ["document.issued"] and updated["description"] == "new"
    assert updated["url"] == hook.url

    disabled = client.send_json("PUT", path, {"webhook_endpoint": {"enabled": False}}).json()
    assert disabled["enabled"] is False and disabled["disabled_reason"] == "disabled through the API"
    enabled = client.send_json("PUT", path, {"webhook_endpoint": {"enabled": "true"}}).json()
    assert enabled["enabled"] is True and enabled["disabled_reason"] is None

    # a GET can be sent back as it is (read-only fields ignored)
    again = client.send_json("PUT", path, {"webhook_endpoint": client.get(path).json()})
    assert again.status == 200, again.text

    deleted = client.delete(path)
    assert deleted.status == 200 and "secret" not in deleted.json()
    assert client.get(path).status == 404
    with pytest.raises(secrets_manager().exceptions.ResourceNotFoundException):
        secrets_manager().get_secret_value(
            SecretId=f"factura/local/webhooks/{tenant.tenant_id}/{created['id']}"
        )


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"event_types": ["payment.online_registered"]}, "webhook_endpoint.url is required"),
        ({"url": "https://93.184.215.14/cb"}, "webhook_endpoint.event_types is required"),
        ({"url": "https://93.184.215.14/cb", "event_types": ["payment.refunded"]}, "not an event type"),
        ({"url": "https://93.184.215.14/cb", "event_types": []}, "at least one event type"),
        (
            {
                "url": "https://93.184.215.14/cb",
                "event_types": ["document.issued"],
                "secret": "x",
                "colour": 1,
            },
            "colour is not a known field",
        ),
        ({"url": "http://93.184.215.14/cb", "event_types": ["document.issued"]}, "https"),
        ({"url": "https://127.0.0.1/cb", "event_types": ["document.issued"]}, "loopback"),
        ({"url": "https://10.0.0.8/cb", "event_types": ["document.issued"]}, "private"),
        (
            {"url": "https://169.254.169.254/latest/meta-data/", "event_types": ["document.issued"]},
            "metadata",
        ),
        ({"url": "https://[fd00::1]/cb", "event_types": ["document.issued"]}, "unique-local"),
        ({"url": "https://localhost/cb", "event_types": ["document.issued"]}, "loopback"),
    ],
)
def test_invalid_endpoints_are_refused_with_422(client: ApiClient, fields: dict, message: str) -> None:
    response = client.send_json("POST", f"{BASE}.json", {"webhook_endpoint": fields})
    assert response.status == 422, response.text
    assert any(message in error for error in response.json()["errors"]), response.json()
    assert client.get(f"{BASE}.json").json() == []


def test_a_public_https_url_is_accepted_when_deployed(client: ApiClient) -> None:
    created = create(client, "https://93.184.215.14/factura/callback")
    assert created["url"] == "https://93.184.215.14/factura/callback"


def test_an_update_to_a_refused_url_changes_nothing(
    client: ApiClient, loopback: None, hook: Receiver
) -> None:
    created = create(client, hook.url)
    response = client.send_json(
        "PUT", f"{BASE}/{created['id']}.json", {"webhook_endpoint": {"url": "https://192.168.0.1/x"}}
    )
    assert response.status == 422
    assert client.get(f"{BASE}/{created['id']}.json").json()["url"] == hook.url


def test_rotation_returns_a_new_secret_and_keeps_the_old_one_for_the_overlap(
    client: ApiClient, tenant: Tenant, loopback: None, hook: Receiver
) -> None:
    created = create(client, hook.url)
    rotated = client.request("POST", f"{BASE}/{created['id']}/rotate_secret.json")
    assert rotated.status == 200, rotated.text
    body = rotated.json()
    assert body["secret"].startswith("whsec_") and body["secret"] != created["secret"]
    assert body["previous_secret_expires_at"] is not None
    assert "secret" not in client.get(f"{BASE}/{created['id']}.json").json()
    stored = json.loads(
        secrets_manager().get_secret_value(
            SecretId=f"factura/local/webhooks/{tenant.tenant_id}/{created['id']}"
        )["SecretString"]
    )
    assert stored["current"] == body["secret"] and stored["previous"] == created["secret"]
    assert 86000 < stored["previous_expires_at"] - __import__("time").time() <= 86400

    revoked = client.request("POST", f"{BASE}/{created['id']}/rotate_secret.xml?overlap_seconds=0")
    assert revoked.status == 200 and "<secret>whsec_" in revoked.text
    assert '<previous_secret_expires_at nil="true"/>' in revoked.text

    for bad in ("-1", "abc", "604801"):
        response = client.request("POST", f"{BASE}/{created['id']}/rotate_secret.json?overlap_seconds={bad}")
        assert response.status == 422, bad


def test_other_tenants_get_404_for_everything(
    aws: LocalStack, client: ApiClient, other_tenant: Tenant, loopback: None, hook: Receiver
) -> None:
    created = create(client, hook.url)
    other = ApiClient(aws.gateway, other_tenant.api_key)
    ref = created["id"]
    assert other.get(f"{BASE}/{ref}.json").status == 404
    assert (
        other.send_json("PUT", f"{BASE}/{ref}.json", {"webhook_endpoint": {"description": "x"}}).status == 404
    )
    assert other.delete(f"{BASE}/{ref}.json").status == 404
    assert other.request("POST", f"{BASE}/{ref}/rotate_secret.json").status == 404
    assert other.get(f"{BASE}.json").json() == []
    assert client.get(f"{BASE}/{ref}.json").status == 200


def test_routes_answer_404_405_and_need_credentials(aws: LocalStack, client: ApiClient) -> None:
    assert client.get(f"{BASE}/abc/rotate_secret.json").status in (404, 405)
    assert client.request("POST", f"{BASE}/abc/rotate_secret.json").status == 404
    assert client.request("POST", f"{BASE}/999/rotate_secret.json").status == 404
    assert client.request("PATCH", f"{BASE}.json").status == 405
    assert client.request("POST", "/api/v1/webhook_deliveries/12/replay.json").status == 404
    assert ApiClient(aws.gateway).get(f"{BASE}.json").status == 401
    assert client.get("/api/v1/webhook_deliveries.json?endpoint_id=x").status == 422
    assert client.get("/api/v1/webhook_deliveries.json?webhook_id=nope").status == 422


def test_the_webhooks_function_does_not_import_httpx() -> None:
    import subprocess
    import sys

    from local.template import ROOT

    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('app', {str(ROOT / 'functions/webhooks/app.py')!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        "print('httpx' in sys.modules)\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "layers" / "core"), "TABLE_NAME": "t", "PATH": ""},
    ).stdout
    assert out.strip() == "False"
