"""billing.documents.mailer: the e-mail request as the API reads it (PHP http_build_query, one
string of addresses, XML/JSON lists) and the raw message SES sends."""

from __future__ import annotations

import email
from email import policy
from typing import Any

import pytest
from billing.documents.mailer import (
    EmailRequest,
    attachment_name,
    build_message,
    normalize_address,
    parse_email_request,
)
from billing.domain.documents import DocumentKind
from billing.domain.errors import ValidationFailed
from billing.wire.form import parse_urlencoded

from tests.unit.test_pdf_mapping import document

PDF = b"%PDF-1.4\n% fake\n%%EOF\n"


def problems(params: dict[str, Any], default_to: str = "") -> list[str]:
    with pytest.raises(ValidationFailed) as caught:
        parse_email_request(params, default_to=default_to)
    return caught.value.messages


def test_the_reference_php_request() -> None:
    """http_build_query(['to' => [...], 'bcc' => [...], 'body' => $body]) as the API decodes it."""
    body = (
        "to%5B0%5D=client%40example.com&to%5B1%5D=accounting%40example.com"
        "&bcc%5B0%5D=me%40example.com&bcc%5B1%5D=archive%40example.com"
        "&body=Dear+client+%0A%0APlease+pay+the+attached+bill.%0A%0AThank+you%21%0ATeam"
    )
    request = parse_email_request(parse_urlencoded(body))
    assert request.to == ("client@example.com", "accounting@example.com")
    assert request.bcc == ("me@example.com", "archive@example.com") and request.cc == ()
    assert request.body == "Dear client \n\nPlease pay the attached bill.\n\nThank you!\nTeam"
    assert request.destinations == [*request.to, *request.bcc]


def test_one_string_list_lists_wrapped_and_defaults() -> None:
    assert parse_email_request({"to": "a@x.ro, b@y.com; c@z.eu"}).to == ("a@x.ro", "b@y.com", "c@z.eu")
    assert parse_email_request({"to": ["a@x.ro"], "cc": "b@y.com"}).cc == ("b@y.com",)
    assert parse_email_request({"email": {"to": {"0": "a@x.ro"}}}).to == ("a@x.ro",)
    assert parse_email_request({}, default_to="client@firma.ro").to == ("client@firma.ro",)
    assert parse_email_request(
        {"to": "A@Example.COM", "cc": "a@example.com", "bcc": ["b@x.ro", "B@x.ro"]}
    ) == EmailRequest(to=("A@example.com",), bcc=("b@x.ro",)), (
        "an address given twice is sent once (domains are case-insensitive)"
    )


def test_invalid_addresses_are_named_by_field_and_index() -> None:
    assert problems({"to": ["ok@example.com", "[email protected]"], "bcc": "nope"}) == [
        "to[1] '[email protected]' is not a valid e-mail address",
        "bcc 'nope' is not a valid e-mail address",
    ]
    assert problems({"to": ["a@example.com\r\nBcc: victim@example.com"]})[0].startswith("to[0] ")
    assert problems({"to": [{"x": "y"}]}) == ["to[0] must be an e-mail address"]


def test_missing_recipients_unknown_fields_and_limits() -> None:
    assert problems({}) == ["to is required (the client has no e-mail address on this document)"]
    assert problems({"to": "a@b.ro", "from": "x@y.ro"}) == [
        "from is not a known field (send to, cc, bcc, body, subject)"
    ]
    assert problems({"to": [f"u{i}@example.com" for i in range(51)]}) == [
        "at most 50 recipients (to, cc and bcc together)"
    ]
    assert problems({"to": "a@b.ro", "body": "x" * 10_001}) == ["body is longer than 10000 characters"]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("ana@demo.example", "ana@demo.example"),
        (" Ana.Pop+facturi@Demo.Example ", "Ana.Pop+facturi@demo.example"),
        ("contact@școală.ro", "contact@xn--coal-3sa77n.ro"),
        ("a@b", None),
        ("a b@c.ro", None),
        ("a@-b.ro", None),
        ("@b.ro", None),
        ("a@b\n.ro", None),
        ("ăî@b.ro", None),
    ],
)
def test_normalize_address(text: str, expected: str | None) -> None:
    assert normalize_address(text) == expected


def test_message_headers_body_and_attachment() -> None:
    doc = document()
    request = EmailRequest(
        to=("client@example.com",), cc=("cc@example.com",), bcc=("hidden@example.com",), body="Bună ziua"
    )
    raw = build_message(DocumentKind.INVOICE, doc, PDF, request, sender="invoices@factura.local").as_bytes()
    message = email.message_from_bytes(raw, policy=policy.default)
    assert message["From"] == "Demo Consulting SRL <invoices@factura.local>"
    assert message["Reply-To"] == "billing@demo.example"
    assert (message["To"], message["Cc"], message["Bcc"]) == ("client@example.com", "cc@example.com", None)
    assert message["Subject"] == "Factura FCT-0042 - Demo Consulting SRL"
    assert message["Message-ID"].endswith("@factura.local>")
    text = message.get_body(preferencelist=("plain",))
    assert text is not None and text.get_content().strip() == "Bună ziua"
    (attachment,) = list(message.iter_attachments())
    assert attachment.get_content_type() == "application/pdf" and attachment.get_filename() == "FCT-0042.pdf"
    assert attachment.get_content() == PDF
    assert b"hidden@example.com" not in raw


def test_default_text_and_subject_follow_the_document_language() -> None:
    request = EmailRequest(to=("client@example.com",))
    english = document(locale="en", account_company_name="Evil\r\nBcc: x@y.z")
    message = build_message(
        DocumentKind.PROFORMA_INVOICE, english, PDF, request, sender="invoices@factura.local"
    )
    assert message["Subject"] == "Proforma invoice FCT-0042 - Evil Bcc: x@y.z", "no header injection"
    assert "Please find attached proforma invoice FCT-0042." in message.get_body().get_content()  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("number", "name"), [("FCT-0042", "FCT-0042.pdf"), ("ȘF/2026 12", "F_2026_12.pdf"), ("", "document.pdf")]
)
def test_attachment_name(number: str, name: str) -> None:
    assert attachment_name(number) == name
