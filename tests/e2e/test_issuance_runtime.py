"""Issuance end to end in the real local runtime (`python -m local`): an invoice issued with an
e-mail, its archived PDF downloaded over HTTP (httpx and curl, Accept */*), the e-mail in the
outbox with that PDF attached, exactly once under repeated requests, and the share page opened
in headless Chromium. Needs chromium and poppler-utils (scripts/system-deps.sh)."""

from __future__ import annotations

import email
import hashlib
import json
import shutil
import subprocess
import threading
import time
from collections.abc import Iterator
from decimal import Decimal
from email import policy
from io import BytesIO
from pathlib import Path
from typing import Any

import boto3
import httpx
import pytest
from pypdf import PdfReader

from tests.e2e.conftest import RunningRuntime

pytestmark = pytest.mark.e2e

CHROMIUM_FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def http(runtime: RunningRuntime) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=runtime.base_url, auth=(runtime.api_key, "x"), timeout=30) as client:
        yield client


@pytest.fixture(scope="module")
def series(http: httpx.Client) -> int:
    response = http.post(
        "/api/v1/invoice_series.json", json={"invoice_series": {"prefix": "ISS", "sepparator": "-"}}
    )
    assert response.status_code == 201, response.text
    return int(response.json()["id"])


def aws(runtime: RunningRuntime, service: str) -> Any:
    return boto3.client(
        service,
        endpoint_url=runtime.demo["aws_endpoint_url"],
        region_name=runtime.demo["region"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )


def new_invoice(http: httpx.Client, series: int, client_name: str = "Șuțu Ăîâ SRL") -> dict[str, Any]:
    client = http.post(
        "/api/v1/clients.json",
        json={
            "client": {
                "name": client_name,
                "uid": "RO87654321",
                "address": "Bd. Ștefan cel Mare 45",
                "city": "Iași",
            }
        },
    )
    assert client.status_code == 201, client.text
    invoice = http.post(
        "/api/v1/invoices.json",
        json={
            "invoice": {
                "client_id": client.json()["id"],
                "currency_id": "EUR",
                "document_date": "2026-11-20",
                "document_series_id": series,
                "vat_type": 1,
                "document_positions": [
                    {
                        "description": "Servicii de consultanță IT",
                        "unit": "ore",
                        "unit_count": "12.5",
                        "price": "150",
                        "vat": "19",
                    },
                    {
                        "description": "Găzduire anuală",
                        "unit": "buc",
                        "unit_count": "1",
                        "price": "100",
                        "vat": "19",
                    },
                ],
            }
        },
    )
    assert invoice.status_code == 201, invoice.text
    return dict(invoice.json())


def issue(http: httpx.Client, invoice_id: int, **email_params: Any) -> httpx.Response:
    """PUT mark_open.xml with e-mail parameters the way PHP's http_build_query sends them."""
    form = {
        f"{name}[{i}]": v
        for name, values in email_params.items()
        if name != "body"
        for i, v in enumerate(values)
    }
    if "body" in email_params:
        form["body"] = email_params["body"]
    return http.put(f"/api/v1/invoices/{invoice_id}/mark_open.xml", data=form)


def wait_completed(http: httpx.Client, invoice_id: int, timeout: float = 60) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        doc = http.get(f"/api/v1/invoices/{invoice_id}.json").json()
        if doc["issuance_status"] in ("completed", "failed"):
            return dict(doc)
        assert time.monotonic() < deadline, (
            f"issuance of {invoice_id} did not finish: {doc['issuance_status']}"
        )
        time.sleep(0.1)


def mails_to(runtime: RunningRuntime, address: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted((runtime.state_dir / "outbox").glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if address in str(message["To"]):
            found.append(message)
    return found  # type: ignore[return-value]


def archived_key(runtime: RunningRuntime, invoice_id: int) -> str:
    return f"tenants/{runtime.demo['tenant_id']}/documents/invoice/{invoice_id}/v1.pdf"


def test_issued_invoice_pdf_and_email(
    runtime: RunningRuntime, http: httpx.Client, series: int, tmp_path: Path
) -> None:
    invoice = new_invoice(http, series)
    recipient = f"client-{invoice['id']}@example.com"
    opened = issue(
        http, invoice["id"], to=[recipient], bcc=["me@example.com"], body="Bună ziua,\nfactura atașată."
    )
    assert opened.status_code == 200, opened.text
    assert "<issuance_status>pending</issuance_status>" in opened.text, "the answer does not wait for the PDF"
    issued = wait_completed(http, invoice["id"])
    assert issued["issuance_status"] == "completed" and issued["flag_sent_by_email"] is True

    # the archived PDF over HTTP, with httpx's Accept: */* (API Gateway's binary rule)
    response = http.get(f"/api/v1/invoices/{invoice['id']}.pdf", headers={"Accept": "*/*"})
    assert response.status_code == 200 and response.headers["content-type"] == "application/pdf"
    assert response.headers["content-disposition"] == f'inline; filename="{invoice["document_number"]}.pdf"'
    pdf = response.content
    text = "\n".join(page.extract_text() for page in PdfReader(BytesIO(pdf)).pages)
    total = f"{Decimal(invoice['total']):,.2f} EUR"
    assert invoice["document_number"] in text and "Șuțu Ăîâ SRL" in text and total in text, text
    digest = hashlib.sha256(pdf).hexdigest()
    head = aws(runtime, "s3").head_object(
        Bucket=runtime.demo["bucket_name"], Key=archived_key(runtime, invoice["id"])
    )
    assert head["Metadata"]["sha256"] == digest, "the download is the archived object"

    # curl with its default Accept: */* gets the same bytes
    saved = tmp_path / "invoice.pdf"
    subprocess.run(
        [
            "curl",
            "-sf",
            "-u",
            f"{runtime.api_key}:x",
            "-o",
            str(saved),
            f"{runtime.base_url}/api/v1/invoices/{invoice['id']}.pdf",
        ],
        check=True,
        timeout=30,
    )
    assert saved.read_bytes() == pdf

    # the e-mail, in the runtime's outbox, with that PDF attached
    (message,) = mails_to(runtime, recipient)
    assert message["Bcc"] is None and "Bună ziua" in message.get_body(preferencelist=("plain",)).get_content()  # type: ignore[union-attr]
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_filename() == f"{invoice['document_number']}.pdf"
    assert hashlib.sha256(attachment.get_content()).hexdigest() == digest

    # page 1 as an image (poppler): the PDF is one a viewer can render
    subprocess.run(
        ["pdftoppm", "-png", "-r", "50", "-f", "1", "-l", "1", str(saved), str(tmp_path / "page")],
        check=True,
        timeout=60,
    )
    (png,) = tmp_path.glob("page*.png")
    assert png.read_bytes().startswith(b"\x89PNG")


def test_issuance_runs_once_under_repeated_requests(
    runtime: RunningRuntime, http: httpx.Client, series: int
) -> None:
    invoice = new_invoice(http, series)
    recipient = f"once-{invoice['id']}@example.com"
    answers: list[int] = []

    def open_it() -> None:
        answers.append(issue(http, invoice["id"], to=[recipient]).status_code)

    threads = [threading.Thread(target=open_it) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert answers == [200, 200, 200, 200]
    wait_completed(http, invoice["id"])
    assert issue(http, invoice["id"], to=[recipient]).status_code == 200  # after completion, again

    sfn = aws(runtime, "stepfunctions")
    machine = next(
        m["stateMachineArn"]
        for m in sfn.list_state_machines()["stateMachines"]
        if "issue-invoice" in m["name"]
    )
    name = f"invoice-{runtime.demo['tenant_id']}-{invoice['id']}-v1"
    (execution,) = [
        e
        for e in sfn.list_executions(stateMachineArn=machine, maxResults=1000)["executions"]
        if e["name"] == name
    ]
    assert execution["status"] == "SUCCEEDED"
    # the same start sent once more, as a retried API call would
    original = sfn.describe_execution(executionArn=execution["executionArn"])["input"]
    with pytest.raises(sfn.exceptions.ExecutionAlreadyExists):
        sfn.start_execution(
            stateMachineArn=machine, name=name, input=json.dumps({**json.loads(original), "retry": 1})
        )
    assert (
        len(
            [
                e
                for e in sfn.list_executions(stateMachineArn=machine, maxResults=1000)["executions"]
                if e["name"] == name
            ]
        )
        == 1
    )

    listed = aws(runtime, "s3").list_object_versions(
        Bucket=runtime.demo["bucket_name"], Prefix=archived_key(runtime, invoice["id"])
    )
    assert len(listed.get("Versions", [])) == 1, "one archived object, one version"
    assert len(mails_to(runtime, recipient)) == 1, "one e-mail"


def test_share_page_in_headless_chromium(
    runtime: RunningRuntime, http: httpx.Client, series: int, tmp_path: Path
) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:  # make test installs it (scripts/system-deps.sh)
        pytest.fail("chromium is not installed: run `make system-deps`", pytrace=False)
    invoice = new_invoice(http, series, client_name="Șuțu <b>Ăîâ</b> SRL")
    assert issue(http, invoice["id"]).status_code == 200
    wait_completed(http, invoice["id"])
    url = f"{runtime.base_url}/view/{invoice['hashcode']}"
    flags = [*CHROMIUM_FLAGS, f"--user-data-dir={tmp_path / 'profile'}"]
    dom = subprocess.run(
        [browser, *flags, "--dump-dom", url], capture_output=True, text=True, timeout=90, check=True
    ).stdout
    total = f"{Decimal(invoice['total']):,.2f} EUR"
    assert f'<span id="number">{invoice["document_number"]}</span>' in dom
    assert f'id="total">{total}<' in dom
    assert "Șuțu &lt;b&gt;Ăîâ&lt;/b&gt; SRL" in dom, "shown as text, not markup"
    assert f'href="{invoice["hashcode"]}.pdf"' in dom
    shot = runtime.state_dir / "share-page.png"
    subprocess.run(
        [browser, *flags, "--window-size=1100,1300", "--hide-scrollbars", f"--screenshot={shot}", url],
        capture_output=True,
        timeout=90,
        check=True,
    )
    assert shot.read_bytes().startswith(b"\x89PNG")

    page = httpx.get(url, timeout=30)
    assert page.status_code == 200
    assert page.headers["content-security-policy"].startswith("default-src 'none'; style-src 'sha256-")
    assert "frame-ancestors 'none'" in page.headers["content-security-policy"]
    assert page.headers["referrer-policy"] == "no-referrer"
    assert page.headers["cache-control"] == "private, no-store"
    assert page.headers["x-content-type-options"] == "nosniff"
    pdf = httpx.get(f"{url}.pdf", timeout=30)
    assert pdf.status_code == 200 and pdf.content == http.get(f"/api/v1/invoices/{invoice['id']}.pdf").content
    unknown = httpx.get(f"{runtime.base_url}/view/{runtime.demo['tenant_id']}-{'x' * 32}", timeout=30)
    assert unknown.status_code == 404 and "text/html" in unknown.headers["content-type"]
    assert unknown.headers["referrer-policy"] == "no-referrer"
