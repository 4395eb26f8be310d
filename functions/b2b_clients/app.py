"""Invoicing API v1: the merchant's B2B API clients (credentials for the B2B Billing API).

POST creates a client and shows its client_secret and api_key once; DELETE revokes it (the
record stays, with `revoked_at`). See billing.domain.b2b_clients for the scope rules."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from billing.domain.b2b_clients import B2bClientCreate
from billing.http.api import Api, parse_ref
from billing.http.listing import list_response
from billing.store.b2b_clients import b2b_clients
from billing.wire.codec import Format, as_list
from billing.wire.views import b2b_clients as views

api = Api()
ROOT = "b2b_client"


@api.route("/api/v1/b2b_clients.{fmt}", "GET")
def list_b2b_clients(fmt: Format) -> Response[Any]:
    tenant = api.principal.tenant_id
    return list_response(
        api, fmt, "b2b_clients", b2b_clients.records, lambda record: views.b2b_client(tenant, record)
    )


@api.route("/api/v1/b2b_clients.{fmt}", "POST")
def create_b2b_client(fmt: Format) -> Response[Any]:
    payload = api.payload(ROOT)
    if "billing_account_ids" in payload:  # a list in any wire form: [..], ids[]=…, ids[0]=…, <ids>…
        payload["billing_account_ids"] = as_list(
            payload["billing_account_ids"], field=f"{ROOT}.billing_account_ids"
        )
    fields = api.validate(ROOT, B2bClientCreate, payload)
    tenant = api.principal.tenant_id
    issued = b2b_clients.create(tenant, fields)
    return api.created(
        fmt, ROOT, views.issued_b2b_client(tenant, issued), f"/api/v1/b2b_clients/{issued.record.id}"
    )


@api.route("/api/v1/b2b_clients/<ref>", "GET")
def get_b2b_client(ref: str) -> Response[Any]:
    client_id, fmt = parse_ref(ref)
    tenant = api.principal.tenant_id
    return api.respond(fmt, ROOT, views.b2b_client(tenant, b2b_clients.get(tenant, client_id)))


@api.route("/api/v1/b2b_clients/<ref>", "DELETE")
def revoke_b2b_client(ref: str) -> Response[Any]:
    client_id, fmt = parse_ref(ref)
    tenant = api.principal.tenant_id
    return api.respond(fmt, ROOT, views.b2b_client(tenant, b2b_clients.revoke(tenant, client_id)))


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handler(event, context)
