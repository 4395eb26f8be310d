"""B2B reports: the list, the charges CSV (the reference's 50 columns, one row per printed line,
quoting), the bill PDF (archived or rendered), content negotiation by Accept (406 otherwise),
redirects to presigned URLs for large files, scopes."""

from __future__ import annotations

import io
from collections.abc import Iterator
from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

import pytest
from billing.documents.b2b_reports import CHARGES_COLUMNS, rows_of

from tests.support.aws import LocalStack
from tests.support.b2b import B2bHttp
from tests.support.b2b_bills import REPORTS, Bills, build_world, counts, get, position

HEADER = (
    "Customer Number;Customer name;Account number;Invoice number;Invoice Date;Document type;Period from;"
    "Period to;Charge Month;Division code;Division name;Service description;Service start date;Site ID;"
    "Site name;Site address;Site City;Site State;Postal Code;Country;Country Name;Speed;Bandwidth;"
    "Charge Description;Tax Description;Frequency;Number of days;Monthly price;Charge Currency;"
    "Exchange rate;Pre-discount amount;Discount percentage;Discount amount;Taxable amount;Tax rate;"
    "Tax amount;Invoicing Amount;Invoicing Currency;Total including Tax;TC Cross Reference;Serial Number;"
    "Order reference;Credit Comments;Invoice Contact;Phone Number;Payment Term;Payment Due Date;"
    "Installed Offer ID;PO Reference;External Reference"
)


@pytest.fixture(scope="module")
def world(aws: LocalStack) -> Bills:
    world = build_world(aws.gateway, "reports")
    world.client(
        "Wayne; Sons",
        address="1 Main St",
        address_2="Floor 2",
        city="Cluj",
        zip="400001",
        country_id="RO",
        email="ap@wayne.example",
        telephone="+40 700 000 000",
    )
    world.invoice(
        "detailed",
        "Wayne; Sons",
        due_days=15,
        delivery_date="2024-05-18",
        positions=[
            {**position('Install; "premium" tier', price="100", count="1"), "product_code": "SKU-1"},
            position('=HYPERLINK("http://x")', price="20", count="2", vat="9"),
            {"type": "DiscountPosition", "description": "Loyalty", "discount_rate": "10"},
        ],
    )
    return world


def caller(world: Bills) -> B2bHttp:
    assert world.caller is not None
    return world.caller


def report(who: B2bHttp, name: str, accept: str | None = "text/csv") -> Any:
    headers = {"Accept": accept} if accept is not None else {}
    return who.get(f"{REPORTS}/{name}", headers=headers)


def name_of(world: Bills, label: str) -> str:
    return f"R189-Charges+{world.invoices[label]}"


def table(response: Any) -> list[dict[str, str]]:
    rows = list(rows_of(response.body))
    assert rows[0] == list(CHARGES_COLUMNS)
    return [dict(zip(CHARGES_COLUMNS, row, strict=True)) for row in rows[1:]]


@pytest.fixture
def small_files(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from billing.b2b_settings import b2b_settings

    monkeypatch.setenv("B2B_FILE_REDIRECT_BYTES", "200")
    b2b_settings.cache_clear()
    yield
    monkeypatch.undo()
    b2b_settings.cache_clear()


# -- the list ---------------------------------------------------------------------------------------


def test_list_of_reports(world: Bills) -> None:
    response = get(caller(world), REPORTS, {"limit": 100})
    assert response.status == 200, response.text
    oracle = world.oracle()
    assert counts(response) == (len(oracle), len(oracle))
    entries = response.json()
    assert {entry["bill"]["id"] for entry in entries} == {str(r["id"]) for r in oracle}
    entry = next(e for e in entries if e["bill"]["id"] == str(world.invoices["detailed"]))
    assert entry["name"] == name_of(world, "detailed")
    assert entry["type"] == "charges"
    assert entry["formats"] == ["text/csv", "application/pdf"]
    assert entry["billingAccount"] == {"id": str(world.clients["Wayne; Sons"]), "name": "Wayne; Sons"}


def test_list_takes_the_bill_filters_and_scope(world: Bills) -> None:
    response = get(caller(world), REPORTS, {"type": "creditNote"})
    assert {e["bill"]["id"] for e in response.json()} == {
        str(r["id"]) for r in world.oracle() if r["type"] == "creditNote"
    }
    acme_only = world.scoped("ACME Corp")
    response = get(acme_only, REPORTS, {"limit": 100})
    acme = world.clients["ACME Corp"]
    assert {e["bill"]["id"] for e in response.json()} == {
        str(r["id"]) for r in world.oracle() if r["customer"] == acme
    }


# -- the CSV ----------------------------------------------------------------------------------------


def test_csv_header_is_exactly_the_references(world: Bills) -> None:
    response = report(caller(world), name_of(world, "detailed") + ".csv")
    assert response.status == 200, response.text
    assert response.header("Content-Type") == "text/csv; charset=UTF-8"
    assert (
        response.header("Content-Disposition") == f'attachment; filename="{name_of(world, "detailed")}.csv"'
    )
    assert response.body.split(b"\r\n")[0].decode() == HEADER
    assert len(HEADER.split(";")) == 50


def test_csv_rows_one_per_printed_line(world: Bills) -> None:
    rows = table(report(caller(world), name_of(world, "detailed")))
    wayne = str(world.clients["Wayne; Sons"])
    bill = caller(world).get(f"/billing/b2b/v1/bills/{world.invoices['detailed']}").json()
    assert len(rows) == 4  # two positions, and a discount split over their two VAT rates
    first, second, *discounts = rows
    common = {
        "Customer Number": wayne,
        "Customer name": "Wayne; Sons",
        "Account number": wayne,
        "Invoice number": bill["number"],
        "Invoice Date": "2024-05-20",
        "Document type": "invoice",
        "Charge Month": "2024-05",
        "Site address": "1 Main St, Floor 2",
        "Site City": "Cluj",
        "Postal Code": "400001",
        "Country": "RO",
        "Country Name": "Romania",
        "Charge Currency": "EUR",
        "Invoicing Currency": "EUR",
        "Invoice Contact": "ap@wayne.example",
        "Phone Number": "'+40 700 000 000",
        "Payment Term": "15",
        "Payment Due Date": "2024-06-04",
        "Service start date": "2024-05-18",
        "External Reference": bill["id"],
    }
    for row in rows:
        assert {k: row[k] for k in common} == common
    assert first["Service description"] == 'Install; "premium" tier'
    assert first["Installed Offer ID"] == "SKU-1"
    assert (
        first["Pre-discount amount"],
        first["Taxable amount"],
        first["Tax rate"],
        first["Tax amount"],
    ) == (
        "100.00",
        "100.00",
        "19",
        "19.00",
    )
    assert (first["Total including Tax"], first["Tax Description"]) == ("119.00", "VAT 19%")
    assert second["Service description"] == '\'=HYPERLINK("http://x")'  # defused for spreadsheets
    assert (second["Taxable amount"], second["Tax rate"], second["Tax amount"]) == ("40.00", "9", "3.60")
    assert {d["Tax rate"] for d in discounts} == {"19", "9"}
    for d in discounts:
        assert d["Discount percentage"] == "10"
        assert d["Pre-discount amount"] == ""
        assert d["Discount amount"] == d["Taxable amount"] and d["Taxable amount"].startswith("-")
        assert d["Charge Description"] == "Loyalty (10%)"
    total = sum((Decimal(r["Total including Tax"]) for r in rows), start=Decimal(0))
    assert str(total) == bill["amounts"]["totalIncludingTax"]


def test_csv_quotes_what_needs_quoting(world: Bills) -> None:
    raw = report(caller(world), name_of(world, "detailed")).body.decode()
    assert ';"Wayne; Sons";' in raw
    assert ';"Install; ""premium"" tier";' in raw
    assert raw.endswith("\r\n") and "\r\n\r\n" not in raw


def test_csv_of_a_credit_note_and_a_foreign_currency_bill(world: Bills) -> None:
    (credit,) = table(report(caller(world), name_of(world, "acme-credit")))
    original = caller(world).get(f"/billing/b2b/v1/bills/{world.invoices['acme-closed']}").json()
    assert credit["Document type"] == "creditNote"
    assert credit["Credit Comments"] == f"Reversal of invoice {original['number']}"
    assert credit["Total including Tax"] == "-59.50"
    (usd,) = table(report(caller(world), name_of(world, "acme-usd-email")))
    assert (usd["Charge Currency"], usd["Invoicing Currency"], usd["Exchange rate"]) == (
        "USD",
        "USD",
        "4.9735",
    )


# -- negotiation, PDF, redirects -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("suffix", "accept", "expected"),
    [
        ("", "text/csv", "text/csv"),
        ("", "application/pdf", "application/pdf"),
        ("", "*/*", "text/csv"),
        ("", None, "text/csv"),
        ("", "text/*", "text/csv"),
        ("", "text/csv;q=0.5, application/pdf", "application/pdf"),
        ("", "application/json, text/csv;q=0.1", "text/csv"),
        (".pdf", "*/*", "application/pdf"),
        (".csv", "text/csv", "text/csv"),
        ("", "application/json", 406),
        ("", "text/html, application/xml;q=0.9", 406),
        ("", "text/csv;q=0", 406),
        (".pdf", "text/csv", 406),
        (".csv", "application/pdf", 406),
    ],
)
def test_accept_chooses_the_representation(
    world: Bills, suffix: str, accept: str | None, expected: str | int
) -> None:
    response = report(caller(world), name_of(world, "ana-email") + suffix, accept)
    if expected == 406:
        assert response.status == 406, response.text
        body = response.json()
        assert body["error"] == "not_acceptable"
        assert "available as" in body["error_description"]
        return
    assert response.status == 200, response.text
    assert (response.header("Content-Type") or "").split(";")[0] == expected
    if expected == "application/pdf":
        assert response.body.startswith(b"%PDF-")
        assert (
            response.header("Content-Disposition")
            == f'attachment; filename="{name_of(world, "ana-email")}.pdf"'
        )


def test_rendered_pdf_is_the_bills(world: Bills) -> None:
    from pypdf import PdfReader

    response = report(caller(world), name_of(world, "detailed"), "application/pdf")
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(response.body)).pages)
    bill = caller(world).get(f"/billing/b2b/v1/bills/{world.invoices['detailed']}").json()
    assert bill["number"] in text
    assert "Wayne; Sons" in text


def test_archived_pdf_is_served_as_archived(world: Bills, aws: LocalStack) -> None:
    from billing.config import settings
    from billing.store.aws import client

    bill_id = world.invoices["more-2"]
    key = f"tenants/{world.tenant.tenant_id}/documents/invoice/{bill_id}/v1.pdf"
    archived = b"%PDF-1.7\n% the archived file\n%%EOF\n"
    client("s3").put_object(
        Bucket=settings().bucket_name, Key=key, Body=archived, ContentType="application/pdf"
    )
    _set_document(world, bill_id, pdf_key=key)
    response = report(caller(world), f"R189-Charges+{bill_id}", "application/pdf")
    assert response.status == 200
    assert response.body == archived


def test_missing_archive_falls_back_to_rendering(world: Bills) -> None:
    bill_id = world.invoices["more-4"]
    _set_document(
        world, bill_id, pdf_key=f"tenants/{world.tenant.tenant_id}/documents/invoice/{bill_id}/gone.pdf"
    )
    response = report(caller(world), f"R189-Charges+{bill_id}", "application/pdf")
    assert response.status == 200, response.text
    assert response.body.startswith(b"%PDF-")


def _set_document(world: Bills, document_id: int, **values: Any) -> None:
    from billing.store.document_marks import update_document

    update_document(world.tenant.tenant_id, "invoice", document_id, values)


def test_large_csv_redirects_to_a_presigned_url(world: Bills, small_files: None) -> None:
    from billing.config import settings
    from billing.store.aws import client

    response = report(caller(world), name_of(world, "detailed"))
    assert response.status == 302, response.text
    location = response.header("Location") or ""
    assert response.json()["location"] == location
    assert "X-Amz-Signature=" in location and "X-Amz-Expires=300" in location
    key = urlsplit(location).path.removeprefix("/").removeprefix(f"{settings().bucket_name}/")
    assert key.startswith(f"tenants/{world.tenant.tenant_id}/reports/{world.invoices['detailed']}/")
    stored = client("s3").get_object(Bucket=settings().bucket_name, Key=key)
    assert stored["ContentType"] == "text/csv; charset=UTF-8"
    assert stored["Body"].read().decode().split("\r\n")[0] == HEADER
    tags = client("s3").get_object_tagging(Bucket=settings().bucket_name, Key=key)["TagSet"]
    assert {"Key": "factura-preview", "Value": "true"} in tags  # expired by the bucket's lifecycle rule
    assert "response-content-disposition=attachment" in location


def test_large_pdf_redirects_too(world: Bills, small_files: None) -> None:
    """To the archived file when issuance archived it, else to the render kept for download."""
    response = report(caller(world), name_of(world, "ana-email"), "application/pdf")
    assert response.status == 302, response.text
    path = urlsplit(response.header("Location") or "").path
    bill_id = world.invoices["ana-email"]
    prefix = f"/tenants/{world.tenant.tenant_id}/"
    assert f"{prefix}previews/invoice/{bill_id}/" in path or f"{prefix}documents/invoice/{bill_id}/" in path


def test_small_files_stay_inline(world: Bills) -> None:
    assert report(caller(world), name_of(world, "ana-email")).status == 200


# -- what is not a report ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    ["R189-Charges", "R189-Charges+", "R189-Charges+abc", "R190-Charges+1", "R189-Charges+1.xml", "whatever"],
)
def test_unknown_names_are_404(world: Bills, name: str) -> None:
    response = report(caller(world), name)
    assert response.status == 404
    assert response.json()["error"] == "not_found"


def test_encoded_plus_is_the_same_report(world: Bills) -> None:
    bill_id = world.invoices["ana-email"]
    assert report(caller(world), f"R189-Charges%2B{bill_id}.csv").status == 200


def test_drafts_other_scopes_and_tenants_have_no_report(world: Bills) -> None:
    assert report(caller(world), name_of(world, "initech-draft")).status == 404
    acme_only = world.scoped("ACME Corp")
    assert report(acme_only, name_of(world, "acme-closed")).status == 200
    for label in ("globex-gbp", "detailed"):
        assert report(acme_only, name_of(world, label)).status == 404
        assert report(acme_only, name_of(world, label), "application/pdf").status == 404
