from __future__ import annotations

import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from billing.domain.errors import MalformedInput, NotAcceptable
from billing.wire.codec import Format, as_list, decode_body, render, render_errors, split_format

from tests.unit.test_wire_form import CURL_F_BODY, CURL_F_TYPE, PHP_EMAIL, PHP_MODIFY_INVOICE
from tests.unit.test_wire_xml import BILLION_LAUGHS, REFERENCE_INVOICE

XML_MODIFY_CLIENT = b"""<?xml version="1.0" encoding="UTF-8"?>
<client>
<name>Client Name</name>
<uid>999999</uid>
</client>"""


def test_formats() -> None:
    assert Format("xml") is Format.XML
    assert Format.XML.content_type == "application/xml; charset=utf-8"
    assert Format.JSON.content_type == "application/json; charset=utf-8"
    assert Format.PDF.content_type == "application/pdf"


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("12.xml", ("12", Format.XML)),
        ("search.json", ("search", Format.JSON)),
        ("12", ("12", None)),
        ("12.pdf", ("12", Format.PDF)),
        ("12.XML", ("12", Format.XML)),
        ("a.b.xml", ("a.b", Format.XML)),
        ("invoices", ("invoices", None)),
    ],
)
def test_split_format(ref: str, expected: tuple[str, Format | None]) -> None:
    assert split_format(ref) == expected


@pytest.mark.parametrize("ref", ["12.html", "12.", "12.xml.bak", "1.5"])
def test_split_format_unknown_suffix(ref: str) -> None:
    with pytest.raises(NotAcceptable, match=r"available formats: \.xml, \.json, \.pdf"):
        split_format(ref)


# ----------------------------------------------------------------------------------- decode_body


def test_the_reference_modify_client_examples_all_read_the_same() -> None:
    expected_xml = {"client": {"name": "Client Name", "uid": "999999"}}
    assert decode_body("application/xml", XML_MODIFY_CLIENT) == expected_xml
    assert decode_body(
        "application/x-www-form-urlencoded", b"client[name]=ClientName&client[uid]=999999"
    ) == {"client": {"name": "ClientName", "uid": "999999"}}
    assert decode_body(CURL_F_TYPE, CURL_F_BODY) == {"client": {"name": "MyCompany"}}
    assert (
        decode_body("application/json", b'{"client": {"name": "Client Name", "uid": "999999"}}')
        == expected_xml
    )


@pytest.mark.parametrize(
    "content_type",
    [
        "application/xml",
        "application/xml; charset=utf-8",
        "text/xml",
        "Application/XML",
        "application/vnd.x+xml",
    ],
)
def test_xml_content_types(content_type: str) -> None:
    assert decode_body(content_type, XML_MODIFY_CLIENT)["client"]["uid"] == "999999"


@pytest.mark.parametrize("content_type", [None, "", "application/x-www-form-urlencoded", "text/plain"])
@pytest.mark.parametrize("prefix", [b"", b"\n  ", b"\xef\xbb\xbf", b"\xef\xbb\xbf\r\n"])
def test_xml_sent_as_a_form_is_sniffed(content_type: str | None, prefix: bytes) -> None:
    """`curl -d '<?xml …'` without -H 'Content-Type: application/xml' labels XML as a form."""
    assert decode_body(content_type, prefix + XML_MODIFY_CLIENT)["client"]["name"] == "Client Name"


@pytest.mark.parametrize("content_type", [None, "application/x-www-form-urlencoded"])
def test_json_sent_as_a_form_is_sniffed(content_type: str | None) -> None:
    assert decode_body(content_type, b' {"client": {"price": 1.5}}') == {"client": {"price": Decimal("1.5")}}


@pytest.mark.parametrize("content_type", [None, "application/xml", "application/json", CURL_F_TYPE])
@pytest.mark.parametrize("body", [b"", b"  \r\n", b"\xef\xbb\xbf"])
def test_empty_body(content_type: str | None, body: bytes) -> None:
    assert decode_body(content_type, body) == {}


def test_form_bodies() -> None:
    assert decode_body(None, b"client[name]=X") == {"client": {"name": "X"}}
    assert decode_body("application/x-www-form-urlencoded; charset=UTF-8", PHP_EMAIL)["to"] == {
        "0": "client@example.com",
        "1": "accounting@example.com",
    }


@pytest.mark.parametrize(
    ("content_type", "body", "message"),
    [
        ("application/json", b"[1, 2]", "must be an object"),
        ("application/json", b'"x"', "must be an object"),
        ("application/json", XML_MODIFY_CLIENT, "malformed JSON"),
        ("application/xml", b'{"a": 1}', "malformed XML"),
        ("application/xml", BILLION_LAUGHS, "DTDs and entity declarations are not allowed"),
        (None, BILLION_LAUGHS, "DTDs and entity declarations are not allowed"),
        ("application/octet-stream", b"a=1", "unsupported Content-Type 'application/octet-stream'"),
        ("multipart/form-data", CURL_F_BODY, "no boundary"),
        (None, b"<client>" + b" " * (2 * 1024 * 1024) + b"</client>", "larger than"),
        (None, b"a=" + b"x" * (1024 * 1024), "larger than"),
    ],
)
def test_bad_bodies(content_type: str | None, body: bytes, message: str) -> None:
    with pytest.raises(MalformedInput, match=message):
        decode_body(content_type, body)


# --------------------------------------------------------------------------------------- as_list


def test_reference_invoice_positions_from_xml_and_form_agree() -> None:
    from_xml = as_list(decode_body("application/xml", REFERENCE_INVOICE)["invoice"]["document_positions"])
    assert [p["description"] for p in from_xml] == ["BASIC SUBSCRIPTION", "Discount for advanced payment"]
    from_form = as_list(decode_body(None, PHP_MODIFY_INVOICE)["invoice"]["document_positions"])
    assert [p["description"] for p in from_form] == ["potatoes", "Brussels sprouts"]
    assert as_list(decode_body(None, PHP_EMAIL)["to"]) == ["client@example.com", "accounting@example.com"]


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ([{"a": 1}, {"a": 2}], [{"a": 1}, {"a": 2}]),
        ((), None),
        ([], []),
        (None, []),
        ("", []),
        ({}, []),
        ({"2": {"a": 2}, "10": {"a": 10}, "1": {"a": 1}}, [{"a": 1}, {"a": 2}, {"a": 10}]),
        ({"0": "x@y.ro", "1": "z@y.ro"}, ["x@y.ro", "z@y.ro"]),
        ({"document_position": {"a": 1}}, [{"a": 1}]),
        ({"document_position": [{"a": 1}, {"a": 2}]}, [{"a": 1}, {"a": 2}]),
        ({"to": ["a", "b"]}, ["a", "b"]),
        ({"1": {"a": 1}}, [{"a": 1}]),
        ("x", None),
        (5, None),
        ({"description": "x"}, None),
        ({"a": {}, "b": {}}, None),
        ({"1": {}, "x": {}}, None),
        ({"-1": {}, "1": {}}, None),
        ({"\u0661": {}, "1": {}}, None),
    ],
)
def test_as_list(value: object, expected: list[object] | None) -> None:
    if expected is None:
        with pytest.raises(MalformedInput, match="document_positions must be a list"):
            as_list(value, field="document_positions")
    else:
        assert as_list(value) == expected


def test_as_list_copies() -> None:
    items = [1]
    assert as_list(items) is not items


# ---------------------------------------------------------------------------------------- render


def test_render_xml_and_json() -> None:
    client = {"id": 1, "name": "X", "balance": Decimal("10.50")}
    body, content_type = render(Format.XML, "client", client)
    assert content_type == "application/xml; charset=utf-8"
    assert body.startswith(b'<?xml version="1.0" encoding="UTF-8"?>\n<client>\n  <id type="integer">1</id>\n')
    assert render(Format.JSON, "client", client) == (
        b'{"id":1,"name":"X","balance":"10.5"}',
        "application/json; charset=utf-8",
    )
    assert render(Format.JSON, "clients", [client]) == (
        b'[{"id":1,"name":"X","balance":"10.5"}]',
        "application/json; charset=utf-8",
    )


def test_render_pdf_is_not_acceptable() -> None:
    with pytest.raises(NotAcceptable, match=r"clients is not available as \.pdf"):
        render(Format.PDF, "clients", [])


@pytest.mark.parametrize("fmt", [None, Format.XML, Format.PDF])
def test_render_errors_xml(fmt: Format | None) -> None:
    assert render_errors(fmt, ["Name can't be blank", "Price < 0"]) == (
        b'<?xml version="1.0" encoding="UTF-8"?>\n'
        b"<errors>\n"
        b"  <error>Name can't be blank</error>\n"
        b"  <error>Price &lt; 0</error>\n"
        b"</errors>\n",
        "application/xml; charset=utf-8",
    )


def test_render_errors_json() -> None:
    assert render_errors(Format.JSON, ["Numele e obligatoriu", "ș"]) == (
        '{"errors":["Numele e obligatoriu","ș"]}'.encode(),
        "application/json; charset=utf-8",
    )


def test_codec_import_stays_light() -> None:
    """defusedxml and the email parser load only when a body needs them (Lambda cold start)."""
    root = Path(__file__).resolve().parents[2]
    script = (
        "import sys, billing.wire.codec\n"
        "heavy = [m for m in ('defusedxml', 'email.parser', 'xml.etree.ElementTree') if m in sys.modules]\n"
        "assert not heavy, heavy\n"
    )
    env = {**os.environ, "PYTHONPATH": str(root / "layers" / "core")}
    subprocess.run([sys.executable, "-c", script], check=True, env=env, cwd=root)
