"""v1 representation of a client: the reference's field names, in alphabetical order as Rails'
`to_xml` writes them, with `country` (the country's name) beside `country_id`."""

from __future__ import annotations

from typing import Any

from billing.domain.clients import Client
from billing.domain.errors import NotFound
from billing.domain.reference_data import country


def client(record: Client) -> dict[str, Any]:
    data = record.model_dump()
    data["country"] = _country_name(record.country_id)
    return dict(sorted(data.items()))


def _country_name(country_id: int | None) -> str | None:
    if country_id is None:
        return None
    try:
        return country(country_id).name
    except NotFound:
        return None
