"""B2B Billing API representations: camelCase JSON as in the reference's examples, ids as
strings, nested `{"id": …}` objects for references, timestamps in UTC with milliseconds
("2018-06-20T06:43:32.092Z"). Field names follow `billing.domain.b2b_schema`, so every field a
view writes can be filtered and sorted on.

Billing accounts are the merchant's clients (`billing.domain.clients.Client`):

| field           | from                                                                   |
|-----------------|------------------------------------------------------------------------|
| id              | the client id, as a string                                             |
| name            | the client's name                                                      |
| customer.id     | the client id too: a Factura client is one customer with one account   |
| customer.name   | the client's name                                                      |
| customer.segment| "company" if the client is a company (`is_company`), else "individual" |
| currency.id     | the merchant's home currency (ISO 4217; clients have no currency)      |
| country.id      | the client's country as ISO 3166 alpha-2 ("RO"); null without country  |
| createdAt       | the client's created_at                                                |
| updatedAt       | the client's updated_at                                                |
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from billing.domain.clients import Client
from billing.domain.errors import NotFound
from billing.domain.reference_data import country

COMPANY = "company"
INDIVIDUAL = "individual"


def timestamp(moment: datetime) -> str:
    """ISO 8601 in UTC with milliseconds and "Z"; a naive value is taken as UTC."""
    utc = moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)
    return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}Z"


def billing_account(client: Client, currency: str) -> dict[str, Any]:
    return {
        "id": str(client.id),
        "name": client.name,
        "customer": {
            "id": str(client.id),
            "name": client.name,
            "segment": COMPANY if client.is_company else INDIVIDUAL,
        },
        "currency": {"id": currency},
        "country": _country(client.country_id),
        "createdAt": timestamp(client.created_at),
        "updatedAt": timestamp(client.updated_at),
    }


def _country(country_id: int | None) -> dict[str, str] | None:
    if country_id is None:
        return None
    try:
        return {"id": country(country_id).iso}
    except NotFound:
        return None
