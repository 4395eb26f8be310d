"""PDF rendering of invoices, proformas, delivery notes and receipts (fpdf2, embedded DejaVu Sans).

Fonts are parsed once per process, on the first render, and shared by every later PDF: see
`_FontProgram`. Importing this module does no font work.
"""

from __future__ import annotations

import copy
import threading
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, fields, is_dataclass
from datetime import date, datetime
from decimal import Decimal
from io import BytesIO
from pathlib import Path
from typing import Final, cast

from fontTools import subset as ft_subset
from fontTools import ttLib
from fpdf import FPDF
from fpdf.enums import MethodReturnValue
from fpdf.fonts import SubsetMap, TTFFont

from billing.documents.labels import Labels
from billing.documents.view import Line, Party, PdfDocument

# --------------------------------------------------------------------------------------------
# Fonts
# --------------------------------------------------------------------------------------------

_FONT_DIR: Final = Path(__file__).with_name("fonts")
_FAMILY: Final = "DejaVuSans"
_FACE_FILES: Final = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

# The compact programs cover the Latin script of European languages (Romanian comma-below
# letters included), typographic punctuation and currency signs. A document using anything
# else gets the whole face, which costs more to subset.
_COMPACT_RANGES: Final = (
    (0x20, 0x7E),
    (0xA0, 0x17F),
    (0x218, 0x21B),
    (0x2010, 0x2027),
    (0x2030, 0x203A),
    (0x20A0, 0x20C0),
    (0x2116, 0x2116),
    (0x2122, 0x2122),
    (0x2212, 0x2212),
)
_COMPACT: Final = frozenset(chr(c) for low, high in _COMPACT_RANGES for c in range(low, high + 1))
_LINE_BREAKS: Final = frozenset("\r\n")

# TTFFont attributes that hold per-document state; `_FontProgram.add_to` gives each PDF its own.
# Every other attribute is parsed once and only read afterwards, so PDFs share it.
_PER_DOCUMENT: Final = frozenset({"i", "ttfont", "desc", "cw", "missing_glyphs", "biggest_size_pt", "subset"})
_SHARED: Final = frozenset(
    {
        "type", "name", "glyph_ids", "_hbfont", "sp", "ss", "up", "ut", "ttffile", "fontkey",
        "emphasis", "scale", "cmap", "color_font", "unicode_range", "palette_index",
        "is_compressed", "is_cff", "is_cid_keyed", "is_symbol", "cff_ros", "collection_font_number",
    }
)  # fmt: skip


@dataclass(frozen=True, slots=True)
class _FontProgram:
    """One face, parsed once: fpdf2's metrics (`template`) and a pre-subset font program.

    fpdf2 mutates a TTFFont while writing a PDF (it records used glyphs in `subset`, subsets
    `ttfont` in place, numbers `desc` as a PDF object), so PDFs cannot share one instance.
    They share the template's read-only parts (cmap, glyph ids, widths, descriptor values)
    and each gets fresh copies of the mutable ones, including a `ttfont` opened lazily on
    `program`. `program` holds only the glyphs the template maps, without the layout and
    hinting tables that fpdf2 drops anyway, which makes the per-PDF subsetting cheap.
    Text shaping (`FPDF.set_text_shaping`) must stay off: it would read the original file.
    """

    template: TTFFont
    program: bytes

    @classmethod
    def load(cls, style: str, compact: bool) -> _FontProgram:
        """Parse the face and build its font program (tens of ms, once per process)."""
        if set(TTFFont.__slots__) != _PER_DOCUMENT | _SHARED:
            raise RuntimeError("fpdf2's TTFFont attributes changed: review _FontProgram before upgrading")
        path = _FONT_DIR / _FACE_FILES[style]
        unicode_range = {ord(c) for c in _COMPACT} if compact else None
        template = TTFFont(FPDF(), path, _FAMILY.lower() + style, style, unicode_range)
        template.close()
        font = ttLib.TTFont(path, lazy=True, recalcTimestamp=False, recalcBBoxes=False)
        options = ft_subset.Options(glyph_names=True, hinting=False, notdef_outline=True)
        options.drop_tables += ["GDEF", "GPOS", "GSUB", "kern", "gasp", "FFTM", "MATH"]
        subsetter = ft_subset.Subsetter(options)
        subsetter.populate(unicodes=template.cmap.keys())
        subsetter.subset(font)
        if not set(template.cmap.values()) <= set(font.getGlyphOrder()):
            raise RuntimeError(f"font program of {path.name} lacks glyphs its cmap maps to")
        buffer = BytesIO()
        font.save(buffer)
        font.close()
        return cls(template, buffer.getvalue())

    def add_to(self, pdf: FPDF) -> None:
        """Register a per-document copy of this face in `pdf`, as `FPDF.add_font` would."""
        font = copy.copy(self.template)
        font.i = len(pdf.fonts) + 1
        font.ttfont = ttLib.TTFont(
            BytesIO(self.program), lazy=True, recalcTimestamp=False, recalcBBoxes=False
        )
        font.desc = copy.copy(self.template.desc)
        font.cw = copy.copy(self.template.cw)
        font.missing_glyphs = []
        font.biggest_size_pt = 0
        font.subset = SubsetMap(font)
        pdf.fonts[font.fontkey] = font


_programs: dict[tuple[str, bool], _FontProgram] = {}
_programs_lock = threading.Lock()


def _font_program(style: str, compact: bool) -> _FontProgram:
    """The cached program of a face, loaded on first use."""
    key = (style, compact)
    program = _programs.get(key)
    if program is None:
        with _programs_lock:
            program = _programs.get(key)
            if program is None:
                program = _programs[key] = _FontProgram.load(style, compact)
    return program


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


# --------------------------------------------------------------------------------------------
# Formatting
# --------------------------------------------------------------------------------------------


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
_BOTTOM: Final = 16.0
_PAD: Final = 1.2  # cell padding
_INK: Final = (33, 37, 41)
_MUTED: Final = (108, 117, 125)
_DISCOUNT: Final = (150, 60, 40)
_RULE: Final = (206, 212, 218)
_SHADE: Final = (241, 243, 245)

# (label key, width or 0 for the remaining width, alignment)
_COLUMNS: Final = (
    ("col_no", 8.0, "C"),
    ("col_description", 0.0, "L"),
    ("col_unit", 13.0, "C"),
    ("col_quantity", 16.0, "R"),
    ("col_unit_price", 22.0, "R"),
    ("col_vat_rate", 14.0, "R"),
    ("col_vat_amount", 22.0, "R"),
    ("col_total", 24.0, "R"),
)


class _Canvas(FPDF):
    """An A4 page with the document number and "Page X of Y" in the footer."""

    def __init__(self, family: str, labels: Labels, footer_left: str) -> None:
        super().__init__(orientation="P", unit="mm", format="A4")
        self.family_name = family
        self.labels = labels
        self.footer_left = footer_left
        self.set_margins(_MARGIN, 12.0, _MARGIN)
        self.set_auto_page_break(True, margin=_BOTTOM)
        self.c_margin = _PAD

    def footer(self) -> None:
        self.set_y(-11)
        self.set_draw_color(*_RULE)
        self.line(_MARGIN, self.y, self.w - _MARGIN, self.y)
        self.set_font(self.family_name, "", 7)
        self.set_text_color(*_MUTED)
        page = self.labels.inline("page_of", page=self.page_no(), pages=self.str_alias_nb_pages)
        self.cell(self.epw / 2, 5, self.footer_left, align="L")
        self.cell(self.epw / 2, 5, page, align="R")


class _Layout:
    """Draws one document onto a `_Canvas`."""

    def __init__(self, doc: PdfDocument, family: str) -> None:
        self.doc = doc
        self.ro = doc.locale == "ro"
        self.labels = Labels(doc.locale, doc.hide_domestic_translations)
        self.family = family
        self.pdf = _Canvas(family, self.labels, f"{self.labels.pair(doc.kind)[0]} {doc.number}")
        self.widths = self._column_widths()

    # -- primitives --------------------------------------------------------------------------

    def font(self, size: float, bold: bool = False, color: tuple[int, int, int] = _INK) -> None:
        self.pdf.set_font(self.family, "B" if bold else "", size)
        self.pdf.set_text_color(*color)

    def text_at(self, x: float, y: float, w: float, h: float, text: str, align: str = "L") -> None:
        self.pdf.set_xy(x, y)
        self.pdf.cell(w, h, text, align=align)

    def wrap(self, w: float, text: str, h: float) -> list[str]:
        """`text` broken into lines fitting `w` in the current font."""
        lines = self.pdf.multi_cell(w, h, text, dry_run=True, output=MethodReturnValue.LINES)
        return cast("list[str]", lines)

    def paragraph(self, x: float, w: float, h: float, text: str, align: str = "L") -> None:
        """Wrapped text from (x, current y); breaks pages as needed."""
        self.pdf.set_x(x)
        self.pdf.multi_cell(w, h, text, align=align, new_x="LEFT", new_y="NEXT")

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

    # -- document ----------------------------------------------------------------------------

    def render(self) -> bytes:
        pdf = self.pdf
        pdf.set_title(f"{self.labels.pair(self.doc.kind)[0]} {self.doc.number}")
        pdf.set_lang(self.doc.locale)
        pdf.set_creator("Factura")
        pdf.add_page()
        self.title_block()
        self.parties()
        self.references()
        if self.doc.upper_annotation:
            self.font(8)
            self.paragraph(_MARGIN, pdf.epw, 4, self.doc.upper_annotation)
            pdf.ln(2)
        if self.doc.kind == "receipt":
            self.receipt_body()
        else:
            self.positions()
            self.totals()
        self.closing_notes()
        return bytes(pdf.output())

    def title_block(self) -> None:
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
        x, label_w, value_w = _MARGIN + 92, 56.0, pdf.epw - 92 - 56
        y = top
        for key, value in facts:
            self.font(7.5, color=_MUTED)
            self.text_at(x, y, label_w, 4.6, self.labels.inline(key), align="R")
            self.font(8.5, bold=key == "number")
            self.text_at(x + label_w, y, value_w, 4.6, value, align="R")
            y += 4.6
        pdf.set_y(max(y, top + 14) + 2)
        self.rule(pdf.y)
        pdf.ln(3)

    def parties(self) -> None:
        pdf = self.pdf
        top, gap = pdf.y, 8.0
        w = (pdf.epw - gap) / 2
        bottom_left = self.party("issuer", self.doc.issuer, _MARGIN, top, w)
        bottom_right = self.party("client", self.doc.client, _MARGIN + w + gap, top, w)
        pdf.set_y(max(bottom_left, bottom_right) + 2)
        self.rule(pdf.y)
        pdf.ln(3)

    def party(self, role: str, party: Party, x: float, y: float, w: float) -> float:
        """Draw one party block; returns the y below it."""
        pdf = self.pdf
        self.font(7, color=_MUTED)
        self.text_at(x, y, w, 4, self.labels.inline(role).upper())
        pdf.set_y(y + 4.5)
        self.font(10, bold=True)
        self.paragraph(x, w, 4.6, party.name)
        fields_: list[tuple[str, str]] = [
            (key, value)
            for key, value in (
                ("uid", party.uid),
                ("registration_id", party.registration_id),
                ("vat_id", party.vat_id),
            )
            if value
        ]
        place = ", ".join(p for p in (" ".join(p for p in (party.zip, party.city) if p), party.state) if p)
        address = [*party.address_lines, *(p for p in (place, party.country) if p)]
        contacts = [(key, value) for key, value in (("phone", party.phone), ("email", party.email)) if value]
        for key, value in fields_:
            self.field(x, w, self.labels.inline(key), value)
        self.font(8)
        for line in address:
            self.paragraph(x, w, 3.9, line)
        for key, value in contacts:
            self.field(x, w, self.labels.inline(key), value)
        for account in party.bank_accounts:
            iban = f"IBAN {account.iban}" + (f" ({account.currency})" if account.currency else "")
            bank = ", ".join(p for p in (account.bank_name, account.bic and f"BIC {account.bic}") if p)
            self.font(8, bold=True)
            self.paragraph(x, w, 3.9, iban)
            if bank:
                self.field(x, w, self.labels.inline("bank"), bank)
        return pdf.y

    def field(self, x: float, w: float, label: str, value: str) -> None:
        """'label: value' on one line, the value wrapping under itself."""
        pdf = self.pdf
        self.font(8, color=_MUTED)
        label = f"{label}: "
        label_w = min(pdf.get_string_width(label) + 2 * _PAD, w / 2)
        y = pdf.y
        self.text_at(x, y, label_w, 3.9, label)
        self.font(8)
        pdf.set_y(y)
        self.paragraph(x + label_w - 2 * _PAD, w - label_w + 2 * _PAD, 3.9, value)

    def references(self) -> None:
        """Reversal reference and exchange rate, above the positions."""
        doc, pdf = self.doc, self.pdf
        lines: list[str] = []
        if doc.reversed_document_number:
            lines.append(self.labels.inline("reversal_of", number=doc.reversed_document_number))
        if doc.second_currency:
            second = doc.second_currency
            rate = self.num(second.exchange_rate, 4)
            lines.append(f"{self.labels.inline('exchange_rate')}: 1 {doc.currency} = {rate} {second.currency}")
        for line in lines:
            self.font(8.5, bold=True)
            self.paragraph(_MARGIN, pdf.epw, 4.6, line)
        if lines:
            pdf.ln(2)

    # -- positions table ---------------------------------------------------------------------

    def _column_widths(self) -> tuple[float, ...]:
        fixed = sum(width for _, width, _ in _COLUMNS)
        rest = self.pdf.epw - fixed
        return tuple(width or rest for _, width, _ in _COLUMNS)

    def table_header(self) -> None:
        pdf = self.pdf
        cells: list[tuple[list[str], list[str]]] = []
        for (key, _, _), w in zip(_COLUMNS, self.widths, strict=True):
            text, translation = self.labels.pair(key)
            self.font(7, bold=True)
            main = self.wrap(w, text, 3.4)
            self.font(6.5)
            sub = self.wrap(w, translation, 3.0) if translation else []
            cells.append((main, sub))
        height = max(len(main) * 3.4 + len(sub) * 3.0 for main, sub in cells) + 2 * _PAD
        top = pdf.y
        pdf.set_fill_color(*_SHADE)
        pdf.rect(_MARGIN, top, pdf.epw, height, style="F")
        x = _MARGIN
        for (main, sub), (_, _, align), w in zip(cells, _COLUMNS, self.widths, strict=True):
            y = top + _PAD
            self.font(7, bold=True)
            for line in main:
                self.text_at(x, y, w, 3.4, line, align)
                y += 3.4
            self.font(6.5, color=_MUTED)
            for line in sub:
                self.text_at(x, y, w, 3.0, line, align)
                y += 3.0
            x += w
        pdf.set_y(top + height)

    def positions(self) -> None:
        pdf = self.pdf
        self.ensure_room(30)
        self.table_header()
        line_h = 3.9
        full_page = int((pdf.page_break_trigger - pdf.t_margin - 20) / line_h)
        for number, line in enumerate(self.doc.lines, start=1):
            color = _DISCOUNT if line.is_discount else _INK
            self.font(8, color=color)
            remaining = self.wrap(self.widths[1], line.description, line_h)
            cells = self.row_cells(number, line)
            while remaining:
                room = int((pdf.page_break_trigger - pdf.y - 2 * _PAD) / line_h)
                # a row moves to the next page whole, unless it is longer than a page
                if room < len(remaining) and (room < 1 or (cells[0] and len(remaining) <= full_page)):
                    pdf.add_page()
                    self.table_header()
                    self.font(8, color=color)
                    continue
                chunk, remaining = remaining[:room], remaining[room:]
                self.row(cells, chunk, line_h)
                cells = ("",) * len(cells)

    def row_cells(self, number: int, line: Line) -> tuple[str, ...]:
        """The texts of a position's columns; the description column is left empty."""
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

    def row(self, cells: tuple[str, ...], description: Sequence[str], line_h: float) -> None:
        """One table row: `cells` on its first line, the description lines in column 2."""
        pdf = self.pdf
        top = pdf.y
        height = len(description) * line_h + 2 * _PAD
        x = _MARGIN
        for column, (text, (_, _, align), w) in enumerate(zip(cells, _COLUMNS, self.widths, strict=True)):
            if column == 1:
                for i, part in enumerate(description):
                    self.text_at(x, top + _PAD + i * line_h, w, line_h, part, align)
            elif text:
                self.text_at(x, top + _PAD, w, line_h, text, align)
            x += w
        self.rule(top + height)
        pdf.set_y(top + height)

    # -- totals, receipt, notes ----------------------------------------------------------------

    def totals(self) -> None:
        """VAT breakdown on the left, document totals on the right."""
        doc, pdf = self.doc, self.pdf
        rows: list[tuple[str, str, bool]] = [
            (self.labels.inline("net_total"), self.money(doc.net_total), False),
            (self.labels.inline("vat_total"), self.money(doc.vat_total), False),
            (self.labels.inline("grand_total"), self.money(doc.grand_total), True),
        ]
        if doc.total_due is not None:
            rows.append((self.labels.inline("total_due"), self.money(doc.total_due), True))
        if doc.second_currency:
            second = doc.second_currency
            label = self.labels.inline("second_total", currency=second.currency)
            rows.append((label, f"{self.num(second.total)} {second.currency}", False))
        row_h = 5.0
        height = max(len(rows), len(doc.vat_totals) + 1) * row_h + 4
        self.ensure_room(height)
        top = pdf.y + 2
        if doc.vat_totals:
            self.vat_breakdown(top, row_h)
        x, label_w, value_w = _MARGIN + 92, 56.0, pdf.epw - 92 - 56
        y = top
        for label, value, strong in rows:
            if strong:
                pdf.set_fill_color(*_SHADE)
                pdf.rect(x, y, label_w + value_w, row_h, style="F")
            self.font(8, bold=strong, color=_INK if strong else _MUTED)
            self.text_at(x, y, label_w, row_h, label, align="R")
            self.font(9 if strong else 8.5, bold=strong)
            self.text_at(x + label_w, y, value_w, row_h, value, align="R")
            y += row_h
        pdf.set_y(top + height - 2)

    def vat_breakdown(self, top: float, row_h: float) -> None:
        """One row per VAT rate: taxable amount and VAT."""
        widths = (34.0, 26.0, 24.0)
        header = ("", self.labels.inline("taxable_amount"), self.labels.inline("vat"))
        self.font(7, color=_MUTED)
        x = _MARGIN
        for text, w in zip(header, widths, strict=True):
            self.text_at(x, top, w, row_h, text, align="R")
            x += w
        y = top + row_h
        for vat in self.doc.vat_totals:
            texts = (self.labels.inline("vat_rate", rate=self.num(vat.rate, 0)), self.num(vat.net), self.num(vat.vat))
            x = _MARGIN
            for column, (text, w) in enumerate(zip(texts, widths, strict=True)):
                self.font(8, color=_MUTED if column == 0 else _INK)
                self.text_at(x, y, w, row_h, text, align="L" if column == 0 else "R")
                x += w
            y += row_h

    def receipt_body(self) -> None:
        """The acknowledgement sentence (with its translation) and the amount received."""
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
        self.paragraph(_MARGIN, pdf.epw, 5.5, text)
        if translation:
            self.font(8.5, color=_MUTED)
            self.paragraph(_MARGIN, pdf.epw, 4.6, translation)
        pdf.ln(4)
        self.font(11, bold=True)
        total = f"{self.labels.inline('grand_total')}: {self.num(receipt.amount)} {receipt.currency}"
        self.paragraph(_MARGIN, pdf.epw, 8, total, align="R")

    def closing_notes(self) -> None:
        doc, pdf = self.doc, self.pdf
        pdf.ln(3)
        if doc.lower_annotation:
            self.font(8)
            self.paragraph(_MARGIN, pdf.epw, 4, doc.lower_annotation)
            pdf.ln(2)
        if doc.note:
            self.heading("note")
            self.font(8)
            self.paragraph(_MARGIN, pdf.epw, 4, doc.note)
            pdf.ln(2)
        if doc.display_transport_data and doc.shipping:
            shipping = doc.shipping
            facts = [
                ("delegate", shipping.delegate_name),
                ("identity_document", shipping.identity_document),
                (
                    "means_of_transport",
                    " ".join(p for p in (shipping.means_of_transport, shipping.means_of_transport_number) if p),
                ),
                ("expedition_time", _datetime(shipping.expedition_time, self.ro) if shipping.expedition_time else ""),
            ]
            self.ensure_room(6 + 4 * len(facts))
            self.heading("shipping")
            for key, value in facts:
                if value:
                    self.field(_MARGIN, pdf.epw, self.labels.inline(key), value)

    def heading(self, key: str) -> None:
        self.ensure_room(12)
        self.font(8, bold=True)
        self.paragraph(_MARGIN, self.pdf.epw, 4.6, self.labels.inline(key))


def render_pdf(doc: PdfDocument, *, embed_font: bool = True) -> bytes:
    """Render `doc` as PDF bytes.

    With `embed_font=False` the text is set in the PDF core font Helvetica, which only covers
    latin-1: meant for comparing costs, not for documents.
    """
    if not embed_font:
        return _Layout(doc, "helvetica").render()
    layout_chars = set().union(*_strings(doc)) - _LINE_BREAKS
    compact = layout_chars <= _COMPACT
    layout = _Layout(doc, _FAMILY)
    for style in _FACE_FILES:
        _font_program(style, compact).add_to(layout.pdf)
    return layout.render()
