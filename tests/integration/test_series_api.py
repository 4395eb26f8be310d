"""Numbering series (§7.6) and delegates (§7.1.5) through the API, and how documents take their
numbers from a series."""

from __future__ import annotations

from typing import Any

import pytest

from tests.conftest import Tenant
from tests.integration.test_documents_api import (
    create_client,
    create_delegate,
    create_document,
    create_series,
    documents_in_series,
    errors,
    invoice_fields,
    mark,
    series_state,
    xml,
)
from tests.support.aws import LocalStack
from tests.support.client import ApiClient

SERIES_KINDS = ["invoice_series", "proforma_invoice_series", "notice_series", "receipt_series"]

PHP_WITH_SUFFIX = """<?xml version="1.0"?>
<proforma_invoice_series>
<counter_start>100</counter_start>
<counter_current>100</counter_current>
<prefix>PREFIXUSS</prefix>
<sepparator>-</sepparator>
<suffix>SUPREFIXUS</suffix>
<year>2021</year>
</proforma_invoice_series>"""

PHP_WITHOUT_SUFFIX = """<?xml version="1.0"?>
<proforma_invoice_series>
<counter_start>100</counter_start>
<counter_current>100</counter_current>
<prefix>PREFIXUSS</prefix>
<sepparator>-</sepparator>
<year>2021</year>
</proforma_invoice_series>"""


@pytest.mark.parametrize(
    ("body", "suffix", "next_number"),
    [(PHP_WITH_SUFFIX, "SUPREFIXUS", "PREFIXUSS-101-SUPREFIXUS"), (PHP_WITHOUT_SUFFIX, "", "PREFIXUSS-101")],
    ids=["with suffix", "without suffix"],
)
def test_reference_php_example_creates_a_proforma_series(
    client: ApiClient, body: str, suffix: str, next_number: str
) -> None:
    response = client.send_xml("POST", "/api/v1/proforma_invoice_series.xml", body)
    assert response.status == 201, response.text
    doc = xml(response)
    assert doc.tag == "proforma_invoice_series"
    series_id = int(doc.findtext("id") or 0)
    assert response.header("Location") == f"http://factura.test/api/v1/proforma_invoice_series/{series_id}"
    assert doc.find("id").get("type") == "integer"  # type: ignore[union-attr]
    assert doc.findtext("counter_start") == "100" and doc.findtext("counter_current") == "100"
    assert doc.findtext("prefix") == "PREFIXUSS" and doc.findtext("sepparator") == "-"
    assert doc.findtext("suffix") == suffix and doc.findtext("year") == "2021"
    assert doc.findtext("next_number") == next_number
    assert doc.find("document_count") is None
    # counter_current is the last number generated: the next proforma gets 101
    proforma = create_document(client, create_client(client), series_id, kind="proforma_invoice")
    assert proforma["document_series_counter"] == 101 and proforma["document_number"] == next_number


@pytest.mark.parametrize("kind", SERIES_KINDS)
def test_series_crud_per_kind(client: ApiClient, kind: str) -> None:
    created = client.send_form("POST", f"/api/v1/{kind}.xml", {kind: {"prefix": "A", "counter_start": "5"}})
    assert created.status == 201, created.text
    series_id = int(xml(created).findtext("id") or 0)
    read = client.get(f"/api/v1/{kind}/{series_id}.json").json()
    assert (read["counter_start"], read["counter_current"], read["prefix"]) == (5, 4, "A")
    assert read["next_number"] == "A5", "no separator: the parts are joined directly"
    listed = client.get(f"/api/v1/{kind}.json")
    assert listed.status == 200 and series_id in [s["id"] for s in listed.json()]
    listed_xml = xml(client.get(f"/api/v1/{kind}.xml"))
    assert listed_xml.tag == kind and listed_xml.get("type") == "array"
    modified = client.send_xml(
        "PUT",
        f"/api/v1/{kind}/{series_id}.xml",
        f"<{kind}><suffix>24</suffix><sepparator>/</sepparator></{kind}>",
    )
    assert modified.status == 200, modified.text
    assert xml(modified).findtext("next_number") == "A/5/24"
    assert client.get(f"/api/v1/{kind}/{series_id}.xml").status == 200
    deleted = client.delete(f"/api/v1/{kind}/{series_id}.json")
    assert deleted.status == 200 and deleted.json()["id"] == series_id
    assert client.get(f"/api/v1/{kind}/{series_id}.xml").status == 404
    assert client.delete(f"/api/v1/{kind}/{series_id}.xml").status == 404


@pytest.mark.parametrize(
    ("fields", "number"),
    [
        ({"prefix": "INV", "sepparator": "-", "suffix": "2024"}, "INV-1-2024"),
        ({"prefix": "INV", "sepparator": "-"}, "INV-1"),
        ({"prefix": "", "sepparator": "/"}, "1"),
        ({"prefix": "FCT", "sepparator": ""}, "FCT1"),
        ({"prefix": "B", "sepparator": " ", "suffix": "X"}, "B 1 X"),
    ],
)
def test_document_number_format(client: ApiClient, fields: dict[str, str], number: str) -> None:
    series_id = create_series(client, **fields)
    doc = create_document(client, create_client(client), series_id)
    assert doc["document_number"] == number


def test_numbers_are_consecutive_and_supplied_numbers_are_skipped(client: ApiClient) -> None:
    client_id, series_id = create_client(client), create_series(client, prefix="N")
    assert create_document(client, client_id, series_id)["document_series_counter"] == 1
    assert (
        create_document(client, client_id, series_id, document_series_counter=3)["document_series_counter"]
        == 3
    )
    assert create_document(client, client_id, series_id)["document_series_counter"] == 2
    assert create_document(client, client_id, series_id)["document_series_counter"] == 4, (
        "3 was taken: skipped"
    )
    assert series_state(client, series_id)["counter_current"] == 4


def test_a_taken_counter_is_422_and_changes_nothing(client: ApiClient) -> None:
    client_id, series_id = create_client(client), create_series(client, prefix="T")
    create_document(client, client_id, series_id, document_series_counter=10)
    before = series_state(client, series_id)
    response = client.send_json(
        "POST",
        "/api/v1/invoices.json",
        {"invoice": invoice_fields(client_id, series_id, document_series_counter=10)},
    )
    assert response.status == 422
    assert errors(response) == [
        f"invoice.document_series_counter 10 is already used in series {series_id} (number T-10 is taken); "
        "leave the counter out to get the next free number"
    ]
    assert len(documents_in_series(client, series_id)) == 1
    assert series_state(client, series_id) == before


def test_deleting_drafts_keeps_the_series_gap_free(client: ApiClient) -> None:
    client_id, series_id = create_client(client), create_series(client, prefix="G")
    first, second, third = (create_document(client, client_id, series_id) for _ in range(3))
    middle = client.delete(f"/api/v1/invoices/{second['id']}.xml")
    assert middle.status == 422
    assert "would leave a gap" in errors(middle)[0] and "mark_cancelled" in errors(middle)[0]
    assert client.delete(f"/api/v1/invoices/{third['id']}.xml").status == 200
    assert series_state(client, series_id)["counter_current"] == 2, "the last number is given back"
    again = create_document(client, client_id, series_id)
    assert again["document_series_counter"] == 3
    supplied = create_document(client, client_id, series_id, document_series_counter=50)
    assert client.delete(f"/api/v1/invoices/{supplied['id']}.xml").status == 200, "above the sequence: no gap"
    assert (
        create_document(client, client_id, series_id, document_series_counter=50)["document_number"] == "G-50"
    )
    assert mark(client, "invoice", second["id"], "cancelled").status == 200, (
        "a numbered draft is cancelled instead"
    )
    assert first["document_series_counter"] == 1


def test_a_series_with_documents_cannot_be_deleted(client: ApiClient) -> None:
    client_id, series_id = create_client(client), create_series(client)
    doc = create_document(client, client_id, series_id)
    refused = client.delete(f"/api/v1/invoice_series/{series_id}.xml")
    assert refused.status == 422 and "numbers 1 document(s)" in errors(refused)[0]
    assert client.delete(f"/api/v1/invoices/{doc['id']}.xml").status == 200
    assert client.delete(f"/api/v1/invoice_series/{series_id}.xml").status == 200


def test_modifying_a_series_keeps_its_counter(client: ApiClient) -> None:
    client_id, series_id = create_client(client), create_series(client, prefix="M")
    create_document(client, client_id, series_id)
    modified = client.send_json(
        "PUT", f"/api/v1/invoice_series/{series_id}.json", {"invoice_series": {"prefix": "Z"}}
    )
    assert modified.status == 200 and modified.json()["counter_current"] == 1
    assert create_document(client, client_id, series_id)["document_number"] == "Z-2"
    moved = client.send_json(
        "PUT", f"/api/v1/invoice_series/{series_id}.json", {"invoice_series": {"counter_current": 100}}
    )
    assert moved.status == 200
    assert create_document(client, client_id, series_id)["document_series_counter"] == 101
    body = client.get(f"/api/v1/invoice_series/{series_id}.json").json()
    body["year"] = 2030
    round_trip = client.send_json("PUT", f"/api/v1/invoice_series/{series_id}.json", {"invoice_series": body})
    assert round_trip.status == 200 and round_trip.json()["year"] == 2030, (
        "read-only fields sent back are ignored"
    )


BAD_SERIES: list[tuple[str, dict[str, Any], str]] = [
    (
        "counter below start",
        {"counter_start": 10, "counter_current": 3},
        "invoice_series.counter_current must be at least",
    ),
    ("negative counter", {"counter_current": -1}, "invoice_series.counter_current"),
    ("zero start", {"counter_start": 0}, "invoice_series.counter_start"),
    ("counter not a number", {"counter_start": "ten"}, "invoice_series.counter_start"),
    ("year out of range", {"year": 12}, "invoice_series.year"),
    ("year not a number", {"year": "twenty"}, "invoice_series.year"),
    ("prefix too long", {"prefix": "P" * 51}, "invoice_series.prefix"),
    ("separator too long", {"sepparator": "------"}, "invoice_series.sepparator"),
    ("misspelt separator", {"separator": "-"}, "invoice_series.separator is not a known field"),
    ("unknown field", {"colour": "red"}, "invoice_series.colour is not a known field"),
]


@pytest.mark.parametrize(("name", "fields", "message"), BAD_SERIES, ids=[b[0] for b in BAD_SERIES])
def test_bad_series_is_422_and_creates_nothing(
    client: ApiClient, name: str, fields: dict[str, Any], message: str
) -> None:
    before = len(client.get("/api/v1/invoice_series.json?per_page=500").json())
    response = client.send_json("POST", "/api/v1/invoice_series.json", {"invoice_series": fields})
    assert response.status == 422, response.text
    assert any(message in e for e in errors(response)), errors(response)
    assert len(client.get("/api/v1/invoice_series.json?per_page=500").json()) == before


def test_bad_series_modify_changes_nothing(client: ApiClient) -> None:
    series_id = create_series(client, prefix="K", counter_start=5)
    before = series_state(client, series_id)
    for change in (
        {"counter_current": 1, "prefix": "Q"},
        {"counter_start": None, "prefix": "Q"},
        {"year": "x"},
    ):
        response = client.send_json(
            "PUT", f"/api/v1/invoice_series/{series_id}.json", {"invoice_series": change}
        )
        assert response.status == 422, (change, response.text)
    assert series_state(client, series_id) == before
    malformed = client.send_xml("PUT", f"/api/v1/invoice_series/{series_id}.xml", "<invoice_series><prefix>")
    assert malformed.status == 400
    assert series_state(client, series_id) == before


def test_series_of_another_tenant_are_not_found(
    aws: LocalStack, client: ApiClient, other_tenant: Tenant
) -> None:
    series_id = create_series(client)
    other = ApiClient(aws.gateway, other_tenant.api_key)
    assert other.get(f"/api/v1/invoice_series/{series_id}.xml").status == 404
    assert (
        other.send_json(
            "PUT", f"/api/v1/invoice_series/{series_id}.json", {"invoice_series": {"prefix": "X"}}
        ).status
        == 404
    )
    assert other.delete(f"/api/v1/invoice_series/{series_id}.xml").status == 404
    assert series_id not in [s["id"] for s in other.get("/api/v1/invoice_series.json").json()]
    assert series_state(client, series_id)["prefix"] == "INV"
    assert other.get(f"/api/v1/proforma_invoice_series/{series_id}.xml").status == 404


def test_series_kinds_are_separate(client: ApiClient) -> None:
    invoice_series = create_series(client, "invoice_series")
    assert client.get(f"/api/v1/notice_series/{invoice_series}.xml").status == 404
    response = client.send_json(
        "POST",
        "/api/v1/notices.json",
        {"notice": invoice_fields(create_client(client), invoice_series)},
    )
    assert response.status == 422
    assert errors(response) == [f"notice.document_series_id: there is no notice series {invoice_series}"]


# --------------------------------------------------------------------------------- delegates


def test_delegates_crud(client: ApiClient) -> None:
    body = {
        "delegate": {
            "first_name": "Maria",
            "last_name": "Ionescu",
            "cnp": "2850505123456",
            "identity_document": "CI",
            "identity_document_series": "RX",
            "identity_document_number": "123456",
            "identity_document_issued_by": "SPCLEP Sector 1",
            "identity_document_issue_date": "2020-01-15",
        }
    }
    created = client.send_form("POST", "/api/v1/delegates.xml", body)
    assert created.status == 201, created.text
    doc = xml(created)
    delegate_id = int(doc.findtext("id") or 0)
    assert created.header("Location") == f"http://factura.test/api/v1/delegates/{delegate_id}"
    assert doc.findtext("identity_document_issue_date") == "2020-01-15"
    assert doc.find("identity_document_issue_date").get("type") == "date"  # type: ignore[union-attr]
    assert delegate_id in [d["id"] for d in client.get("/api/v1/delegates.json").json()]
    modified = client.send_xml(
        "PUT", f"/api/v1/delegates/{delegate_id}.xml", "<delegate><last_name>Pop</last_name></delegate>"
    )
    assert modified.status == 200 and xml(modified).findtext("last_name") == "Pop"
    assert xml(modified).findtext("first_name") == "Maria"
    assert client.delete(f"/api/v1/delegates/{delegate_id}.json").status == 200
    assert client.get(f"/api/v1/delegates/{delegate_id}.xml").status == 404


def test_documents_keep_a_snapshot_of_their_delegate(client: ApiClient) -> None:
    client_id, series_id = create_client(client), create_series(client)
    delegate_id = create_delegate(client, first_name="Vasile")
    doc = create_document(client, client_id, series_id, delegate_id=delegate_id, display_transport_data="1")
    assert doc["delegate_first_name"] == "Vasile"
    client.send_json("PUT", f"/api/v1/delegates/{delegate_id}.json", {"delegate": {"first_name": "Other"}})
    assert client.delete(f"/api/v1/delegates/{delegate_id}.xml").status == 200
    kept = client.get(f"/api/v1/invoices/{doc['id']}.json").json()
    assert kept["delegate_first_name"] == "Vasile" and kept["delegate_id"] == delegate_id
    cleared = client.send_json("PUT", f"/api/v1/invoices/{doc['id']}.json", {"invoice": {"delegate_id": ""}})
    assert cleared.status == 200 and cleared.json()["delegate_first_name"] is None


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"last_name": "X"}, "delegate.first_name is required"),
        ({"first_name": "", "last_name": "X"}, "delegate.first_name"),
        (
            {"first_name": "A", "last_name": "B", "identity_document_issue_date": "15.01.2020"},
            "delegate.identity_document_issue_date",
        ),
        ({"first_name": "A", "last_name": "B", "rank": "1"}, "delegate.rank is not a known field"),
    ],
)
def test_bad_delegate_is_422_and_creates_nothing(
    client: ApiClient, fields: dict[str, Any], message: str
) -> None:
    before = len(client.get("/api/v1/delegates.json?per_page=500").json())
    response = client.send_json("POST", "/api/v1/delegates.json", {"delegate": fields})
    assert response.status == 422, response.text
    assert any(message in e for e in errors(response)), errors(response)
    assert len(client.get("/api/v1/delegates.json?per_page=500").json()) == before


def test_delegates_of_another_tenant_are_not_found(
    aws: LocalStack, client: ApiClient, other_tenant: Tenant
) -> None:
    delegate_id = create_delegate(client)
    other = ApiClient(aws.gateway, other_tenant.api_key)
    assert other.get(f"/api/v1/delegates/{delegate_id}.json").status == 404
    assert other.delete(f"/api/v1/delegates/{delegate_id}.json").status == 404
    assert client.get(f"/api/v1/delegates/{delegate_id}.json").status == 200


MALFORMED = [
    ("application/xml", "<invoice_series><prefix>A</prefix>"),
    (
        "application/xml",
        '<!DOCTYPE x [<!ENTITY a "b">]><invoice_series><prefix>&a;</prefix></invoice_series>',
    ),
    ("application/json", '{"invoice_series": '),
    ("application/x-www-form-urlencoded", "prefix=A"),
    ("application/json", '{"invoice_series": "A"}'),
]


@pytest.mark.parametrize(
    ("path", "root"),
    [("/api/v1/invoice_series.xml", "invoice_series"), ("/api/v1/delegates.xml", "delegate")],
)
@pytest.mark.parametrize(("content_type", "body"), MALFORMED)
def test_malformed_bodies_are_400_and_create_nothing(
    client: ApiClient, path: str, root: str, content_type: str, body: str
) -> None:
    listing = path.replace(".xml", ".json") + "?per_page=500"
    before = len(client.get(listing).json())
    response = client.request(
        "POST", path, body=body.replace("invoice_series", root), content_type=content_type
    )
    assert response.status == 400, response.text
    assert xml(response).tag == "errors" and xml(response).findtext("error")
    assert len(client.get(listing).json()) == before
