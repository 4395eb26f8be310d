"""billing.documents.share_page: the HTML of the public share page."""

from __future__ import annotations

import base64
import hashlib
import re
from decimal import Decimal as D
from html.parser import HTMLParser

from billing.documents.mapping import to_pdf_document
from billing.documents.share_page import HASHCODE, SECURITY_HEADERS, STYLE_HASH, not_found_page, render_page
from billing.domain.documents import DocumentKind, new_hashcode

from tests.unit.test_pdf_mapping import document


class _Collect(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.tags: list[str] = []
        self.text: list[str] = []
        self.styles: list[str] = []
        self._in_style = False

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.tags.append(tag)
        self._in_style = tag == "style"

    def handle_endtag(self, tag: str) -> None:
        self._in_style = False

    def handle_data(self, data: str) -> None:
        (self.styles if self._in_style else self.text).append(data)


def parse(page: str) -> _Collect:
    parser = _Collect()
    parser.feed(page)
    return parser


def test_page_shows_the_document() -> None:
    page = render_page(to_pdf_document(DocumentKind.INVOICE, document()), pdf_href="1-abc.pdf")
    text = " ".join(parse(page).text)
    for expected in (
        "FACTURĂ",
        "FCT-0042",
        "Demo Consulting SRL",
        "Șuțu Ăîâ SRL",
        "Servicii de consultanță IT",
        "2.340,25 EUR",
    ):
        assert expected in text, expected
    assert 'id="total">2.340,25 EUR<' in page and 'href="1-abc.pdf"' in page


def test_hostile_text_is_shown_as_text() -> None:
    hostile = '<script>alert("x")</script><img src=x onerror=alert(1)>'
    doc = document(client_name=hostile, note=hostile, document_number='F-1"><script>')
    page = render_page(to_pdf_document(DocumentKind.INVOICE, doc), pdf_href='x" onclick="y')
    parsed = parse(page)
    assert "script" not in parsed.tags and "img" not in parsed.tags
    assert hostile in " ".join(parsed.text)
    assert 'href="x&quot; onclick=&quot;y"' in page


def test_the_style_hash_allows_exactly_the_page_style() -> None:
    page = render_page(
        to_pdf_document(DocumentKind.RECEIPT, document(receipt_amount=D("10"))), pdf_href="x.pdf"
    )
    (style,) = parse(page).styles
    digest = base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()
    assert f"sha256-{digest}" == STYLE_HASH
    policy = SECURITY_HEADERS["Content-Security-Policy"]
    assert policy.startswith("default-src 'none'; ") and f"style-src '{STYLE_HASH}'" in policy
    assert "frame-ancestors 'none'" in policy and "img-src data:" in policy
    assert not re.search(r"<script|\son\w+=", page)


def test_headers_and_hashcode_shape() -> None:
    assert SECURITY_HEADERS["Referrer-Policy"] == "no-referrer"
    assert SECURITY_HEADERS["Cache-Control"] == "private, no-store"
    assert SECURITY_HEADERS["X-Content-Type-Options"] == "nosniff"
    assert HASHCODE.fullmatch(new_hashcode(373329733425376))
    for bad in ("", "1", "x-" + "a" * 32, "1-short", "1-" + "a" * 31 + "/", "1-" + "a" * 31 + "."):
        assert not HASHCODE.fullmatch(bad)
    assert "Not found" in not_found_page()
