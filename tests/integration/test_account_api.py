"""The first vertical slice through the real path: gateway event -> handler -> DynamoDB (moto)
-> the reference's XML. Covers authentication, format suffixes, 405, and bad input."""

from __future__ import annotations

import time
import xml.etree.ElementTree as ET

import pytest

from tests.conftest import Tenant
from tests.support.aws import LocalStack
from tests.support.client import ApiClient


def xml(response) -> ET.Element:  # type: ignore[no-untyped-def]
    return ET.fromstring(response.body)


def test_account_xml_has_reference_fields(client: ApiClient, tenant: Tenant) -> None:
    response = client.get("/api/v1/account.xml")
    assert response.status == 200
    assert response.header("Content-Type").startswith("application/xml")
    doc = xml(response)
    assert doc.tag == "account"
    assert doc.findtext("id") == str(tenant.tenant_id)
    assert doc.find("id").get("type") == "integer"
    for field in (
        "name",
        "disabled",
        "company_name",
        "company_vat_id",
        "company_euid",
        "company_country_id",
        "total_open",
        "total_overdue",
        "branch_offices",
        "account_banks",
    ):
        assert doc.find(field) is not None, field
    assert doc.find("disabled").get("type") == "boolean"
    assert doc.find("branch_offices").get("type") == "array"
    assert doc.findtext("company_country") == "Romania"


def test_account_json(client: ApiClient, tenant: Tenant) -> None:
    response = client.get("/api/v1/account.json")
    assert response.status == 200
    assert response.json()["id"] == tenant.tenant_id


@pytest.mark.parametrize(
    ("headers", "query"),
    [
        ({}, ""),
        ({"Authorization": "Basic bm90LWEta2V5Ong="}, ""),  # "not-a-key:x"
        ({"Authorization": "Basic !!!"}, ""),
        ({"Authorization": "Bearer something"}, ""),
        ({}, "api_key=fct_1_" + "0" * 64),
    ],
)
def test_missing_or_wrong_key_is_401_with_errors_body(aws: LocalStack, headers: dict, query: str) -> None:
    response = ApiClient(aws.gateway).get(f"/api/v1/account.xml?{query}", headers=headers)
    assert response.status == 401
    doc = xml(response)
    assert doc.tag == "errors" and doc.findtext("error")


def test_key_of_another_tenant_digest_does_not_match(
    aws: LocalStack, tenant: Tenant, other_tenant: Tenant
) -> None:
    """A key is looked up inside the tenant it names; swapping the tenant id breaks it."""
    forged = f"fct_{other_tenant.tenant_id}_{tenant.api_key.rsplit('_', 1)[1]}"
    assert ApiClient(aws.gateway, forged).get("/api/v1/account.xml").status == 401


def test_api_key_query_parameter(aws: LocalStack, tenant: Tenant) -> None:
    response = ApiClient(aws.gateway).get(f"/api/v1/account.xml?api_key={tenant.api_key}")
    assert response.status == 200


def test_password_is_ignored(aws: LocalStack, tenant: Tenant) -> None:
    for password in ("x", "", "anything"):
        import base64

        token = base64.b64encode(f"{tenant.api_key}:{password}".encode()).decode()
        response = ApiClient(aws.gateway).get(
            "/api/v1/account.xml", headers={"Authorization": f"Basic {token}"}
        )
        assert response.status == 200


@pytest.mark.parametrize("method", ["DELETE", "PUT", "POST"])
def test_other_verbs_on_account_are_405(client: ApiClient, method: str) -> None:
    response = client.request(method, "/api/v1/account.xml")
    assert response.status == 405
    assert response.header("Allow") == "GET"
    assert xml(response).tag == "errors"


def test_405_in_json_for_json_paths(client: ApiClient) -> None:
    response = client.request("DELETE", "/api/v1/account.json")
    assert response.status == 405
    assert response.json()["errors"]


def test_unknown_route_is_gateway_403(client: ApiClient) -> None:
    assert client.get("/api/v1/nothing.xml").status == 403


class TestBranchOffices:
    def test_crud_with_every_wire_format(self, client: ApiClient) -> None:
        created = client.send_form(
            "POST", "/api/v1/branch_offices.xml", {"branch_office": {"name": "Cluj", "city": "Cluj-Napoca"}}
        )
        assert created.status == 201
        office_id = xml(created).findtext("id")
        assert created.header("Location").endswith(f"/api/v1/branch_offices/{office_id}")

        multipart = client.send_multipart(
            "PUT", f"/api/v1/branch_offices/{office_id}.xml", {"branch_office[zip]": "400001"}
        )
        assert multipart.status == 200
        assert xml(multipart).findtext("zip") == "400001"
        assert xml(multipart).findtext("city") == "Cluj-Napoca", "fields not sent must not change"

        as_xml = client.send_xml(
            "PUT",
            f"/api/v1/branch_offices/{office_id}.xml",
            '<?xml version="1.0" encoding="UTF-8"?><branch_office><phone>+40 264 000</phone></branch_office>',
        )
        assert as_xml.status == 200 and xml(as_xml).findtext("phone") == "+40 264 000"

        as_json = client.send_json(
            "PUT", f"/api/v1/branch_offices/{office_id}.json", {"branch_office": {"fax": "1"}}
        )
        assert as_json.status == 200 and as_json.json()["fax"] == "1"

        listing = client.get("/api/v1/branch_offices.xml")
        assert [e.findtext("id") for e in xml(listing)] == [office_id]
        assert office_id in [
            e.findtext("id") for e in xml(client.get("/api/v1/account.xml")).find("branch_offices")
        ]

        assert client.delete(f"/api/v1/branch_offices/{office_id}.xml").status == 200
        assert client.get(f"/api/v1/branch_offices/{office_id}.xml").status == 404

    def test_other_tenants_office_is_404_and_untouched(
        self, aws: LocalStack, client: ApiClient, other_tenant: Tenant
    ) -> None:
        created = client.send_form("POST", "/api/v1/branch_offices.xml", {"branch_office": {"name": "Mine"}})
        office_id = xml(created).findtext("id")
        intruder = ApiClient(aws.gateway, other_tenant.api_key)
        assert intruder.get(f"/api/v1/branch_offices/{office_id}.xml").status == 404
        assert (
            intruder.send_form(
                "PUT", f"/api/v1/branch_offices/{office_id}.xml", {"branch_office": {"name": "Stolen"}}
            ).status
            == 404
        )
        assert intruder.delete(f"/api/v1/branch_offices/{office_id}.xml").status == 404
        assert xml(client.get(f"/api/v1/branch_offices/{office_id}.xml")).findtext("name") == "Mine"
        assert len(xml(intruder.get("/api/v1/branch_offices.xml"))) == 0

    @pytest.mark.parametrize(
        ("body", "content_type", "status", "fragment"),
        [
            (
                "branch_office[city]=X",
                "application/x-www-form-urlencoded",
                422,
                "branch_office.name is required",
            ),
            (
                "branch_office[name]=A&branch_office[colour]=red",
                "application/x-www-form-urlencoded",
                422,
                "branch_office.colour",
            ),
            (
                "branch_office[name]=" + "x" * 300,
                "application/x-www-form-urlencoded",
                422,
                "branch_office.name",
            ),
            ("<branch_office><name>A</name>", "application/xml", 400, ""),
            ("name=A", "application/x-www-form-urlencoded", 400, "branch_office"),
            ('{"branch_office": [1]}', "application/json", 400, "branch_office"),
            ("not json", "application/json", 400, ""),
        ],
    )
    def test_bad_input_is_refused_and_writes_nothing(
        self, client: ApiClient, body: str, content_type: str, status: int, fragment: str
    ) -> None:
        response = client.request("POST", "/api/v1/branch_offices.xml", body=body, content_type=content_type)
        assert response.status == status, response.text
        errors = [e.text for e in xml(response)]
        assert errors and all(errors)
        assert any(fragment in e for e in errors), errors
        assert len(xml(client.get("/api/v1/branch_offices.xml"))) == 0

    def test_non_numeric_and_zero_ids_are_404(self, client: ApiClient) -> None:
        for ref in ("abc.xml", "0.xml", "-1.xml", "1e3.xml"):
            assert client.get(f"/api/v1/branch_offices/{ref}").status == 404, ref

    def test_unknown_format_suffix_is_406(self, client: ApiClient) -> None:
        assert client.get("/api/v1/branch_offices/12.html").status == 406


BILLION_LAUGHS = """<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<branch_office><name>&lol9;</name></branch_office>"""

EXTERNAL_ENTITY = """<?xml version="1.0"?>
<!DOCTYPE branch_office [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<branch_office><name>&xxe;</name></branch_office>"""

DOCTYPE_ONLY = (
    """<?xml version="1.0"?><!DOCTYPE branch_office><branch_office><name>A</name></branch_office>"""
)


@pytest.mark.parametrize(
    "payload", [BILLION_LAUGHS, EXTERNAL_ENTITY, DOCTYPE_ONLY], ids=["billion-laughs", "xxe", "doctype"]
)
def test_hostile_xml_is_400_fast_and_writes_nothing(client: ApiClient, payload: str) -> None:
    started = time.perf_counter()
    response = client.send_xml("POST", "/api/v1/branch_offices.xml", payload)
    elapsed = time.perf_counter() - started
    assert response.status == 400
    assert elapsed < 0.5, f"refusal took {elapsed:.3f}s"
    assert "DTD" in response.text or "entit" in response.text.lower()
    assert len(xml(client.get("/api/v1/branch_offices.xml"))) == 0


def test_huge_body_is_400(client: ApiClient) -> None:
    body = "<branch_office><name>" + "x" * (2 * 1024 * 1024) + "</name></branch_office>"
    response = client.send_xml("POST", "/api/v1/branch_offices.xml", body)
    assert response.status == 400
    assert len(xml(client.get("/api/v1/branch_offices.xml"))) == 0
