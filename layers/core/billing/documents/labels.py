"""Printed labels of the PDF documents, in Romanian and English.

A Romanian document prints each label in Romanian with its English translation after or under
it, unless `hide_domestic_translations` is set; an English document prints English only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

from billing.documents.view import Locale

# key -> (Romanian, English). Values may hold str.format placeholders.
TEXTS: Final[dict[str, tuple[str, str]]] = {
    "invoice": ("FACTURĂ", "INVOICE"),
    "proforma_invoice": ("FACTURĂ PROFORMA", "PROFORMA INVOICE"),
    "notice": ("AVIZ DE ÎNSOȚIRE", "DELIVERY NOTE"),
    "receipt": ("CHITANȚĂ", "RECEIPT"),
    "issuer": ("Furnizor", "Supplier"),
    "client": ("Cumpărător", "Client"),
    "uid": ("CIF", "Tax ID"),
    "registration_id": ("Nr. Reg. Com.", "Reg. no."),
    "vat_id": ("Cod TVA", "VAT ID"),
    "phone": ("Tel.", "Phone"),
    "email": ("E-mail", "E-mail"),
    "bank": ("Banca", "Bank"),
    "number": ("Seria și numărul", "Number"),
    "document_date": ("Data emiterii", "Issue date"),
    "due_date": ("Data scadenței", "Due date"),
    "delivery_date": ("Data livrării", "Delivery date"),
    "currency": ("Moneda", "Currency"),
    "reversal_of": ("Stornare a facturii {number}", "Reversal of invoice {number}"),
    "col_no": ("Nr.", "No."),
    "col_description": ("Denumirea produselor sau serviciilor", "Description"),
    "col_unit": ("U.M.", "Unit"),
    "col_quantity": ("Cant.", "Qty"),
    "col_unit_price": ("Preț unitar", "Unit price"),
    "col_vat_rate": ("TVA %", "VAT %"),
    "col_vat_amount": ("Valoare TVA", "VAT"),
    "col_total": ("Valoare", "Amount"),
    "vat_rate": ("Cota TVA", "VAT rate"),
    "taxable_amount": ("Bază impozabilă", "Taxable amount"),
    "vat": ("TVA", "VAT"),
    "net_total": ("Total fără TVA", "Total excl. VAT"),
    "vat_total": ("Total TVA", "Total VAT"),
    "grand_total": ("Total", "Total"),
    "total_due": ("Total de plată", "Amount due"),
    "received": ("Suma primită", "Amount received"),
    "second_total": ("Total în {currency}", "Total in {currency}"),
    "exchange_rate": ("Curs valutar", "Exchange rate"),
    "note": ("Observații", "Notes"),
    "shipping": ("Date privind expediția", "Shipping details"),
    "delegate": ("Delegat", "Delegate"),
    "identity_document": ("Act de identitate", "Identity document"),
    "means_of_transport": ("Mijloc de transport", "Means of transport"),
    "expedition_time": ("Data și ora expedierii", "Expedition time"),
    "receipt_body": (
        "Am primit de la {client} suma de {amount} {currency}, reprezentând contravaloarea "
        "facturii {invoice}.",
        "Received from {client} the amount of {amount} {currency}, in payment of invoice {invoice}.",
    ),
    "receipt_body_dated": (
        "Am primit de la {client} suma de {amount} {currency}, reprezentând contravaloarea "
        "facturii {invoice} din {date}.",
        "Received from {client} the amount of {amount} {currency}, in payment of invoice {invoice} "
        "of {date}.",
    ),
    "page_of": ("Pagina {page} din {pages}", "Page {page} of {pages}"),
}


@dataclass(frozen=True, slots=True)
class Labels:
    """The labels of one document: its locale and whether the English translations show."""

    locale: Locale
    hide_translations: bool = False

    def pair(self, key: str, **values: object) -> tuple[str, str | None]:
        """The label in the document language and its English translation (None when not shown)."""
        ro, en = TEXTS[key]
        if self.locale == "en":
            return en.format(**values), None
        show = not self.hide_translations and en != ro
        return ro.format(**values), en.format(**values) if show else None

    def inline(self, key: str, separator: str = " / ", **values: object) -> str:
        """The label followed by its translation on the same line."""
        text, translation = self.pair(key, **values)
        return text if translation is None else f"{text}{separator}{translation}"
