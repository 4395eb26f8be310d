"""Invoices, proforma invoices, notices and receipts through the API (gateway event -> handler ->
moto): the reference's own request bodies, every wire format, every field group, search,
cross-tenant isolation, and bad input that changes nothing.

Helpers at the top are shared with test_document_states.py and test_series_api.py."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from local.apigw import HttpResponse
from tests.conftest import Tenant, make_tenant
from tests.support.aws import LocalStack
from tests.support.client import ApiClient

# ------------------------------------------------------------------------------------ helpers


def xml(response: HttpResponse) -> ET.Element:
    return ET.fromstring(response.body)


def dec(element: ET.Element, path: str) -> Decimal:
    text = element.findtext(path)
    assert text is not None, path
    return Decimal(text)


def errors(response: HttpResponse) -> list[str]:
    if (response.header("Content-Type") or "").startswith("application/json"):
        return list(response.json()["errors"])
    return [e.text or "" for e in xml(response).findall("error")]


def create_series(api: ApiClient, kind: str = "invoice_series", **fields: Any) -> int:
    body = {"prefix": "INV", "sepparator": "-", **fields}
    response = api.send_json("POST", f"/api/v1/{kind}.json", {kind: body})
    assert response.status == 201, response.text
    return int(response.json()["id"])


def create_client(api: ApiClient, name: str = "ACME SRL", **fields: Any) -> int:
    response = api.send_form(
        "POST", "/api/v1/clients.xml", {"client": {"name": name, "uid": "RO1", **fields}}
    )
    assert response.status == 201, response.text
    return int(xml(response).findtext("id") or 0)


def create_delegate(api: ApiClient, **fields: Any) -> int:
    body = {"first_name": "Ion", "last_name": "Popescu", "cnp": "1800101123456", **fields}
    response = api.send_json("POST", "/api/v1/delegates.json", {"delegate": body})
    assert response.status == 201, response.text
    return int(response.json()["id"])


POSITION = {"description": "Service", "unit": "pcs", "unit_count": "2", "price": "50", "vat": "19"}


def invoice_fields(client_id: int, series_id: int, **extra: Any) -> dict[str, Any]:
    return {
        "client_id": client_id,
        "currency_id": 978,
        "document_date": "2024-05-20",
        "document_series_id": series_id,
        "vat_type": 1,
        "document_positions": [POSITION],
        **extra,
    }


def create_document(
    api: ApiClient, client_id: int, series_id: int, kind: str = "invoice", **extra: Any
) -> dict[str, Any]:
    response = api.send_json(
        "POST", f"/api/v1/{kind}s.json", {kind: invoice_fields(client_id, series_id, **extra)}
    )
    assert response.status == 201, response.text
    return dict(response.json())


def mark(api: ApiClient, kind: str, document_id: int, state: str) -> HttpResponse:
    return api.request(
        "PUT",
        f"/api/v1/{kind}s/{document_id}/mark_{state}.xml",
        body="",
        content_type="application/x-www-form-urlencoded",
    )


def series_state(api: ApiClient, series_id: int, kind: str = "invoice_series") -> dict[str, Any]:
    response = api.get(f"/api/v1/{kind}/{series_id}.json")
    assert response.status == 200, response.text
    return dict(response.json())


def documents_in_series(api: ApiClient, series_id: int, kind: str = "invoice") -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/{kind}s/search.json?field=document_series_id&value={series_id}")
    assert response.status == 200, response.text
    return list(response.json())


@pytest.fixture
def setup(client: ApiClient) -> dict[str, int]:
    return {"client_id": create_client(client), "series_id": create_series(client)}


# ------------------------------------------------------------------------- reference bodies

ADD_INVOICE_XML = """<?xml version="1.0" encoding="UTF-8"?>
<invoice>
<client_id>{client_id}</client_id>
<currency_id>978</currency_id>
<document_date>2011-05-20</document_date>
<document_series_id>{series_id}</document_series_id>
<document_series_counter>10</document_series_counter>
<vat_type>1</vat_type>
<document_positions>
<document_position>
<description>BASIC SUBSCRIPTION</description>
<unit>months</unit>
<unit_count>12</unit_count>
<price>12</price>
<vat>24</vat>
</document_position>
<document_position>
<type>DiscountPosition</type>
<description>Discount for advanced payment</description>
<discount_rate>10</discount_rate>
</document_position>
</document_positions>
</invoice>"""


def test_add_invoice_xml_reference_body(client: ApiClient, setup: dict[str, int], tenant: Tenant) -> None:
    """§7.1.11 "Add invoice (xml)": 12 months at 12 with 24 % VAT, less 10 %: 160.70."""
    response = client.send_xml("POST", "/api/v1/invoices.xml", ADD_INVOICE_XML.format(**setup))
    assert response.status == 201, response.text
    doc = xml(response)
    assert doc.tag == "invoice"
    invoice_id = int(doc.findtext("id") or 0)
    assert response.header("Location") == f"http://factura.test/api/v1/invoices/{invoice_id}"
    assert dec(doc, "total") == Decimal("160.70")
    assert dec(doc, "total_due") == Decimal("160.70")
    assert dec(doc, "cached_total") == Decimal("160.70")
    assert dec(doc, "total_without_vat") == Decimal("129.60")
    assert dec(doc, "total_vat") == Decimal("31.10")
    assert doc.findtext("document_series_counter") == "10"
    assert doc.findtext("document_number") == "INV-10"
    assert doc.findtext("document_state") == "draft"
    assert doc.findtext("client_name") == "ACME SRL"
    assert doc.findtext("account_company_name") == "test SRL"
    assert doc.findtext("user_id") == str(tenant.user_id)
    assert doc.findtext("locale") == "en"
    positions = doc.findall("document_positions/document_position")
    assert [p.findtext("type") for p in positions] == ["Position", "DiscountPosition"]
    first, discount = positions
    assert dec(first, "price") == 12 and dec(first, "net_total") == 144
    assert dec(first, "vat_total") == Decimal("34.56") and dec(first, "total") == Decimal("178.56")
    assert dec(discount, "discount_rate") == 10
    assert dec(discount, "net_total") == Decimal("-14.40") and dec(discount, "total") == Decimal("-17.86")
    (rate,) = doc.findall("vat_totals/vat_total")
    assert dec(rate, "vat_rate") == 24 and dec(rate, "total") == Decimal("160.70")
    read = xml(client.get(f"/api/v1/invoices/{invoice_id}.xml"))
    assert dec(read, "total") == Decimal("160.70")


def test_add_invoice_php_form_reference_body(client: ApiClient, setup: dict[str, int]) -> None:
    """§7.1.11 "Add invoice (php fragment)": http_build_query with document_positions[1][…]
    and [2][type]=DiscountPosition, a random counter, a delegate and transport data."""
    delegate_id = create_delegate(client)
    data = {
        "invoice": {
            "client_id": setup["client_id"],
            "currency_id": 978,
            "document_date": "2014-05-20",
            "document_series_id": setup["series_id"],
            "document_series_counter": 4242,
            "vat_type": 1,
            "delegate_id": delegate_id,
            "display_transport_data": 1,
            "document_positions": {
                1: {
                    "description": "BASIC SUBSCRIPTION",
                    "unit": "months",
                    "unit_count": "12",
                    "price": "12",
                    "product_code": "66XXH663496H",
                    "vat": 19,
                },
                2: {
                    "type": "DiscountPosition",
                    "description": "Discount for advanced payment",
                    "discount_rate": "12",
                },
            },
        }
    }
    response = client.send_form("POST", "/api/v1/invoices.xml", data)
    assert response.status == 201, response.text
    doc = xml(response)
    # 144 + 27.36 VAT = 171.36; discount 12 %: -17.28 net, -3.28 VAT
    assert dec(doc, "total") == Decimal("150.80")
    assert doc.findtext("document_number") == "INV-4242"
    assert doc.findtext("display_transport_data") == "true"
    assert doc.findtext("delegate_id") == str(delegate_id)
    assert doc.findtext("delegate_first_name") == "Ion"
    assert doc.findtext("delegate_cnp") == "1800101123456"
    assert doc.findtext("document_positions/document_position/product_code") == "66XXH663496H"


def test_xml_lovers_alternative_and_search_under_api_base(client: ApiClient, setup: dict[str, int]) -> None:
    """The reference's "alternative for XML-lovers" posts to BASE_URL …/api/ (no v1), and its
    invoice search example reads …/api/invoices/search.xml?field=created_at&value=2014.06.06."""
    delegate_id = create_delegate(client)
    body = f"""<?xml version="1.0" encoding="UTF-8"?>
<invoice>
<client_id>{setup["client_id"]}</client_id>
<currency_id>978</currency_id>
<document_date>2014-05-20</document_date>
<document_series_id>{setup["series_id"]}</document_series_id>
<document_series_counter>7777</document_series_counter>
<vat_type>1</vat_type>
<delegate_id>{delegate_id}</delegate_id>
<display_transport_data>1</display_transport_data>
<document_positions>
<document_position>
<description>BASIC SUBSCRIPTION</description>
<unit>months</unit>
<unit_count>12</unit_count>
<price>12</price>
<product_code>66XXH663496H</product_code>
<vat>24</vat>
</document_position>
<document_position>
<type>DiscountPosition</type>
<description>Discount for advanced payment</description>
<discount_rate>10</discount_rate>
</document_position>
</document_positions>
</invoice>"""
    response = client.request(
        "POST", "/api/invoices.xml", body=body, headers={"Content-Type": "application/xml"}
    )
    assert response.status == 201, response.text
    invoice_id = int(xml(response).findtext("id") or 0)
    assert response.header("Location") == f"http://factura.test/api/invoices/{invoice_id}"
    assert dec(xml(client.get(f"/api/invoices/{invoice_id}.xml")), "total") == Decimal("160.70")
    today = datetime.now(UTC).date()
    found = client.get(f"/api/invoices/search.xml?field=created_at&value={today:%Y.%m.%d}")
    assert found.status == 200
    assert str(invoice_id) in [e.findtext("id") for e in xml(found).findall("invoice")]
    none = client.get("/api/invoices/search.xml?field=created_at&value=2014.06.06")
    assert none.status == 200 and xml(none).findall("invoice") == []


def test_modify_positions_xml_replaces_all_positions(client: ApiClient, setup: dict[str, int]) -> None:
    created = xml(client.send_xml("POST", "/api/v1/invoices.xml", ADD_INVOICE_XML.format(**setup)))
    invoice_id = created.findtext("id")
    body = """<?xml version="1.0" encoding="UTF-8"?>
<invoice>
<document_positions>
<document_position>
<description>STANDARD SUBSCRIPTION</description>
<unit>months</unit>
<unit_count>12</unit_count>
<price>35</price>
<vat>24</vat>
</document_position>
<document_position>
<type>DiscountPosition</type>
<description>Discount for advanced payment</description>
<discount_rate>10</discount_rate>
</document_position>
</document_positions>
</invoice>"""
    response = client.send_xml("PUT", f"/api/v1/invoices/{invoice_id}.xml", body)
    assert response.status == 200, response.text
    doc = xml(response)
    positions = doc.findall("document_positions/document_position")
    assert [p.findtext("description") for p in positions] == [
        "STANDARD SUBSCRIPTION",
        "Discount for advanced payment",
    ]
    # 420 + 100.80 = 520.80, less 10 %: -42.00 - 10.08
    assert dec(doc, "total") == Decimal("468.72")
    assert doc.findtext("document_number") == "INV-10", "the number does not change"
    assert dec(xml(client.get(f"/api/v1/invoices/{invoice_id}.xml")), "total") == Decimal("468.72")


def test_modify_invoice_php_changes(client: ApiClient, setup: dict[str, int]) -> None:
    """§1 "Modify invoice": annotations, note and positions given as input_currency_price (in a
    one-currency invoice these are prices in the document currency)."""
    invoice_id = create_document(client, **setup)["id"]
    changes = {
        "invoice": {
            "lower_annotation": "New lower annotations",
            "upper_annotation": "New upper annotations",
            "note": "New notes",
            "document_positions": {
                1: {
                    "description": "potatoes",
                    "unit": "kg",
                    "unit_count": "4",
                    "input_currency_price": "0.74",
                    "vat": 10,
                },
                2: {
                    "description": "Brussels sprouts",
                    "unit": "g",
                    "unit_count": "250",
                    "input_currency_price": "51",
                    "vat": 19,
                },
            },
        }
    }
    response = client.send_form("PUT", f"/api/v1/invoices/{invoice_id}.xml", changes)
    assert response.status == 200, response.text
    doc = xml(response)
    assert doc.findtext("lower_annotation") == "New lower annotations"
    assert doc.findtext("upper_annotation") == "New upper annotations"
    assert doc.findtext("note") == "New notes"
    # 2.96 + 0.30 VAT; 12750 + 2422.50 VAT
    assert dec(doc, "total") == Decimal("15175.76")
    assert dec(doc, "total_due") == Decimal("15175.76")


def test_modify_only_sent_fields_and_due_days(client: ApiClient, setup: dict[str, int]) -> None:
    created = create_document(client, **setup, note="keep me")
    body = '<?xml version="1.0" encoding="UTF-8"?>\n<invoice>\n<due_days>10</due_days>\n</invoice>'
    response = client.send_xml("PUT", f"/api/v1/invoices/{created['id']}.xml", body)
    assert response.status == 200, response.text
    doc = xml(response)
    assert doc.findtext("due_days") == "10"
    assert doc.findtext("due_date") == "2024-05-30"
    assert doc.findtext("note") == "keep me"
    assert dec(doc, "total") == Decimal(created["total"])
    assert len(doc.findall("document_positions/document_position")) == 1


def test_update_client_data_retakes_the_client(client: ApiClient, setup: dict[str, int]) -> None:
    """§1 "Modify client + invoice": a snapshot changes only when asked (update_client_data)."""
    invoice_id = create_document(client, **setup)["id"]
    changed = client.send_form(
        "PUT",
        f"/api/v1/clients/{setup['client_id']}.xml",
        {"client": {"name": "Changed client name", "city": "New city name"}},
    )
    assert changed.status == 200, changed.text
    assert client.get(f"/api/v1/invoices/{invoice_id}.json").json()["client_name"] == "ACME SRL"
    response = client.send_form(
        "PUT",
        f"/api/v1/invoices/{invoice_id}.xml",
        {"invoice": {"update_client_data": "1", "note": "client data updated"}},
    )
    assert response.status == 200, response.text
    doc = xml(response)
    assert doc.findtext("client_name") == "Changed client name"
    assert doc.findtext("client_city") == "New city name"
    assert doc.findtext("note") == "client data updated"
    assert doc.find("update_client_data") is None, "a request, not a stored field"


def test_update_account_and_user_data(
    aws: LocalStack, client: ApiClient, setup: dict[str, int], tenant: Tenant
) -> None:
    from billing.store import keys
    from billing.store.accounts import ACCOUNT_KIND, USER_KIND
    from billing.store.table import Table

    invoice_id = create_document(client, **setup)["id"]
    table = Table()
    account = table.get(keys.tenant_pk(tenant.tenant_id, ACCOUNT_KIND), keys.SINGLETON)
    assert account is not None
    table.put({**account, "company_name": "Renamed SRL", "company_city": "Cluj"})
    user = table.get(keys.tenant_pk(tenant.tenant_id, USER_KIND), keys.record_sk(tenant.user_id))
    assert user is not None
    table.put({**user, "last_name": "Ionescu", "cnp": "2900101123456"})
    untouched = client.get(f"/api/v1/invoices/{invoice_id}.json").json()
    assert untouched["account_company_name"] == "test SRL" and untouched["user_last_name"] == "User"
    response = client.send_json(
        "PUT",
        f"/api/v1/invoices/{invoice_id}.json",
        {"invoice": {"update_account_data": True, "update_user_data": "1"}},
    )
    assert response.status == 200, response.text
    doc = response.json()
    assert doc["account_company_name"] == "Renamed SRL" and doc["account_company_city"] == "Cluj"
    assert doc["user_last_name"] == "Ionescu" and doc["user_cnp"] == "2900101123456"


def test_partial_reversal_reference_example(client: ApiClient, setup: dict[str, int]) -> None:
    """§7.1.4: a reversal invoice of an issued invoice, negative prices allowed."""
    original = create_document(client, **setup)
    assert mark(client, "invoice", original["id"], "open").status == 200
    delegate_id = create_delegate(client)
    data = {
        "invoice": {
            "client_id": setup["client_id"],
            "currency_id": 978,
            "document_date": "2014-10-20",
            "document_series_id": setup["series_id"],
            "document_series_counter": 5005,
            "vat_type": 1,
            "delegate_id": delegate_id,
            "display_transport_data": 1,
            "source_document_id": original["id"],
            "reversed_document_id": original["id"],
            "input_currency_reversing": 100,
            "document_positions": {
                1: {
                    "description": "Partial reversing of another invoice",
                    "unit": "months",
                    "unit_count": "12",
                    "price": "-12",
                    "product_code": "66XXH663496H",
                    "vat": 19,
                }
            },
        }
    }
    response = client.send_form("POST", "/api/v1/invoices.xml", data)
    assert response.status == 201, response.text
    doc = xml(response)
    assert dec(doc, "total") == Decimal("-171.36")
    assert doc.findtext("reversed_document_id") == str(original["id"])
    assert doc.findtext("source_document_id") == str(original["id"])
    assert dec(doc, "input_currency_reversing") == 100


def test_negative_prices_only_on_reversals(client: ApiClient, setup: dict[str, int]) -> None:
    position = {**POSITION, "price": "-12"}
    response = client.send_json(
        "POST", "/api/v1/invoices.json", {"invoice": invoice_fields(**setup, document_positions=[position])}
    )
    assert response.status == 422
    assert any("invoice.document_positions[1].price must not be negative" in e for e in errors(response))


def test_reversal_must_reverse_an_issued_invoice_of_the_tenant(
    aws: LocalStack, client: ApiClient, setup: dict[str, int], other_tenant: Tenant
) -> None:
    draft = create_document(client, **setup)
    position = {**POSITION, "price": "-12"}
    refused = client.send_json(
        "POST",
        "/api/v1/invoices.json",
        {"invoice": invoice_fields(**setup, reversed_document_id=draft["id"], document_positions=[position])},
    )
    assert refused.status == 422
    assert any("reversed_document_id" in e and "must be issued" in e for e in errors(refused))
    other = ApiClient(aws.gateway, other_tenant.api_key)
    foreign = create_document(other, create_client(other), create_series(other))
    assert mark(other, "invoice", foreign["id"], "open").status == 200
    refused = client.send_json(
        "POST",
        "/api/v1/invoices.json",
        {
            "invoice": invoice_fields(
                **setup, reversed_document_id=foreign["id"], document_positions=[position]
            )
        },
    )
    assert refused.status == 422
    assert any(f"reversed_document_id: there is no invoice {foreign['id']}" in e for e in errors(refused))


# ------------------------------------------------------------------------ every wire format


def test_json_create_read_list_has_the_same_fields_as_xml(client: ApiClient, setup: dict[str, int]) -> None:
    created = client.send_json("POST", "/api/v1/invoices.json", {"invoice": invoice_fields(**setup)})
    assert created.status == 201, created.text
    assert (created.header("Content-Type") or "").startswith("application/json")
    body = created.json()
    assert body["total"] == "119.0" and body["document_number"] == "INV-1"
    as_xml = xml(client.get(f"/api/v1/invoices/{body['id']}.xml"))
    assert {child.tag for child in as_xml} == set(body)
    listed = client.get("/api/v1/invoices.json")
    assert listed.status == 200
    assert body["id"] in [d["id"] for d in listed.json()]
    listed_xml = xml(client.get("/api/v1/invoices.xml"))
    assert listed_xml.tag == "invoices" and listed_xml.get("type") == "array"


def test_multipart_create(client: ApiClient, setup: dict[str, int]) -> None:
    fields = {
        "invoice[client_id]": str(setup["client_id"]),
        "invoice[currency_id]": "EUR",
        "invoice[document_date]": "2024-01-31",
        "invoice[document_series_id]": str(setup["series_id"]),
        "invoice[vat_type]": "1",
        "invoice[document_positions][1][description]": "Consulting",
        "invoice[document_positions][1][unit]": "h",
        "invoice[document_positions][1][unit_count]": "3",
        "invoice[document_positions][1][price]": "100",
        "invoice[document_positions][1][vat]": "19",
    }
    response = client.send_multipart("POST", "/api/v1/invoices.xml", fields)
    assert response.status == 201, response.text
    doc = xml(response)
    assert doc.findtext("currency_id") == "978"
    assert dec(doc, "total") == Decimal("357.00")


@pytest.mark.parametrize("kind", ["invoice", "proforma_invoice", "notice"])
@pytest.mark.parametrize("fmt", ["xml", "json"])
def test_crud_per_kind(client: ApiClient, kind: str, fmt: str) -> None:
    client_id = create_client(client)
    series_id = create_series(client, f"{kind}_series", prefix=kind[:3].upper())
    fields = invoice_fields(client_id, series_id)
    if fmt == "xml":
        positions = "".join(
            f"<document_position>{''.join(f'<{k}>{v}</{k}>' for k, v in POSITION.items())}</document_position>"
        )
        body = "".join(f"<{k}>{v}</{k}>" for k, v in fields.items() if k != "document_positions")
        created = client.send_xml(
            "POST",
            f"/api/v1/{kind}s.xml",
            f"<{kind}>{body}<document_positions>{positions}</document_positions></{kind}>",
        )
        assert created.status == 201, created.text
        doc_id = int(xml(created).findtext("id") or 0)
        assert xml(created).tag == kind
    else:
        created = client.send_json("POST", f"/api/v1/{kind}s.json", {kind: fields})
        assert created.status == 201, created.text
        doc_id = created.json()["id"]
    assert (created.header("Location") or "").endswith(f"/api/v1/{kind}s/{doc_id}")
    read = client.get(f"/api/v1/{kind}s/{doc_id}.json").json()
    assert read["document_number"] == f"{kind[:3].upper()}-1" and Decimal(read["total"]) == Decimal("119.00")
    assert "receipt_amount" not in read
    assert doc_id in [d["id"] for d in client.get(f"/api/v1/{kind}s.json").json()]
    modified = client.send_form(
        "PUT", f"/api/v1/{kind}s/{doc_id}.{fmt}", {kind: {"note": "hello", "flag_filed": "1"}}
    )
    assert modified.status == 200, modified.text
    again = client.get(f"/api/v1/{kind}s/{doc_id}.json").json()
    assert again["note"] == "hello" and again["flag_filed"] is True
    deleted = client.delete(f"/api/v1/{kind}s/{doc_id}.{fmt}")
    assert deleted.status == 200, deleted.text
    assert client.get(f"/api/v1/{kind}s/{doc_id}.xml").status == 404
    assert series_state(client, series_id, f"{kind}_series")["counter_current"] == 0, (
        "the last number was given back"
    )


def test_receipt_for_an_invoice(client: ApiClient, setup: dict[str, int]) -> None:
    invoice = create_document(client, **setup)
    assert mark(client, "invoice", invoice["id"], "open").status == 200
    receipt_series = create_series(client, "receipt_series", prefix="CH")
    response = client.send_form(
        "POST",
        "/api/v1/receipts.xml",
        {
            "receipt": {
                "document_date": "2024-05-21",
                "document_series_id": receipt_series,
                "receipt_amount": "119",
                "invoice_id": invoice["id"],
            }
        },
    )
    assert response.status == 201, response.text
    doc = xml(response)
    assert doc.tag == "receipt"
    assert dec(doc, "receipt_amount") == 119 and dec(doc, "amount") == 119
    assert doc.findtext("invoice_number") == "INV-1" and doc.findtext("invoice_date") == "2024-05-20"
    assert doc.findtext("client_id") == str(setup["client_id"]), "taken from the invoice"
    assert doc.findtext("currency_id") == "978"
    assert doc.findtext("document_number") == "CH-1"
    assert dec(doc, "total_due") == 0
    assert doc.findtext("user_first_name") == "Test"


def test_receipt_in_another_currency_converts_amount(
    client: ApiClient, setup: dict[str, int], tenant: Tenant
) -> None:
    """§7.4: "for 100 RON received for an invoice in EUR will return the amount in EUR". For a
    RON account at 4.6 (1 EUR = 4.6 RON, the reference's "4.6 on EUR / RON"): 21.74 EUR."""
    set_home_currency(tenant, "RON")
    invoice = create_document(client, **setup, currency_id="EUR", exchange_rate="4.6")
    assert mark(client, "invoice", invoice["id"], "open").status == 200
    receipt_series = create_series(client, "receipt_series")
    response = client.send_json(
        "POST",
        "/api/v1/receipts.json",
        {
            "receipt": {
                "document_date": "2024-05-21",
                "document_series_id": receipt_series,
                "currency_id": "RON",
                "receipt_amount": "100",
                "invoice_id": invoice["id"],
            }
        },
    )
    assert response.status == 201, response.text
    receipt = response.json()
    assert Decimal(receipt["receipt_amount"]) == 100 and receipt["currency_id"] == 946
    assert Decimal(receipt["amount"]) == Decimal("21.74")


def set_home_currency(tenant: Tenant, currency: str) -> None:
    from billing.store import keys
    from billing.store.accounts import ACCOUNT_KIND
    from billing.store.table import Table

    table = Table()
    account = table.get(keys.tenant_pk(tenant.tenant_id, ACCOUNT_KIND), keys.SINGLETON)
    assert account is not None
    table.put({**account, "currency": currency})


def test_receipt_requires_an_amount_and_an_issued_invoice(client: ApiClient, setup: dict[str, int]) -> None:
    receipt_series = create_series(client, "receipt_series")
    missing = client.send_json(
        "POST",
        "/api/v1/receipts.json",
        {"receipt": {"document_date": "2024-05-21", "document_series_id": receipt_series}},
    )
    assert missing.status == 422
    assert set(errors(missing)) >= {
        "receipt.receipt_amount is required",
        "receipt.client_id is required",
        "receipt.currency_id is required",
    }
    draft = create_document(client, **setup)
    refused = client.send_json(
        "POST",
        "/api/v1/receipts.json",
        {
            "receipt": {
                "document_date": "2024-05-21",
                "document_series_id": receipt_series,
                "receipt_amount": "10",
                "invoice_id": draft["id"],
            }
        },
    )
    assert refused.status == 422 and any("receipt.invoice_id" in e and "draft" in e for e in errors(refused))
    assert series_state(client, receipt_series, "receipt_series")["counter_current"] == 0


# -------------------------------------------------------------------------------- currencies


def test_currency_case_2_foreign_document_shows_home_figures(
    client: ApiClient, setup: dict[str, int]
) -> None:
    """Case 2: amounts entered and shown in USD, also shown in the home currency (EUR)."""
    doc = create_document(client, **setup, currency_id="USD", exchange_rate="0.9")
    assert doc["currency_id"] == 840 and doc["input_currency_id"] is None
    assert Decimal(doc["total"]) == Decimal("119.00")
    assert Decimal(doc["input_currency_total"]) == Decimal("107.10")  # 100 USD * 0.9 = 90 EUR + 19 %
    position = doc["document_positions"][0]
    assert Decimal(position["input_currency_price"]) == Decimal("45.00")


def test_currency_case_3_entered_in_foreign_shown_in_home(client: ApiClient, setup: dict[str, int]) -> None:
    """Case 3: document in EUR (home), amounts entered in USD (input_currency_id)."""
    position = {**POSITION}
    position.pop("price")
    position["input_currency_price"] = "50"
    doc = create_document(
        client, **setup, input_currency_id=840, exchange_rate="0.9", document_positions=[position]
    )
    assert Decimal(doc["total"]) == Decimal("107.10")
    assert Decimal(doc["input_currency_total"]) == Decimal("119.00")


def test_foreign_currency_needs_an_exchange_rate(client: ApiClient, setup: dict[str, int]) -> None:
    before = series_state(client, setup["series_id"])["counter_current"]
    response = client.send_json(
        "POST", "/api/v1/invoices.json", {"invoice": invoice_fields(**setup, currency_id="USD")}
    )
    assert response.status == 422
    assert any("invoice.exchange_rate is required" in e for e in errors(response))
    assert series_state(client, setup["series_id"])["counter_current"] == before


# --------------------------------------------------------------------------- other fields


def test_every_writable_field_round_trips(client: ApiClient, setup: dict[str, int]) -> None:
    from billing.store.branch_offices import branch_offices  # noqa: F401  (created through the API)

    office = client.send_form(
        "POST", "/api/v1/branch_offices.xml", {"branch_office": {"name": "Cluj", "city": "Cluj"}}
    )
    assert office.status == 201, office.text
    office_id = int(xml(office).findtext("id") or 0)
    extra = {
        "branch_office_id": office_id,
        "due_days": 15,
        "late_fees_cycle": "m",
        "late_fees_percentage": "0.5",
        "locale": "ro",
        "hide_domestic_translations": True,
        "lower_annotation": "lower",
        "upper_annotation": "upper",
        "delivery_date": "2024-05-21",
        "advance_date": "2024-05-01",
        "means_of_transport": "truck",
        "means_of_transport_number": "B-123-ABC",
        "notice_date": "2024-05-19",
        "notice_number": "AV-12",
        "note": "note",
        "expedition_time": "2024-05-20T10:30:00",
        "account_company_pays_vat_on_payment": "true",
        "flag_downloaded_pdf": "1",
        "flag_filed": "true",
        "flag_sent_by_email": 1,
        "flag_sent_by_fax": "0",
        "flag_sent_by_postal_mail": "false",
        "display_transport_data": "1",
    }
    doc = create_document(client, **setup, **extra)
    assert doc["branch_office_data"] == {
        "name": "Cluj",
        "address_1": "",
        "address_2": "",
        "state": "",
        "city": "Cluj",
        "zip": "",
        "phone": "",
        "fax": "",
    }
    assert doc["due_date"] == "2024-06-04"
    assert doc["late_fees_cycle"] == "m" and doc["late_fees_percentage"] == "0.5"
    assert doc["locale"] == "ro" and doc["hide_domestic_translations"] is True
    assert doc["expedition_time"] == "2024-05-20T10:30:00Z"
    assert doc["account_company_pays_vat_on_payment"] is True
    assert (doc["flag_downloaded_pdf"], doc["flag_filed"], doc["flag_sent_by_email"]) == (True, True, True)
    assert (doc["flag_sent_by_fax"], doc["flag_sent_by_postal_mail"]) == (False, False)
    for name in ("lower_annotation", "upper_annotation", "means_of_transport", "notice_number", "note"):
        assert doc[name] == extra[name]
    hashcode = doc["hashcode"]
    assert hashcode.startswith(f"{client_tenant(client)}-") and len(hashcode.split("-", 1)[1]) >= 32


def client_tenant(api: ApiClient) -> int:
    return int(api.get("/api/v1/account.json").json()["id"])


def test_hashcodes_are_unique_and_find_their_document(client: ApiClient, setup: dict[str, int]) -> None:
    from billing.store.documents import find_by_hashcode

    first = create_document(client, **setup)
    second = create_document(client, **setup)
    assert first["hashcode"] != second["hashcode"]
    found = find_by_hashcode(first["hashcode"])
    assert found is not None and found[2].id == first["id"]
    assert find_by_hashcode(first["hashcode"][:-2] + "zz") is None
    assert find_by_hashcode("not-a-code") is None


def test_a_get_body_sent_back_with_put_changes_nothing_but_what_changed(
    client: ApiClient, setup: dict[str, int]
) -> None:
    """Read-only and unchanged fields sent back are ignored, even on an issued invoice."""
    doc = create_document(client, **setup)
    assert mark(client, "invoice", doc["id"], "open").status == 200
    body = client.get(f"/api/v1/invoices/{doc['id']}.json").json()
    body.pop("document_positions")
    body["flag_sent_by_email"] = True
    response = client.send_json("PUT", f"/api/v1/invoices/{doc['id']}.json", {"invoice": body})
    assert response.status == 200, response.text
    assert response.json()["flag_sent_by_email"] is True


# ------------------------------------------------------------------------------------- search


def test_search_by_every_reference_field(client: ApiClient) -> None:
    client_id, other_client = create_client(client), create_client(client, "Other SRL")
    series_id = create_series(client, prefix="S")
    first = create_document(client, client_id, series_id, document_date="2024-03-01")
    second = create_document(client, other_client, series_id, document_date="2024-03-02", vat_type=0)
    assert mark(client, "invoice", second["id"], "open").status == 200

    def ids(field: str, value: Any) -> set[int]:
        response = client.get(f"/api/v1/invoices/search.json?field={field}&value={value}")
        assert response.status == 200, response.text
        return {d["id"] for d in response.json()}

    assert ids("client_id", client_id) == {first["id"]}
    assert ids("client_id", other_client) == {second["id"]}
    assert ids("document_series_id", series_id) == {first["id"], second["id"]}
    assert ids("document_state", "open") >= {second["id"]} and first["id"] not in ids(
        "document_state", "open"
    )
    assert first["id"] in ids("document_state", "DRAFT")
    assert ids("document_date", "2024-03-01") >= {first["id"]} and second["id"] not in ids(
        "document_date", "2024.03.01"
    )
    assert ids("document_series_counter", 2) >= {second["id"]}
    assert second["id"] in ids("vat_type", 0) and first["id"] not in ids("vat_type", 0)
    assert first["id"] in ids("cached_total", "119.00") and second["id"] not in ids("cached_total", "119")
    today = datetime.now(UTC).date()
    assert ids("created_at", today.isoformat()) >= {first["id"], second["id"]}
    assert ids("updated_at", today.strftime("%Y.%m.%d")) >= {first["id"], second["id"]}
    bad = client.get("/api/v1/invoices/search.xml?field=note&value=x")
    assert bad.status == 422 and "field must be one of" in errors(bad)[0]
    assert client.request("PUT", "/api/v1/invoices/search.xml", body="").status == 405


def test_client_id_is_search_slot_2_for_every_kind(client: ApiClient, setup: dict[str, int]) -> None:
    """The clients' delete guard reads GSI2 of every document kind."""
    from billing.store.clients import client_has_documents

    tenant_id = client_tenant(client)
    for kind in ("proforma_invoice", "notice"):
        lone = create_client(client, f"Only {kind}")
        series_id = create_series(client, f"{kind}_series")
        create_document(client, lone, series_id, kind=kind)
        assert client_has_documents(tenant_id, lone)
        refused = client.delete(f"/api/v1/clients/{lone}.xml")
        assert refused.status == 422
    fresh = create_client(client, "Nobody")
    assert not client_has_documents(tenant_id, fresh)


# -------------------------------------------------------------------------- tenant isolation


def test_another_tenants_documents_are_not_found(
    aws: LocalStack, client: ApiClient, setup: dict[str, int], other_tenant: Tenant
) -> None:
    doc = create_document(client, **setup)
    other = ApiClient(aws.gateway, other_tenant.api_key)
    assert other.get(f"/api/v1/invoices/{doc['id']}.xml").status == 404
    assert (
        other.send_form("PUT", f"/api/v1/invoices/{doc['id']}.xml", {"invoice": {"note": "x"}}).status == 404
    )
    assert other.delete(f"/api/v1/invoices/{doc['id']}.xml").status == 404
    assert mark(other, "invoice", doc["id"], "open").status == 404
    assert doc["id"] not in [d["id"] for d in other.get("/api/v1/invoices.json").json()]
    found = other.get(f"/api/v1/invoices/search.json?field=client_id&value={setup['client_id']}")
    assert found.status == 200 and found.json() == []
    assert client.get(f"/api/v1/invoices/{doc['id']}.json").json()["note"] == ""


def test_another_tenants_ids_are_unknown_and_nothing_is_written(
    aws: LocalStack, client: ApiClient, setup: dict[str, int], other_tenant: Tenant
) -> None:
    other = ApiClient(aws.gateway, other_tenant.api_key)
    foreign_client, foreign_series, foreign_delegate = (
        create_client(other),
        create_series(other),
        create_delegate(other),
    )
    cases = {
        "client_id": foreign_client,
        "delegate_id": foreign_delegate,
    }
    for field, value in cases.items():
        response = client.send_json(
            "POST", "/api/v1/invoices.json", {"invoice": {**invoice_fields(**setup), field: value}}
        )
        assert response.status == 422, (field, response.text)
        assert any(f"invoice.{field}: there is no" in e for e in errors(response)), errors(response)
    response = client.send_json(
        "POST", "/api/v1/invoices.json", {"invoice": invoice_fields(setup["client_id"], foreign_series)}
    )
    assert response.status == 422
    assert errors(response) == [f"invoice.document_series_id: there is no invoice series {foreign_series}"]
    assert documents_in_series(client, setup["series_id"]) == []
    assert series_state(client, setup["series_id"])["counter_current"] == 0
    assert series_state(other, foreign_series)["counter_current"] == 0


# ---------------------------------------------------------------------------------- bad input

BAD_CREATES: list[tuple[str, dict[str, Any], int, str]] = [
    ("missing client", {"client_id": None}, 422, "invoice.client_id is required"),
    ("missing currency", {"currency_id": None}, 422, "invoice.currency_id is required"),
    ("missing date", {"document_date": None}, 422, "invoice.document_date is required"),
    ("missing series", {"document_series_id": None}, 422, "invoice.document_series_id is required"),
    ("missing vat type", {"vat_type": None}, 422, "invoice.vat_type is required"),
    ("missing positions", {"document_positions": None}, 422, "invoice.document_positions is required"),
    (
        "empty positions",
        {"document_positions": []},
        422,
        "invoice.document_positions must contain at least one",
    ),
    ("client id not a number", {"client_id": "abc"}, 422, "invoice.client_id"),
    ("unknown client", {"client_id": 999999}, 422, "invoice.client_id: there is no client 999999"),
    (
        "unknown series",
        {"document_series_id": 999999},
        422,
        "invoice.document_series_id: there is no invoice series",
    ),
    ("unknown delegate", {"delegate_id": 999999}, 422, "invoice.delegate_id: there is no delegate 999999"),
    (
        "unknown branch office",
        {"branch_office_id": 999999},
        422,
        "invoice.branch_office_id: there is no branch office",
    ),
    (
        "unknown reversed",
        {"reversed_document_id": 999999},
        422,
        "invoice.reversed_document_id: there is no invoice",
    ),
    (
        "unknown source",
        {"source_document_id": 999999},
        422,
        "invoice.source_document_id: there is no document",
    ),
    ("unknown currency", {"currency_id": "XYZ"}, 422, "invoice.currency_id: 'XYZ' is not a known currency"),
    (
        "unknown input currency",
        {"input_currency_id": 1},
        422,
        "invoice.input_currency_id: '1' is not a known",
    ),
    ("invalid date", {"document_date": "2024-02-30"}, 422, "invoice.document_date: must be a date"),
    ("date as timestamp", {"document_date": 1716163200}, 422, "invoice.document_date: must be a date"),
    ("vat type out of range", {"vat_type": 9}, 422, "invoice.vat_type: must be one of"),
    ("negative due days", {"due_days": -1}, 422, "invoice.due_days"),
    ("late fees cycle", {"late_fees_cycle": "w"}, 422, "invoice.late_fees_cycle: must be d (daily) or m"),
    ("late fees without cycle", {"late_fees_percentage": "1"}, 422, "invoice.late_fees_cycle is required"),
    (
        "percentage above 100",
        {"late_fees_percentage": "101", "late_fees_cycle": "d"},
        422,
        "invoice.late_fees_percentage",
    ),
    ("negative exchange rate", {"exchange_rate": "-1"}, 422, "invoice.exchange_rate"),
    (
        "state closed on create",
        {"document_state": "closed"},
        422,
        "invoice.document_state must be draft or open",
    ),
    ("unknown field", {"colour": "red"}, 422, "invoice.colour is not a known field"),
    ("bad locale", {"locale": "english"}, 422, "invoice.locale"),
    (
        "reversing without reversal",
        {"input_currency_reversing": "5"},
        422,
        "invoice.input_currency_reversing is only",
    ),
    ("flag not boolean", {"flag_filed": "maybe"}, 422, "invoice.flag_filed"),
    ("zero counter", {"document_series_counter": 0}, 422, "invoice.document_series_counter"),
    (
        "negative quantity",
        {"document_positions": [{**POSITION, "unit_count": "-2"}]},
        422,
        "invoice.document_positions[1].unit_count must be greater than 0",
    ),
    (
        "absurd quantity",
        {"document_positions": [{**POSITION, "unit_count": "1e20"}]},
        422,
        "invoice.document_positions[1].unit_count",
    ),
    (
        "absurd price",
        {"document_positions": [{**POSITION, "price": "9999999999999999"}]},
        422,
        "invoice.document_positions[1].price",
    ),
    ("two prices", {"document_positions": [{**POSITION, "total": "5"}]}, 422, "give exactly one of"),
    (
        "vat above 100",
        {"document_positions": [{**POSITION, "vat": "150"}]},
        422,
        "invoice.document_positions[1].vat",
    ),
    (
        "position without unit",
        {"document_positions": [{k: v for k, v in POSITION.items() if k != "unit"}]},
        422,
        "invoice.document_positions[1].unit is required",
    ),
    (
        "discount first",
        {"document_positions": [{"type": "DiscountPosition", "description": "d", "discount_rate": "5"}]},
        422,
        "invoice.document_positions[1] is a discount with no position before it",
    ),
    (
        "unknown position field",
        {"document_positions": [{**POSITION, "colour": "red"}]},
        422,
        "invoice.document_positions[1].colour is not a known field",
    ),
    (
        "position not a map",
        {"document_positions": ["x"]},
        422,
        "invoice.document_positions[1] must be a position",
    ),
]


@pytest.mark.parametrize(
    ("name", "change", "status", "message"), BAD_CREATES, ids=[c[0] for c in BAD_CREATES]
)
def test_bad_create_is_refused_and_changes_nothing(
    client: ApiClient, setup: dict[str, int], name: str, change: dict[str, Any], status: int, message: str
) -> None:
    fields = invoice_fields(**setup)
    for key, value in change.items():
        if value is None:
            fields.pop(key, None)
        else:
            fields[key] = value
    response = client.send_json("POST", "/api/v1/invoices.json", {"invoice": fields})
    assert response.status == status, response.text
    assert any(message in e for e in errors(response)), errors(response)
    assert documents_in_series(client, setup["series_id"]) == []
    assert series_state(client, setup["series_id"])["counter_current"] == 0


MALFORMED: list[tuple[str, str, str, int]] = [
    ("broken xml", "application/xml", "<invoice><client_id>1</client_id>", 400),
    (
        "xml entity",
        "application/xml",
        '<!DOCTYPE x [<!ENTITY a "b">]><invoice><note>&a;</note></invoice>',
        400,
    ),
    ("wrong root", "application/xml", "<client><name>x</name></client>", 400),
    ("broken json", "application/json", '{"invoice": {', 400),
    ("json array", "application/json", "[1, 2]", 400),
    ("positions not a list", "application/json", '{"invoice": {"document_positions": "x"}}', 400),
    ("form without root", "application/x-www-form-urlencoded", "client_id=1", 400),
    ("unsupported type", "text/csv", "a,b", 400),
]


@pytest.mark.parametrize(("name", "content_type", "body", "status"), MALFORMED, ids=[m[0] for m in MALFORMED])
def test_malformed_bodies_are_400_and_change_nothing(
    client: ApiClient, setup: dict[str, int], name: str, content_type: str, body: str, status: int
) -> None:
    response = client.request("POST", "/api/v1/invoices.xml", body=body, content_type=content_type)
    assert response.status == status, response.text
    assert xml(response).tag == "errors"
    assert documents_in_series(client, setup["series_id"]) == []


def test_bad_modify_changes_nothing(client: ApiClient, setup: dict[str, int]) -> None:
    doc = create_document(client, **setup, note="before")
    cases: list[tuple[dict[str, Any], str]] = [
        ({"note": "after", "client_id": 999999}, "invoice.client_id: there is no client 999999"),
        (
            {"note": "after", "document_positions": [{**POSITION, "unit_count": "0"}]},
            "unit_count must be greater than 0",
        ),
        ({"note": "after", "currency_id": None}, "invoice.currency_id cannot be empty"),
        (
            {"note": "after", "document_state": "open"},
            "invoice.document_state cannot be set by a modify request",
        ),
        (
            {"note": "after", "document_series_counter": 99},
            "invoice.document_series_counter cannot be changed",
        ),
        ({"note": "after", "document_date": "yesterday"}, "invoice.document_date: must be a date"),
    ]
    for change, message in cases:
        response = client.send_json("PUT", f"/api/v1/invoices/{doc['id']}.json", {"invoice": change})
        assert response.status == 422, (change, response.text)
        assert any(message in e for e in errors(response)), errors(response)
    after = client.get(f"/api/v1/invoices/{doc['id']}.json").json()
    assert after == doc


def test_unknown_record_urls_are_404(client: ApiClient) -> None:
    for path in ("/api/v1/invoices/123.xml", "/api/v1/receipts/abc.json", "/api/v1/notices/0.xml"):
        assert client.get(path).status == 404, path
    assert client.request("PUT", "/api/v1/invoices/12x/mark_open.xml", body="").status == 404
    assert client.delete("/api/v1/proforma_invoices/123.json").status == 404


# ---------------------------------------------------------------------------- account totals


def test_total_open_follows_open_invoices_in_home_currency(
    aws: LocalStack, client: ApiClient, setup: dict[str, int]
) -> None:
    def total_open() -> Decimal:
        return Decimal(client.get("/api/v1/account.json").json()["total_open"])

    start = total_open()
    eur = create_document(client, **setup)
    usd = create_document(client, **setup, currency_id="USD", exchange_rate="0.9")
    proforma = create_document(
        client, setup["client_id"], create_series(client, "proforma_invoice_series"), kind="proforma_invoice"
    )
    assert total_open() == start, "drafts owe nothing"
    assert mark(client, "invoice", eur["id"], "open").status == 200
    assert mark(client, "invoice", usd["id"], "open").status == 200
    assert mark(client, "proforma_invoice", proforma["id"], "open").status == 200
    assert total_open() == start + Decimal("119.00") + Decimal("107.10"), "USD 119 at 0.9"
    assert mark(client, "invoice", usd["id"], "closed").status == 200
    assert total_open() == start + Decimal("119.00")
    assert mark(client, "invoice", usd["id"], "open").status == 200
    assert total_open() == start + Decimal("226.10")
    assert mark(client, "invoice", eur["id"], "cancelled").status == 200
    assert total_open() == start + Decimal("107.10")
    opened = client.send_json(
        "POST", "/api/v1/invoices.json", {"invoice": invoice_fields(**setup, document_state="open")}
    )
    assert opened.status == 201 and opened.json()["document_state"] == "open"
    assert total_open() == start + Decimal("226.10"), "created open counts at once"


def test_overdue_total_is_an_index_query(aws: LocalStack, client: ApiClient, setup: dict[str, int]) -> None:
    from billing.domain.documents import DocumentKind
    from billing.store.documents import SERVICES

    tenant_id = client_tenant(client)
    due = create_document(client, **setup, document_date="2024-01-01", due_days=10)
    later = create_document(client, **setup, document_date="2024-01-01", due_days=100)
    create_document(client, **setup, document_date="2024-01-01", due_days=1)  # a draft: never overdue
    for doc in (due, later):
        assert mark(client, "invoice", doc["id"], "open").status == 200
    service = SERVICES[DocumentKind.INVOICE]
    assert service.overdue_total(tenant_id, date(2024, 1, 11)) == 0, "due on the 11th is not overdue that day"
    assert service.overdue_total(tenant_id, date(2024, 1, 12)) == Decimal("119.00")
    assert service.overdue_total(tenant_id, date(2024, 4, 11)) == Decimal("238.00")
    assert mark(client, "invoice", due["id"], "closed").status == 200
    assert service.overdue_total(tenant_id, date(2024, 4, 11)) == Decimal("119.00")


def test_pdf_is_served(client: ApiClient, setup: dict[str, int]) -> None:
    """GET …/<id>.pdf answers the PDF (tests/integration/test_document_pdf_api.py has the rest)."""
    doc = create_document(client, **setup)
    response = client.get(f"/api/v1/invoices/{doc['id']}.pdf")
    assert response.status == 200 and response.body.startswith(b"%PDF-")
    assert response.header("Content-Type") == "application/pdf"


def test_other_tenant_fixture_is_isolated(aws: LocalStack) -> None:
    fresh = make_tenant("fresh")
    api = ApiClient(aws.gateway, fresh.api_key)
    assert api.get("/api/v1/invoices.xml").status == 200
    assert xml(api.get("/api/v1/invoices.xml")).findall("invoice") == []
