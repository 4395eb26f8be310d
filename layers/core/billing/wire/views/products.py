"""v1 representation of a product: the reference's field names, in alphabetical order as Rails'
`to_xml` writes them (`<code></code>` even when empty, `<price type="decimal">12.0</price>`),
with `currency` (the ISO code) beside `currency_id`."""

from __future__ import annotations

from typing import Any

from billing.domain.errors import NotFound
from billing.domain.products import Product
from billing.domain.reference_data import currency


def product(record: Product) -> dict[str, Any]:
    data = record.model_dump()
    data["currency"] = _currency_code(record.currency_id)
    return dict(sorted(data.items()))


def _currency_code(currency_id: int) -> str | None:
    try:
        return currency(currency_id).iso_name
    except NotFound:
        return None
