"""The B2B Billing API reference's curl examples, run for real (bash + curl) against the local
runtime: bills (list, paginated and sorted, filtered by type and by customer name, details),
the $and search, the CSV report download, snapshots by type and by sendingFormat.

The scripts are stored verbatim in tests/e2e/b2b_examples/ (its README lists every substitution
and the two fixes to the reference's shell mistakes). A `curl` shim first on PATH adds
`-s -D <file>` so status and headers can be checked without changing the commands. The data: a
tenant of its own (made with the operator CLI), invoices made through the v1 API, a B2B client
made through the v1 API, a token from POST /oauth/v3/token."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import RunningRuntime

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parent / "b2b_examples"
HOST = "https://api.orange.com"
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

if shutil.which("curl") is None:  # make test installs it (scripts/system-deps.sh)
    pytest.fail("curl is not installed: run `make system-deps`", pytrace=False)


@dataclass
class Run:
    status: int
    headers: dict[str, str]
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class World:
    runtime: RunningRuntime
    token: str
    api_key: str
    bills: list[dict[str, Any]] = field(default_factory=list)
    """What was made: type, customer name, sending format, for the expected answers."""
    first_bill: int = 0

    def substitutions(self) -> list[tuple[str, str]]:
        return [(HOST, self.runtime.base_url), ("{access_token}", self.token), ("{api_key}", self.api_key)]

    def run(self, script: str, *fixes: tuple[str, str], tmp: Path) -> Run:
        text = (EXAMPLES / script).read_text()
        for old, new in [*self.substitutions(), *fixes]:
            assert old in text, f"substitution {old!r} does not match {script}"
            text = text.replace(old, new)
        shim = tmp / "bin"
        shim.mkdir(exist_ok=True)
        (shim / "curl").write_text(f'#!/bin/sh\nexec {shutil.which("curl")} -s -D "$CURL_HEADERS" "$@"\n')
        (shim / "curl").chmod(0o755)
        (tmp / script).write_text(text)
        headers_file = tmp / f"{script}.headers"
        result = subprocess.run(
            ["bash", str(tmp / script)],
            cwd=tmp,
            env={
                **os.environ,
                "PATH": f"{shim}{os.pathsep}{os.environ['PATH']}",
                "CURL_HEADERS": str(headers_file),
            },
            capture_output=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, result.stderr.decode()
        status, headers = parse_headers(headers_file.read_text())
        return Run(status, headers, result.stdout)


def parse_headers(text: str) -> tuple[int, dict[str, str]]:
    block = [b for b in text.replace("\r\n", "\n").split("\n\n") if b.strip()][-1]
    status_line, *lines = block.splitlines()
    headers = {}
    for line in lines:
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return int(status_line.split()[1]), headers


@pytest.fixture(scope="module")
def world(runtime: RunningRuntime) -> Iterator[World]:
    from local.template import ROOT

    created = subprocess.run(
        [
            sys.executable,
            "-m",
            "billing.admin",
            "--local",
            str(runtime.state_dir / "demo.json"),
            "tenant",
            "create",
            "--name",
            "B2B examples",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'core'}{os.pathsep}{ROOT}"},
    )
    merchant_key = json.loads(created.stdout)["api_key"]
    with httpx.Client(base_url=runtime.base_url, auth=(merchant_key, "x"), timeout=30) as v1:
        made: list[dict[str, Any]] = []
        series = v1.post("/api/v1/invoice_series.json", json={"invoice_series": {"prefix": "INV"}}).json()[
            "id"
        ]
        clients = {}
        for name in ("ACME Corp", "Globex", "Ana Popescu"):
            response = v1.post(
                "/api/v1/clients.json", json={"client": {"name": name, "is_company": 1, "uid": "RO1"}}
            )
            assert response.status_code == 201, response.text
            clients[name] = response.json()["id"]
        plan = (
            [("ACME Corp", i % 3 == 0) for i in range(10)]
            + [("Globex", i % 2 == 0) for i in range(8)]
            + [("Ana Popescu", False)] * 4
        )
        first_ids: dict[str, int] = {}
        for name, email in plan:
            body = {
                "client_id": clients[name],
                "currency_id": "EUR",
                "document_date": "2024-05-20",
                "document_series_id": series,
                "vat_type": 1,
                "document_state": "open",
                "flag_sent_by_email": 1 if email else 0,
                "document_positions": [
                    {"description": "Service", "unit": "h", "unit_count": "2", "price": "40", "vat": "19"}
                ],
            }
            response = v1.post("/api/v1/invoices.json", json={"invoice": body})
            assert response.status_code == 201, response.text
            first_ids.setdefault(name, response.json()["id"])
            made.append({"type": "invoice", "customer": name, "sendingFormat": "email" if email else "paper"})
        for name in ("ACME Corp", "Globex"):  # a credit note each
            body = {
                "client_id": clients[name],
                "currency_id": "EUR",
                "document_date": "2024-06-01",
                "document_series_id": series,
                "vat_type": 1,
                "document_state": "open",
                "reversed_document_id": first_ids[name],
                "document_positions": [
                    {"description": "Refund", "unit": "h", "unit_count": "1", "price": "-40", "vat": "19"}
                ],
            }
            response = v1.post("/api/v1/invoices.json", json={"invoice": body})
            assert response.status_code == 201, response.text
            made.append({"type": "creditNote", "customer": name, "sendingFormat": "paper"})
        issued = v1.post("/api/v1/b2b_clients.json", json={"b2b_client": {"name": "ERP", "scope": "all"}})
        assert issued.status_code == 201, issued.text
        b2b = issued.json()
    token = httpx.post(
        f"{runtime.base_url}/oauth/v3/token",
        auth=(b2b["client_id"], b2b["client_secret"]),
        data={"grant_type": "client_credentials"},
    )
    assert token.status_code == 200, token.text
    yield World(runtime, token.json()["access_token"], b2b["api_key"], made, first_ids["ACME Corp"])


def check_bill_list(run: Run) -> list[dict[str, Any]]:
    assert run.status == 200, run.body
    assert run.headers["content-type"] == "application/json; charset=UTF-8"
    body = run.json()
    assert isinstance(body, list)
    assert int(run.headers["x-result-count"]) == len(body)
    for bill in body:
        assert isinstance(bill["id"], str)
        assert set(bill["customer"]) == {"id", "name", "segment"}
        assert bill["type"] in ("invoice", "creditNote")
        assert bill["sendingFormat"] in ("paper", "email", "eInvoicing")
    return list(body)


def test_list_bills(world: World, tmp_path: Path) -> None:
    run = world.run("01_list_bills.sh", tmp=tmp_path)
    bills = check_bill_list(run)
    assert int(run.headers["x-total-count"]) == len(world.bills) == 24
    assert len(bills) == 20  # the default page


def test_paginated_and_sorted(world: World, tmp_path: Path) -> None:
    url = "/billing/b2b/v1/bills?offset=10&limit=20&sort=-updatedAt"
    run = world.run(
        "02_paginated_sorted.sh",
        (f"{world.runtime.base_url}{url}", f"'{world.runtime.base_url}{url}'"),
        tmp=tmp_path,
    )
    bills = check_bill_list(run)
    assert int(run.headers["x-total-count"]) == 24
    assert len(bills) == 14  # items 10 to 23
    stamps = [b["updatedAt"] for b in bills]
    assert stamps == sorted(stamps, reverse=True)
    everything = httpx.get(
        f"{world.runtime.base_url}/billing/b2b/v1/bills?limit=100&sort=-updatedAt",
        headers={"Authorization": world.token, "X-Api-Key": world.api_key},
    ).json()
    assert [b["id"] for b in bills] == [b["id"] for b in everything][10:30]


def test_filter_by_type(world: World, tmp_path: Path) -> None:
    run = world.run("03_filter_type.sh", tmp=tmp_path)
    bills = check_bill_list(run)
    assert {b["type"] for b in bills} == {"invoice"}
    assert int(run.headers["x-total-count"]) == sum(b["type"] == "invoice" for b in world.bills)


def test_filter_by_customer_name(world: World, tmp_path: Path) -> None:
    run = world.run(
        "04_filter_customer_name.sh", ("customer.name=ACME Corp", "customer.name=ACME%20Corp"), tmp=tmp_path
    )
    bills = check_bill_list(run)
    assert {b["customer"]["name"] for b in bills} == {"ACME Corp"}
    assert int(run.headers["x-total-count"]) == sum(b["customer"] == "ACME Corp" for b in world.bills) == 11


def test_bill_details(world: World, tmp_path: Path) -> None:
    run = world.run("05_bill_details.sh", ("bills/17006", f"bills/{world.first_bill}"), tmp=tmp_path)
    assert run.status == 200, run.body
    assert run.headers["content-type"] == "application/json; charset=UTF-8"
    bill = run.json()
    assert bill["id"] == str(world.first_bill)
    assert bill["type"] == "invoice"
    assert bill["customer"]["name"] == "ACME Corp" and bill["customer"]["segment"] == "company"
    for name in ("createdAt", "updatedAt"):
        assert len(bill[name]) == 24 and bill[name].endswith("Z")


def test_search_and(world: World, tmp_path: Path) -> None:
    run = world.run("06_search_and.sh", tmp=tmp_path)
    bills = check_bill_list(run)
    assert {(b["type"], b["sendingFormat"]) for b in bills} == {("invoice", "paper")}
    expected = sum(b["type"] == "invoice" and b["sendingFormat"] == "paper" for b in world.bills)
    assert int(run.headers["x-total-count"]) == expected


def test_report_csv(world: World, tmp_path: Path) -> None:
    name = f"R189-Charges+{world.first_bill}.csv"
    run = world.run("07_report_csv.sh", ("R189-Charges+9300856-......csv", name), tmp=tmp_path)
    assert run.status == 200, run.body
    assert run.headers["content-type"].split(";")[0] == "text/csv"
    assert run.headers["content-disposition"] == f'attachment; filename="{name}"'
    lines = run.body.decode().split("\r\n")
    assert lines[0] == HEADER
    assert len(lines[0].split(";")) == 50
    assert lines[1].split(";")[1] == "ACME Corp"


def test_snapshots_by_type(world: World, tmp_path: Path) -> None:
    run = world.run("08_snapshots_type.sh", tmp=tmp_path)
    assert run.status == 200, run.body
    counted = Counter(b["type"] for b in world.bills)
    assert run.body.decode() == json.dumps(dict(counted.most_common()), separators=(",", ":"))


def test_snapshots_by_sending_format_sorted_by_value(world: World, tmp_path: Path) -> None:
    url = "/billing/b2b/v1/snapshots?groupBy=sendingFormat&sort=-value"
    run = world.run(
        "09_snapshots_sending_format.sh",
        (f"{world.runtime.base_url}{url}", f"'{world.runtime.base_url}{url}'"),
        tmp=tmp_path,
    )
    assert run.status == 200, run.body
    body = run.json()
    assert body == dict(Counter(b["sendingFormat"] for b in world.bills))
    assert list(body.values()) == sorted(body.values(), reverse=True)
