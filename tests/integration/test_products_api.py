"""Products (§7.8, §7.8.1) through the gateway: the reference's own requests, CRUD in every wire
format, search, pagination, bad input that changes nothing, and tenant isolation."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import Tenant
from tests.support.aws import LocalStack
from tests.support.client import ApiClient

# The reference's "Add product (xml)" body. Its currency_id 1 is an id of the reference system;
# like every id in the examples it is swapped for one of ours (Factura's currency ids are ISO 4217
# numeric codes: 978 = EUR).
ADD_PRODUCT_XML = """<?xml version="1.0" encoding="UTF-8"?>
<product>
<description>online-billing-service.com subscription</description>
<price>12</price>
<currency_id>978</currency_id>
</product>"""


def xml(response: Any) -> ET.Element:
    return ET.fromstring(response.body)


def create(client: ApiClient, **fields: Any) -> ET.Element:
    data = {"description": "Product", "currency_id": "978", **fields}
    response = client.send_form("POST", "/api/v1/products.xml", {"product": data})
    assert response.status == 201, response.text
    return xml(response)


def stored(client: ApiClient) -> list[dict[str, Any]]:
    response = client.get("/api/v1/products.json?per_page=500")
    assert response.status == 200
    return response.json()  # type: ignore[no-any-return]


def errors_of(response: Any) -> list[str]:
    doc = xml(response)
    assert doc.tag == "errors"
    messages = [e.text or "" for e in doc.findall("error")]
    assert messages and all(messages)
    return messages


# -- the reference's own requests ------------------------------------------------------------


def test_reference_add_product_xml(client: ApiClient) -> None:
    response = client.request(
        "POST", "/api/v1/products.xml", body=ADD_PRODUCT_XML, content_type="application/xml"
    )
    assert response.status == 201, response.text
    doc = xml(response)
    product_id = doc.findtext("id")
    assert doc.tag == "product" and doc.find("id").get("type") == "integer"
    assert response.header("Location") == f"http://factura.test/api/v1/products/{product_id}"
    assert "<code></code>" in response.text, "present even when empty, as in the reference"
    assert '<price type="decimal">12.0</price>' in response.text
    assert doc.find("created_at").get("type") == "datetime"
    assert doc.findtext("description") == "online-billing-service.com subscription"
    assert (doc.findtext("currency_id"), doc.findtext("currency")) == ("978", "EUR")
    assert [e.tag for e in doc] == sorted(e.tag for e in doc), "Rails to_xml order"
    assert client.get(f"/api/v1/products/{product_id}.xml").text == response.text


def test_reference_add_product_xml_sent_as_curl_does_without_content_type(client: ApiClient) -> None:
    """`curl -d '<?xml …'` without -H labels the body as a form; it is still read as XML."""
    response = client.request(
        "POST", "/api/v1/products.xml", body=ADD_PRODUCT_XML, content_type="application/x-www-form-urlencoded"
    )
    assert response.status == 201, response.text


def test_reference_delete_product(client: ApiClient) -> None:
    product_id = create(client, description="To delete").findtext("id")
    response = client.request("DELETE", f"/api/v1/products/{product_id}.xml")
    assert response.status == 200
    assert xml(response).findtext("description") == "To delete"
    assert client.get(f"/api/v1/products/{product_id}.xml").status == 404
    assert client.delete(f"/api/v1/products/{product_id}.xml").status == 404


def test_reference_search_by_price(client: ApiClient) -> None:
    hundred = create(client, description="A", price="100").findtext("id")
    same = create(client, description="B", price="100.00").findtext("id")
    create(client, description="C", price="100.5")
    create(client, description="D", price="1000")
    create(client, description="E")  # no price: absent from the price slot
    doc = xml(client.get("/api/v1/products/search.xml?field=price&value=100"))
    assert doc.tag == "products" and doc.get("type") == "array"
    assert sorted(p.findtext("id") for p in doc) == sorted([hundred, same])
    assert {p.findtext("price") for p in doc} == {"100.0"}
    assert len(xml(client.get("/api/v1/products/search.xml?field=price&value=100.000"))) == 2
    assert len(xml(client.get("/api/v1/products/search.xml?field=price&value=100.5"))) == 1


# -- CRUD in every wire format ----------------------------------------------------------------


def test_create_in_every_wire_format(client: ApiClient) -> None:
    made = [
        client.send_form(
            "POST",
            "/api/v1/products.xml",
            {"product": {"description": "Form", "currency_id": "EUR", "price": "9.99"}},
        ),
        client.send_multipart(
            "POST",
            "/api/v1/products.xml",
            {"product[description]": "Multipart", "product[currency_id]": "946", "product[quantity]": "2.5"},
        ),
        client.send_xml(
            "POST",
            "/api/v1/products.xml",
            '<product><description>Xml</description><currency_id>usd</currency_id><vat type="decimal">19</vat></product>',
        ),
        client.send_json(
            "POST",
            "/api/v1/products.json",
            {
                "product": {
                    "description": "Json",
                    "currency_id": 978,
                    "price": 12,
                    "code": "J-1",
                    "unit": "buc",
                }
            },
        ),
    ]
    assert [r.status for r in made] == [201, 201, 201, 201], [r.text for r in made]
    as_json = made[3].json()
    assert as_json["price"] == "12.0" and as_json["currency"] == "EUR" and as_json["code"] == "J-1"
    assert made[3].header("Location").endswith(f"/api/v1/products/{as_json['id']}")
    by_description = {p["description"]: p for p in stored(client)}
    assert by_description["Form"]["price"] == "9.99" and by_description["Form"]["currency_id"] == 978
    assert (
        by_description["Multipart"]["quantity"] == "2.5" and by_description["Multipart"]["currency"] == "RON"
    )
    assert by_description["Xml"]["vat"] == "19.0" and by_description["Xml"]["currency"] == "USD"


def test_json_numbers_with_fractions_are_exact_decimals(client: ApiClient) -> None:
    response = client.request(
        "POST",
        "/api/v1/products.json",
        body='{"product": {"description": "Exact", "currency_id": "EUR", "price": 0.1, "vat": 5.5, "quantity": 1.0005}}',
        content_type="application/json",
    )
    assert response.status == 201, response.text
    data = response.json()
    assert (data["price"], data["vat"], data["quantity"]) == ("0.1", "5.5", "1.0005")
    assert Decimal(data["price"]) * 3 == Decimal("0.3")


def test_xml_and_json_representations_agree(client: ApiClient) -> None:
    doc = create(
        client,
        code="C1",
        description="Both",
        quantity="3",
        unit="h",
        price="45.5",
        vat="19",
        currency_id="EUR",
    )
    as_json = client.get(f"/api/v1/products/{doc.findtext('id')}.json").json()
    assert set(as_json) == {e.tag for e in doc}
    assert set(as_json) == {
        "id", "code", "description", "quantity", "unit", "price", "vat", "currency_id", "currency",
        "created_at", "updated_at",
    }  # fmt: skip
    for element in doc:
        assert str(as_json[element.tag]) == (element.text or ""), element.tag
    assert doc.find("quantity").get("type") == "decimal" and doc.findtext("quantity") == "3.0"


def test_modify_in_every_format_leaves_other_fields_intact(client: ApiClient) -> None:
    doc = create(client, code="K", description="Start", price="10", vat="19", unit="buc")
    url = f"/api/v1/products/{doc.findtext('id')}"
    assert client.send_form("PUT", f"{url}.xml", {"product": {"price": "11.5"}}).status == 200
    assert client.send_multipart("PUT", f"{url}.xml", {"product[quantity]": "4"}).status == 200
    assert client.send_xml("PUT", f"{url}.xml", "<product><unit>kg</unit></product>").status == 200
    response = client.send_json("PUT", f"{url}.json", {"product": {"currency_id": "RON"}})
    assert response.status == 200, response.text
    after = response.json()
    assert (after["price"], after["quantity"], after["unit"], after["currency"]) == (
        "11.5",
        "4.0",
        "kg",
        "RON",
    )
    assert (after["code"], after["description"], after["vat"]) == ("K", "Start", "19.0")


def test_modify_clears_optional_values_and_accepts_a_sent_back_read(client: ApiClient) -> None:
    doc = create(client, code="X", price="5", vat="9", quantity="1")
    url = f"/api/v1/products/{doc.findtext('id')}.xml"
    response = client.send_form("PUT", url, {"product": {"price": "", "vat": "", "code": ""}})
    assert response.status == 200, response.text
    after = xml(response)
    assert after.find("price").get("nil") == "true" and after.find("vat").get("nil") == "true"
    assert after.findtext("code") == "" and after.findtext("quantity") == "1.0"
    assert len(xml(client.get("/api/v1/products/search.xml?field=code&value=X"))) == 0

    body = client.get(url).text.replace(
        "<description>Product</description>", "<description>Again</description>"
    )
    response = client.send_xml("PUT", url, body)
    assert response.status == 200, response.text
    assert xml(response).findtext("description") == "Again" and xml(response).findtext("currency") == "EUR"


@pytest.mark.parametrize("method", ["PUT", "DELETE", "POST"])
def test_search_path_only_reads(client: ApiClient, method: str) -> None:
    response = client.request(method, "/api/v1/products/search.xml")
    assert response.status == 405
    assert response.header("Allow") == "GET"


# -- search ----------------------------------------------------------------------------------


def test_search_by_every_field(client: ApiClient) -> None:
    hosting = create(client, code="HOST-1", description="Web hosting yearly", price="120")
    domain = create(client, code="dom-1", description="Domain name", price="10.5").findtext("id")
    create(client, code="HOST-10", description="hosting monthly", price="12")

    def ids(query: str) -> list[str]:
        response = client.get(f"/api/v1/products/search.xml?{query}")
        assert response.status == 200, response.text
        return [p.findtext("id") for p in xml(response)]

    assert ids("field=code&value=host-1") == [hosting.findtext("id")], "whole code, case-insensitive"
    assert ids("field=code&value=DOM-1") == [domain]
    assert ids("field=code&value=HOST") == []
    assert len(ids("field=description&value=HOSTING")) == 1, "prefix of the description"
    assert ids("field=description&value=web%20h") == [hosting.findtext("id")]
    assert ids("field=price&value=10.50") == [domain]
    assert ids("field=price&value=12.0") != ids("field=price&value=120")

    year, month, day = hosting.findtext("created_at")[:10].split("-")
    for value in (f"{year}.{month}.{day}", f"{year}-{month}-{day}", f"{year}.{month}"):
        assert len(ids(f"field=created_at&value={value}")) == 3, value
        assert len(ids(f"field=updated_at&value={value}")) == 3, value
    assert ids("field=created_at&value=2014.06.06") == []
    assert [p["code"] for p in client.get("/api/v1/products/search.json?field=code&value=dom-1").json()] == [
        "dom-1"
    ]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("field=unit&value=h", "field must be one of: code, description, price, created_at, updated_at"),
        ("field=price&value=abc", "price"),
        ("field=price&value=NaN", "price"),
        ("field=created_at&value=2014.02.30", "created_at"),
        ("field=code", "value is required"),
    ],
)
def test_bad_search_is_422(client: ApiClient, query: str, fragment: str) -> None:
    response = client.get(f"/api/v1/products/search.xml?{query}")
    assert response.status == 422
    assert any(fragment in e for e in errors_of(response))


# -- pagination -------------------------------------------------------------------------------


def test_listing_and_search_paginate_with_cursor(client: ApiClient) -> None:
    made = [create(client, description=f"Paged {i}", price="7").findtext("id") for i in range(5)]
    for base in (
        "/api/v1/products.json?per_page=2",
        "/api/v1/products/search.json?field=price&value=7&per_page=2",
    ):
        seen: list[str] = []
        url = base
        pages = 0
        while True:
            response = client.get(url)
            assert response.status == 200, response.text
            page = [str(p["id"]) for p in response.json()]
            assert len(page) <= 2
            seen += page
            pages += 1
            cursor = response.header("X-Next-Cursor")
            if cursor is None:
                break
            url = f"{base}&cursor={cursor}"
        assert pages == 3 and seen == made, base


# -- bad input changes nothing -----------------------------------------------------------------

FORM = "application/x-www-form-urlencoded"
XML = "application/xml"
JSON = "application/json"
OK = "product[description]=D&product[currency_id]=978"

BAD_CREATES = [
    pytest.param(
        "product[currency_id]=978", FORM, 422, "product.description is required", id="missing-description"
    ),
    pytest.param(
        "product[description]=D", FORM, 422, "product.currency_id is required", id="missing-currency"
    ),
    pytest.param(
        "product[description]=D&product[currency_id]=", FORM, 422, "product.currency_id", id="blank-currency"
    ),
    pytest.param(
        "product[description]=&product[currency_id]=978", FORM, 422, "product.description", id="empty-desc"
    ),
    pytest.param(f"{OK}&product[price]=abc", FORM, 422, "product.price: must be a number", id="price-abc"),
    pytest.param(f"{OK}&product[price]=1,5", FORM, 422, "product.price", id="price-comma"),
    pytest.param(
        f"{OK}&product[price]=-1", FORM, 422, "product.price: must not be negative", id="price-negative"
    ),
    pytest.param(f"{OK}&product[price]=1.23456", FORM, 422, "product.price", id="price-5-decimals"),
    pytest.param(f"{OK}&product[price]=Infinity", FORM, 422, "product.price", id="price-infinite"),
    pytest.param(f"{OK}&product[price]=1e400", FORM, 422, "product.price", id="price-huge"),
    pytest.param(f"{OK}&product[vat]=150", FORM, 422, "product.vat", id="vat-150"),
    pytest.param(f"{OK}&product[vat]=-5", FORM, 422, "product.vat", id="vat-negative"),
    pytest.param(f"{OK}&product[vat]=19.125", FORM, 422, "product.vat", id="vat-3-decimals"),
    pytest.param(f"{OK}&product[quantity]=-1", FORM, 422, "product.quantity", id="quantity-negative"),
    pytest.param(f"{OK}&product[quantity]=lots", FORM, 422, "product.quantity", id="quantity-text"),
    pytest.param(
        "product[description]=D&product[currency_id]=XYZ", FORM, 422, "product.currency_id", id="unknown-code"
    ),
    pytest.param(
        "product[description]=D&product[currency_id]=5", FORM, 422, "product.currency_id", id="unknown-id"
    ),
    pytest.param(
        f"{OK}&product[colour]=red", FORM, 422, "product.colour is not a known field", id="unknown-field"
    ),
    pytest.param(f"{OK}&product[code][x]=1", FORM, 422, "product.code", id="nested-code"),
    pytest.param("product[description]=a&product=b", FORM, 400, "product", id="malformed-form"),
    pytest.param("description=D&currency_id=978", FORM, 400, "product", id="form-without-wrapper"),
    pytest.param("<product><description>D</description>", XML, 400, "XML", id="malformed-xml"),
    pytest.param("<description>D</description>", XML, 400, "product", id="xml-without-wrapper"),
    pytest.param(
        "<product><description>D</description><currency_id>978</currency_id><price>abc</price></product>",
        XML,
        422,
        "product.price",
        id="xml-price-abc",
    ),
    pytest.param('{"description": "D", "currency_id": 978}', JSON, 400, "product", id="json-without-wrapper"),
    pytest.param(
        '{"product": {"description": "D", "currency_id": 978, "price": true}}',
        JSON,
        422,
        "product.price",
        id="json-bool-price",
    ),
    pytest.param(
        '{"product": {"description": "D", "currency_id": 978, "price": "NaN"}}',
        JSON,
        422,
        "product.price",
        id="json-nan",
    ),
    pytest.param(
        '{"product": {"description": "D", "currency_id": 978, "price": NaN}}',
        JSON,
        400,
        "NaN",
        id="json-nan-literal",
    ),
    pytest.param(
        '{"product": {"description": "D", "currency_id": [978]}}',
        JSON,
        422,
        "product.currency_id",
        id="json-list",
    ),
    pytest.param(
        '{"product": {"description": "D", "currency_id": null}}',
        JSON,
        422,
        "product.currency_id",
        id="json-null",
    ),
]


@pytest.mark.parametrize(("body", "content_type", "status", "fragment"), BAD_CREATES)
def test_bad_create_is_refused_and_writes_nothing(
    client: ApiClient, body: str, content_type: str, status: int, fragment: str
) -> None:
    response = client.request("POST", "/api/v1/products.xml", body=body, content_type=content_type)
    assert response.status == status, response.text
    messages = errors_of(response)
    assert any(fragment in m for m in messages), messages
    assert stored(client) == []


def test_every_problem_is_reported_at_once(client: ApiClient) -> None:
    response = client.send_json(
        "POST",
        "/api/v1/products.json",
        {"product": {"price": "abc", "vat": 150, "quantity": -1, "currency_id": "XYZ"}},
    )
    assert response.status == 422
    messages = response.json()["errors"]
    for field in ("description", "price", "vat", "quantity", "currency_id"):
        assert any(f"product.{field}" in m for m in messages), (field, messages)
    assert stored(client) == []


BAD_MODIFIES = [
    pytest.param("product[price]=abc", FORM, 422, "product.price", id="price-abc"),
    pytest.param("product[price]=-0.01", FORM, 422, "product.price", id="price-negative"),
    pytest.param("product[vat]=150", FORM, 422, "product.vat", id="vat-150"),
    pytest.param("product[quantity]=-1", FORM, 422, "product.quantity", id="quantity-negative"),
    pytest.param("product[currency_id]=", FORM, 422, "product.currency_id", id="clear-currency"),
    pytest.param("product[currency_id]=XYZ", FORM, 422, "product.currency_id", id="unknown-currency"),
    pytest.param("product[description]=", FORM, 422, "product.description", id="clear-description"),
    pytest.param("product[price]=5&product[colour]=red", FORM, 422, "product.colour", id="good-and-unknown"),
    pytest.param("product[price]=1&product=b", FORM, 400, "product", id="malformed-form"),
    pytest.param("<product><price>1</price>", XML, 400, "XML", id="malformed-xml"),
    pytest.param('{"price": 5}', JSON, 400, "product", id="no-wrapper"),
]


@pytest.mark.parametrize(("body", "content_type", "status", "fragment"), BAD_MODIFIES)
def test_bad_modify_is_refused_and_changes_nothing(
    client: ApiClient, body: str, content_type: str, status: int, fragment: str
) -> None:
    product_id = create(client, code="SAFE", price="10", vat="19", quantity="1").findtext("id")
    before = stored(client)
    response = client.request(
        "PUT", f"/api/v1/products/{product_id}.xml", body=body, content_type=content_type
    )
    assert response.status == status, response.text
    assert any(fragment in m for m in errors_of(response))
    assert stored(client) == before


# -- tenants ------------------------------------------------------------------------------------


def test_other_tenants_product_is_404_and_untouched(
    aws: LocalStack, client: ApiClient, other_tenant: Tenant
) -> None:
    product_id = create(client, code="MINE", description="Mine", price="42").findtext("id")
    before = stored(client)
    intruder = ApiClient(aws.gateway, other_tenant.api_key)
    assert intruder.get(f"/api/v1/products/{product_id}.xml").status == 404
    assert (
        intruder.send_form("PUT", f"/api/v1/products/{product_id}.xml", {"product": {"price": "0"}}).status
        == 404
    )
    assert (
        intruder.send_json("PUT", f"/api/v1/products/{product_id}.json", {"product": {"price": "0"}}).status
        == 404
    )
    assert intruder.delete(f"/api/v1/products/{product_id}.xml").status == 404
    assert stored(client) == before

    theirs = create(intruder, code="MINE", description="Mine too", price="42").findtext("id")
    for query in ("field=code&value=MINE", "field=description&value=mine", "field=price&value=42"):
        assert [p.findtext("id") for p in xml(intruder.get(f"/api/v1/products/search.xml?{query}"))] == [
            theirs
        ]
        assert [p.findtext("id") for p in xml(client.get(f"/api/v1/products/search.xml?{query}"))] == [
            product_id
        ]
    assert [p.findtext("id") for p in xml(intruder.get("/api/v1/products.xml"))] == [theirs]
