"""v1 representations of the account, its branch offices, currencies and countries."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from billing.domain.account import Account, BranchOffice
from billing.domain.errors import NotFound
from billing.domain.reference_data import Country, Currency, country
from billing.wire.xml import XmlArray


def branch_office(office: BranchOffice) -> dict[str, Any]:
    return office.model_dump()


def account(
    acct: Account, offices: Iterable[BranchOffice], total_open: Any, total_overdue: Any
) -> dict[str, Any]:
    data = acct.model_dump(exclude={"account_banks"})
    data["company_country"] = _country_name(acct.company_country_id)
    data["total_open"] = total_open
    data["total_overdue"] = total_overdue
    data["branch_offices"] = [branch_office(o) for o in offices]
    data["account_banks"] = XmlArray(
        [
            {
                "name": bank.name,
                "bic": bank.bic,
                "accounts": XmlArray([a.model_dump() for a in bank.accounts], "account"),
            }
            for bank in acct.account_banks
        ],
        "bank",
    )
    return data


def currency_view(cur: Currency) -> dict[str, Any]:
    return {"id": cur.id, "iso_name": cur.iso_name, "name": cur.name}


def country_view(ctry: Country) -> dict[str, Any]:
    return {"id": ctry.id, "name": ctry.name, "iso": ctry.iso}


def _country_name(country_id: int | None) -> str | None:
    if country_id is None:
        return None
    try:
        return country(country_id).name
    except NotFound:
        return None
