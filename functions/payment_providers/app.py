"""Invoicing API v1: the merchant's payment providers, i.e. the signing secrets with which
Factura verifies the providers' payment webhooks (`POST /webhooks/payments/{provider}/{tenant}`,
served by the provider-webhooks function). docs/payment-providers.md.

    GET    /api/v1/payment_providers/{standard|stripe}.xml|.json   configured?, webhook_url
    POST   …                                                       new secret (shown once; 201 when first)
    PUT    …  {"payment_provider": {"secret": "whsec_…"}}          store a secret the provider issued
    DELETE …                                                       remove (its webhooks then get 404)

POST and PUT take `?overlap_seconds=N` (default 86400, at most 7 days, 0 = at once): how long
the replaced secret still verifies, while the provider switches over."""

from __future__ import annotations

import time
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from billing.domain.errors import NotFound, ValidationFailed
from billing.http.api import Api
from billing.payments.providers import Provider, check_signing_secret, provider_named
from billing.payments.webhooks import DEFAULT_OVERLAP_SECONDS, MAX_OVERLAP_SECONDS
from billing.store.provider_secrets import provider_secrets
from billing.wire.codec import Format, split_format
from billing.wire.views.payment_providers import payment_provider

api = Api()
ROOT = "payment_provider"


def _provider(ref: str) -> tuple[Provider, Format]:
    name, fmt = split_format(ref)
    provider = provider_named(name)
    if provider is None:
        raise NotFound(f"no payment provider '{name[:40]}' (known: {', '.join(p.value for p in Provider)})")
    return provider, fmt or Format.XML


def _overlap() -> int:
    raw = api.query("overlap_seconds")
    if raw is None:
        return DEFAULT_OVERLAP_SECONDS
    if not raw.isascii() or not raw.isdigit() or int(raw) > MAX_OVERLAP_SECONDS:
        raise ValidationFailed(f"overlap_seconds must be a whole number from 0 to {MAX_OVERLAP_SECONDS}")
    return int(raw)


def _view(
    provider: Provider, fmt: Format, status: int = HTTPStatus.OK, secret: str | None = None
) -> Response[Any]:
    tenant_id = api.principal.tenant_id
    signing = provider_secrets.read(tenant_id, provider.value)
    url = f"{api.base_url()}/webhooks/payments/{provider.value}/{tenant_id}"
    return api.respond(
        fmt, ROOT, payment_provider(provider, signing, url, now=time.time(), secret=secret), status
    )


@api.route("/api/v1/payment_providers/<ref>", "GET")
def get_provider(ref: str) -> Response[Any]:
    provider, fmt = _provider(ref)
    return _view(provider, fmt)


@api.route("/api/v1/payment_providers/<ref>", "POST")
def new_secret(ref: str) -> Response[Any]:
    provider, fmt = _provider(ref)
    overlap = _overlap()
    signing, created = provider_secrets.replace(
        api.principal.tenant_id, provider.value, secret=None, overlap_seconds=overlap, now=time.time()
    )
    return _view(provider, fmt, HTTPStatus.CREATED if created else HTTPStatus.OK, secret=signing.current)


@api.route("/api/v1/payment_providers/<ref>", "PUT")
def set_secret(ref: str) -> Response[Any]:
    provider, fmt = _provider(ref)
    overlap = _overlap()
    secret = check_signing_secret(provider, api.payload(ROOT).get("secret"))
    provider_secrets.replace(
        api.principal.tenant_id, provider.value, secret=secret, overlap_seconds=overlap, now=time.time()
    )
    return _view(provider, fmt)


@api.route("/api/v1/payment_providers/<ref>", "DELETE")
def delete_provider(ref: str) -> Response[Any]:
    provider, fmt = _provider(ref)
    if not provider_secrets.delete(api.principal.tenant_id, provider.value):
        raise NotFound(f"payment provider {provider.value} is not configured")
    return _view(provider, fmt)


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handler(event, context)
