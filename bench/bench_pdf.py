"""PDF rendering cost: core font vs embedded TTF, and how it grows with pages.

Run: .venv/bin/python bench/bench_pdf.py
"""

from __future__ import annotations

import statistics
import sys
import time
import unicodedata
from collections.abc import Callable
from dataclasses import fields, is_dataclass, replace
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any
from unittest.mock import patch

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "layers" / "core"))

from billing.documents.labels import TEXTS
from billing.documents.pdf import render_pdf
from billing.documents.view import (
    BankAccount,
    Line,
    Party,
    PdfDocument,
    SecondCurrency,
    Shipping,
    VatTotal,
)

ISSUER = Party(
    name="Factura Demo SRL",
    uid="RO12345678",
    registration_id="J40/1234/2020",
    vat_id="RO12345678",
    address_lines=("Strada Știrbei Vodă nr. 12, et. 3",),
    city="București",
    state="Sector 1",
    zip="010102",
    country="România",
    phone="+40 21 123 4567",
    email="facturi@demo.ro",
    bank_accounts=(
        BankAccount(
            bank_name="Banca Transilvania", bic="BTRLRO22", iban="RO49BTRL0301202T12345678", currency="RON"
        ),
        BankAccount(bank_name="ING Bank", bic="INGBROBU", iban="RO66INGB0000999901234567", currency="EUR"),
    ),
)
CLIENT = Party(
    name="Șuțu Ăîâ SRL",
    uid="RO87654321",
    registration_id="J22/987/2019",
    address_lines=("Bd. Ștefan cel Mare 45",),
    city="Iași",
    zip="700064",
    country="România",
    email="contabilitate@sutu.ro",
)


def invoice(positions: int) -> PdfDocument:
    """A Romanian invoice with `positions` lines, one in three wrapping over two lines."""
    lines = tuple(
        Line(
            description=(
                f"Servicii de consultanță IT, etapa {i}: analiză, dezvoltare și testare a modulului de facturare"
                if i % 3 == 0
                else f"Abonament lunar găzduire #{i} (12 € / lună)"
            ),
            unit="ore" if i % 3 == 0 else "buc",
            quantity=Decimal("12.5") if i % 3 == 0 else Decimal(1),
            unit_price=Decimal("150.00"),
            vat_rate=Decimal(19),
            vat_amount=Decimal("356.25") if i % 3 == 0 else Decimal("28.50"),
            line_total=Decimal("1875.00") if i % 3 == 0 else Decimal("150.00"),
        )
        for i in range(1, positions + 1)
    )
    return PdfDocument(
        kind="invoice",
        number="FCT-0042",
        document_date=date(2026, 11, 20),
        due_date=date(2026, 12, 20),
        delivery_date=date(2026, 11, 19),
        issuer=ISSUER,
        client=CLIENT,
        currency="EUR",
        locale="ro",
        lines=lines,
        vat_totals=(VatTotal(rate=Decimal(19), net=Decimal("7500.00"), vat=Decimal("1425.00")),),
        net_total=Decimal("7500.00"),
        vat_total=Decimal("1425.00"),
        grand_total=Decimal("8925.00"),
        total_due=Decimal("8925.00"),
        second_currency=SecondCurrency(
            currency="RON", exchange_rate=Decimal("4.9748"), total=Decimal("44400.09")
        ),
        upper_annotation="Conform contractului nr. 17/2026. Plata în 30 de zile de la emitere.",
        lower_annotation="Factura circulă fără semnătură și ștampilă conform art. 319 alin. (29) din Legea 227/2015.",
        note="Vă mulțumim!",
        display_transport_data=True,
        shipping=Shipping(
            delegate_name="Ion Popescu",
            identity_document="CI IS 123456",
            means_of_transport="Auto",
            means_of_transport_number="IS-12-ABC",
            expedition_time=datetime(2026, 11, 19, 14, 30),
        ),
    )


REPLACEMENTS = {"€": "EUR", "—": "-"}


def latin1(value: Any) -> Any:
    """The same view with every string transliterated to latin-1 (for the core-font run)."""
    if isinstance(value, str):
        return "".join(
            c if ord(c) < 256 else REPLACEMENTS.get(c) or unicodedata.normalize("NFKD", c)[0] for c in value
        )
    if isinstance(value, tuple):
        return tuple(latin1(item) for item in value)
    if is_dataclass(value) and not isinstance(value, type):
        return replace(value, **{f.name: latin1(getattr(value, f.name)) for f in fields(value)})
    return value


def pages(pdf: bytes) -> int:
    return pdf.count(b"/Type /Page\n")


def with_pages(count: int) -> PdfDocument:
    """The invoice with the fewest positions that fills `count` pages."""
    positions = 1
    while pages(render_pdf(invoice(positions * 2))) <= count:
        positions *= 2
    low, high = positions, positions * 2  # pages(low) <= count < pages(high)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (middle, high) if pages(render_pdf(invoice(middle))) <= count else (low, middle)
    return invoice(low)


def timed(render: Callable[[], bytes]) -> float:
    """Milliseconds taken by one call of `render`."""
    start = time.perf_counter()
    render()
    return (time.perf_counter() - start) * 1000


def main() -> None:
    start = time.perf_counter()
    render_pdf(invoice(1))
    print(f"first TTF render (loads the fonts): {(time.perf_counter() - start) * 1000:7.1f} ms")

    one_page, ten_pages = with_pages(1), with_pages(10)
    one_page_core = latin1(one_page)
    latin1_texts = {key: latin1(texts) for key, texts in TEXTS.items()}
    with patch.dict(TEXTS, latin1_texts):
        assert pages(render_pdf(one_page_core, embed_font=False)) == 1
    assert pages(render_pdf(ten_pages)) == 10
    core_timings, ttf_timings = [], []
    for _ in range(50):  # interleaved, so that load changes on the machine hit both alike
        with patch.dict(TEXTS, latin1_texts):
            core_timings.append(timed(lambda: render_pdf(one_page_core, embed_font=False)))
        ttf_timings.append(timed(lambda: render_pdf(one_page)))
    core, ttf = statistics.median(core_timings), statistics.median(ttf_timings)
    ttf_ten = statistics.median(timed(lambda: render_pdf(ten_pages)) for _ in range(15))
    print(f"core font, 1 page ({len(one_page.lines)} positions):   {core:7.1f} ms")
    print(f"TTF,       1 page ({len(one_page.lines)} positions):   {ttf:7.1f} ms")
    print(f"TTF,      10 pages ({len(ten_pages.lines)} positions): {ttf_ten:7.1f} ms")
    print(f"TTF / core (1 page):  {ttf / core:5.2f}")
    print(f"10 pages / 1 page:    {ttf_ten / ttf:5.2f}")


if __name__ == "__main__":
    main()
