"""Invoicing API v1: clients (§7.7), their field search (§7.7.1) and the client sheet (§7.7.2)."""

from __future__ import annotations

from typing import Any, cast

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from billing.domain.clients import SEARCH_FIELDS, Client, ClientCreate, ClientUpdate
from billing.domain.errors import NotFound
from billing.domain.records import Record
from billing.http.api import Api, parse_ref
from billing.http.listing import list_response, page_headers, page_size, search_response
from billing.store.clients import clients
from billing.wire.codec import Format
from billing.wire.views import clients as views

api = Api()


def _view(record: Record) -> dict[str, Any]:
    return views.client(cast(Client, record))


@api.route("/api/v1/clients.{fmt}", "GET")
def list_clients(fmt: Format) -> Response[Any]:
    return list_response(api, fmt, "clients", clients, views.client)


@api.route("/api/v1/clients.{fmt}", "POST")
def create_client(fmt: Format) -> Response[Any]:
    fields = api.parse("client", ClientCreate).changes()
    record = clients.insert(api.principal.tenant_id, lambda new_id: Client(id=new_id, **fields))
    return api.created(fmt, "client", views.client(record), f"/api/v1/clients/{record.id}")


@api.route("/api/v1/clients/search.{fmt}", "GET")
def search_clients(fmt: Format) -> Response[Any]:
    return search_response(api, fmt, "clients", clients, SEARCH_FIELDS, _view)


@api.route("/api/v1/clients/<ref>", "GET")
def get_client(ref: str) -> Response[Any]:
    client_id, fmt = parse_ref(ref)
    return api.respond(fmt, "client", views.client(clients.get(api.principal.tenant_id, client_id)))


@api.route("/api/v1/clients/<ref>", "PUT")
def update_client(ref: str) -> Response[Any]:
    client_id, fmt = parse_ref(ref)
    changes = api.parse("client", ClientUpdate).changes()
    record = clients.update(api.principal.tenant_id, client_id, changes)
    return api.respond(fmt, "client", views.client(record))


@api.route("/api/v1/clients/<ref>", "DELETE")
def delete_client(ref: str) -> Response[Any]:
    client_id, fmt = parse_ref(ref)
    tenant = api.principal.tenant_id
    record = clients.get(tenant, client_id)
    clients.delete(tenant, client_id)
    return api.respond(fmt, "client", views.client(record))


@api.route("/api/v1/clients/<ref>/sheet.{fmt}", "GET")
def get_client_sheet(fmt: Format, ref: str) -> Response[Any]:
    """The client's invoices (a page, like listings: per_page, cursor, Link) with their payments,
    dues per currency and recurring invoices (billing.store.client_sheets)."""
    from billing.store.client_sheets import client_sheet
    from billing.wire.views.client_sheet import client_sheet as sheet_view

    if not ref.isdigit():
        raise NotFound(f"no record '{ref}'")
    client_id, _ = parse_ref(ref)
    sheet = client_sheet(api.principal.tenant_id, client_id, limit=page_size(api), cursor=api.query("cursor"))
    return api.respond(
        fmt,
        "client",
        sheet_view(sheet.client, sheet.invoices, sheet.dues),
        headers=page_headers(api, sheet.cursor),
    )


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handler(event, context)
