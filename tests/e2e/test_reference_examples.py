"""Every curl and PHP example of the v1 reference, run for real against the local runtime.

The examples are stored verbatim in tests/e2e/reference_examples/. Each run changes only the
base URL, the API key and record ids, through explicit substitutions that must each match the
stored text (so a test cannot silently run something else). Three kinds of fix are applied to
the reference's own mistakes, each named where it is applied:
- the PHP e-mail example lacks a comma after its 'bcc' array (a syntax error);
- its addresses read "[email protected]": the web page the reference was copied from hid
  them (Cloudflare e-mail obfuscation), and an e-mail API must refuse that as an address (422),
  so they are replaced by example addresses;
- two curl examples lack the trailing backslash on their first line, which breaks the command
  in any shell.
PHP runs with the Debian php-cli/php-curl/php-xml packages; report.php, appended after the
unchanged script, prints what the script received, decoded the reference's way (simplexml)."""

from __future__ import annotations

import json
import shutil
import subprocess
import time
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from dataclasses import dataclass, field
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import RunningRuntime, create_tenant

pytestmark = pytest.mark.e2e

EXAMPLES = Path(__file__).resolve().parent / "reference_examples"
SANDBOX_KEY = "91b4e03e6d4a07c088921a07ab8e844c7508092cf1645b32657d6c4b5829"
MARKER = "@@FACTURA@@"

if shutil.which("php") is None:  # make test installs it (scripts/system-deps.sh)
    pytest.fail("php is not installed: run `make system-deps`", pytrace=False)


def substitute(text: str, replacements: list[tuple[str, str]]) -> str:
    for old, new in replacements:
        assert old in text, f"substitution {old!r} does not match the stored example"
        text = text.replace(old, new)
    return text


@dataclass
class PhpRun:
    output: str
    http_code: int | None
    parsed: Any
    raw: str | None


@dataclass
class World:
    """Records the examples refer to, made through the API in the demo tenant."""

    runtime: RunningRuntime
    http: httpx.Client
    ids: dict[str, int] = field(default_factory=dict)

    def create(self, path: str, root: str, fields: dict[str, Any]) -> dict[str, Any]:
        response = self.http.post(f"/api/v1/{path}.json", json={root: fields})
        assert response.status_code == 201, response.text
        return dict(response.json())

    def get(self, path: str) -> dict[str, Any]:
        response = self.http.get(f"/api/v1/{path}.json")
        assert response.status_code == 200, response.text
        return dict(response.json())

    def invoice(self, state: str = "draft", **fields: Any) -> int:
        body = {
            "client_id": self.ids["client"],
            "currency_id": 978,
            "document_date": "2014-05-20",
            "document_series_id": self.ids["invoice_series"],
            "vat_type": 1,
            "document_positions": [
                {
                    "description": "BASIC SUBSCRIPTION",
                    "unit": "months",
                    "unit_count": "12",
                    "price": "12",
                    "vat": 19,
                }
            ],
            **fields,
        }
        invoice_id = int(self.create("invoices", "invoice", body)["id"])
        if state in ("open", "closed"):
            assert self.http.put(f"/api/v1/invoices/{invoice_id}/mark_open.xml").status_code == 200
        if state == "closed":
            assert self.http.put(f"/api/v1/invoices/{invoice_id}/mark_closed.xml").status_code == 200
        return invoice_id

    # -- running examples ---------------------------------------------------------------------

    def _common(self) -> list[tuple[str, str]]:
        base = self.runtime.base_url
        return [
            ("https://sandbox.online-billing-service.com/api/", f"{base}/api/"),
            (SANDBOX_KEY, self.runtime.api_key),
        ]

    def php(
        self, name: str, replacements: list[tuple[str, str]] = (), fixes: list[tuple[str, str]] = ()
    ) -> PhpRun:  # type: ignore[assignment]
        source = (EXAMPLES / "php" / name).read_text()
        script = substitute(source, [*fixes, *self._common(), *replacements])
        path = self.runtime.state_dir / name
        path.write_text(script)
        result = subprocess.run(
            ["php", "-d", f"auto_append_file={EXAMPLES / 'report.php'}", str(path)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        )
        assert result.returncode == 0, result.stdout + result.stderr
        output, _, report = result.stdout.rpartition(MARKER)
        data = json.loads(report)
        return PhpRun(output, data["http_code"], data["parsed"], data["raw"])

    def curl(
        self, name: str, replacements: list[tuple[str, str]] = (), fixes: list[tuple[str, str]] = ()
    ) -> str:  # type: ignore[assignment]
        source = (EXAMPLES / "curl" / name).read_text()
        common = [
            ("https://online-billing-service.com/api/v1/", f"{self.runtime.base_url}/api/v1/"),
        ]
        key = [("[api_key]", self.runtime.api_key)] if "[api_key]" in source else []
        script = substitute(source, [*fixes, *common, *key, *replacements])
        result = subprocess.run(["bash", "-e", "-c", script], capture_output=True, timeout=30, check=False)
        assert result.returncode == 0, result.stdout + result.stderr
        return result.stdout.decode()


def status_line(output: str) -> str:
    return output.split("\r\n", 1)[0]


def body_of(output: str) -> str:
    return output.split("\r\n\r\n", 1)[1] if "\r\n\r\n" in output else output


@pytest.fixture(scope="module")
def world(runtime: RunningRuntime) -> Iterator[World]:
    with httpx.Client(base_url=runtime.base_url, auth=(runtime.api_key, "x"), timeout=30) as http:
        w = World(runtime, http)
        w.ids["invoice_series"] = int(
            w.create(
                "invoice_series",
                "invoice_series",
                {"prefix": "FCT", "sepparator": "-", "counter_start": 1, "year": 2014},
            )["id"]
        )
        w.ids["client"] = int(
            w.create(
                "clients",
                "client",
                {
                    "name": "Ștefan Client SRL",
                    "uid": "13548146",
                    "address": "Str. Lungă 1",
                    "city": "Iași",
                    "country_id": "RO",
                    "is_company": True,
                },
            )["id"]
        )
        w.ids["client_2"] = int(
            w.create(
                "clients",
                "client",
                {"name": "Second", "uid": "1X370113689", "address": "a", "city": "b", "country_id": 642},
            )["id"]
        )
        w.ids["delegate"] = int(
            w.create(
                "delegates", "delegate", {"first_name": "Ion", "last_name": "Popa", "cnp": "1800101221144"}
            )["id"]
        )
        w.ids["product"] = int(
            w.create(
                "products", "product", {"description": "Support hour", "price": "100", "currency_id": 978}
            )["id"]
        )
        yield w


# -- PHP examples -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["01_listing_invoices.php", "02_listing_invoices_again.php", "13_invoice_listing_fragment.php"]
)
def test_php_listing_invoices(world: World, name: str) -> None:
    invoice_id = world.invoice()
    run = world.php(name)
    assert "&lt;invoices type=&quot;array&quot;&gt;" in run.output
    listed = run.parsed["invoice"]
    ids = {int(i["id"]) for i in (listed if isinstance(listed, list) else [listed])}
    assert invoice_id in ids


def test_php_invoice_details(world: World) -> None:
    invoice_id = world.invoice()
    run = world.php("03_invoice_details.php", [("1065255988", str(invoice_id))])
    assert int(run.parsed["id"]) == invoice_id
    assert run.parsed["client_id"] == str(world.ids["client"])
    assert run.parsed["document_positions"]["document_position"]["description"] == "BASIC SUBSCRIPTION"


def test_php_change_invoice_state(world: World) -> None:
    invoice_id = world.invoice("open")
    run = world.php("04_change_invoice_state.php", [("1065255988", str(invoice_id))])
    assert run.parsed["document_state"] == "closed"
    assert world.get(f"invoices/{invoice_id}")["document_state"] == "closed"


def test_php_modify_invoice(world: World) -> None:
    invoice_id = world.invoice()
    run = world.php("05_modify_invoice.php", [("1065255988", str(invoice_id))])
    assert run.output.strip() == "Updated successfully", run.output
    invoice = world.get(f"invoices/{invoice_id}")
    assert (invoice["note"], invoice["lower_annotation"], invoice["upper_annotation"]) == (
        "New notes",
        "New lower annotations",
        "New upper annotations",
    )
    assert [p["description"] for p in invoice["document_positions"]] == ["potatoes", "Brussels sprouts"]
    assert invoice["total"] == "15175.76"  # 4 x 0.74 + 10% and 250 x 51 + 19%, rounded per line


def test_php_modify_client_and_invoice(world: World) -> None:
    client_id = int(
        world.create("clients", "client", {"name": "Before", "address": "a", "city": "b", "country_id": 642})[
            "id"
        ]
    )
    invoice_id = world.invoice(client_id=client_id)
    run = world.php(
        "06_modify_client_and_invoice.php", [("1064116503", str(client_id)), ("1065255988", str(invoice_id))]
    )
    assert run.output.strip() == "Client updated successfully<br/>Invoice updated successfully", run.output
    invoice = world.get(f"invoices/{invoice_id}")
    assert invoice["client_name"] == "Changed client name" and invoice["client_city"] == "New city name"
    assert invoice["note"] == "client data updated"


def test_php_listing_clients(world: World) -> None:
    run = world.php("07_listing_clients.php")
    names = {c["name"] for c in run.parsed["client"]}
    assert "Ștefan Client SRL" in names


def test_php_add_client(world: World) -> None:
    run = world.php("08_add_client.php", [('"country_id" => "213"', '"country_id" => "642"')])
    assert run.output.startswith("Client created successfully. Client id: "), run.output
    client_id = int(run.output.rsplit(" ", 1)[1])
    client = world.get(f"clients/{client_id}")
    assert (client["name"], client["uid"], client["registration_id"]) == (
        "My favorite company",
        "3987985",
        "J39/44/1990",
    )
    assert client["country_id"] == 642


@pytest.mark.parametrize(
    ("name", "uid", "client"),
    [
        ("09_search_client.php", "13548146", "client"),
        ("22_search_client_by_uid.php", "1X370113689", "client_2"),
    ],
)
def test_php_search_client_by_uid(world: World, name: str, uid: str, client: str) -> None:
    run = world.php(name)
    found = run.parsed["client"]
    assert int(found["id"]) == world.ids[client] and found["uid"] == uid


def test_php_client_details(world: World) -> None:
    run = world.php("10_client_details.php", [("1064116503", str(world.ids["client"]))])
    assert run.parsed["name"] == "Ștefan Client SRL"


def test_php_modify_client(world: World) -> None:
    client_id = int(
        world.create("clients", "client", {"name": "Old", "address": "a", "city": "b", "country_id": 642})[
            "id"
        ]
    )
    run = world.php("11_modify_client.php", [("1064116503", str(client_id))])
    assert run.output.strip() == "Updated successfully"
    client = world.get(f"clients/{client_id}")
    assert (client["name"], client["city"], client["address"]) == ("New client name", "New city name", "a")


def test_php_delete_product(world: World) -> None:
    product_id = int(
        world.create("products", "product", {"description": "Old", "price": "1", "currency_id": 978})["id"]
    )
    run = world.php("12_delete_product.php", [("741342701", str(product_id))])
    assert run.output.strip() == "Deleted successfully"
    assert world.http.get(f"/api/v1/products/{product_id}.xml").status_code == 404


def test_php_partial_reversal_invoice(world: World) -> None:
    reversed_id = world.invoice("open")
    run = world.php(
        "14_partial_reversal_invoice.php",
        [
            ("$client_id = 1064116503;", f"$client_id = {world.ids['client']};"),
            ("$currency_id = 5;", "$currency_id = 978;"),
            ("$invoice_series_id = 1061104825;", f"$invoice_series_id = {world.ids['invoice_series']};"),
            ('"delegate_id" => 525664463', f'"delegate_id" => {world.ids["delegate"]}'),
            ('"source_document_id" => 1065253810', f'"source_document_id" => {reversed_id}'),
            ('"reversed_document_id" => 1065253810', f'"reversed_document_id" => {reversed_id}'),
        ],
    )
    assert run.output.startswith("Invoice created successfully. Invoice id: "), run.output
    invoice = world.get(f"invoices/{int(run.output.rsplit(' ', 1)[1])}")
    assert invoice["reversed_document_id"] == reversed_id
    assert invoice["total"] == "-171.36"  # 12 x -12 + 19%
    assert invoice["delegate_last_name"] == "Popa"


def test_php_send_invoice_by_email(world: World) -> None:
    invoice_id = world.invoice("open")
    run = world.php(
        "15_send_invoice_email.php",
        [("1065255988", str(invoice_id))],
        fixes=[
            (
                "'bcc'=>['[email protected]', '[email protected]'] // it can be your email",
                "'bcc'=>['[email protected]', '[email protected]'], // it can be your email",
            ),
            (  # addresses hidden by the page the reference was copied from
                "'to'=>['[email protected]', '[email protected]']",
                "'to'=>['client@example.com', 'accounting@example.com']",
            ),
            (
                "'bcc'=>['[email protected]', '[email protected]'],",
                "'bcc'=>['me@example.com', 'archive@example.com'],",
            ),
        ],
    )
    assert run.parsed is not None and int(run.parsed["id"]) == invoice_id, (
        run.output
    )  # the document, not errors
    assert world.get(f"invoices/{invoice_id}")["flag_sent_by_email"] is True


@pytest.mark.parametrize("name", ["16_add_invoice.php", "17_add_invoice_xml.php"])
def test_php_add_invoice(world: World, name: str) -> None:
    run = world.php(
        name,
        [
            ("$client_id = 1064116503;", f"$client_id = {world.ids['client']};"),
            ("$currency_id = 5;", "$currency_id = 978;"),
            ("$invoice_series_id = 1061104825;", f"$invoice_series_id = {world.ids['invoice_series']};"),
            ("525664463", str(world.ids["delegate"])),
        ],
    )
    assert run.output.startswith("Invoice created successfully. Invoice id: "), run.output
    invoice = world.get(f"invoices/{int(run.output.rsplit(' ', 1)[1])}")
    assert invoice["display_transport_data"] is True and invoice["delegate_first_name"] == "Ion"


def test_php_search_invoices_by_created_at(world: World) -> None:
    run = world.php("18_search_invoices_by_created_at.php")
    assert "&lt;invoices type=&quot;array&quot;" in run.output  # nothing was created on 2014-06-06


def test_php_add_payment_and_search_by_date(world: World) -> None:
    # the example pays 1001.11 on "your invoice id": one that owes at least that much (1190.00),
    # as a payment larger than the amount due is refused (billing.payments.registration)
    consulting = {"description": "Consulting", "unit": "hours", "unit_count": "10", "price": "100", "vat": 19}
    invoice_id = world.invoice("open", document_positions=[consulting])
    run = world.php(
        "19_add_payment.php", [("$currency_id = 5;", "$currency_id = 978;"), ("1065255988", str(invoice_id))]
    )
    assert run.output.strip() == "Created successfully", run.output
    world.create(
        "payments",
        "payment",
        {"amount": "1", "currency_id": 978, "payment_date": "2014-06-06", "invoice_id": invoice_id},
    )
    found = world.php("20_search_payments_by_date.php").parsed["payment"]
    found = found if isinstance(found, list) else [found]
    assert any(int(p["invoice_id"]) == invoice_id for p in found)


def test_php_create_proforma_series(world: World) -> None:
    run = world.php("21_create_proforma_series.php")
    assert run.output.startswith("Proforma Invoice Series created successfully. Series id: "), run.output
    series = world.get(f"proforma_invoice_series/{int(run.output.rsplit(' ', 1)[1])}")
    assert (series["prefix"], series["sepparator"], series["counter_current"]) == ("PREFIXUSS", "-", 100)


def test_php_search_product_by_price(world: World) -> None:
    found = world.php("23_search_product_by_price.php").parsed["product"]
    found = found if isinstance(found, list) else [found]
    assert world.ids["product"] in {int(p["id"]) for p in found}


# -- curl examples ------------------------------------------------------------------------------

_MISSING_CONTINUATION = (
    "curl -H 'Content-Type: application/xml'\n",
    "curl -H 'Content-Type: application/xml' \\\n",
)


def test_curl_list_and_details(world: World) -> None:
    listing = world.curl("01_list_clients.sh")
    assert status_line(listing) == "HTTP/1.1 200 OK"
    assert ET.fromstring(body_of(listing)).tag == "clients"
    details = world.curl("02_client_details.sh", [("clients/1.xml", f"clients/{world.ids['client']}.xml")])
    assert status_line(details) == "HTTP/1.1 200 OK"
    assert ET.fromstring(body_of(details)).findtext("name") == "Ștefan Client SRL"


def test_curl_create_modify_delete_client(world: World) -> None:
    created = world.curl("04_create_client.sh")
    assert status_line(created) == "HTTP/1.1 201 Created"
    client_id = ET.fromstring(body_of(created)).findtext("id")
    assert (
        f"Location: {world.runtime.base_url}/api/v1/clients/{client_id}" in created or "Location: " in created
    )
    modified = world.curl("03_modify_client_multipart.sh", [("clients/1.xml", f"clients/{client_id}.xml")])
    assert status_line(modified) == "HTTP/1.1 200 OK"
    assert ET.fromstring(body_of(modified)).findtext("uid") == "999999"
    as_form = world.curl("11_modify_client_form.sh", [("clients/1.xml", f"clients/{client_id}.xml")])
    assert ET.fromstring(as_form).findtext("name") == "ClientName"
    as_xml = world.curl(
        "10_modify_client_xml.sh",
        [("clients/1.xml", f"clients/{client_id}.xml")],
        fixes=[_MISSING_CONTINUATION],
    )
    assert ET.fromstring(as_xml).findtext("name") == "Client Name"
    deleted = world.curl("05_delete_client.sh", [("clients/1.xml", f"clients/{client_id}.xml")])
    assert status_line(deleted) == "HTTP/1.1 200 OK"
    assert world.http.get(f"/api/v1/clients/{client_id}.xml").status_code == 404


def test_curl_add_product_xml(world: World) -> None:
    output = world.curl(
        "12_add_product_xml.sh",
        [("<currency_id>1</currency_id>", "<currency_id>978</currency_id>")],
        fixes=[_MISSING_CONTINUATION],
    )
    product = ET.fromstring(output)
    assert product.findtext("price") == "12.0" and product.find("price").get("type") == "decimal"  # type: ignore[union-attr]
    assert product.find("code") is not None and product.find("id").get("type") == "integer"  # type: ignore[union-attr]


def test_curl_invoice_examples(world: World) -> None:
    created = world.curl(
        "20_add_invoice_xml.sh",
        [
            ("<client_id>100</client_id>", f"<client_id>{world.ids['client']}</client_id>"),
            ("<currency_id>200</currency_id>", "<currency_id>978</currency_id>"),
            (
                "<document_series_id>300</document_series_id>",
                f"<document_series_id>{world.ids['invoice_series']}</document_series_id>",
            ),
            (
                "<document_series_counter>10</document_series_counter>",
                "<document_series_counter>100010</document_series_counter>",
            ),
        ],
    )
    assert status_line(created) == "HTTP/1.1 201 Created"
    invoice = ET.fromstring(body_of(created))
    assert invoice.findtext("total") == "160.7"  # 144 + 24% VAT, minus 10% discount with its VAT
    invoice_id = invoice.findtext("id")

    due = world.curl(
        "21_modify_invoice_due_days_xml.sh",
        [
            ("invoices/1065253716.xml", f"invoices/{invoice_id}.xml"),
            ("-u 123:x", f"-u {world.runtime.api_key}:x"),
        ],
    )
    assert status_line(due) == "HTTP/1.1 200 OK"
    assert ET.fromstring(body_of(due)).findtext("due_date") == "2011-05-30"

    positions = world.curl(
        "22_modify_invoice_positions_xml.sh", [("invoices/100.xml", f"invoices/{invoice_id}.xml")]
    )
    assert status_line(positions) == "HTTP/1.1 200 OK"
    updated = ET.fromstring(body_of(positions))
    assert [p.findtext("description") for p in updated.find("document_positions")] == [  # type: ignore[union-attr]
        "STANDARD SUBSCRIPTION",
        "Discount for advanced payment",
    ]
    assert updated.findtext("total") == "468.72"  # 420 + 24% = 520.80, minus 10% (42.00 + 10.08)


# -- §8: the merchant's callback receiver --------------------------------------------------------


def test_php_payment_callback_receiver(world: World, tmp_path: Path) -> None:
    """The reference's receiver script, served unchanged by PHP's built-in server, is the
    merchant's callback URL; an online payment (a signed provider event) must reach it."""
    from local.runtime import free_port
    from tests.support.payments import standard_body, standard_headers

    script = "24_payment_callback_receiver.php"
    shutil.copy(EXAMPLES / "php" / script, tmp_path / script)
    port = free_port()
    server = subprocess.Popen(
        ["php", "-S", f"127.0.0.1:{port}", "-t", str(tmp_path)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    tenant = create_tenant(world.runtime, "callback-receiver")
    try:
        with httpx.Client(base_url=world.runtime.base_url, auth=(tenant["api_key"], "x"), timeout=30) as http:
            merchant = World(world.runtime, http)
            merchant.ids["invoice_series"] = int(
                merchant.create("invoice_series", "invoice_series", {"prefix": "CB", "sepparator": "-"})["id"]
            )
            merchant.ids["client"] = int(merchant.create("clients", "client", {"name": "Payer SRL"})["id"])
            provider = http.post("/api/v1/payment_providers/standard.json")
            assert provider.status_code == 201, provider.text
            secret = provider.json()["secret"]
            merchant.create(
                "webhook_endpoints",
                "webhook_endpoint",
                {"url": f"http://127.0.0.1:{port}/{script}", "event_types": ["payment.online_registered"]},
            )
            invoice_id = merchant.invoice("open")
            body = standard_body({"invoice_id": invoice_id}, amount="50.00", currency="EUR")
            posted = httpx.post(
                f"{world.runtime.base_url}/webhooks/payments/standard/{tenant['tenant_id']}",
                content=body,
                headers=standard_headers(secret, body),
                timeout=10,
            )
            assert posted.status_code < 300, posted.text
            written = tmp_path / "online-billing-service.com_callback_post_content.json"
            deadline = time.monotonic() + 30
            while not written.exists() and time.monotonic() < deadline:
                time.sleep(0.1)
            callback = json.loads(written.read_text())
            assert callback["type"] == "payment.online_registered"
            assert int(callback["data"]["invoice"]["id"]) == invoice_id
            assert Decimal(str(callback["data"]["payment"]["amount"])) == Decimal("50.00")
            assert merchant.get(f"invoices/{invoice_id}")["total_due"] == "121.36"  # 171.36 - 50.00
    finally:
        server.terminate()
        server.wait(timeout=10)
