"""PDF rendering of invoices, proformas, delivery notes and receipts (fpdf2).

Text is set in DejaVu Sans, embedded (see `billing.documents.fonts`); importing this module
loads no font, the first render does.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from typing import Final

from fpdf import FPDF

from billing.documents.fonts import FAMILY, FontOutputProducer, add_fonts
from billing.documents.labels import Labels
from billing.documents.view import Line, Party, PdfDocument

# --------------------------------------------------------------------------------------------
# Text
# --------------------------------------------------------------------------------------------


def _strings(value: object) -> Iterator[str]:
    """Every string held by a view object, recursively."""
    if isinstance(value, str):
        yield value
    elif isinstance(value, tuple):
        for item in value:
            yield from _strings(item)
    elif is_dataclass(value):
        for field in fields(value):
            yield from _strings(getattr(value, field.name))


def _number(value: Decimal, ro: bool, min_places: int) -> str:
    """`value` with thousands separators and at least `min_places` decimals (more if it has them)."""
    exponent = value.normalize().as_tuple().exponent
    places = max(min_places, -exponent if isinstance(exponent, int) else 0)
    text = f"{value:,.{places}f}"
    return text.translate(_RO_DIGITS) if ro else text


_RO_DIGITS: Final = str.maketrans(",.", ".,")


def _date(value: date, ro: bool) -> str:
    """dd.mm.yyyy for Romanian documents, ISO 8601 otherwise."""
    return value.strftime("%d.%m.%Y") if ro else value.isoformat()


def _datetime(value: datetime, ro: bool) -> str:
    return f"{_date(value.date(), ro)} {value:%H:%M}"


# --------------------------------------------------------------------------------------------
# Layout (A4 portrait, millimetres)
# --------------------------------------------------------------------------------------------

_MARGIN: Final = 14.0
_TOP: Final = 12.0
_BOTTOM: Final = 16.0
_PAD: Final = 1.2  # horizontal and vertical cell padding
_GAP: Final = 8.0  # between side-by-side blocks
_INK: Final = (33, 37, 41)
_MUTED: Final = (108, 117, 125)
_DISCOUNT: Final = (150, 60, 40)
_RULE: Final = (206, 212, 218)
_SHADE: Final = (241, 243, 245)
_LINE_H: Final = 3.9  # body text line height (8 pt)

_Color = tuple[int, int, int]

# Positions table: (label key, width, alignment); width 0 takes what the others leave.
_POSITION_COLUMNS: Final = (
    ("col_no", 9.0, "C"),
    ("col_description", 0.0, "L"),
    ("col_unit", 12.0, "C"),
    ("col_quantity", 14.0, "R"),
    ("col_unit_price", 20.0, "R"),
    ("col_vat_rate", 12.0, "R"),
    ("col_vat_amount", 20.0, "R"),
    ("col_total", 23.0, "R"),
)
_VAT_COLUMNS: Final = (("vat_rate", 22.0, "L"), ("taxable_amount", 30.0, "R"), ("vat", 24.0, "R"))


class _Canvas(FPDF):
    """A4 pages whose footer shows the document and "Page X of Y"."""

    def __init__(self, family: str, labels: Labels, footer_left: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.family = family
        self.labels = labels
        self.footer_left = footer_left
        self.set_margins(_MARGIN, _TOP, _MARGIN)
        self.set_auto_page_break(True, margin=_BOTTOM)
        self.c_margin = _PAD

    def footer(self) -> None:
        self.set_y(-11)
        self.set_draw_color(*_RULE)
        self.line(_MARGIN, self.y, self.w - _MARGIN, self.y)
        self.set_font(self.family, "", 7)
        self.set_text_color(*_MUTED)
        self.cell(self.epw / 2, 5, self.footer_left)
        page = self.labels.inline("page_of", page=self.page_no(), pages=self.str_alias_nb_pages)
        self.cell(self.epw / 2, 5, page, align="R")


class _Layout:
    """Draws one document. Text goes through `wrap` and `text_at`, which are linear in the
    text length (fpdf2's multi_cell re-measures each line prefix) and break pages only where
    this class decides."""

    def __init__(self, doc: PdfDocument, family: str) -> None:
        self.doc = doc
        self.ro = doc.locale == "ro"
        self.labels = Labels(doc.locale, doc.hide_domestic_translations)
        title = self.labels.pair(doc.kind)[0]
        self.pdf = _Canvas(family, self.labels, f"{title} {doc.number}")
        self.pdf.set_title(f"{title} {doc.number}")
        self.pdf.set_lang(doc.locale)
        self.pdf.set_creator("Factura")

    # -- primitives --------------------------------------------------------------------------

    def font(self, size: float, bold: bool = False, color: _Color = _INK) -> None:
        self.pdf.set_font(self.pdf.family, "B" if bold else "", size)
        self.pdf.set_text_color(*color)

    def measure(self, text: str) -> float:
        """Width of `text` in the current font, in mm."""
        font = self.pdf.current_font
        assert font is not None
        return font.get_text_width(text, self.pdf.font_size_pt, None)[1] / self.pdf.k

    def wrap(self, w: float, text: str) -> list[str]:
        """`text` broken into lines that fit a cell `w` wide (padding included)."""
        room = w - 2 * _PAD
        space = self.measure(" ")
        lines: list[str] = []
        for paragraph in text.splitlines() or [""]:
            line, line_w = "", 0.0
            for word in paragraph.split():
                word_w = self.measure(word)
                if line and line_w + space + word_w > room:
                    lines.append(line)
                    line, line_w = "", 0.0
                if word_w > room:  # a word longer than the cell: break it anywhere
                    for char in word:
                        char_w = self.measure(char)
                        if line and line_w + char_w > room:
                            lines.append(line)
                            line, line_w = "", 0.0
                        line, line_w = line + char, line_w + char_w
                    continue
                line, line_w = (f"{line} {word}", line_w + space + word_w) if line else (word, word_w)
            lines.append(line)
        return lines

    def text_at(self, x: float, y: float, w: float, h: float, text: str, align: str = "L") -> None:
        """One line of text in the cell (x, y, w, h), vertically centred."""
        if not text:
            return
        if align == "L":
            left = x + _PAD
        else:
            free = w - self.measure(text)
            left = x + (free - _PAD if align == "R" else free / 2)
        self.pdf.text(left, y + 0.5 * h + 0.3 * self.pdf.font_size, text)

    def paragraph(self, x: float, w: float, text: str, h: float = _LINE_H, align: str = "L") -> None:
        """Wrapped text below the current position, moving to a new page when full."""
        for line in self.wrap(w, text):
            self.ensure_room(h)
            self.text_at(x, self.pdf.y, w, h, line, align)
            self.pdf.set_y(self.pdf.y + h)

    def rule(self, y: float) -> None:
        self.pdf.set_draw_color(*_RULE)
        self.pdf.line(_MARGIN, y, self.pdf.w - _MARGIN, y)

    def ensure_room(self, height: float) -> None:
        if self.pdf.will_page_break(height):
            self.pdf.add_page()

    def num(self, value: Decimal, min_places: int = 2) -> str:
        return _number(value, self.ro, min_places)

    def money(self, value: Decimal) -> str:
        return f"{self.num(value)} {self.doc.currency}"

    def widths(self, columns: Sequence[tuple[str, float, str]], total: float) -> list[float]:
        rest = total - sum(width for _, width, _ in columns)
        return [width or rest for _, width, _ in columns]

    # -- document ----------------------------------------------------------------------------

    def render(self) -> bytes:
        doc = self.doc
        self.pdf.add_page()
        self.title_block()
        self.parties()
        self.references()
        if doc.upper_annotation:
            self.font(8)
            self.paragraph(_MARGIN, self.pdf.epw, doc.upper_annotation)
            self.pdf.ln(2)
        if doc.kind == "receipt":
            self.receipt_body()
        else:
            self.positions()
            self.totals()
        self.closing_notes()
        return bytes(self.pdf.output(output_producer_class=FontOutputProducer))

    def title_block(self) -> None:
        """Title on the left; number, dates and currency on the right."""
        pdf, doc = self.pdf, self.doc
        top = pdf.y
        title, translation = self.labels.pair(doc.kind)
        self.font(16, bold=True)
        self.text_at(_MARGIN, top, 100, 8, title)
        if translation:
            self.font(9, color=_MUTED)
            self.text_at(_MARGIN, top + 8, 100, 5, translation)
        facts = [("number", doc.number), ("document_date", _date(doc.document_date, self.ro))]
        if doc.due_date:
            facts.append(("due_date", _date(doc.due_date, self.ro)))
        if doc.delivery_date:
            facts.append(("delivery_date", _date(doc.delivery_date, self.ro)))
        facts.append(("currency", doc.currency))
        y = top
        for key, value in facts:
            self.font(7.5, color=_MUTED)
            self.text_at(_MARGIN + 88, y, 58, 4.6, self.labels.inline(key), align="R")
            self.font(8.5, bold=key == "number")
            self.text_at(_MARGIN + 146, y, pdf.epw - 146, 4.6, value, align="R")
            y += 4.6
        pdf.set_y(max(y, top + 14) + 2)
        self.rule(pdf.y)
        pdf.ln(3)

    def parties(self) -> None:
        pdf = self.pdf
        top = pdf.y
        w = (pdf.epw - _GAP) / 2
        bottom = self.party("issuer", self.doc.issuer, _MARGIN, w)
        pdf.set_y(top)
        bottom = max(bottom, self.party("client", self.doc.client, _MARGIN + w + _GAP, w))
        pdf.set_y(bottom + 2)
        self.rule(pdf.y)
        pdf.ln(3)

    def party(self, role: str, party: Party, x: float, w: float) -> float:
        """One party block from the current y; returns the y below it."""
        pdf = self.pdf
        self.font(7, color=_MUTED)
        self.text_at(x, pdf.y, w, 4, self.labels.inline(role).upper())
        pdf.set_y(pdf.y + 4.5)
        self.font(10, bold=True)
        self.paragraph(x, w, party.name, 4.8)
        for key in ("uid", "registration_id", "vat_id"):
            self.field(x, w, key, getattr(party, key))
        place = ", ".join(p for p in (" ".join(p for p in (party.zip, party.city) if p), party.state) if p)
        self.font(8)
        for line in (*party.address_lines, place, party.country):
            if line:
                self.paragraph(x, w, line)
        self.field(x, w, "phone", party.phone)
        self.field(x, w, "email", party.email)
        for account in party.bank_accounts:
            self.font(8, bold=True)
            self.paragraph(x, w, f"IBAN {account.iban} {account.currency}".rstrip())
            bank = ", ".join(p for p in (account.bank_name, account.bic and f"BIC {account.bic}") if p)
            self.field(x, w, "bank", bank)
        return pdf.y

    def field(self, x: float, w: float, key: str, value: str) -> None:
        """'Label: value' from the current y, the value wrapping under itself; nothing if empty."""
        if not value:
            return
        pdf = self.pdf
        self.font(8, color=_MUTED)
        label = f"{self.labels.inline(key)}:"
        offset = min(self.measure(label) + 1.2, w / 2)
        self.ensure_room(_LINE_H)
        self.text_at(x, pdf.y, w, _LINE_H, label)
        self.font(8)
        self.paragraph(x + offset, w - offset, value)

    def references(self) -> None:
        """Reversal reference and exchange rate, above the positions."""
        doc = self.doc
        lines = []
        if doc.reversed_document_number:
            lines.append(self.labels.inline("reversal_of", number=doc.reversed_document_number))
        if doc.second_currency:
            rate = f"1 {doc.currency} = {self.num(doc.second_currency.exchange_rate, 4)} {doc.second_currency.currency}"
            lines.append(f"{self.labels.inline('exchange_rate')}: {rate}")
        self.font(8.5, bold=True)
        for line in lines:
            self.paragraph(_MARGIN, self.pdf.epw, line, 4.6)
        if lines:
            self.pdf.ln(2)

    # -- tables ------------------------------------------------------------------------------

    def table_header(
        self, x: float, columns: Sequence[tuple[str, float, str]], widths: Sequence[float]
    ) -> None:
        """A shaded header row: each label with its translation under it."""
        pdf = self.pdf
        cells = []
        for (key, _, _), w in zip(columns, widths, strict=True):
            text, translation = self.labels.pair(key)
            self.font(7, bold=True)
            main = self.wrap(w, text)
            self.font(6.5)
            cells.append((main, self.wrap(w, translation) if translation else []))
        height = max(len(main) * 3.3 + len(sub) * 3.0 for main, sub in cells) + 2 * _PAD
        top = pdf.y
        pdf.set_fill_color(*_SHADE)
        pdf.rect(x, top, sum(widths), height, style="F")
        for (main, sub), (_, _, align), w in zip(cells, columns, widths, strict=True):
            y = top + _PAD
            self.font(7, bold=True)
            for line in main:
                self.text_at(x, y, w, 3.3, line, align)
                y += 3.3
            self.font(6.5, color=_MUTED)
            for line in sub:
                self.text_at(x, y, w, 3.0, line, align)
                y += 3.0
            x += w
        pdf.set_y(top + height)

    def positions(self) -> None:
        """The positions table; the header repeats on every page it spans."""
        pdf = self.pdf
        widths = self.widths(_POSITION_COLUMNS, pdf.epw)
        self.ensure_room(30)
        self.table_header(_MARGIN, _POSITION_COLUMNS, widths)
        full_page = int((pdf.page_break_trigger - pdf.t_margin - 20) / _LINE_H)
        for number, line in enumerate(self.doc.lines, start=1):
            color = _DISCOUNT if line.is_discount else _INK
            self.font(8, color=color)
            remaining = self.wrap(widths[1], line.description)
            cells = self.position_cells(number, line)
            first = True
            while remaining:
                room = int((pdf.page_break_trigger - pdf.y - 2 * _PAD) / _LINE_H)
                # a row moves to the next page whole, unless it is longer than a page
                if room < len(remaining) and (room < 1 or (first and len(remaining) <= full_page)):
                    pdf.add_page()
                    self.table_header(_MARGIN, _POSITION_COLUMNS, widths)
                    self.font(8, color=color)
                    continue
                self.row(_POSITION_COLUMNS, widths, cells if first else (), remaining[:room])
                remaining = remaining[room:]
                first = False

    def position_cells(self, number: int, line: Line) -> tuple[str, ...]:
        """The column texts of a position; the description column is left empty."""
        return (
            str(number),
            "",
            line.unit,
            self.num(line.quantity, 0) if line.quantity is not None else "",
            self.num(line.unit_price) if line.unit_price is not None else "",
            f"{self.num(line.vat_rate, 0)}%",
            self.num(line.vat_amount),
            self.num(line.line_total),
        )

    def row(
        self,
        columns: Sequence[tuple[str, float, str]],
        widths: Sequence[float],
        cells: Sequence[str],
        wrapped: Sequence[str] = (),
    ) -> None:
        """One table row from the current y: `cells` (if any) on its first line and, when given,
        the `wrapped` lines in the second column; a rule under it."""
        pdf = self.pdf
        top = pdf.y
        x = _MARGIN
        for column, ((_, _, align), w) in enumerate(zip(columns, widths, strict=True)):
            if column == 1 and wrapped:
                for i, part in enumerate(wrapped):
                    self.text_at(x, top + _PAD + i * _LINE_H, w, _LINE_H, part, align)
            elif cells:
                self.text_at(x, top + _PAD, w, _LINE_H, cells[column], align)
            x += w
        bottom = top + max(1, len(wrapped)) * _LINE_H + 2 * _PAD
        pdf.set_draw_color(*_RULE)
        pdf.line(_MARGIN, bottom, x, bottom)
        pdf.set_y(bottom)

    # -- totals, receipt, notes --------------------------------------------------------------

    def totals(self) -> None:
        """VAT breakdown on the left, document totals on the right."""
        doc, pdf = self.doc, self.pdf
        rows = [
            ("net_total", self.money(doc.net_total), False),
            ("vat_total", self.money(doc.vat_total), False),
            ("grand_total", self.money(doc.grand_total), True),
        ]
        if doc.total_due is not None:
            rows.append(("total_due", self.money(doc.total_due), True))
        row_h = 5.0
        height = max(len(rows) + (doc.second_currency is not None), len(doc.vat_totals) + 2) * row_h
        self.ensure_room(height + 4)
        top = pdf.y + 3
        x = _MARGIN + 96
        y = top
        for key, value, strong in rows:
            if strong:
                pdf.set_fill_color(*_SHADE)
                pdf.rect(x, y, pdf.epw - 96, row_h, style="F")
            self.font(8, bold=strong, color=_INK if strong else _MUTED)
            self.text_at(x, y, 52, row_h, self.labels.inline(key), align="R")
            self.font(9 if strong else 8.5, bold=strong)
            self.text_at(x + 52, y, pdf.epw - 96 - 52, row_h, value, align="R")
            y += row_h
        if doc.second_currency:
            second = doc.second_currency
            self.font(8, color=_MUTED)
            self.text_at(x, y, 52, row_h, self.labels.inline("second_total", currency=second.currency), "R")
            self.font(8.5)
            self.text_at(
                x + 52, y, pdf.epw - 96 - 52, row_h, f"{self.num(second.total)} {second.currency}", "R"
            )
        if doc.vat_totals:
            pdf.set_y(top)
            self.vat_breakdown()
        pdf.set_y(top + height + 2)

    def vat_breakdown(self) -> None:
        """Taxable amount and VAT per rate."""
        widths = self.widths(_VAT_COLUMNS, 0)
        self.table_header(_MARGIN, _VAT_COLUMNS, widths)
        self.font(8)
        for vat in self.doc.vat_totals:
            self.row(
                _VAT_COLUMNS, widths, (f"{self.num(vat.rate, 0)}%", self.num(vat.net), self.num(vat.vat))
            )

    def receipt_body(self) -> None:
        """The acknowledgement sentence, its translation, and the amount received."""
        doc, pdf = self.doc, self.pdf
        receipt = doc.receipt
        if receipt is None:
            raise ValueError("a receipt needs receipt details")
        text, translation = self.labels.pair(
            "receipt_body_dated" if receipt.invoice_date else "receipt_body",
            client=doc.client.name,
            amount=self.num(receipt.amount),
            currency=receipt.currency,
            invoice=receipt.invoice_number,
            date=_date(receipt.invoice_date, self.ro) if receipt.invoice_date else "",
        )
        pdf.ln(2)
        self.font(10)
        self.paragraph(_MARGIN, pdf.epw, text, 5.2)
        if translation:
            self.font(8.5, color=_MUTED)
            self.paragraph(_MARGIN, pdf.epw, translation, 4.4)
        pdf.ln(4)
        self.ensure_room(8)
        pdf.set_fill_color(*_SHADE)
        pdf.rect(_MARGIN + 96, pdf.y, pdf.epw - 96, 8, style="F")
        self.font(9, bold=True)
        self.text_at(_MARGIN + 96, pdf.y, 52, 8, self.labels.inline("received"), align="R")
        self.font(11, bold=True)
        self.text_at(
            _MARGIN + 148, pdf.y, pdf.epw - 148, 8, f"{self.num(receipt.amount)} {receipt.currency}", "R"
        )
        pdf.set_y(pdf.y + 10)

    def closing_notes(self) -> None:
        """Lower annotation, notes and, when displayed, the shipping data."""
        doc, pdf = self.doc, self.pdf
        pdf.ln(3)
        self.font(8)
        if doc.lower_annotation:
            self.paragraph(_MARGIN, pdf.epw, doc.lower_annotation)
            pdf.ln(2)
        if doc.note:
            self.heading("note")
            self.font(8)
            self.paragraph(_MARGIN, pdf.epw, doc.note)
            pdf.ln(2)
        shipping = doc.shipping
        if doc.display_transport_data and shipping:
            transport = f"{shipping.means_of_transport} {shipping.means_of_transport_number}".strip()
            expedition = _datetime(shipping.expedition_time, self.ro) if shipping.expedition_time else ""
            self.ensure_room(5 + 4 * _LINE_H)
            self.heading("shipping")
            self.field(_MARGIN, pdf.epw, "delegate", shipping.delegate_name)
            self.field(_MARGIN, pdf.epw, "identity_document", shipping.identity_document)
            self.field(_MARGIN, pdf.epw, "means_of_transport", transport)
            self.field(_MARGIN, pdf.epw, "expedition_time", expedition)

    def heading(self, key: str) -> None:
        """A bold label starting a section; kept with at least two lines of what follows."""
        self.ensure_room(4.8 + 2 * _LINE_H)
        self.font(8, bold=True)
        self.paragraph(_MARGIN, self.pdf.epw, self.labels.inline(key), 4.8)


def render_pdf(doc: PdfDocument, *, embed_font: bool = True) -> bytes:
    """Render `doc` as PDF bytes, in the embedded DejaVu Sans.

    `embed_font=False` sets the text in the PDF core font Helvetica instead, which covers
    latin-1 only: it exists to measure what the embedded font costs, not for documents.
    """
    if not embed_font:
        return _Layout(doc, "helvetica").render()
    layout = _Layout(doc, FAMILY)
    add_fonts(layout.pdf, set().union(*_strings(doc)))
    return layout.render()
