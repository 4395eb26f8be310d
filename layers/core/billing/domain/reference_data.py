"""Currencies and countries, from the ISO 4217 / ISO 3166 data maintained by pycountry.

Their v1 ids are the ISO numeric codes (EUR = 978, RON = 946, Romania = 642): stable, public,
and the same for every tenant and every deployment."""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

import pycountry

from billing.domain.errors import NotFound, ValidationFailed


@dataclass(frozen=True)
class Currency:
    id: int
    iso_name: str
    name: str


@dataclass(frozen=True)
class Country:
    id: int
    iso: str
    name: str


@lru_cache(maxsize=1)
def currencies() -> tuple[Currency, ...]:
    found = (Currency(int(c.numeric), c.alpha_3, c.name) for c in pycountry.currencies)
    return tuple(sorted(found, key=lambda c: c.iso_name))


@lru_cache(maxsize=1)
def countries() -> tuple[Country, ...]:
    found = (Country(int(c.numeric), c.alpha_2, c.name) for c in pycountry.countries)
    return tuple(sorted(found, key=lambda c: c.name))


@lru_cache(maxsize=1)
def _currency_index() -> dict[str, Currency]:
    index = {str(c.id): c for c in currencies()}
    index.update({c.iso_name: c for c in currencies()})
    return index


@lru_cache(maxsize=1)
def _country_index() -> dict[str, Country]:
    index = {str(c.id): c for c in countries()}
    index.update({c.iso: c for c in countries()})
    return index


def currency(ref: int | str) -> Currency:
    """By numeric id or ISO code ("978" or "EUR")."""
    found = _currency_index().get(str(ref).strip().upper())
    if found is None:
        raise NotFound(f"currency {ref} not found")
    return found


def country(ref: int | str) -> Country:
    """By numeric id or ISO alpha-2 code ("642" or "RO")."""
    found = _country_index().get(str(ref).strip().upper())
    if found is None:
        raise NotFound(f"country {ref} not found")
    return found


def known_currency(ref: int | str, field: str) -> Currency:
    """For validating a payload's currency reference: an unknown one is a 422 naming the field."""
    try:
        return currency(ref)
    except NotFound:
        raise ValidationFailed(f"{field} '{ref}' is not a known currency") from None


def known_country(ref: int | str, field: str) -> Country:
    try:
        return country(ref)
    except NotFound:
        raise ValidationFailed(f"{field} '{ref}' is not a known country") from None
