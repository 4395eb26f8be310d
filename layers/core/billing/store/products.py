"""Products of a tenant (a plain `Records`; deleting a product leaves documents untouched, as
their positions keep their own copy of the product's data)."""

from __future__ import annotations

from billing.domain.products import SEARCH_FIELDS, Product
from billing.store.records import Records

products: Records[Product] = Records("product", Product, searchable=tuple(SEARCH_FIELDS))
