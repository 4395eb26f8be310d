"""Clients (§7.7, §7.7.1) through the gateway: the reference's own requests, CRUD in every wire
format, search, pagination, bad input that changes nothing, tenant isolation, and the refusal
to delete a client that documents refer to."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from typing import Any

import pytest

from tests.conftest import Tenant
from tests.support.aws import LocalStack
from tests.support.client import ApiClient

VALID_IBAN = "RO49 AAAA 1B31 0075 9384 0000"


def xml(response: Any) -> ET.Element:
    return ET.fromstring(response.body)


def create(client: ApiClient, **fields: Any) -> ET.Element:
    response = client.send_form("POST", "/api/v1/clients.xml", {"client": {"name": "Client", **fields}})
    assert response.status == 201, response.text
    return xml(response)


def stored(client: ApiClient) -> list[dict[str, Any]]:
    """Every client of the tenant, as JSON (the read-back that proves what was written)."""
    response = client.get("/api/v1/clients.json?per_page=500")
    assert response.status == 200
    return response.json()  # type: ignore[no-any-return]


def errors_of(response: Any) -> list[str]:
    doc = xml(response)
    assert doc.tag == "errors"
    messages = [e.text or "" for e in doc.findall("error")]
    assert messages and all(messages)
    return messages


# -- the reference's own requests ------------------------------------------------------------


def test_reference_curl_create_with_name_and_uid_only(client: ApiClient) -> None:
    """`curl -X POST -d "client[name]=MyCompany" -d "client[uid]=999999" …/clients.xml`"""
    response = client.request(
        "POST",
        "/api/v1/clients.xml",
        body="client[name]=MyCompany&client[uid]=999999",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status == 201, response.text
    assert response.header("Content-Type").startswith("application/xml")
    doc = xml(response)
    assert doc.tag == "client"
    client_id = doc.findtext("id")
    assert doc.find("id").get("type") == "integer"
    assert response.header("Location") == f"http://factura.test/api/v1/clients/{client_id}"
    assert doc.findtext("name") == "MyCompany" and doc.findtext("uid") == "999999"
    assert doc.find("is_company").get("type") == "boolean" and doc.findtext("is_company") == "false"
    assert doc.find("country_id").get("nil") == "true"
    for field in ("address", "city", "address_2", "zip", "state", "bank_iban", "email", "tax_id"):
        assert doc.find(field) is not None and doc.findtext(field) == "", field
    assert doc.find("created_at").get("type") == "datetime"
    assert [e.tag for e in doc] == sorted(e.tag for e in doc), "Rails to_xml order"


def test_reference_php_add_client(client: ApiClient) -> None:
    """The PHP "Add client" example (http_build_query, `"tax_id" => 1`); its country_id 213 is a
    record id of the reference system, swapped here for an ISO id as the other ids are."""
    attributes = {
        "client": {
            "name": "My favorite company",
            "uid": "3987985",
            "tax_id": 1,
            "registration_id": "J39/44/1990",
            "city": "Client city name",
            "address": "street name no. 221",
            "country_id": "642",
        }
    }
    response = client.send_form("POST", "/api/v1/clients.xml", attributes)
    assert response.status == 201, response.text
    doc = xml(response)
    assert doc.findtext("tax_id") == "1"
    assert doc.findtext("registration_id") == "J39/44/1990"
    assert doc.findtext("country_id") == "642" and doc.find("country_id").get("type") == "integer"
    assert doc.findtext("country") == "Romania"
    assert client.get(f"/api/v1/clients/{doc.findtext('id')}.xml").status == 200


def test_reference_modify_examples_change_only_what_they_send(client: ApiClient) -> None:
    client_id = create(client, name="Before", uid="1", city="Old city", address="Street 1").findtext("id")
    url = f"/api/v1/clients/{client_id}.xml"

    # curl -X PUT -F "client[name]=MyCompany"
    response = client.send_multipart("PUT", url, {"client[name]": "MyCompany"})
    assert response.status == 200, response.text
    assert xml(response).findtext("name") == "MyCompany" and xml(response).findtext("city") == "Old city"

    # 6.1 Modify client name (xml), body as the reference writes it (leading declaration, newlines)
    body = '<?xml version="1.0" encoding="UTF-8"?>\n<client>\n<name>Client Name</name>\n<uid>999999</uid>\n</client>'
    response = client.send_xml("PUT", url, body)
    assert response.status == 200, response.text
    assert (xml(response).findtext("name"), xml(response).findtext("uid")) == ("Client Name", "999999")

    # 6.1 Modify client name (application/x-www-form-urlencoded)
    response = client.request(
        "PUT",
        url,
        body="client[name]=ClientName&client[uid]=999999",
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status == 200 and xml(response).findtext("name") == "ClientName"

    # PHP "Modify client": http_build_query(array("client" => array(name, city)))
    response = client.send_form("PUT", url, {"client": {"name": "New client name", "city": "New city name"}})
    assert response.status == 200
    doc = xml(client.get(url))
    assert (doc.findtext("name"), doc.findtext("city")) == ("New client name", "New city name")
    assert doc.findtext("address") == "Street 1" and doc.findtext("uid") == "999999"


def test_reference_search_by_uid(client: ApiClient) -> None:
    wanted = create(client, name="Wanted", uid="13548146").findtext("id")
    other = create(client, name="Other", uid="1X370113689").findtext("id")
    create(client, name="Near miss", uid="135481460")

    doc = xml(client.get("/api/v1/clients/search.xml?field=uid&value=13548146"))
    assert doc.tag == "clients" and doc.get("type") == "array"
    assert [c.findtext("id") for c in doc] == [wanted], "uid matches the whole value"

    doc = xml(client.get("/api/v1/clients/search.xml?field=uid&value=1X370113689"))
    assert [c.findtext("id") for c in doc] == [other]
    assert [
        c["id"] for c in client.get("/api/v1/clients/search.json?field=uid&value=1x370113689").json()
    ] == [int(other)], "case-insensitive"


def test_reference_listing_and_details(client: ApiClient) -> None:
    client_id = create(client, name="Listed").findtext("id")
    listing = xml(client.get("/api/v1/clients.xml"))
    assert listing.tag == "clients" and [c.findtext("id") for c in listing] == [client_id]
    assert listing[0].tag == "client"
    details = client.get(f"/api/v1/clients/{client_id}.xml")
    assert details.status == 200 and xml(details).findtext("name") == "Listed"
    assert client.get(f"/api/v1/clients/{client_id}").status == 200, "no suffix means XML"


# -- CRUD in every wire format ----------------------------------------------------------------


def test_create_in_every_wire_format(client: ApiClient) -> None:
    made = [
        client.send_form("POST", "/api/v1/clients.xml", {"client": {"name": "Form"}}),
        client.send_multipart(
            "POST",
            "/api/v1/clients.xml",
            {"client[name]": "Multipart", "client[is_company]": "1", "client[uid]": "RO1"},
        ),
        client.send_xml(
            "POST",
            "/api/v1/clients.xml",
            '<client><name>Xml</name><is_company type="boolean">true</is_company><uid>RO2</uid>'
            "<country_id>RO</country_id></client>",
        ),
        client.send_json(
            "POST",
            "/api/v1/clients.json",
            {"client": {"name": "Json", "is_company": False, "tax_id": 1, "country_id": 276}},
        ),
    ]
    assert [r.status for r in made] == [201, 201, 201, 201], [r.text for r in made]
    as_json = made[3].json()
    assert as_json["name"] == "Json" and as_json["tax_id"] == "1" and as_json["country"] == "Germany"
    assert made[3].header("Location").endswith(f"/api/v1/clients/{as_json['id']}")
    by_name = {c["name"]: c for c in stored(client)}
    assert set(by_name) == {"Form", "Multipart", "Xml", "Json"}
    assert by_name["Multipart"]["is_company"] is True and by_name["Xml"]["country_id"] == 642
    assert by_name["Form"]["is_company"] is False


def test_full_record_roundtrip_xml_and_json_agree(client: ApiClient) -> None:
    fields = {
        "name": "Full SRL",
        "is_company": "true",
        "registration_id": "J12/345/2020",
        "tax_id": "RO123",
        "uid": "123",
        "address": "Str. Lungă 1",
        "address_2": "ap. 2",
        "city": "Cluj-Napoca",
        "zip": "400001",
        "state": "Cluj",
        "country_id": "ro",
        "bank_iban": VALID_IBAN.lower(),
        "bank_name": "Banca",
        "email": "Office@Full.ro",
        "fax": "+40 264 000",
        "homepage": "https://full.ro",
        "telephone": "+40 264 001",
    }
    doc = create(client, **fields)
    client_id = doc.findtext("id")
    assert doc.findtext("bank_iban") == "RO49AAAA1B31007593840000", "normalized"
    assert doc.findtext("address") == "Str. Lungă 1" and doc.findtext("country") == "Romania"
    as_json = client.get(f"/api/v1/clients/{client_id}.json").json()
    assert set(as_json) == {e.tag for e in doc}
    assert set(as_json) == {*fields, "id", "country", "created_at", "updated_at"}
    for element in doc:
        value = as_json[element.tag]
        expected = element.text or ""
        if element.get("nil") == "true":
            assert value is None
        elif isinstance(value, bool):
            assert expected == str(value).lower()
        else:
            assert str(value) == expected, element.tag


def test_modify_in_every_format_leaves_other_fields_intact(client: ApiClient) -> None:
    doc = create(client, name="Start", uid="U1", city="Iasi", email="a@b.ro", country_id="642")
    client_id = doc.findtext("id")
    url = f"/api/v1/clients/{client_id}"
    assert client.send_form("PUT", f"{url}.xml", {"client": {"zip": "700001"}}).status == 200
    assert client.send_multipart("PUT", f"{url}.xml", {"client[telephone]": "0232"}).status == 200
    assert client.send_xml("PUT", f"{url}.xml", "<client><state>Iasi</state></client>").status == 200
    response = client.send_json("PUT", f"{url}.json", {"client": {"fax": "0233", "country_id": "DE"}})
    assert response.status == 200
    after = response.json()
    assert (after["zip"], after["telephone"], after["state"], after["fax"]) == (
        "700001",
        "0232",
        "Iasi",
        "0233",
    )
    assert (after["name"], after["uid"], after["city"], after["email"]) == ("Start", "U1", "Iasi", "a@b.ro")
    assert after["country_id"] == 276 and after["country"] == "Germany"
    assert after["created_at"] == client.get(f"{url}.json").json()["created_at"]
    assert after["updated_at"] >= after["created_at"]


def test_modify_can_clear_optional_fields_and_sent_back_reads_are_accepted(client: ApiClient) -> None:
    doc = create(client, name="Clear", email="x@y.ro", country_id="642", bank_iban=VALID_IBAN)
    url = f"/api/v1/clients/{doc.findtext('id')}.xml"
    response = client.send_form("PUT", url, {"client": {"email": "", "country_id": "", "bank_iban": ""}})
    assert response.status == 200, response.text
    after = xml(response)
    assert after.findtext("email") == "" and after.findtext("bank_iban") == ""
    assert after.find("country_id").get("nil") == "true" and after.find("country").get("nil") == "true"

    # GET -> edit -> PUT the whole document back: read-only fields are ignored
    body = client.get(url).text.replace("<name>Clear</name>", "<name>Round trip</name>")
    response = client.send_xml("PUT", url, body)
    assert response.status == 200, response.text
    assert xml(response).findtext("name") == "Round trip"
    assert xml(response).findtext("id") == doc.findtext("id")


def test_delete_answers_the_deleted_record_in_the_requested_format(client: ApiClient) -> None:
    keep = create(client, name="Keep").findtext("id")
    gone = create(client, name="Gone").findtext("id")
    response = client.delete(f"/api/v1/clients/{gone}.json")
    assert response.status == 200 and response.json()["name"] == "Gone"
    assert client.get(f"/api/v1/clients/{gone}.xml").status == 404
    assert client.delete(f"/api/v1/clients/{gone}.xml").status == 404
    response = client.delete(f"/api/v1/clients/{keep}.xml")
    assert response.status == 200 and xml(response).findtext("name") == "Keep"
    assert stored(client) == []


def test_company_needs_a_uid_on_create_and_on_modify(client: ApiClient) -> None:
    response = client.send_form("POST", "/api/v1/clients.xml", {"client": {"name": "Co", "is_company": "1"}})
    assert response.status == 422 and any("client.uid" in e for e in errors_of(response))
    assert stored(client) == []

    person = create(client, name="Person").findtext("id")
    response = client.send_form("PUT", f"/api/v1/clients/{person}.xml", {"client": {"is_company": "true"}})
    assert response.status == 422 and any("client.uid" in e for e in errors_of(response))
    company = create(client, name="Company", is_company="true", uid="RO9").findtext("id")
    response = client.send_json("PUT", f"/api/v1/clients/{company}.json", {"client": {"uid": ""}})
    assert response.status == 422 and any("client.uid" in e for e in response.json()["errors"])

    by_id = {str(c["id"]): c for c in stored(client)}
    assert by_id[person]["is_company"] is False
    assert by_id[company]["uid"] == "RO9"
    ok = client.send_form("PUT", f"/api/v1/clients/{person}.xml", {"client": {"is_company": "1", "uid": "7"}})
    assert ok.status == 200 and xml(ok).findtext("is_company") == "true"


@pytest.mark.parametrize(
    ("method", "path"), [("POST", "/api/v1/clients/1.xml"), ("DELETE", "/api/v1/clients.xml")]
)
def test_wrong_verbs_are_405(client: ApiClient, method: str, path: str) -> None:
    response = client.request(method, path)
    assert response.status == 405 and response.header("Allow")
    assert xml(response).tag == "errors"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "POST"])
def test_search_path_only_reads(client: ApiClient, method: str) -> None:
    response = client.request(method, "/api/v1/clients/search.xml")
    assert response.status == 405
    assert errors_of(response)


# -- search ----------------------------------------------------------------------------------


def test_search_by_every_field(client: ApiClient) -> None:
    ana = create(client, name="Ana Popescu", uid="RO100", email="ana@popescu.ro")
    andrei = create(client, name="andrei Ionescu", uid="RO200", email="Andrei@Ionescu.ro").findtext("id")
    create(client, name="Bogdan", uid="RO300", email="bogdan@b.ro")

    def ids(query: str) -> list[str]:
        response = client.get(f"/api/v1/clients/search.xml?{query}")
        assert response.status == 200, response.text
        return [c.findtext("id") for c in xml(response)]

    assert set(ids("field=name&value=an")) == {ana.findtext("id"), andrei}, "case-insensitive prefix"
    assert ids("field=name&value=ANDREI%20I") == [andrei]
    assert ids("field=name&value=Popescu") == [], "prefix, not substring"
    assert ids("field=uid&value=RO2") == [], "uid matches whole values"
    assert ids("field=uid&value=ro200") == [andrei]
    assert ids("field=email&value=andrei@ionescu.ro") == [andrei]
    assert ids("field=email&value=andrei@") == []

    created = ana.findtext("created_at")  # e.g. 2026-11-20T22:05:28Z (UTC)
    year, month, day = created[:10].split("-")
    everyone = 3
    for value in (
        f"{year}.{month}.{day}",
        f"{year}-{month}-{day}",
        f"{day}.{month}.{year}",
        f"{year}-{month}",
    ):
        assert len(ids(f"field=created_at&value={value}")) == everyone, value
        assert len(ids(f"field=updated_at&value={value}")) == everyone, value
    assert ids("field=created_at&value=2014.06.06") == []

    as_json = client.get("/api/v1/clients/search.json?field=name&value=bog").json()
    assert [c["name"] for c in as_json] == ["Bogdan"]


def test_search_follows_modifications(client: ApiClient) -> None:
    client_id = create(client, name="Old name", uid="A1").findtext("id")
    client.send_form("PUT", f"/api/v1/clients/{client_id}.xml", {"client": {"name": "New name", "uid": "B2"}})
    search = "/api/v1/clients/search.xml?field="
    assert len(xml(client.get(search + "name&value=old"))) == 0
    assert len(xml(client.get(search + "uid&value=A1"))) == 0
    assert [c.findtext("id") for c in xml(client.get(search + "name&value=new"))] == [client_id]
    client.delete(f"/api/v1/clients/{client_id}.xml")
    assert len(xml(client.get(search + "name&value=new"))) == 0


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("field=telephone&value=1", "field must be one of: name, uid, email, created_at, updated_at"),
        ("value=1", "field must be one of"),
        ("field=uid", "value is required"),
        ("field=uid&value=", "value is required"),
        ("field=created_at&value=2014.13.45", "created_at"),
        ("field=created_at&value=yesterday", "created_at"),
        ("field=name&value=a&per_page=0", "per_page"),
    ],
)
def test_bad_search_is_422(client: ApiClient, query: str, fragment: str) -> None:
    response = client.get(f"/api/v1/clients/search.xml?{query}")
    assert response.status == 422
    assert any(fragment in e for e in errors_of(response))


# -- pagination -------------------------------------------------------------------------------


def test_listing_and_search_paginate_with_cursor(client: ApiClient) -> None:
    made = [create(client, name=f"Paged {i}").findtext("id") for i in range(5)]
    for base in (
        "/api/v1/clients.xml?per_page=2",
        "/api/v1/clients/search.xml?field=name&value=paged&per_page=2",
    ):
        seen: list[str] = []
        url = base
        pages = 0
        while True:
            response = client.get(url)
            assert response.status == 200, response.text
            page = [c.findtext("id") for c in xml(response)]
            assert len(page) <= 2
            seen += page
            pages += 1
            cursor = response.header("X-Next-Cursor")
            if cursor is None:
                break
            assert response.header("Link").endswith('; rel="next"')
            url = f"{base}&cursor={cursor}"
        assert pages == 3 and seen == made, base  # listing order is creation order; names sort alike


def test_a_cursor_from_another_listing_is_400(client: ApiClient) -> None:
    for i in range(3):
        create(client, name=f"C{i}")
    cursor = client.get("/api/v1/clients.xml?per_page=1").header("X-Next-Cursor")
    assert cursor
    response = client.get(f"/api/v1/clients/search.xml?field=name&value=c&cursor={cursor}")
    assert response.status == 400


# -- bad input changes nothing -----------------------------------------------------------------

FORM = "application/x-www-form-urlencoded"
XML = "application/xml"
JSON = "application/json"

BAD_CREATES = [
    pytest.param("client[uid]=1", FORM, 422, "client.name is required", id="missing-name"),
    pytest.param("client[name]=", FORM, 422, "client.name", id="empty-name"),
    pytest.param("client[name]=%20%20", FORM, 422, "client.name", id="blank-name"),
    pytest.param("client[name]=" + "x" * 300, FORM, 422, "client.name", id="long-name"),
    pytest.param(
        "client[name]=A&client[is_company]=maybe", FORM, 422, "client.is_company", id="is-company-maybe"
    ),
    pytest.param("client[name]=A&client[is_company]=2", FORM, 422, "client.is_company", id="is-company-2"),
    pytest.param("client[name]=A&client[is_company]=true", FORM, 422, "client.uid", id="company-no-uid"),
    pytest.param(
        "client[name]=A&client[colour]=red", FORM, 422, "client.colour is not a known field", id="unknown"
    ),
    pytest.param(
        "client[name]=A&client[country_id]=213", FORM, 422, "client.country_id", id="unknown-country-id"
    ),
    pytest.param(
        "client[name]=A&client[country_id]=ZZ", FORM, 422, "client.country_id", id="unknown-country-code"
    ),
    pytest.param("client[name]=A&client[email]=not-an-email", FORM, 422, "client.email", id="bad-email"),
    pytest.param("client[name]=A&client[email]=a@b", FORM, 422, "client.email", id="email-no-tld"),
    pytest.param(
        "client[name]=A&client[bank_iban]=RO49AAAA1B31007593840001",
        FORM,
        422,
        "client.bank_iban",
        id="iban-checksum",
    ),
    pytest.param("client[name]=A&client[bank_iban]=12345", FORM, 422, "client.bank_iban", id="iban-shape"),
    pytest.param("client[name][first]=A", FORM, 422, "client.name", id="nested-name"),
    pytest.param("client[name]=a&client=b", FORM, 400, "client", id="malformed-form"),
    pytest.param("client[name=a", FORM, 400, "", id="malformed-form-name"),
    pytest.param("name=A", FORM, 400, "client", id="form-without-wrapper"),
    pytest.param("<client><name>A</name>", XML, 400, "XML", id="malformed-xml"),
    pytest.param("<name>A</name>", XML, 400, "client", id="xml-without-wrapper"),
    pytest.param("<product><name>A</name></product>", XML, 400, "client", id="xml-other-model"),
    pytest.param(
        '<?xml version="1.0"?><!DOCTYPE client [<!ENTITY x "y">]><client><name>&x;</name></client>',
        XML,
        400,
        "DTD",
        id="xml-dtd",
    ),
    pytest.param(
        "<client><is_company>maybe</is_company><name>A</name></client>",
        XML,
        422,
        "client.is_company",
        id="xml-bool",
    ),
    pytest.param('{"name": "A"}', JSON, 400, "client", id="json-without-wrapper"),
    pytest.param('{"client": "A"}', JSON, 400, "client", id="json-wrapper-not-object"),
    pytest.param('{"client": {"name": "A"}', JSON, 400, "JSON", id="malformed-json"),
    pytest.param(
        '{"client": {"name": "A", "tax_id": true}}', JSON, 422, "client.tax_id", id="json-bool-as-text"
    ),
    pytest.param(
        '{"client": {"name": "A", "is_company": "maybe"}}', JSON, 422, "client.is_company", id="json-bool"
    ),
    pytest.param('{"client": {"name": ["A"]}}', JSON, 422, "client.name", id="json-list-as-text"),
    pytest.param(
        '{"client": {"name": "A", "country_id": 9999}}', JSON, 422, "client.country_id", id="json-country"
    ),
]


@pytest.mark.parametrize(("body", "content_type", "status", "fragment"), BAD_CREATES)
def test_bad_create_is_refused_and_writes_nothing(
    client: ApiClient, body: str, content_type: str, status: int, fragment: str
) -> None:
    response = client.request("POST", "/api/v1/clients.xml", body=body, content_type=content_type)
    assert response.status == status, response.text
    messages = errors_of(response)
    assert any(fragment in m for m in messages), messages
    assert stored(client) == []


def test_every_problem_is_reported_at_once(client: ApiClient) -> None:
    response = client.send_form(
        "POST", "/api/v1/clients.xml", {"client": {"email": "x", "is_company": "maybe", "country_id": "ZZ"}}
    )
    assert response.status == 422
    messages = errors_of(response)
    for field in ("client.name", "client.email", "client.is_company", "client.country_id"):
        assert any(field in m for m in messages), (field, messages)


def test_errors_of_json_paths_are_json(client: ApiClient) -> None:
    response = client.send_json("POST", "/api/v1/clients.json", {"client": {"uid": "1"}})
    assert response.status == 422
    assert response.json() == {"errors": ["client.name is required"]}


BAD_MODIFIES = [
    pytest.param("client[name]=", FORM, 422, "client.name", id="empty-name"),
    pytest.param("client[is_company]=maybe", FORM, 422, "client.is_company", id="is-company-maybe"),
    pytest.param("client[colour]=red", FORM, 422, "client.colour", id="unknown"),
    pytest.param("client[country_id]=ZZ", FORM, 422, "client.country_id", id="unknown-country"),
    pytest.param("client[email]=a@@b.ro", FORM, 422, "client.email", id="bad-email"),
    pytest.param("client[bank_iban]=RO00AAAA1B31007593840000", FORM, 422, "client.bank_iban", id="bad-iban"),
    pytest.param("client[name]=B&client[email]=bad", FORM, 422, "client.email", id="good-and-bad"),
    pytest.param("client[name]=a&client=b", FORM, 400, "client", id="malformed-form"),
    pytest.param("name=B", FORM, 400, "client", id="no-wrapper"),
    pytest.param("<client><name>B</name>", XML, 400, "XML", id="malformed-xml"),
    pytest.param('{"client": {"name": null}}', JSON, 422, "client.name", id="json-null-name"),
]


@pytest.mark.parametrize(("body", "content_type", "status", "fragment"), BAD_MODIFIES)
def test_bad_modify_is_refused_and_changes_nothing(
    client: ApiClient, body: str, content_type: str, status: int, fragment: str
) -> None:
    client_id = create(
        client, name="Intact", email="ok@intact.ro", country_id="642", bank_iban=VALID_IBAN
    ).findtext("id")
    before = stored(client)
    response = client.request("PUT", f"/api/v1/clients/{client_id}.xml", body=body, content_type=content_type)
    assert response.status == status, response.text
    assert any(fragment in m for m in errors_of(response))
    assert stored(client) == before


# -- tenants ------------------------------------------------------------------------------------


def test_other_tenants_client_is_404_and_untouched(
    aws: LocalStack, client: ApiClient, other_tenant: Tenant
) -> None:
    client_id = create(client, name="Mine", uid="SECRET-1", email="mine@mine.ro").findtext("id")
    before = stored(client)
    intruder = ApiClient(aws.gateway, other_tenant.api_key)
    assert intruder.get(f"/api/v1/clients/{client_id}.xml").status == 404
    assert intruder.get(f"/api/v1/clients/{client_id}.json").status == 404
    assert (
        intruder.send_form("PUT", f"/api/v1/clients/{client_id}.xml", {"client": {"name": "Stolen"}}).status
        == 404
    )
    assert intruder.delete(f"/api/v1/clients/{client_id}.xml").status == 404
    assert stored(client) == before

    intruder_own = create(intruder, name="Mine too", uid="SECRET-1").findtext("id")
    assert len(xml(intruder.get("/api/v1/clients.xml"))) == 1
    for query in ("field=uid&value=SECRET-1", "field=name&value=mine", "field=email&value=mine@mine.ro"):
        mine = [c.findtext("id") for c in xml(client.get(f"/api/v1/clients/search.xml?{query}"))]
        theirs = [c.findtext("id") for c in xml(intruder.get(f"/api/v1/clients/search.xml?{query}"))]
        assert client_id not in theirs and intruder_own not in mine, query
    day = before[0]["created_at"][:10]
    theirs = [
        c.findtext("id")
        for c in xml(intruder.get(f"/api/v1/clients/search.xml?field=created_at&value={day}"))
    ]
    assert theirs == [intruder_own]


# -- delete refused while documents refer to the client ------------------------------------------


def put_document(tenant_id: int, kind: str, client_id: int, document_id: int = 1) -> None:
    """A document item as the documents' repositories write it (`Records(kind, …,
    searchable=("document_state", "client_id", …))`: client_id in search slot 2)."""
    from billing.store import keys
    from billing.store.table import Table

    Table().put(
        {
            "PK": keys.tenant_pk(tenant_id, kind),
            "SK": keys.record_sk(document_id),
            "id": document_id,
            "client_id": client_id,
            "GSI2PK": keys.search_pk(tenant_id, kind, "client_id"),
            "GSI2SK": keys.search_sk(str(client_id), document_id),
        }
    )


@pytest.mark.parametrize("kind", ["invoice", "proforma_invoice", "notice", "receipt"])
def test_client_with_documents_cannot_be_deleted(client: ApiClient, tenant: Tenant, kind: str) -> None:
    from billing.store.clients import client_has_documents

    client_id = int(create(client, name="Billed").findtext("id"))
    assert client_has_documents(tenant.tenant_id, client_id) is False
    put_document(tenant.tenant_id, kind, client_id)
    assert client_has_documents(tenant.tenant_id, client_id) is True

    response = client.delete(f"/api/v1/clients/{client_id}.xml")
    assert response.status == 422
    assert any(m.startswith(f"client {client_id} has documents") for m in errors_of(response))
    assert client.get(f"/api/v1/clients/{client_id}.xml").status == 200
    json_refusal = client.delete(f"/api/v1/clients/{client_id}.json")
    assert json_refusal.status == 422 and json_refusal.json()["errors"]


def test_documents_of_other_clients_or_tenants_do_not_block_delete(
    client: ApiClient, tenant: Tenant, other_tenant: Tenant
) -> None:
    from billing.store.clients import client_has_documents

    client_id = int(create(client, name="Free").findtext("id"))
    put_document(other_tenant.tenant_id, "invoice", client_id)  # same id, other tenant
    put_document(tenant.tenant_id, "invoice", int(f"{client_id}7"))  # an id that starts with ours
    put_document(tenant.tenant_id, "receipt", client_id + 1)
    assert client_has_documents(tenant.tenant_id, client_id) is False
    response = client.delete(f"/api/v1/clients/{client_id}.xml")
    assert response.status == 200 and xml(response).findtext("name") == "Free"
    assert stored(client) == []


# -- ids ------------------------------------------------------------------------------------------


def test_non_numeric_ids_are_404_and_unknown_suffix_406(client: ApiClient) -> None:
    for ref in ("abc.xml", "0.xml", "-1.xml", "1e3.xml", "99999.xml"):
        assert client.get(f"/api/v1/clients/{ref}").status == 404, ref
    assert client.get("/api/v1/clients/12.html").status == 406
