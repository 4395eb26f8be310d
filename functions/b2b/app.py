"""B2B Billing API v1 (`/billing/b2b/v1/*`): service status and billing accounts.

Every route needs an access token and the client's API key (billing.http.b2b_auth), status
included: it returns no tenant data, but the reference lists it among the API's resources, and
an unauthenticated probe would let anyone learn the service and its version. Billing accounts
are the merchant's clients, limited to the caller's scope (outside it: 404); their JSON shape is
in billing.wire.b2b.

Listing reads the scope's accounts from the tenant's client partition (Query page by page, or
BatchGetItem for a list scope or an `id=` filter) and filters, sorts and windows them in memory.
"""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from billing.domain.b2b_query import Node, equality_constraints
from billing.domain.b2b_schema import BILLING_ACCOUNT_FIELDS
from billing.domain.errors import NotFound
from billing.domain.records import utc_now
from billing.http.b2b_auth import B2bCaller, authenticate_b2b
from billing.http.b2b_listing import collection_query, collection_response, select
from billing.http.json_api import JsonApi
from billing.store.accounts import Accounts
from billing.store.billing_accounts import billing_accounts
from billing.wire import b2b as views

api: JsonApi[B2bCaller] = JsonApi(authenticate=authenticate_b2b)
accounts = Accounts()

API_NAME = "Factura B2B Billing API"
API_VERSION = "1.0"


@api.route("/billing/b2b/v1/status", "GET")
def status() -> Response[Any]:
    return api.respond(
        {"status": "ok", "name": API_NAME, "version": API_VERSION, "time": views.timestamp(utc_now())}
    )


@api.route("/billing/b2b/v1/billingAccounts", "GET")
def list_billing_accounts() -> Response[Any]:
    caller = api.caller
    query = collection_query(api, BILLING_ACCOUNT_FIELDS)
    currency = accounts.get_account(caller.tenant_id).currency
    clients = billing_accounts.in_scope(caller.tenant_id, caller.scope, _pinned_ids(query.filter))
    items, total = select((views.billing_account(client, currency) for client in clients), query)
    return collection_response(api, items, total)


@api.route("/billing/b2b/v1/billingAccounts/<account_id>", "GET")
def get_billing_account(account_id: str) -> Response[Any]:
    caller = api.caller
    if not account_id.isascii() or not account_id.isdigit() or len(account_id) > 19 or int(account_id) == 0:
        raise NotFound(f"billing account {account_id[:40]} not found")
    client = billing_accounts.get(caller.tenant_id, caller.scope, int(account_id))
    return api.respond(views.billing_account(client, accounts.get_account(caller.tenant_id).currency))


def _pinned_ids(node: Node | None) -> set[int] | None:
    """The client ids an `id=` filter allows, so they are read by key instead of listed."""
    values = equality_constraints(node).get("id") if node is not None else None
    if values is None:
        return None
    return {int(v) for v in values if isinstance(v, str) and v.isascii() and v.isdigit() and len(v) <= 19}


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handler(event, context)
