"""PDF rendering: what a reader finds in the text of the rendered documents (extracted with pypdf),
for every document kind, both locales, long tables and consecutive renders sharing the fonts."""

from __future__ import annotations

import dataclasses
import re
import subprocess
import sys
from datetime import date, datetime
from decimal import Decimal as D
from io import BytesIO
from pathlib import Path

import pytest
from billing.documents.fonts import COMPACT
from billing.documents.labels import TEXTS
from billing.documents.pdf import render_pdf
from billing.documents.view import (
    BankAccount,
    Line,
    Party,
    PdfDocument,
    ReceiptDetails,
    SecondCurrency,
    Shipping,
    VatTotal,
)
from fontTools.ttLib import TTFont
from pypdf import PdfReader

ISSUER = Party(
    name="Factura Demo SRL",
    uid="RO12345678",
    registration_id="J40/1234/2020",
    vat_id="RO12345678",
    address_lines=("Strada Știrbei Vodă nr. 12",),
    city="București",
    zip="010102",
    country="România",
    email="facturi@demo.ro",
    bank_accounts=(
        BankAccount(bank_name="Banca Transilvania", bic="BTRLRO22", iban="RO49BTRL0301202T12345678"),
    ),
)
CLIENT = Party(name="Șuțu Ăîâ SRL", uid="RO87654321", address_lines=("Bd. Ștefan cel Mare 45",), city="Iași")
SHIPPING = Shipping(
    delegate_name="Ion Popescu",
    identity_document="CI IS 123456",
    means_of_transport="Auto",
    means_of_transport_number="IS-12-ABC",
    expedition_time=datetime(2026, 11, 19, 14, 30),
)


def line(description: str, **changes: object) -> Line:
    base = Line(
        description=description,
        unit="buc",
        quantity=D(2),
        unit_price=D("1500.00"),
        vat_rate=D(19),
        vat_amount=D("570.00"),
        line_total=D("3000.00"),
    )
    return dataclasses.replace(base, **changes)


def invoice(**changes: object) -> PdfDocument:
    # 2 x 1 500.00 = 3 000.00, VAT 19% = 570.00; discount -300.00, VAT -57.00;
    # net 2 700.00 + VAT 513.00 = 3 213.00
    base = PdfDocument(
        kind="invoice",
        number="FCT-0042",
        document_date=date(2026, 11, 20),
        due_date=date(2026, 12, 20),
        issuer=ISSUER,
        client=CLIENT,
        currency="EUR",
        locale="ro",
        lines=(
            line("Abonament anual (1 500 € / an)"),
            Line(
                description="Discount conform contract (10%)",
                vat_rate=D(19),
                vat_amount=D("-57.00"),
                line_total=D("-300.00"),
                is_discount=True,
            ),
        ),
        vat_totals=(VatTotal(rate=D(19), net=D("2700.00"), vat=D("513.00")),),
        net_total=D("2700.00"),
        vat_total=D("513.00"),
        grand_total=D("3213.00"),
        total_due=D("3213.00"),
        upper_annotation="Conform contractului nr. 17/2026.",
        lower_annotation="Factura circulă fără semnătură și ștampilă.",
        note="Vă mulțumim!",
    )
    return dataclasses.replace(base, **changes)


def pages(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(BytesIO(pdf)).pages]


def text(pdf: bytes) -> str:
    return "\n".join(pages(pdf))


def embedded_characters(pdf: bytes) -> set[str]:
    """The characters the document's fonts can print, checking on the way that each code
    leads, through CIDToGIDMap, to the drawn glyph that the embedded font program itself maps
    to the code's character (ToUnicode): text extraction alone would not notice a wrong or
    missing font program."""
    reader = PdfReader(BytesIO(pdf))
    fonts = {
        ref.idnum: ref.get_object() for page in reader.pages for ref in page["/Resources"]["/Font"].values()
    }
    assert len(fonts) == 2
    characters = set()
    for font in fonts.values():
        cid_font = font["/DescendantFonts"][0].get_object()
        program = TTFont(BytesIO(cid_font["/FontDescriptor"]["/FontFile2"].get_object().get_data()))
        cid_to_gid = cid_font["/CIDToGIDMap"].get_object().get_data()
        to_unicode = font["/ToUnicode"].get_object().get_data().decode("ascii")
        cmap = program.getBestCmap()
        blocks = "".join(re.findall(r"beginbfchar\n(.*?)endbfchar", to_unicode, re.DOTALL))
        for code_hex, utf16 in re.findall(r"<([0-9A-F]{4})> <([0-9A-F]+)>", blocks):
            char = bytes.fromhex(utf16).decode("utf-16-be")
            if char == "\x00":
                continue
            code = int(code_hex, 16)
            glyph_name = cmap[ord(char)]
            assert int.from_bytes(cid_to_gid[2 * code : 2 * code + 2], "big") == program.getGlyphID(
                glyph_name
            )
            if not char.isspace():
                assert program["glyf"][glyph_name].numberOfContours != 0, char
            characters.add(char)
    return characters


def test_invoice_prints_parties_number_positions_and_totals() -> None:
    printed = text(render_pdf(invoice()))

    for expected in (
        "FACTURĂ",
        "FCT-0042",
        "20.11.2026",
        "20.12.2026",
        "Factura Demo SRL",
        "RO49BTRL0301202T12345678",
        "Șuțu Ăîâ SRL",
        "Bd. Ștefan cel Mare 45",
        "Abonament anual (1 500 € / an)",
        "1.500,00",
        "Discount conform contract (10%)",
        "-300,00",
        "2.700,00 EUR",
        "513,00 EUR",
        "3.213,00 EUR",
        "Conform contractului nr. 17/2026.",
        "Factura circulă fără semnătură și ștampilă.",
        "Vă mulțumim!",
    ):
        assert expected in printed


def test_romanian_labels_carry_english_translations() -> None:
    printed = text(render_pdf(invoice()))

    for expected in (
        "FACTURĂ",
        "INVOICE",
        "Data emiterii / Issue date",
        "Total de plată / Amount due",
        "Cant.",
    ):
        assert expected in printed
    assert "Qty" in printed


def test_hidden_translations_leave_romanian_labels_only() -> None:
    printed = text(render_pdf(invoice(hide_domestic_translations=True)))

    assert "FACTURĂ" in printed
    assert "Data emiterii" in printed
    for absent in ("INVOICE", "Issue date", "Amount due", "Qty", "Page 1 of 1"):
        assert absent not in printed
    assert "Pagina 1 din 1" in printed


def test_english_document_has_english_labels_and_number_format() -> None:
    printed = text(render_pdf(invoice(locale="en")))

    for expected in ("INVOICE", "Issue date", "2026-11-20", "Amount due", "3,213.00 EUR", "Page 1 of 1"):
        assert expected in printed
    for absent in ("FACTURĂ", "Data emiterii", "Total de plată", "Pagina"):
        assert absent not in printed


@pytest.mark.parametrize(
    ("kind", "romanian", "english"),
    [
        ("invoice", "FACTURĂ", "INVOICE"),
        ("proforma_invoice", "FACTURĂ PROFORMA", "PROFORMA INVOICE"),
        ("notice", "AVIZ DE ÎNSOȚIRE", "DELIVERY NOTE"),
    ],
)
def test_each_kind_has_its_title(kind: str, romanian: str, english: str) -> None:
    printed = text(render_pdf(invoice(kind=kind)))

    assert romanian in printed
    assert english in printed
    assert "Șuțu Ăîâ SRL" in printed


def test_receipt_acknowledges_the_amount_and_the_invoice() -> None:
    receipt = invoice(
        kind="receipt",
        number="CH-0007",
        lines=(),
        vat_totals=(),
        receipt=ReceiptDetails(
            amount=D("3213.00"), currency="EUR", invoice_number="FCT-0042", invoice_date=date(2026, 11, 20)
        ),
    )

    printed = " ".join(text(render_pdf(receipt)).split())

    for expected in (
        "CHITANȚĂ",
        "RECEIPT",
        "CH-0007",
        "Am primit de la Șuțu Ăîâ SRL suma de 3.213,00 EUR",
        "facturii FCT-0042 din 20.11.2026",
        "Received from Șuțu Ăîâ SRL the amount of 3.213,00 EUR",
        "Suma primită / Amount received",
    ):
        assert expected in printed
    assert "Denumirea produselor" not in printed


def test_receipt_without_details_is_refused() -> None:
    with pytest.raises(ValueError, match="receipt details"):
        render_pdf(invoice(kind="receipt"))


def test_long_table_continues_on_pages_that_repeat_its_header() -> None:
    doc = invoice(lines=tuple(line(f"Poziția {n:03d}") for n in range(1, 121)))

    printed = pages(render_pdf(doc))

    assert len(printed) >= 3
    for number, page in enumerate(printed, start=1):
        assert page.count("Denumirea produselor sau serviciilor") == 1
        assert f"Pagina {number} din {len(printed)} / Page {number} of {len(printed)}" in page
    everything = "\n".join(printed)
    assert all(everything.count(f"Poziția {n:03d}") == 1 for n in range(1, 121))
    assert "3.213,00 EUR" in printed[-1]


def test_long_descriptions_wrap_within_their_column() -> None:
    description = " ".join(f"cuvânt{n}" for n in range(60))

    printed = text(render_pdf(invoice(lines=(line(description),))))

    assert all(f"cuvânt{n}" in printed for n in range(60))
    assert description not in printed  # not on one line


def test_shipping_data_only_when_displayed() -> None:
    shown = text(render_pdf(invoice(display_transport_data=True, shipping=SHIPPING)))
    hidden = text(render_pdf(invoice(display_transport_data=False, shipping=SHIPPING)))

    for expected in (
        "Date privind expediția / Shipping details",
        "Ion Popescu",
        "CI IS 123456",
        "Auto IS-12-ABC",
    ):
        assert expected in shown
        assert expected not in hidden
    assert "19.11.2026 14:30" in shown


def test_reversal_reference_and_second_currency() -> None:
    doc = invoice(
        reversed_document_number="FCT-0001",
        second_currency=SecondCurrency(currency="RON", exchange_rate=D("4.9748"), total=D("15984.03")),
    )

    printed = text(render_pdf(doc))

    assert "Stornare a facturii FCT-0001 / Reversal of invoice FCT-0001" in printed
    assert "1 EUR = 4,9748 RON" in printed
    assert "15.984,03 RON" in printed


def test_consecutive_documents_each_print_their_own_text() -> None:
    # The fonts are shared between renders: each document must still print exactly its text,
    # whether it uses the shared faces (Latin) or faces subsetted per document (other scripts).
    names = ["Șuțu Ăîâ SRL", "Łódź Żółć Øresund GmbH", "Ωμέγα ΑΕ", "Жук и сыновья ООО", "Șuțu Ăîâ SRL"]  # noqa: RUF001
    pdfs = [render_pdf(invoice(client=dataclasses.replace(CLIENT, name=name))) for name in names]
    printed = [text(pdf) for pdf in pdfs]

    embedded = [embedded_characters(pdf) for pdf in pdfs]

    for name, its_text, its_characters in zip(names, printed, embedded, strict=True):
        assert name in its_text
        assert set(name) <= its_characters
    assert "Ωμέγα" not in printed[3]
    assert "Жук" not in printed[2]
    assert "Łódź" not in printed[4]
    # faces subsetted per document carry no glyph of the document rendered before
    assert not {"Ω", "μ", "έ"} & embedded[3]
    assert not {"Ж", "ы"} & embedded[2]


def test_labels_print_with_the_shared_faces() -> None:
    assert all(set(ro + en) <= COMPACT for ro, en in TEXTS.values())


def test_import_loads_no_font() -> None:
    check = (
        "import billing.documents.pdf, billing.documents.fonts as fonts; "
        "assert not fonts._shared and not fonts._subsetted"
    )
    layer = Path(__file__).resolve().parents[2] / "layers" / "core"
    subprocess.run([sys.executable, "-c", check], check=True, env={"PYTHONPATH": str(layer)})
