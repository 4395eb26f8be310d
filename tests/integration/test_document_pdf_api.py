"""PDF downloads, e-mail (§7.1.10) and the public share page (§7.1.6) through the API
(in-process gateway, moto)."""

from __future__ import annotations

import email
import hashlib
import subprocess
import sys
from decimal import Decimal
from email import policy
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import boto3
import pytest
from pypdf import PdfReader

from local.bridges import install_ses_outbox
from local.template import REGION, ROOT
from tests.conftest import Tenant, make_tenant
from tests.support.aws import LocalStack
from tests.support.client import ApiClient, http_build_query
from tests.support.issuance import create_client, create_document, mark, wait_for_issuance

KINDS = ["invoice", "proforma_invoice", "notice", "receipt"]


def text(pdf: bytes) -> str:
    return "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)


@pytest.fixture
def outbox(aws: LocalStack, tmp_path: Path) -> Path:
    install_ses_outbox(tmp_path)
    return tmp_path


def mails_to(outbox: Path, address: str) -> list[Any]:
    """The messages in the outbox addressed to `address` (other tests may write there too)."""
    messages = [
        email.message_from_bytes(p.read_bytes(), policy=policy.default) for p in sorted(outbox.glob("*.eml"))
    ]
    return [m for m in messages if address in str(m["To"])]


@pytest.fixture
def small_redirect(monkeypatch: pytest.MonkeyPatch) -> Any:
    """PDFs above 1 000 bytes are answered with a redirect."""
    from billing.config import settings

    monkeypatch.setenv("PDF_REDIRECT_BYTES", "1000")
    settings.cache_clear()
    yield
    monkeypatch.delenv("PDF_REDIRECT_BYTES")
    settings.cache_clear()


# -- GET …/<id>.pdf --------------------------------------------------------------------------------


@pytest.mark.parametrize("kind", KINDS)
def test_pdf_of_each_kind_is_rendered_on_demand_before_issue(client: ApiClient, kind: str) -> None:
    doc = create_document(client, kind)
    response = client.get(f"/api/v1/{kind}s/{doc['id']}.pdf", headers={"Accept": "*/*"})
    assert response.status == 200
    assert response.header("Content-Type") == "application/pdf"
    assert response.header("Content-Disposition") == f'inline; filename="{doc["document_number"]}.pdf"'
    assert response.header("Cache-Control") == "private, no-store"
    assert doc["document_number"] in text(response.body) and "Șuțu Ăîâ SRL" in text(response.body)
    assert client.get(f"/api/v1/{kind}s/{doc['id']}.json").json()["flag_downloaded_pdf"] is True


def test_the_issued_pdf_is_the_archived_file_never_a_new_render(aws: LocalStack, client: ApiClient) -> None:
    doc = create_document(client, note="before")
    assert mark(client, "invoice", doc["id"], "open").status == 200
    assert wait_for_issuance(client, "invoice", doc["id"])["issuance_status"] == "completed"
    first = client.get(f"/api/v1/invoices/{doc['id']}.pdf")
    # presentation fields of an issued document may still change; its PDF does not
    changed = client.send_json("PUT", f"/api/v1/invoices/{doc['id']}.json", {"invoice": {"note": "after"}})
    assert changed.status == 200, changed.text
    second = client.get(f"/api/invoices/{doc['id']}.pdf")
    assert first.body == second.body and "before" in text(second.body) and "after" not in text(second.body)
    assert second.header("ETag") == f'"{hashlib.sha256(second.body).hexdigest()}"'


def test_a_large_pdf_redirects_to_a_short_lived_presigned_url(
    aws: LocalStack, client: ApiClient, tenant: Tenant, small_redirect: None
) -> None:
    draft = create_document(client)
    on_demand = client.get(f"/api/v1/invoices/{draft['id']}.pdf")
    assert on_demand.status == 307 and on_demand.body == b""
    location = urlsplit(on_demand.header("Location") or "")
    query = parse_qs(location.query)
    assert query["X-Amz-Expires"] == ["120"] and "X-Amz-Signature" in query
    assert query["response-content-type"] == ["application/pdf"]
    assert (
        location.path.endswith(".pdf")
        and f"/tenants/{tenant.tenant_id}/previews/invoice/{draft['id']}/" in location.path
    )

    issued = create_document(client)
    assert mark(client, "invoice", issued["id"], "open").status == 200
    assert wait_for_issuance(client, "invoice", issued["id"])["issuance_status"] == "completed"
    archived = client.get(f"/api/v1/invoices/{issued['id']}.pdf")
    assert archived.status == 307
    key = f"tenants/{tenant.tenant_id}/documents/invoice/{issued['id']}/v1.pdf"
    assert urlsplit(archived.header("Location") or "").path.endswith(key)
    body = (
        boto3.client("s3", region_name=REGION)
        .get_object(Bucket=aws.stack.ref("FilesBucket"), Key=key)["Body"]
        .read()
    )
    assert archived.header("ETag") == f'"{hashlib.sha256(body).hexdigest()}"'


@pytest.mark.parametrize("accept", ["*/*", "text/html,application/xhtml+xml,*/*;q=0.8", "application/pdf"])
def test_any_accept_header_gets_the_binary_pdf(client: ApiClient, accept: str) -> None:
    doc = create_document(client)
    response = client.get(f"/api/v1/invoices/{doc['id']}.pdf", headers={"Accept": accept})
    assert response.body.startswith(b"%PDF-")


def test_pdf_of_another_tenant_or_an_unknown_document_is_404(aws: LocalStack, client: ApiClient) -> None:
    doc = create_document(client)
    other = ApiClient(aws.gateway, make_tenant("other").api_key)
    assert other.get(f"/api/v1/invoices/{doc['id']}.pdf").status == 404
    assert client.get("/api/v1/invoices/999.pdf").status == 404
    assert client.get(f"/api/v1/invoices/{doc['id']}.pdf", auth=False).status == 401


def test_writes_through_the_pdf_suffix_are_refused_before_anything_changes(client: ApiClient) -> None:
    doc = create_document(client)
    path = f"/api/v1/invoices/{doc['id']}"
    modified = client.send_form("PUT", f"{path}.pdf", {"invoice": {"note": "changed through .pdf"}})
    assert modified.status == 406
    assert client.delete(f"{path}.pdf").status == 406
    after = client.get(f"{path}.json")
    assert after.status == 200 and after.json()["note"] != "changed through .pdf"


# -- PUT …/<id>/email.xml ------------------------------------------------------------------------------


def test_email_the_reference_way(aws: LocalStack, client: ApiClient, outbox: Path) -> None:
    doc = create_document(client)
    body = "Dear client \n\nPlease pay the attached bill.\n\nThank you!\nTeam"
    params = {"to": ["client@example.com", "accounting@example.com"], "bcc": ["me@example.com"], "body": body}
    response = client.request(
        "PUT",
        f"/api/v1/invoices/{doc['id']}/email.xml",
        body=http_build_query(params),
        content_type="application/x-www-form-urlencoded",
    )
    assert response.status == 200, response.text
    assert '<flag_sent_by_email type="boolean">true</flag_sent_by_email>' in response.text
    (message,) = mails_to(outbox, "accounting@example.com")
    assert message["To"] == "client@example.com, accounting@example.com" and message["Bcc"] is None
    sent = message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    assert sent.replace("\r\n", "\n").rstrip("\n") == body
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == f"{doc['document_number']}.pdf"
    assert doc["document_number"] in text(attachment.get_content())


def test_email_of_an_issued_document_attaches_the_archive(client: ApiClient, outbox: Path) -> None:
    doc = create_document(client)
    assert mark(client, "invoice", doc["id"], "open").status == 200
    assert wait_for_issuance(client, "invoice", doc["id"])["issuance_status"] == "completed"
    archived = client.get(f"/api/v1/invoices/{doc['id']}.pdf").body
    recipient = f"archive-{doc['id']}@example.com"
    response = client.send_json("PUT", f"/api/v1/invoices/{doc['id']}/email.json", {"to": recipient})
    assert response.status == 200 and response.json()["flag_sent_by_email"] is True
    (message,) = mails_to(outbox, recipient)
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content() == archived


def test_email_defaults_to_the_clients_address(client: ApiClient, outbox: Path) -> None:
    address = f"firma-{create_client(client)}@example.ro"
    doc = create_document(client, "proforma_invoice", client_id=create_client(client, email=address))
    assert client.request("PUT", f"/api/v1/proforma_invoices/{doc['id']}/email.xml").status == 200
    (message,) = mails_to(outbox, address)
    assert message["To"] == address


def test_email_refuses_bad_requests_and_sends_nothing(
    aws: LocalStack, client: ApiClient, outbox: Path
) -> None:
    doc = create_document(client)
    url = f"/api/v1/invoices/{doc['id']}/email.xml"
    bad = client.send_form("PUT", url, {"to": ["ok@example.com", "[email protected]"], "cc": "x"})
    assert bad.status == 422
    assert "to[1] '[email protected]' is not a valid e-mail address" in bad.text and "cc 'x'" in bad.text
    assert client.request("PUT", url).status == 422, "no to and no e-mail address on the client"
    other = ApiClient(aws.gateway, make_tenant("other").api_key)
    assert other.send_form("PUT", url, {"to": "a@example.com"}).status == 404
    assert client.get(url).status == 405
    assert mails_to(outbox, "ok@example.com") == [] and mails_to(outbox, "a@example.com") == []
    assert client.get(f"/api/v1/invoices/{doc['id']}.json").json()["flag_sent_by_email"] is False


# -- the share page ------------------------------------------------------------------------------------

SECURITY = {
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
}


def public(aws: LocalStack) -> ApiClient:
    return ApiClient(aws.gateway)


def test_share_page_shows_the_document_without_credentials(aws: LocalStack, client: ApiClient) -> None:
    doc = create_document(client)
    page = public(aws).get(f"/view/{doc['hashcode']}", auth=False)
    assert page.status == 200 and page.header("Content-Type") == "text/html; charset=utf-8"
    for name, value in SECURITY.items():
        assert page.header(name) == value
    assert (page.header("Content-Security-Policy") or "").startswith("default-src 'none'; style-src 'sha256-")
    html = page.text
    total = f"{Decimal(doc['total']):,.2f} EUR"  # an English document: 2,350.25 EUR
    assert doc["document_number"] in html and "Șuțu Ăîâ SRL" in html and f'id="total">{total}<' in html
    assert f'href="{doc["hashcode"]}.pdf"' in html
    pdf = public(aws).get(f"/view/{doc['hashcode']}.pdf", auth=False)
    assert (
        pdf.status == 200 and pdf.body.startswith(b"%PDF-") and pdf.header("Referrer-Policy") == "no-referrer"
    )
    assert public(aws).get(f"/view/{doc['hashcode']}?format=pdf", auth=False).body.startswith(b"%PDF-")
    assert client.get(f"/api/v1/invoices/{doc['id']}.json").json()["flag_downloaded_pdf"] is False, (
        "the API's flag"
    )


def test_share_page_escapes_what_it_shows(aws: LocalStack, client: ApiClient) -> None:
    hostile = "<script>alert(1)</script> SRL"
    doc = create_document(client, client_id=create_client(client, hostile))
    html = public(aws).get(f"/view/{doc['hashcode']}", auth=False).text
    assert "<script>" not in html and "&lt;script&gt;alert(1)&lt;/script&gt; SRL" in html


@pytest.mark.parametrize(
    "code",
    [
        "1-" + "A" * 32,  # well-formed, unknown
        "nothing",
        "1-" + "A" * 32 + ".xml",
        "%3Cscript%3E",
        "../../api/v1/invoices.xml",
    ],
)
def test_unknown_or_malformed_codes_are_404_pages(aws: LocalStack, code: str) -> None:
    response = public(aws).get(f"/view/{code}", auth=False)
    assert response.status in (404, 403)  # 403: API Gateway's own answer for a path it has no route for
    if response.status == 404:
        assert response.header("Content-Type") == "text/html; charset=utf-8" and "Not found" in response.text
        assert response.header("Referrer-Policy") == "no-referrer"


def test_a_code_opens_only_its_own_document_in_its_own_tenant(
    aws: LocalStack, client: ApiClient, tenant: Tenant
) -> None:
    mine = create_document(client)
    other_tenant = make_tenant("neighbour")
    theirs = create_document(ApiClient(aws.gateway, other_tenant.api_key))
    _, token = theirs["hashcode"].split("-", 1)
    forged = f"{tenant.tenant_id}-{token}"  # their secret under my tenant id
    assert public(aws).get(f"/view/{forged}", auth=False).status == 404
    page = public(aws).get(f"/view/{mine['hashcode']}", auth=False).text
    assert theirs["document_number"] not in page or theirs["document_number"] == mine["document_number"]
    assert str(theirs["id"]) not in page and theirs["hashcode"] not in page
    assert public(aws).request("POST", f"/view/{mine['hashcode']}", auth=False).status == 405


# -- cold start ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("function", "heavy"),
    [
        (
            "documents",
            [
                "fpdf",
                "billing.documents.pdf",
                "billing.documents.mapping",
                "billing.documents.fonts",
                "billing.documents.mailer",
                "billing.documents.delivery",
            ],
        ),
        ("share", ["fpdf", "billing.documents.pdf", "billing.documents.fonts"]),
        ("clients", ["fpdf", "billing.documents"]),
    ],
)
def test_pdf_and_mail_code_is_not_imported_at_cold_start(function: str, heavy: list[str]) -> None:
    code = (
        "import importlib.util, sys\n"
        f"spec = importlib.util.spec_from_file_location('app', {str(ROOT / 'functions' / function / 'app.py')!r})\n"
        "module = importlib.util.module_from_spec(spec); spec.loader.exec_module(module)\n"
        f"print([m for m in {heavy!r} if m in sys.modules])\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code],
        capture_output=True,
        text=True,
        check=True,
        env={"PYTHONPATH": str(ROOT / "layers" / "core"), "TABLE_NAME": "t", "PATH": ""},
    ).stdout
    assert out.strip() == "[]"
