"""The public share page of one document (reference §7.1.6: /view/[hashcode]): read-only HTML
of what the PDF prints (billing.documents.mapping gives both the same view), with a link to the
PDF (`<hashcode>.pdf`, relative, so it works under any stage prefix).

Safety: every value is HTML-escaped (a client called `<script>` is shown as text); the page
loads nothing (no script, no external style, font or image) and its one style block is allowed
by its SHA-256 in the Content-Security-Policy; `frame-ancestors 'none'` forbids framing;
`Referrer-Policy: no-referrer` keeps the capability URL out of Referer headers; `Cache-Control:
private, no-store` keeps it out of shared caches; `X-Robots-Tag` keeps it out of search engines.
"""

from __future__ import annotations

import base64
import hashlib
import re
from datetime import date
from decimal import Decimal
from html import escape
from typing import Final

from billing.documents.labels import Labels
from billing.documents.view import Party, PdfDocument

HASHCODE: Final = re.compile(r"[0-9]{1,19}-[A-Za-z0-9_-]{22,64}")
"""What billing.domain.documents.new_hashcode makes (anything else is a 404 without a lookup)."""

_CSS: Final = """
body{font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,"DejaVu Sans",sans-serif;color:#212529;
background:#f1f3f5;margin:0;padding:24px}
main{max-width:960px;margin:0 auto;background:#fff;padding:28px 32px;border-radius:6px;
box-shadow:0 1px 3px rgba(0,0,0,.12)}
header{display:flex;justify-content:space-between;align-items:flex-start;gap:24px;flex-wrap:wrap}
h1{font-size:24px;margin:0 0 4px}
.sub{color:#6c757d;font-size:13px}
dl.facts{display:grid;grid-template-columns:auto auto;gap:2px 14px;margin:0;font-size:14px}
dl.facts dt{color:#6c757d;text-align:right}dl.facts dd{margin:0;text-align:right;font-weight:600}
.parties{display:grid;grid-template-columns:1fr 1fr;gap:24px;margin:24px 0;border-top:1px solid #dee2e6;
border-bottom:1px solid #dee2e6;padding:16px 0}
.party h2{font-size:12px;text-transform:uppercase;color:#6c757d;margin:0 0 4px;letter-spacing:.04em}
.party .name{font-weight:700;font-size:16px}.party p{margin:2px 0}
table{width:100%;border-collapse:collapse;font-size:14px}
th{background:#f1f3f5;text-align:left;padding:6px 8px;font-size:12px}
td{padding:6px 8px;border-bottom:1px solid #dee2e6;vertical-align:top}
.num{text-align:right;white-space:nowrap}.discount td{color:#963c28}
.totals{margin:16px 0 0 auto;max-width:380px}.totals td{border:none;padding:3px 8px}
.totals .strong td{font-weight:700;background:#f1f3f5}
.notes{margin-top:20px;white-space:pre-line;font-size:14px}
.badge{display:inline-block;padding:2px 8px;border-radius:10px;background:#fff3cd;font-size:12px}
a.pdf{display:inline-block;margin-top:24px;padding:8px 14px;background:#1f5fbf;color:#fff;
border-radius:4px;text-decoration:none}
@media (max-width:640px){.parties{grid-template-columns:1fr}main{padding:18px}}
"""

STYLE_HASH: Final = "sha256-" + base64.b64encode(hashlib.sha256(_CSS.encode()).digest()).decode()

SECURITY_HEADERS: Final = {
    "Content-Security-Policy": (
        f"default-src 'none'; style-src '{STYLE_HASH}'; img-src data:; frame-ancestors 'none'; "
        "base-uri 'none'; form-action 'none'"
    ),
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "private, no-store",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "X-Robots-Tag": "noindex, nofollow",
}
"""Headers of every answer of the share function (page, PDF, 404)."""


def _e(value: object) -> str:
    return escape(str(value), quote=True)


def _number(value: Decimal, ro: bool, places: int = 2) -> str:
    exponent = value.normalize().as_tuple().exponent
    places = max(places, -exponent if isinstance(exponent, int) else 0)
    text = f"{value:,.{places}f}"
    return text.translate(str.maketrans(",.", ".,")) if ro else text


def _date(value: date, ro: bool) -> str:
    return value.strftime("%d.%m.%Y") if ro else value.isoformat()


def _party(labels: Labels, role: str, party: Party) -> str:
    lines = [f'<p class="name">{_e(party.name)}</p>']
    for key in ("uid", "registration_id", "vat_id"):
        value = getattr(party, key)
        if value:
            lines.append(f"<p>{_e(labels.inline(key))}: {_e(value)}</p>")
    place = ", ".join(p for p in (" ".join(p for p in (party.zip, party.city) if p), party.state) if p)
    for line in (*party.address_lines, place, party.country):
        if line:
            lines.append(f"<p>{_e(line)}</p>")
    for key in ("phone", "email"):
        value = getattr(party, key)
        if value:
            lines.append(f"<p>{_e(labels.inline(key))}: {_e(value)}</p>")
    for account in party.bank_accounts:
        bank = ", ".join(p for p in (account.bank_name, account.bic and f"BIC {account.bic}") if p)
        lines.append(f"<p>IBAN {_e(account.iban)} {_e(account.currency)}</p>")
        if bank:
            lines.append(f"<p>{_e(labels.inline('bank'))}: {_e(bank)}</p>")
    return f'<section class="party"><h2>{_e(labels.inline(role))}</h2>{"".join(lines)}</section>'


def render_page(doc: PdfDocument, *, pdf_href: str, state: str = "") -> str:
    """The share page of `doc` (see the module docstring). `state` adds a badge (draft, cancelled)."""
    labels = Labels(doc.locale, doc.hide_domestic_translations)
    ro = doc.locale == "ro"
    title, translation = labels.pair(doc.kind)

    def money(value: Decimal) -> str:
        return f"{_number(value, ro)} {_e(doc.currency)}"

    facts = [("number", doc.number), ("document_date", _date(doc.document_date, ro))]
    if doc.due_date:
        facts.append(("due_date", _date(doc.due_date, ro)))
    if doc.delivery_date:
        facts.append(("delivery_date", _date(doc.delivery_date, ro)))
    facts.append(("currency", doc.currency))
    fact_html = "".join(f"<dt>{_e(labels.inline(k))}</dt><dd>{_e(v)}</dd>" for k, v in facts)
    badge = f' <span class="badge">{_e(state)}</span>' if state else ""
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{_e(doc.locale)}"><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        '<meta name="robots" content="noindex, nofollow">',
        f"<title>{_e(title)} {_e(doc.number)}</title>",
        f"<style>{_CSS}</style></head><body><main>",
        f'<header><div><h1>{_e(title)} <span id="number">{_e(doc.number)}</span>{badge}</h1>',
        f'<div class="sub">{_e(translation)}</div>' if translation else "",
        f'</div><dl class="facts">{fact_html}</dl></header>',
        '<div class="parties">',
        _party(labels, "issuer", doc.issuer),
        _party(labels, "client", doc.client),
        "</div>",
    ]
    if doc.reversed_document_number:
        parts.append(
            f"<p><strong>{_e(labels.inline('reversal_of', number=doc.reversed_document_number))}</strong></p>"
        )
    if doc.second_currency:
        second = doc.second_currency
        rate = f"1 {doc.currency} = {_number(second.exchange_rate, ro, 4)} {second.currency}"
        parts.append(f"<p>{_e(labels.inline('exchange_rate'))}: {_e(rate)}</p>")
    if doc.upper_annotation:
        parts.append(f'<p class="notes">{_e(doc.upper_annotation)}</p>')
    if doc.receipt is not None:
        receipt = doc.receipt
        text, _ = labels.pair(
            "receipt_body_dated" if receipt.invoice_date else "receipt_body",
            client=doc.client.name,
            amount=_number(receipt.amount, ro),
            currency=receipt.currency,
            invoice=receipt.invoice_number,
            date=_date(receipt.invoice_date, ro) if receipt.invoice_date else "",
        )
        parts.append(f"<p>{_e(text)}</p>")
        parts.append(
            '<table class="totals"><tr class="strong">'
            f'<td>{_e(labels.inline("received"))}</td><td class="num" id="total">'
            f"{_number(receipt.amount, ro)} {_e(receipt.currency)}</td></tr></table>"
        )
    else:
        head = "".join(
            f'<th class="{"" if key == "col_description" else "num"}">{_e(labels.inline(key))}</th>'
            for key in (
                "col_no",
                "col_description",
                "col_unit",
                "col_quantity",
                "col_unit_price",
                "col_vat_rate",
                "col_vat_amount",
                "col_total",
            )
        )
        rows = []
        for index, line in enumerate(doc.lines, start=1):
            row_class = ' class="discount"' if line.is_discount else ""
            rows.append(
                f"<tr{row_class}>"
                f'<td class="num">{index}</td><td>{_e(line.description)}</td>'
                f'<td class="num">{_e(line.unit)}</td>'
                f'<td class="num">{_number(line.quantity, ro, 0) if line.quantity is not None else ""}</td>'
                f'<td class="num">{_number(line.unit_price, ro) if line.unit_price is not None else ""}</td>'
                f'<td class="num">{_number(line.vat_rate, ro, 0)}%</td>'
                f'<td class="num">{_number(line.vat_amount, ro)}</td>'
                f'<td class="num">{_number(line.line_total, ro)}</td></tr>'
            )
        parts.append(f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>")
        totals = [
            ("net_total", money(doc.net_total), False, ""),
            ("vat_total", money(doc.vat_total), False, ""),
            ("grand_total", money(doc.grand_total), True, ' id="total"'),
        ]
        if doc.total_due is not None:
            totals.append(("total_due", money(doc.total_due), True, ' id="total-due"'))
        if doc.second_currency:
            second = doc.second_currency
            totals.append(
                (
                    "second_total",
                    f"{_number(second.total, ro)} {_e(second.currency)}",
                    False,
                    "",
                )
            )
        rows = []
        for key, value, strong, cell_id in totals:
            label = labels.inline(key, currency=doc.second_currency.currency if doc.second_currency else "")
            row_class = ' class="strong"' if strong else ""
            rows.append(f'<tr{row_class}><td>{_e(label)}</td><td class="num"{cell_id}>{value}</td></tr>')
        parts.append(f'<table class="totals">{"".join(rows)}</table>')
    notes = "\n\n".join(n for n in (doc.lower_annotation, doc.note) if n)
    if notes:
        parts.append(f'<div class="notes">{_e(notes)}</div>')
    if doc.display_transport_data and doc.shipping:
        shipping = doc.shipping
        transport = f"{shipping.means_of_transport} {shipping.means_of_transport_number}".strip()
        items = [
            (labels.inline("delegate"), shipping.delegate_name),
            (labels.inline("identity_document"), shipping.identity_document),
            (labels.inline("means_of_transport"), transport),
        ]
        shown = "".join(f"<p>{_e(k)}: {_e(v)}</p>" for k, v in items if v)
        if shown:
            parts.append(f'<div class="notes"><strong>{_e(labels.inline("shipping"))}</strong>{shown}</div>')
    parts.append(f'<a class="pdf" id="pdf" href="{_e(pdf_href)}">PDF</a>')
    parts.append("</main></body></html>")
    return "".join(parts)


def not_found_page() -> str:
    return (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<meta name="robots" content="noindex, nofollow"><title>Not found</title>'
        f"<style>{_CSS}</style></head><body><main><h1>Not found</h1>"
        "<p>This link does not open any document. Check that it was copied whole.</p>"
        "</main></body></html>"
    )
