"""Invoicing API v1: the account (read-only) and its branch offices."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from billing.domain.account import BranchOffice, BranchOfficeCreate, BranchOfficeUpdate
from billing.domain.documents import DocumentKind
from billing.http.api import Api, parse_ref
from billing.http.listing import list_response
from billing.store.accounts import Accounts
from billing.store.branch_offices import branch_offices
from billing.store.documents import SERVICES
from billing.wire.codec import Format
from billing.wire.views import account as views

api = Api()
accounts = Accounts()
MAX_BRANCH_OFFICES = 500


@api.route("/api/v1/account.{fmt}", "GET")
def get_account(fmt: Format) -> Response[Any]:
    tenant = api.principal.tenant_id
    offices, _ = branch_offices.page(tenant, limit=MAX_BRANCH_OFFICES)
    total_open, _ = accounts.get_totals(tenant)
    # total_overdue changes with the calendar, not with writes: an index query, no scan
    total_overdue = SERVICES[DocumentKind.INVOICE].overdue_total(tenant, datetime.now(UTC).date())
    return api.respond(
        fmt, "account", views.account(accounts.get_account(tenant), offices, total_open, total_overdue)
    )


@api.route("/api/v1/branch_offices.{fmt}", "GET")
def list_branch_offices(fmt: Format) -> Response[Any]:
    return list_response(api, fmt, "branch_offices", branch_offices, views.branch_office)


@api.route("/api/v1/branch_offices.{fmt}", "POST")
def create_branch_office(fmt: Format) -> Response[Any]:
    fields = api.parse("branch_office", BranchOfficeCreate).changes()
    office = branch_offices.insert(api.principal.tenant_id, lambda new_id: BranchOffice(id=new_id, **fields))
    return api.created(
        fmt, "branch_office", views.branch_office(office), f"/api/v1/branch_offices/{office.id}"
    )


@api.route("/api/v1/branch_offices/<ref>", "GET")
def get_branch_office(ref: str) -> Response[Any]:
    office_id, fmt = parse_ref(ref)
    return api.respond(
        fmt, "branch_office", views.branch_office(branch_offices.get(api.principal.tenant_id, office_id))
    )


@api.route("/api/v1/branch_offices/<ref>", "PUT")
def update_branch_office(ref: str) -> Response[Any]:
    office_id, fmt = parse_ref(ref)
    changes = api.parse("branch_office", BranchOfficeUpdate).changes()
    office = branch_offices.update(api.principal.tenant_id, office_id, changes)
    return api.respond(fmt, "branch_office", views.branch_office(office))


@api.route("/api/v1/branch_offices/<ref>", "DELETE")
def delete_branch_office(ref: str) -> Response[Any]:
    office_id, fmt = parse_ref(ref)
    tenant = api.principal.tenant_id
    office = branch_offices.get(tenant, office_id)
    branch_offices.delete(tenant, office_id)
    return api.respond(fmt, "branch_office", views.branch_office(office))


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handler(event, context)
