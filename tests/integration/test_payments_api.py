"""Payments (§7.5, §7.5.1) through the API (gateway event -> handler -> moto) and through the
payment processor's entry point (billing.payments.registration.register_payment): every wire
format, currency conversion, closing and reopening, proformas, receipts, idempotency under
concurrency, search, cross-tenant isolation, and bad input that changes nothing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest

from local.apigw import HttpResponse
from tests.conftest import Tenant
from tests.integration.test_documents_api import (
    create_client,
    create_document,
    create_series,
    errors,
    mark,
    set_home_currency,
    xml,
)
from tests.support.aws import LocalStack
from tests.support.client import ApiClient

# ------------------------------------------------------------------------------------ helpers


def open_invoice(
    api: ApiClient, setup: dict[str, int], kind: str = "invoice", **extra: Any
) -> dict[str, Any]:
    """An issued document of `kind` owing 119.00 (2 x 50 + 19% VAT) unless `extra` says otherwise."""
    doc = create_document(api, setup["client_id"], setup[f"{kind}_series"], kind=kind, **extra)
    assert mark(api, kind, doc["id"], "open").status == 200
    return read(api, kind, doc["id"])


def read(api: ApiClient, kind: str, document_id: int) -> dict[str, Any]:
    response = api.get(f"/api/v1/{kind}s/{document_id}.json")
    assert response.status == 200, response.text
    return dict(response.json())


def owed(doc: dict[str, Any]) -> tuple[Any, ...]:
    """What a payment may change on a document (the issuance workflow writes other fields of
    the item in the background, so whole documents are not compared)."""
    return doc["document_state"], Decimal(doc["total_due"]), doc["updated_at"]


def pay(api: ApiClient, **fields: Any) -> HttpResponse:
    body = {"payment_date": "2015-02-20", **fields}
    return api.send_json("POST", "/api/v1/payments.json", {"payment": body})


def paid(api: ApiClient, **fields: Any) -> dict[str, Any]:
    response = pay(api, **fields)
    assert response.status == 201, response.text
    return dict(response.json())


def all_payments(api: ApiClient) -> list[dict[str, Any]]:
    response = api.get("/api/v1/payments.json?per_page=500")
    assert response.status == 200, response.text
    return list(response.json())


def search(api: ApiClient, field: str, value: str) -> list[dict[str, Any]]:
    response = api.get(f"/api/v1/payments/search.json?field={field}&value={value}")
    assert response.status == 200, response.text
    return list(response.json())


def total_open(api: ApiClient) -> Decimal:
    return Decimal(api.get("/api/v1/account.json").json()["total_open"])


@pytest.fixture
def setup(client: ApiClient) -> dict[str, int]:
    return {
        "client_id": create_client(client),
        "invoice_series": create_series(client),
        "proforma_invoice_series": create_series(client, "proforma_invoice_series", prefix="PF"),
    }


# ------------------------------------------------------------------------------ wire formats


def test_reference_php_form_registers_a_payment(client: ApiClient, setup: dict[str, int]) -> None:
    """Example 19 "Add payment": http_build_query(['payment' => […]]) POSTed to payments.xml."""
    invoice = open_invoice(client, setup)
    response = client.send_form(
        "POST",
        "/api/v1/payments.xml",
        {
            "payment": {
                "amount": "100.11",
                "currency_id": 978,
                "payment_date": "2015-02-20",
                "description": "by payment order - Bank",
                "invoice_id": invoice["id"],
            }
        },
    )
    assert response.status == 201, response.text
    doc = xml(response)
    assert doc.tag == "payment"
    payment_id = doc.findtext("id")
    assert (response.header("Location") or "").endswith(f"://factura.test/api/v1/payments/{payment_id}")
    assert doc.find("id").get("type") == "integer"  # type: ignore[union-attr]
    assert doc.findtext("amount") == "100.11" and doc.find("amount").get("type") == "decimal"  # type: ignore[union-attr]
    assert doc.findtext("currency") == "EUR" and doc.findtext("currency_id") == "978"
    assert doc.findtext("payment_date") == "2015-02-20"
    assert doc.findtext("description") == "by payment order - Bank"
    assert doc.findtext("invoice_id") == str(invoice["id"])
    assert doc.find("proforma_invoice_id").get("nil") == "true"  # type: ignore[union-attr]
    assert doc.findtext("amount_in_document_currency") == "100.11"
    assert doc.findtext("source") == "api"
    assert Decimal(read(client, "invoice", invoice["id"])["total_due"]) == Decimal("18.89")


def test_xml_json_and_multipart_bodies(client: ApiClient, setup: dict[str, int]) -> None:
    invoice = open_invoice(client, setup)
    as_xml = client.send_xml(
        "POST",
        "/api/v1/payments.xml",
        f"""<?xml version="1.0" encoding="UTF-8"?>
<payment>
  <amount>10.5</amount>
  <currency_id>EUR</currency_id>
  <payment_date>2015-02-21</payment_date>
  <description>cash</description>
  <invoice_id>{invoice["id"]}</invoice_id>
</payment>""",
    )
    assert as_xml.status == 201, as_xml.text
    assert xml(as_xml).findtext("amount") == "10.5"
    as_json = client.send_json(
        "POST",
        "/api/v1/payments.json",
        {"payment": {"amount": 20, "payment_date": "2015-02-22", "invoice_id": invoice["id"]}},
    )
    assert as_json.status == 201, as_json.text
    body = as_json.json()
    assert body["amount"] == "20.0" and body["currency_id"] == 978, "currency defaults to the invoice's"
    multipart = client.send_multipart(
        "POST",
        "/api/v1/payments.json",
        {
            "payment[amount]": "0.5",
            "payment[payment_date]": "2015-02-23",
            "payment[invoice_id]": str(invoice["id"]),
        },
    )
    assert multipart.status == 201, multipart.text
    assert Decimal(read(client, "invoice", invoice["id"])["total_due"]) == Decimal("88.00")
    got = client.get(f"/api/v1/payments/{body['id']}.xml")
    assert got.status == 200 and xml(got).findtext("id") == str(body["id"])
    assert client.get(f"/api/v1/payments/{body['id']}").status == 200, "no suffix means XML"
    assert {p["id"] for p in all_payments(client)} >= {body["id"]}


def test_read_only_fields_sent_back_are_ignored(client: ApiClient, setup: dict[str, int]) -> None:
    invoice = open_invoice(client, setup)
    first = paid(client, amount="1", invoice_id=invoice["id"])
    again = {k: v for k, v in first.items() if k not in ("proforma_invoice_id",)}
    response = client.send_json("POST", "/api/v1/payments.json", {"payment": again})
    assert response.status == 201, response.text
    assert response.json()["id"] != first["id"]


def test_payments_are_immutable(client: ApiClient, setup: dict[str, int]) -> None:
    invoice = open_invoice(client, setup)
    payment = paid(client, amount="1", invoice_id=invoice["id"])
    response = client.send_form("PUT", f"/api/v1/payments/{payment['id']}.xml", {"payment": {"amount": "2"}})
    assert response.status == 405
    assert response.header("Allow") == "DELETE, GET"
    assert client.delete("/api/v1/payments/search.xml").status == 405
    assert client.send_json("PUT", "/api/v1/payments.json", {}).status == 405


# -------------------------------------------------------------------------------- conversion


def test_payment_in_another_currency_is_converted_at_the_invoice_rate(
    client: ApiClient, setup: dict[str, int], tenant: Tenant
) -> None:
    """RON account, EUR invoice at 4.6 RON/EUR: 92 RON pay 20.00 EUR; totals stay in RON."""
    set_home_currency(tenant, "RON")
    invoice = open_invoice(client, setup, currency_id="EUR", exchange_rate="4.6")
    start = total_open(client)
    payment = paid(client, amount="92", currency_id="RON", invoice_id=invoice["id"])
    assert payment["currency"] == "RON" and payment["currency_id"] == 946
    assert Decimal(payment["amount"]) == 92
    assert Decimal(payment["amount_in_document_currency"]) == Decimal("20.00")
    assert Decimal(read(client, "invoice", invoice["id"])["total_due"]) == Decimal("99.00")
    assert total_open(client) == start - Decimal("92.00"), "20 EUR x 4.6 off total_open (in RON)"
    # 10 RON = 2.173… EUR, rounded half-up to cents
    odd = paid(client, amount="10", currency_id=946, invoice_id=invoice["id"])
    assert Decimal(odd["amount_in_document_currency"]) == Decimal("2.17")


def test_payment_currency_that_cannot_be_converted_is_refused(
    client: ApiClient, setup: dict[str, int], tenant: Tenant
) -> None:
    home = open_invoice(client, setup)  # EUR account, EUR invoice: no exchange rate
    refused = pay(client, amount="10", currency_id="RON", invoice_id=home["id"])
    assert refused.status == 422
    assert any(e.startswith("payment.currency_id: a payment in RON") for e in errors(refused)), errors(
        refused
    )
    set_home_currency(tenant, "RON")
    eur = open_invoice(client, setup, currency_id="EUR", exchange_rate="4.6")
    neither_home = pay(client, amount="10", currency_id="USD", invoice_id=eur["id"])
    assert neither_home.status == 422 and "account currency RON" in errors(neither_home)[0]
    assert all_payments(client) == []
    assert Decimal(read(client, "invoice", home["id"])["total_due"]) == Decimal("119.00")


# ------------------------------------------------------------------------ closing, reopening


def test_partial_then_full_payment_closes_and_delete_reopens(
    client: ApiClient, setup: dict[str, int]
) -> None:
    invoice = open_invoice(client, setup)
    start = total_open(client)
    first = paid(client, amount="19", invoice_id=invoice["id"])
    doc = read(client, "invoice", invoice["id"])
    assert doc["document_state"] == "open" and Decimal(doc["total_due"]) == Decimal("100.00")
    assert total_open(client) == start - Decimal("19.00")
    second = paid(client, amount="100.00", invoice_id=invoice["id"])
    doc = read(client, "invoice", invoice["id"])
    assert doc["document_state"] == "closed" and Decimal(doc["total_due"]) == 0
    assert total_open(client) == start - Decimal("119.00")

    more = pay(client, amount="1", invoice_id=invoice["id"])
    assert more.status == 422
    assert errors(more) == [
        f"payment.invoice_id: invoice {invoice['id']} is closed (settled); a further payment would be an overpayment"
    ]

    deleted = client.delete(f"/api/v1/payments/{second['id']}.json")
    assert deleted.status == 200 and deleted.json()["id"] == second["id"]
    doc = read(client, "invoice", invoice["id"])
    assert doc["document_state"] == "open" and Decimal(doc["total_due"]) == Decimal("100.00")
    assert total_open(client) == start - Decimal("19.00")
    assert client.get(f"/api/v1/payments/{second['id']}.json").status == 404
    assert client.delete(f"/api/v1/payments/{second['id']}.json").status == 404
    assert client.delete(f"/api/v1/payments/{first['id']}.xml").status == 200
    doc = read(client, "invoice", invoice["id"])
    assert doc["document_state"] == "open" and Decimal(doc["total_due"]) == Decimal("119.00")
    assert total_open(client) == start
    assert all_payments(client) == []


def test_deleting_a_payment_of_a_cancelled_invoice_keeps_it_cancelled(
    client: ApiClient, setup: dict[str, int]
) -> None:
    invoice = open_invoice(client, setup)
    payment = paid(client, amount="19", invoice_id=invoice["id"])
    assert mark(client, "invoice", invoice["id"], "cancelled").status == 200
    start = total_open(client)
    assert client.delete(f"/api/v1/payments/{payment['id']}.json").status == 200
    doc = read(client, "invoice", invoice["id"])
    assert doc["document_state"] == "cancelled" and Decimal(doc["total_due"]) == Decimal("119.00")
    assert total_open(client) == start


@pytest.mark.parametrize("state", ["draft", "closed", "cancelled"])
def test_only_open_documents_can_be_paid(client: ApiClient, setup: dict[str, int], state: str) -> None:
    doc = create_document(client, setup["client_id"], setup["invoice_series"])
    if state != "draft":
        assert mark(client, "invoice", doc["id"], "open").status == 200
        assert mark(client, "invoice", doc["id"], state).status == 200
    before = owed(read(client, "invoice", doc["id"]))
    refused = pay(client, amount="1", invoice_id=doc["id"])
    assert refused.status == 422
    (message,) = errors(refused)
    assert message.startswith(f"payment.invoice_id: invoice {doc['id']} is ") and state in message
    assert owed(read(client, "invoice", doc["id"])) == before
    assert all_payments(client) == []


def test_overpayment_is_refused(client: ApiClient, setup: dict[str, int]) -> None:
    invoice = open_invoice(client, setup)
    before_total = total_open(client)
    refused = pay(client, amount="119.01", invoice_id=invoice["id"])
    assert refused.status == 422
    assert errors(refused) == [
        f"payment.amount: 119.01 EUR exceeds the amount due on invoice {invoice['id']} (119.00 EUR); "
        "a payment cannot be larger than what is due"
    ]
    assert owed(read(client, "invoice", invoice["id"])) == owed(invoice)
    assert total_open(client) == before_total
    assert all_payments(client) == []


def test_at_least_one_document_is_required(client: ApiClient) -> None:
    refused = pay(client, amount="1")
    assert refused.status == 422
    assert errors(refused) == [
        "payment.invoice_id or payment.proforma_invoice_id is required: a payment pays an invoice "
        "or a proforma invoice"
    ]
    missing = client.send_json("POST", "/api/v1/payments.json", {"payment": {}})
    assert set(errors(missing)) == {
        "payment.amount is required",
        "payment.payment_date is required",
        "payment.invoice_id or payment.proforma_invoice_id is required: a payment pays an invoice "
        "or a proforma invoice",
    }
    unwrapped = client.send_json("POST", "/api/v1/payments.json", {"amount": "1"})
    assert unwrapped.status == 400


def test_unknown_documents_are_422_naming_the_field(client: ApiClient, setup: dict[str, int]) -> None:
    refused = pay(client, amount="1", invoice_id=123, proforma_invoice_id=456)
    assert refused.status == 422
    assert set(errors(refused)) == {
        "payment.invoice_id: there is no invoice 123",
        "payment.proforma_invoice_id: there is no proforma invoice 456",
    }
    proforma = open_invoice(client, setup, kind="proforma_invoice")
    as_invoice = pay(client, amount="1", invoice_id=proforma["id"])
    assert errors(as_invoice) == [f"payment.invoice_id: there is no invoice {proforma['id']}"]


def test_another_tenants_documents_and_payments_are_out_of_reach(
    aws: LocalStack, client: ApiClient, other_tenant: Tenant
) -> None:
    other = ApiClient(aws.gateway, other_tenant.api_key)
    other_setup = {
        "client_id": create_client(other),
        "invoice_series": create_series(other),
        "proforma_invoice_series": create_series(other, "proforma_invoice_series"),
    }
    invoice = open_invoice(other, other_setup)
    proforma = open_invoice(other, other_setup, kind="proforma_invoice")
    refused = pay(client, amount="1", invoice_id=invoice["id"])
    assert refused.status == 422
    assert errors(refused) == [f"payment.invoice_id: there is no invoice {invoice['id']}"]
    refused = pay(client, amount="1", proforma_invoice_id=proforma["id"])
    assert errors(refused) == [f"payment.proforma_invoice_id: there is no proforma invoice {proforma['id']}"]
    assert all_payments(client) == [] and all_payments(other) == []
    assert owed(read(other, "invoice", invoice["id"])) == owed(invoice)
    assert owed(read(other, "proforma_invoice", proforma["id"])) == owed(proforma)

    theirs = paid(other, amount="1", invoice_id=invoice["id"])
    assert client.get(f"/api/v1/payments/{theirs['id']}.xml").status == 404
    assert client.delete(f"/api/v1/payments/{theirs['id']}.xml").status == 404
    assert search(client, "invoice_id", str(invoice["id"])) == []
    assert Decimal(read(other, "invoice", invoice["id"])["total_due"]) == Decimal("118.00")


# ------------------------------------------------------------------------------ bad input


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"amount": "abc"}, "payment.amount: must be a number"),
        ({"amount": "-5"}, "payment.amount must be greater than 0"),
        ({"amount": "0"}, "payment.amount must be greater than 0"),
        ({"amount": "1.001"}, "payment.amount must have at most 2 decimal places"),
        ({"amount": "1e400"}, "payment.amount: must have at most 15 digits before the decimal point"),
        ({"payment_date": "2014-13-40"}, "payment.payment_date: must be a date (YYYY-MM-DD)"),
        (
            {"currency_id": "XYZ"},
            "payment.currency_id: 'XYZ' is not a known currency (use its ISO 4217 numeric id or code)",
        ),
        (
            {"currency_id": 5},
            "payment.currency_id: '5' is not a known currency (use its ISO 4217 numeric id or code)",
        ),
        ({"invoice_id": "abc"}, "payment.invoice_id: must be a record id (a whole number)"),
        ({"amount_paid": "1"}, "payment.amount_paid is not a known field"),
        ({"description": "x" * 256}, "payment.description: must be at most 255 characters"),
    ],
    ids=[
        "amount-text",
        "amount-negative",
        "amount-zero",
        "amount-3-decimals",
        "amount-huge",
        "bad-date",
        "unknown-currency",
        "reference-currency-5",
        "invoice-id-text",
        "unknown-field",
        "description-too-long",
    ],
)
@pytest.mark.parametrize("wire", ["form", "json", "xml"])
def test_bad_input_is_refused_and_changes_nothing(
    client: ApiClient, setup: dict[str, int], fields: dict[str, Any], message: str, wire: str
) -> None:
    invoice = open_invoice(client, setup)
    body = {"amount": "10", "payment_date": "2015-02-20", "invoice_id": invoice["id"], **fields}
    if wire == "form":
        response = client.send_form("POST", "/api/v1/payments.xml", {"payment": body})
    elif wire == "json":
        response = client.send_json("POST", "/api/v1/payments.json", {"payment": body})
    else:
        inner = "".join(f"<{k}>{v}</{k}>" for k, v in body.items())
        response = client.send_xml("POST", "/api/v1/payments.xml", f"<payment>{inner}</payment>")
    assert response.status == 422, response.text
    assert message in errors(response), errors(response)
    assert owed(read(client, "invoice", invoice["id"])) == owed(invoice)
    assert all_payments(client) == []


def test_hostile_xml_is_400(client: ApiClient) -> None:
    body = '<?xml version="1.0"?><!DOCTYPE p [<!ENTITY x "y">]><payment><amount>&x;</amount></payment>'
    response = client.send_xml("POST", "/api/v1/payments.xml", body)
    assert response.status == 400
    assert all_payments(client) == []


# -------------------------------------------------------------------------------- proformas


def test_proforma_payments_lower_its_due_and_close_it(client: ApiClient, setup: dict[str, int]) -> None:
    proforma = open_invoice(client, setup, kind="proforma_invoice")
    start = total_open(client)
    paid(client, amount="100", proforma_invoice_id=proforma["id"])
    doc = read(client, "proforma_invoice", proforma["id"])
    assert doc["document_state"] == "open" and Decimal(doc["total_due"]) == Decimal("19.00")
    last = paid(client, amount="19", proforma_invoice_id=proforma["id"])
    doc = read(client, "proforma_invoice", proforma["id"])
    assert doc["document_state"] == "closed" and Decimal(doc["total_due"]) == 0
    assert total_open(client) == start, "proformas never count in the account totals"
    assert client.delete(f"/api/v1/payments/{last['id']}.json").status == 200
    assert read(client, "proforma_invoice", proforma["id"])["document_state"] == "open"


def test_payment_naming_both_pays_the_invoice(client: ApiClient, setup: dict[str, int]) -> None:
    proforma = open_invoice(client, setup, kind="proforma_invoice")
    invoice = open_invoice(client, setup)
    payment = paid(client, amount="119", invoice_id=invoice["id"], proforma_invoice_id=proforma["id"])
    assert payment["invoice_id"] == invoice["id"] and payment["proforma_invoice_id"] == proforma["id"]
    assert read(client, "invoice", invoice["id"])["document_state"] == "closed"
    assert owed(read(client, "proforma_invoice", proforma["id"])) == owed(proforma), (
        "counted once, on the invoice"
    )
    assert [p["id"] for p in search(client, "proforma_invoice_id", str(proforma["id"]))] == [payment["id"]]


# ----------------------------------------------------------------------------------- search


def test_search_by_every_field(client: ApiClient, setup: dict[str, int]) -> None:
    """§7.5.1, including the reference's own `payment_date=2014.06.06`."""
    invoice = open_invoice(client, setup)
    proforma = open_invoice(client, setup, kind="proforma_invoice")
    june = paid(
        client, amount="1", payment_date="2014-06-06", description="Bank transfer", invoice_id=invoice["id"]
    )
    july = paid(
        client, amount="2", payment_date="2014-07-01", description="cash", proforma_invoice_id=proforma["id"]
    )

    def ids(field: str, value: str) -> set[int]:
        return {p["id"] for p in search(client, field, value)}

    assert ids("payment_date", "2014.06.06") == {june["id"]}
    assert ids("payment_date", "2014-06-06") == {june["id"]}
    assert ids("payment_date", "06.06.2014") == {june["id"]}
    assert ids("payment_date", "2014-07") == {july["id"]}
    assert ids("payment_date", "2014") == {june["id"], july["id"]}
    assert ids("invoice_id", str(invoice["id"])) == {june["id"]}
    assert ids("proforma_invoice_id", str(proforma["id"])) == {july["id"]}
    assert ids("description", "bank") == {june["id"]}
    assert ids("description", "CASH") == {july["id"]}
    today = datetime.now(UTC).date().isoformat()
    assert ids("created_at", today) == {june["id"], july["id"]}
    assert ids("updated_at", today.replace("-", ".")) == {june["id"], july["id"]}
    assert ids("created_at", "2014-06-06") == set()
    xml_search = client.get("/api/v1/payments/search.xml?field=payment_date&value=2014.06.06")
    root = xml(xml_search)
    assert root.tag == "payments" and root.get("type") == "array"
    assert [p.findtext("id") for p in root.findall("payment")] == [str(june["id"])]


@pytest.mark.parametrize(
    ("query", "status"),
    [
        ("field=amount&value=1", 422),
        ("field=payment_date&value=2014-13-40", 422),
        ("field=invoice_id&value=abc", 422),
        ("field=description", 422),
        ("field=payment_date&value=2014-06-06&cursor=garbage!", 400),
    ],
)
def test_bad_searches(client: ApiClient, query: str, status: int) -> None:
    assert client.get(f"/api/v1/payments/search.xml?{query}").status == status


def test_listing_is_paginated(client: ApiClient, setup: dict[str, int]) -> None:
    invoice = open_invoice(client, setup)
    made = [paid(client, amount="1", invoice_id=invoice["id"])["id"] for _ in range(3)]
    first = client.get("/api/v1/payments.json?per_page=2")
    assert [p["id"] for p in first.json()] == made[:2]
    cursor = first.header("X-Next-Cursor")
    assert cursor and 'rel="next"' in (first.header("Link") or "")
    second = client.get(f"/api/v1/payments.json?per_page=2&cursor={cursor}")
    assert [p["id"] for p in second.json()] == made[2:] and second.header("X-Next-Cursor") is None


# --------------------------------------------------------------------------------- receipts


def create_receipt(
    api: ApiClient, series_id: int, invoice_id: int, amount: str, **extra: Any
) -> HttpResponse:
    body = {
        "document_date": "2024-05-21",
        "document_series_id": series_id,
        "receipt_amount": amount,
        "invoice_id": invoice_id,
        **extra,
    }
    return api.send_json("POST", "/api/v1/receipts.json", {"receipt": body})


def test_an_issued_receipt_registers_its_payment(client: ApiClient, setup: dict[str, int]) -> None:
    receipt_series = create_series(client, "receipt_series", prefix="CH")
    invoice = open_invoice(client, setup)
    start = total_open(client)
    response = create_receipt(client, receipt_series, invoice["id"], "19", document_state="open")
    assert response.status == 201, response.text
    receipt = response.json()
    (payment,) = all_payments(client)
    assert payment["id"] == receipt["id"] and payment["receipt_id"] == receipt["id"]
    assert payment["source"] == "receipt" and payment["invoice_id"] == invoice["id"]
    assert Decimal(payment["amount"]) == 19 and payment["payment_date"] == "2024-05-21"
    assert payment["description"] == "Receipt CH-1"
    assert Decimal(read(client, "invoice", invoice["id"])["total_due"]) == Decimal("100.00")
    assert total_open(client) == start - Decimal("19.00")

    refused = client.delete(f"/api/v1/payments/{payment['id']}.json")
    assert refused.status == 422 and "cancel the receipt" in errors(refused)[0]

    draft = create_receipt(client, receipt_series, invoice["id"], "100")
    assert draft.status == 201 and len(all_payments(client)) == 1, "a draft receipt registers nothing"
    assert mark(client, "receipt", draft.json()["id"], "open").status == 200
    assert read(client, "invoice", invoice["id"])["document_state"] == "closed"
    assert total_open(client) == start - Decimal("119.00")

    assert mark(client, "receipt", receipt["id"], "cancelled").status == 200
    doc = read(client, "invoice", invoice["id"])
    assert doc["document_state"] == "open" and Decimal(doc["total_due"]) == Decimal("19.00")
    assert [p["id"] for p in all_payments(client)] == [draft.json()["id"]]
    assert total_open(client) == start - Decimal("100.00")


def test_a_receipt_larger_than_the_amount_due_is_refused(client: ApiClient, setup: dict[str, int]) -> None:
    receipt_series = create_series(client, "receipt_series")
    invoice = open_invoice(client, setup)
    refused = create_receipt(client, receipt_series, invoice["id"], "120", document_state="open")
    assert refused.status == 422
    assert errors(refused) == [
        f"receipt.receipt_amount: 120.00 EUR exceeds the amount due on invoice {invoice['id']} (119.00 EUR); "
        "a payment cannot be larger than what is due"
    ]
    assert owed(read(client, "invoice", invoice["id"])) == owed(invoice)
    assert all_payments(client) == []
    assert client.get(f"/api/v1/receipt_series/{receipt_series}.json").json()["counter_current"] == 0
    draft = create_receipt(client, receipt_series, invoice["id"], "120")
    assert draft.status == 201, "a draft is not a payment yet"
    issued = mark(client, "receipt", draft.json()["id"], "open")
    assert issued.status == 422 and "exceeds the amount due" in errors(issued)[0]
    assert read(client, "receipt", draft.json()["id"])["document_state"] == "draft"


def test_a_receipt_in_another_currency_pays_its_converted_amount(
    client: ApiClient, setup: dict[str, int], tenant: Tenant
) -> None:
    set_home_currency(tenant, "RON")
    receipt_series = create_series(client, "receipt_series")
    invoice = open_invoice(client, setup, currency_id="EUR", exchange_rate="4.6")
    response = create_receipt(
        client, receipt_series, invoice["id"], "100", currency_id="RON", document_state="open"
    )
    assert response.status == 201, response.text
    (payment,) = all_payments(client)
    assert payment["currency"] == "RON" and Decimal(payment["amount_in_document_currency"]) == Decimal(
        "21.74"
    )
    assert Decimal(read(client, "invoice", invoice["id"])["total_due"]) == Decimal("97.26")


# ------------------------------------------------------------- the payment processor's entry


def register(tenant: Tenant, invoice_id: int, event: str | None, amount: str = "19") -> Any:
    from billing.payments.registration import register_payment

    return register_payment(
        tenant.tenant_id,
        invoice_id=invoice_id,
        proforma_invoice_id=None,
        amount=Decimal(amount),
        currency="EUR",
        payment_date=date(2024, 6, 1),
        description="card payment",
        source="online",
        provider_event_id=event,
    )


def test_register_payment_is_idempotent_per_provider_event(
    client: ApiClient, setup: dict[str, int], tenant: Tenant
) -> None:
    invoice = open_invoice(client, setup)
    payments = [register(tenant, invoice["id"], "evt_1") for _ in range(3)]
    assert len({p.id for p in payments}) == 1
    (listed,) = all_payments(client)
    assert listed["id"] == payments[0].id and listed["source"] == "online"
    assert listed["provider_event_id"] == "evt_1"
    assert Decimal(read(client, "invoice", invoice["id"])["total_due"]) == Decimal("100.00")
    other = register(tenant, invoice["id"], "evt_2")
    assert other.id != payments[0].id
    assert Decimal(read(client, "invoice", invoice["id"])["total_due"]) == Decimal("81.00")


@contextmanager
def isolated_reads() -> Iterator[None]:
    """GetItem isolated from transactions, as in DynamoDB (test-only). local/dynamodb_fidelity
    makes every write atomic under its (reentrant) write lock, but a GetItem racing a cancelled
    transaction can see an item that the transaction's rollback is about to restore, missing.
    Holding the same lock around GetItem closes that window; the race that matters (between
    reading the guard and the document, and the transaction) stays fully interleaved."""
    from moto.dynamodb.models import DynamoDBBackend

    from local import dynamodb_fidelity

    original = DynamoDBBackend.get_item

    def get_item(self: Any, *args: Any, **kwargs: Any) -> Any:
        with dynamodb_fidelity._WRITE_LOCK:
            return original(self, *args, **kwargs)

    DynamoDBBackend.get_item = get_item  # type: ignore[method-assign]
    try:
        yield
    finally:
        DynamoDBBackend.get_item = original  # type: ignore[method-assign]


# The threads call register_payment directly: the handler module serves one request at a time.


def test_concurrent_repeats_register_one_payment(
    client: ApiClient, setup: dict[str, int], tenant: Tenant
) -> None:
    invoice = open_invoice(client, setup)
    start = total_open(client)
    barrier = threading.Barrier(10, timeout=60)

    def attempt(_: int) -> int:
        barrier.wait()
        return int(register(tenant, invoice["id"], "evt_concurrent").id)

    with isolated_reads(), ThreadPoolExecutor(max_workers=10) as pool:
        ids = set(pool.map(attempt, range(10)))
    assert len(ids) == 1
    assert [p["id"] for p in all_payments(client)] == list(ids)
    assert Decimal(read(client, "invoice", invoice["id"])["total_due"]) == Decimal("100.00")
    assert total_open(client) == start - Decimal("19.00")


def test_concurrent_different_payments_all_count(
    client: ApiClient, setup: dict[str, int], tenant: Tenant
) -> None:
    invoice = open_invoice(client, setup)
    barrier = threading.Barrier(7, timeout=60)

    def attempt(index: int) -> int:
        barrier.wait()
        return int(register(tenant, invoice["id"], f"evt_many_{index}", amount="17").id)

    with isolated_reads(), ThreadPoolExecutor(max_workers=7) as pool:
        ids = set(pool.map(attempt, range(7)))
    assert len(ids) == 7 and len(all_payments(client)) == 7
    doc = read(client, "invoice", invoice["id"])
    assert Decimal(doc["total_due"]) == 0 and doc["document_state"] == "closed", "7 x 17 = 119"


def test_a_repeat_after_the_payment_was_deleted_is_not_registered_again(
    client: ApiClient, setup: dict[str, int], tenant: Tenant
) -> None:
    from billing.payments.registration import PaymentEventDeleted

    invoice = open_invoice(client, setup)
    payment = register(tenant, invoice["id"], "evt_deleted")
    assert client.delete(f"/api/v1/payments/{payment.id}.xml").status == 200
    with pytest.raises(PaymentEventDeleted):
        register(tenant, invoice["id"], "evt_deleted")
    assert all_payments(client) == []
    assert Decimal(read(client, "invoice", invoice["id"])["total_due"]) == Decimal("119.00")


def test_register_payment_refuses_what_the_api_refuses(
    client: ApiClient, setup: dict[str, int], tenant: Tenant
) -> None:
    from billing.domain.errors import ValidationFailed
    from billing.payments.registration import register_payment

    invoice = open_invoice(client, setup)
    with pytest.raises(ValidationFailed) as failure:
        register(tenant, invoice["id"], "evt_too_much", amount="500")
    assert "exceeds the amount due" in failure.value.messages[0]
    with pytest.raises(ValidationFailed):
        register_payment(
            tenant.tenant_id,
            invoice_id=invoice["id"],
            proforma_invoice_id=None,
            amount=Decimal("1"),
            currency="EUR",
            payment_date=date(2024, 6, 1),
            description="",
            source="receipt",
        )
    with pytest.raises(ValidationFailed) as failure:
        register_payment(
            tenant.tenant_id,
            invoice_id=invoice["id"],
            proforma_invoice_id=None,
            amount=0.5,  # type: ignore[arg-type]
            currency="EUR",
            payment_date=date(2024, 6, 1),
            description="",
        )
    assert "binary float" in failure.value.messages[0]
    assert all_payments(client) == []


def test_payment_view_is_the_callback_shape(client: ApiClient, setup: dict[str, int], tenant: Tenant) -> None:
    from billing.wire.jsonio import render_json
    from billing.wire.views.payments import payment_view

    invoice = open_invoice(client, setup)
    payment = register(tenant, invoice["id"], "evt_view")
    view = payment_view(payment)
    assert view["currency"] == "EUR" and view["source"] == "online" and view["invoice_id"] == invoice["id"]
    assert render_json(view) == client.get(f"/api/v1/payments/{payment.id}.json").body
