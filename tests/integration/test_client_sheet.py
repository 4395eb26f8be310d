"""The client sheet (§7.7.2) and the account's total_overdue (§7.11), through the API."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

from tests.conftest import Tenant
from tests.integration.test_documents_api import create_client, create_series, errors, xml
from tests.integration.test_payments_api import open_invoice, paid, read
from tests.support.aws import LocalStack
from tests.support.client import ApiClient


def sheet(api: ApiClient, client_id: int, query: str = "") -> dict[str, Any]:
    response = api.get(f"/api/v1/clients/{client_id}/sheet.json{query}")
    assert response.status == 200, response.text
    return dict(response.json())


def test_sheet_lists_invoices_with_payments_and_dues_per_currency(client: ApiClient, tenant: Tenant) -> None:
    from tests.integration.test_documents_api import set_home_currency

    set_home_currency(tenant, "RON")
    client_id = create_client(client, "Sheet SRL")
    other_client = create_client(client, "Someone Else")
    setup = {"client_id": client_id, "invoice_series": create_series(client)}
    eur = open_invoice(client, setup, currency_id="EUR", exchange_rate="4.6")
    eur_2 = open_invoice(client, setup, currency_id="EUR", exchange_rate="4.9")
    ron = open_invoice(client, setup, currency_id="RON")
    settled = open_invoice(client, setup, currency_id="RON")
    draft = client.send_json(
        "POST",
        "/api/v1/invoices.json",
        {
            "invoice": {
                "client_id": client_id,
                "currency_id": "RON",
                "document_date": "2024-05-20",
                "document_series_id": setup["invoice_series"],
                "vat_type": 1,
                "document_positions": [
                    {"description": "x", "unit": "h", "unit_count": "1", "price": "5", "vat": "0"}
                ],
            }
        },
    ).json()
    open_invoice(client, {**setup, "client_id": other_client}, currency_id="RON")  # not this client's
    first = paid(client, amount="19", invoice_id=eur["id"])
    second = paid(client, amount="46", currency_id="RON", invoice_id=eur["id"])  # 10.00 EUR
    paid(client, amount="119", invoice_id=settled["id"])

    body = sheet(client, client_id)
    assert body["id"] == client_id and body["name"] == "Sheet SRL"
    listed = {invoice["id"]: invoice for invoice in body["invoices"]}
    assert set(listed) == {eur["id"], eur_2["id"], ron["id"], settled["id"], draft["id"]}
    assert [p["id"] for p in listed[eur["id"]]["payments"]] == [first["id"], second["id"]]
    assert listed[ron["id"]]["payments"] == []
    assert listed[settled["id"]]["document_state"] == "closed"
    # EUR: (119 - 19 - 10) + 119; RON: the open one (the closed one and the draft owe nothing)
    assert body["dues"] == [{"currency": "EUR", "amount": "209.0"}, {"currency": "RON", "amount": "119.0"}]
    assert body["recurrent_jobs"] == []

    as_xml = client.get(f"/api/v1/clients/{client_id}/sheet.xml")
    assert as_xml.status == 200
    root = xml(as_xml)
    assert root.tag == "client"
    dues = root.find("dues")
    assert dues is not None and dues.get("type") is None
    assert [(d.get("currency"), d.get("amount")) for d in dues.findall("due")] == [
        ("EUR", "209.0"),
        ("RON", "119.0"),
    ]
    assert root.find("invoices").get("type") == "array"  # type: ignore[union-attr]
    invoice = next(i for i in root.iter("invoice") if i.findtext("id") == str(eur["id"]))
    assert [p.findtext("amount") for p in invoice.find("payments").findall("payment")] == ["19.0", "46.0"]  # type: ignore[union-attr]
    recurrent = root.find("recurrent_jobs")
    assert recurrent is not None and recurrent.get("type") == "array" and list(recurrent) == []


def test_sheet_pages_invoices_like_listings(client: ApiClient) -> None:
    client_id = create_client(client)
    setup = {"client_id": client_id, "invoice_series": create_series(client)}
    made = [open_invoice(client, setup)["id"] for _ in range(3)]
    first = client.get(f"/api/v1/clients/{client_id}/sheet.json?per_page=2")
    assert [i["id"] for i in first.json()["invoices"]] == made[:2]
    assert first.json()["dues"] == [{"currency": "EUR", "amount": "357.0"}], "dues cover every invoice"
    cursor = first.header("X-Next-Cursor")
    assert cursor and 'rel="next"' in (first.header("Link") or "")
    second = sheet(client, client_id, f"?per_page=2&cursor={cursor}")
    assert [i["id"] for i in second["invoices"]] == made[2:]
    assert client.get(f"/api/v1/clients/{client_id}/sheet.json?per_page=0").status == 422


def test_sheet_of_a_client_without_invoices(client: ApiClient) -> None:
    client_id = create_client(client)
    body = sheet(client, client_id)
    assert body["invoices"] == [] and body["dues"] == [] and body["recurrent_jobs"] == []
    root = xml(client.get(f"/api/v1/clients/{client_id}/sheet.xml"))
    assert root.find("dues") is not None and list(root.find("dues")) == []  # type: ignore[arg-type]


def test_sheet_of_another_tenants_client_is_404(
    aws: LocalStack, client: ApiClient, other_tenant: Tenant
) -> None:
    other = ApiClient(aws.gateway, other_tenant.api_key)
    theirs = create_client(other)
    open_invoice(other, {"client_id": theirs, "invoice_series": create_series(other)})
    for fmt in ("xml", "json"):
        response = client.get(f"/api/v1/clients/{theirs}/sheet.{fmt}")
        assert response.status == 404
        assert str(theirs) in errors(response)[0]
    assert client.get("/api/v1/clients/abc/sheet.xml").status == 404
    assert client.get("/api/v1/clients/12.xml/sheet.xml").status == 404
    assert client.send_json("POST", f"/api/v1/clients/{theirs}/sheet.json", {}).status == 405


def test_account_shows_total_overdue(client: ApiClient) -> None:
    def totals() -> tuple[Decimal, Decimal]:
        body = client.get("/api/v1/account.json").json()
        return Decimal(body["total_open"]), Decimal(body["total_overdue"])

    setup = {"client_id": create_client(client), "invoice_series": create_series(client)}
    assert totals() == (0, 0)
    overdue = open_invoice(client, setup, document_date="2024-01-01", due_days=10)
    open_invoice(client, setup, document_date="2024-01-01")  # no due date: never overdue
    open_invoice(client, setup, document_date="2099-01-01", due_days=1)  # not due yet
    assert totals() == (Decimal("357.00"), Decimal("119.00"))
    paid(client, amount="19", invoice_id=overdue["id"])
    assert totals() == (Decimal("338.00"), Decimal("100.00"))
    paid(client, amount="100", invoice_id=overdue["id"])
    assert read(client, "invoice", overdue["id"])["document_state"] == "closed"
    assert totals() == (Decimal("238.00"), Decimal("0"))
    xml_body = xml(client.get("/api/v1/account.xml"))
    assert (
        xml_body.findtext("total_overdue") == "0.0"
        and xml_body.find("total_overdue").get("type") == "decimal"
    )  # type: ignore[union-attr]
