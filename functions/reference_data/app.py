"""Invoicing API v1: currencies and countries (ISO data, the same for every tenant)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from billing.domain import reference_data
from billing.domain.errors import NotFound
from billing.http.api import Api
from billing.wire.codec import Format, split_format
from billing.wire.views import account as views

api = Api()


def _lookup_ref(ref: str) -> tuple[str, Format]:
    key, fmt = split_format(ref)
    if not key:
        raise NotFound("empty reference")
    return key, fmt or Format.XML


@api.route("/api/v1/currencies.{fmt}", "GET")
def list_currencies(fmt: Format) -> Response[Any]:
    return api.respond(fmt, "currencies", [views.currency_view(c) for c in reference_data.currencies()])


@api.route("/api/v1/currencies/<ref>", "GET")
def get_currency(ref: str) -> Response[Any]:
    key, fmt = _lookup_ref(ref)
    return api.respond(fmt, "currency", views.currency_view(reference_data.currency(key)))


@api.route("/api/v1/countries.{fmt}", "GET")
def list_countries(fmt: Format) -> Response[Any]:
    return api.respond(fmt, "countries", [views.country_view(c) for c in reference_data.countries()])


@api.route("/api/v1/countries/<ref>", "GET")
def get_country(ref: str) -> Response[Any]:
    key, fmt = _lookup_ref(ref)
    return api.respond(fmt, "country", views.country_view(reference_data.country(key)))


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handler(event, context)
