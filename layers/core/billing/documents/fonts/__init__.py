"""The embedded font (DejaVu Sans regular and bold, see LICENSE), parsed once per process.

fpdf2's `add_font` parses a TTF with fontTools on every call, and on output subsets it and
builds its PDF objects again for every document: with two faces that is most of the cost of a
one-page invoice. Here each face is loaded on first use and kept:

- Documents whose text is all in `COMPACT` (European Latin, punctuation, currency signs; nearly
  all of them) use a shared face: the face cut down to `COMPACT`, with every glyph already
  assigned its code in the PDF, so rendering never changes it, and its PDF objects (font file,
  widths, ToUnicode and CIDToGIDMap) built and compressed once. `FontOutputProducer` writes
  them into each document instead of letting fpdf2 subset the font again.
- Other documents use a subsetted face: each document gets its own copy of the mutable state
  (used-glyph map, font tables) and fpdf2 embeds the glyphs it used, as usual.

Text shaping (`FPDF.set_text_shaping`) must stay off with these faces.
"""

from __future__ import annotations

import copy
import threading
import zlib
from collections.abc import Callable, Iterable, Set
from io import BytesIO
from pathlib import Path
from typing import Any, Final, TypeVar

from fontTools import subset as ft_subset
from fontTools import ttLib
from fpdf import FPDF
from fpdf.fonts import SubsetMap, TTFFont
from fpdf.output import CIDSystemInfo, OutputProducer, PDFFont, PDFType3Font
from fpdf.syntax import Name, PDFArray, PDFContentStream, PDFObject

FAMILY: Final = "DejaVuSans"
_DIR: Final = Path(__file__).parent
_FILES: Final = {"": "DejaVuSans.ttf", "B": "DejaVuSans-Bold.ttf"}

_COMPACT_RANGES: Final = (
    (0x20, 0x7E),  # ASCII
    (0xA0, 0x17F),  # Latin-1 Supplement, Latin Extended-A
    (0x218, 0x21B),  # Romanian Ș ș Ț ț (comma below)
    (0x2010, 0x2027),  # dashes, quotes, bullet, ellipsis
    (0x2030, 0x203A),  # per mille, angle quotes
    (0x20A0, 0x20C0),  # currency signs
    (0x2116, 0x2116),  # numero sign
    (0x2122, 0x2122),  # trade mark sign
    (0x2212, 0x2212),  # minus sign
)
COMPACT: Final = frozenset(chr(c) for low, high in _COMPACT_RANGES for c in range(low, high + 1))
_LINE_BREAKS: Final = frozenset("\r\n")  # never printed, so need no glyph

# Tables that fpdf2 drops from embedded subsets anyway, plus kerning (fpdf2 does not kern
# without text shaping) and hinting (`hinting=False`).
_DROPPED_TABLES: Final = ["GDEF", "GPOS", "GSUB", "kern", "gasp", "FFTM", "MATH"]

# TTFFont attributes that change while a document is written (`i`: its index in the
# document). A subsetted face gives each document fresh ones. A shared face gives only a fresh
# `i`: its used-glyph map is complete up front, and as its documents hold only characters it
# covers, nothing else is written. All other attributes are parsed once and only read.
_PER_DOCUMENT: Final = frozenset({"i", "ttfont", "desc", "cw", "missing_glyphs", "biggest_size_pt", "subset"})
_READ_ONLY: Final = frozenset(
    {
        "type", "name", "glyph_ids", "_hbfont", "sp", "ss", "up", "ut", "ttffile", "fontkey",
        "emphasis", "scale", "cmap", "color_font", "unicode_range", "palette_index",
        "is_compressed", "is_cff", "is_cid_keyed", "is_symbol", "cff_ros", "collection_font_number",
    }
)  # fmt: skip


def _parse(style: str, unicode_range: Set[int] | None) -> tuple[TTFFont, ttLib.TTFont]:
    """fpdf2's metrics of a face, and the face cut down to the glyphs those metrics map."""
    if set(TTFFont.__slots__) != _PER_DOCUMENT | _READ_ONLY:
        raise RuntimeError("fpdf2's TTFFont attributes changed: review billing.documents.fonts")
    path = _DIR / _FILES[style]
    template = TTFFont(
        FPDF(), path, FAMILY.lower() + style, style, set(unicode_range) if unicode_range else None
    )
    template.close()
    font = ttLib.TTFont(path, lazy=True, recalcTimestamp=False, recalcBBoxes=False)
    options = ft_subset.Options(glyph_names=True, hinting=False, notdef_outline=True)
    options.drop_tables += _DROPPED_TABLES
    subsetter = ft_subset.Subsetter(options)
    subsetter.populate(unicodes=template.cmap.keys())
    subsetter.subset(font)
    if not set(template.cmap.values()) <= set(font.getGlyphOrder()):
        raise RuntimeError(f"the subset of {path.name} lacks glyphs its cmap maps to")
    return template, font


class _Stream(PDFContentStream):
    """A stream object over data compressed once and shared by documents."""

    def __init__(self, compressed: bytes, length1: int | None = None) -> None:
        super().__init__(contents=compressed)
        self.filter = Name("FlateDecode")
        self.length1 = length1  # FontFile2: length of the uncompressed font program


class _SharedFace:
    """A face whose glyph codes and PDF objects are fixed when it loads (see module doc)."""

    def __init__(self, style: str) -> None:
        template, font = _parse(style, {ord(c) for c in COMPACT})
        for codepoint in sorted(template.cmap):
            template.subset.pick(codepoint)  # give every glyph its code now
        glyph_ids = {name: gid for gid, name in enumerate(font.getGlyphOrder())}
        codes = sorted((code, glyph) for glyph, code in template.subset.items() if glyph is not None)
        font["post"].formatType = 3.0  # the PDF needs no glyph names
        buffer = BytesIO()
        font.save(buffer)
        font.close()
        cid_to_gid = bytearray(2 * (codes[-1][0] + 1))
        for code, glyph in codes:
            cid_to_gid[2 * code : 2 * code + 2] = glyph_ids[glyph.glyph_name].to_bytes(2, "big")
        self.template = template
        self.font_file = zlib.compress(buffer.getvalue())
        self.font_file_length = len(buffer.getvalue())
        self.cid_to_gid = zlib.compress(bytes(cid_to_gid))
        self.to_unicode = zlib.compress(_to_unicode_cmap((code, glyph.unicode) for code, glyph in codes))
        self.widths = _widths((code, glyph.glyph_width) for code, glyph in codes)
        self.covers = frozenset(chr(c) for c in template.cmap)

    def add_to(self, pdf: FPDF) -> None:
        font = copy.copy(self.template)
        font.i = len(pdf.fonts) + 1
        pdf.fonts[font.fontkey] = font

    def embed(self, producer: FontOutputProducer, font: TTFFont) -> PDFFont:
        """Add this face's PDF objects for `font` (its per-document copy) to the output."""
        name = f"MPDFAA+{font.name}"
        type0 = PDFFont(subtype="Type0", base_font=name, encoding="Identity-H")
        cid_font = PDFFont(subtype="CIDFontType2", base_font=name, d_w=font.desc.missing_width, w=self.widths)
        descriptor = copy.copy(font.desc)
        descriptor.font_name = Name(name)
        font_file = _Stream(self.font_file, self.font_file_length)
        to_unicode = _Stream(self.to_unicode)
        cid_to_gid = _Stream(self.cid_to_gid)
        system_info = CIDSystemInfo()
        for obj in (type0, cid_font, to_unicode, system_info, descriptor, cid_to_gid, font_file):
            producer.add_object(obj)
        type0.descendant_fonts = PDFArray([cid_font])
        type0.to_unicode = to_unicode
        cid_font.c_i_d_system_info = system_info
        cid_font.font_descriptor = descriptor
        cid_font.c_i_d_to_g_i_d_map = cid_to_gid
        descriptor.font_file2 = font_file  # type: ignore[attr-defined]
        return type0


def _to_unicode_cmap(mappings: Iterable[tuple[int, int | tuple[int, ...]]]) -> bytes:
    """A ToUnicode CMap of 2-byte codes, in bfchar blocks of at most 100 entries."""
    entries = []
    for code, unicode in mappings:
        chars = "".join(chr(u) for u in (unicode if isinstance(unicode, tuple) else (unicode,)))
        entries.append(f"<{code:04X}> <{chars.encode('utf-16-be').hex().upper()}>\n")
    blocks = "".join(
        f"{len(entries[i : i + 100])} beginbfchar\n{''.join(entries[i : i + 100])}endbfchar\n"
        for i in range(0, len(entries), 100)
    )
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        f"{blocks}endcmap\nCMapName currentdict /CMap defineresource pop\nend\nend"
    ).encode("ascii")


def _widths(code_widths: Iterable[tuple[int, int]]) -> str:
    """The CIDFont /W array: runs of consecutive codes, `first [w1 w2 ...]`."""
    runs: list[tuple[int, list[int]]] = []
    for code, width in code_widths:
        if runs and runs[-1][0] + len(runs[-1][1]) == code:
            runs[-1][1].append(width)
        else:
            runs.append((code, [width]))
    return "[" + " ".join(f"{first} [{' '.join(map(str, widths))}]" for first, widths in runs) + "]"


class _SubsettedFace:
    """The whole face; fpdf2 embeds the subset of it each document uses."""

    def __init__(self, style: str) -> None:
        self.template, font = _parse(style, None)
        buffer = BytesIO()
        font.save(buffer)
        font.close()
        self.program = buffer.getvalue()

    def add_to(self, pdf: FPDF) -> None:
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


_shared: dict[str, _SharedFace] = {}  # by fpdf2 font key
_subsetted: dict[str, _SubsettedFace] = {}
_load_lock = threading.Lock()
_Face = TypeVar("_Face", _SharedFace, _SubsettedFace)


def _faces(loaded: dict[str, _Face], load: Callable[[str], _Face]) -> list[_Face]:
    """Regular and bold from `loaded`, loading them on first use."""
    keys = {FAMILY.lower() + style: style for style in _FILES}
    if not keys.keys() <= loaded.keys():
        with _load_lock:
            for key, style in keys.items():
                if key not in loaded:
                    loaded[key] = load(style)
    return [loaded[key] for key in keys]


def add_fonts(pdf: FPDF, text: Set[str]) -> None:
    """Register regular and bold `FAMILY` in `pdf`, able to print every character of `text`.

    Write the document with `pdf.output(output_producer_class=FontOutputProducer)`.
    """
    shared = _faces(_shared, _SharedFace)
    faces: list[_SharedFace] | list[_SubsettedFace] = shared
    if not all(text - _LINE_BREAKS <= face.covers for face in shared):
        faces = _faces(_subsetted, _SubsettedFace)
    for face in faces:
        face.add_to(pdf)


class FontOutputProducer(OutputProducer):
    """fpdf2's PDF writer, embedding shared faces from their prebuilt objects."""

    def add_object(self, obj: PDFObject) -> None:
        self._add_pdf_obj(obj, "fonts")

    def _add_fonts(self, *args: Any, **kwargs: Any) -> dict[int, PDFFont | PDFType3Font]:
        fonts = self.fpdf.fonts
        registered = dict(fonts)
        shared = []
        for key, font in registered.items():
            face = _shared.get(key)
            if face and isinstance(font, TTFFont) and font.subset is face.template.subset:
                shared.append((face, font))
                del fonts[key]
        try:
            objects = super()._add_fonts(*args, **kwargs)
        finally:
            fonts.clear()
            fonts.update(registered)
        for face, font in shared:
            objects[font.i] = face.embed(self, font)
        return objects
