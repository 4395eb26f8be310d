"""B2B Billing API v1 (`/billing/b2b/v1/*`): status, billing accounts, bills, search, reports and
snapshots.

Every route needs an access token and the client's API key (billing.http.b2b_auth), status
included: it returns no tenant data, but the reference lists it among the API's resources, and
an unauthenticated probe would let anyone learn the service and its version. Every authenticated
call also counts against the client's rate limits (429 + Retry-After past them).

Billing accounts are the merchant's clients, limited to the caller's scope (outside it: 404);
their JSON shape is in billing.wire.b2b. Listing reads the scope's accounts from the tenant's
client partition (Query page by page, or BatchGetItem for a list scope or an `id=` filter) and
filters, sorts and windows them in memory.

Bills are the merchant's issued invoices and credit notes (billing.wire.b2b_bills), read from
the bill index (billing.store.bills; costs and totals in docs/b2b-bills.md), limited to the
caller's scope like billing accounts:

- GET  /bills, /bills/{id}: collection (offset, limit, sort, URL filters on every bill field,
  X-Total-Count / X-Result-Count) and one bill;
- POST /search: the same collection, filtered by the JSON query of the body (any Content-Type:
  the reference's own example sends it as curl -d does, form-encoded); URL filters, if any, are
  ANDed with it; offset, limit and sort stay in the URL;
- GET  /reports: the reports of the bills the same parameters select (one charges report per
  bill), /reports/{name}: one report, as CSV or as the bill's PDF by Accept (406 otherwise);
  large files are a 302 to a presigned URL (billing.documents.b2b_reports, docs/b2b-reports.md);
- GET  /snapshots?groupBy=…: bill counts per value of type, state, sendingFormat, currency.id
  (or currency) or customer.id, with the collection filters, sort=key|-key|value|-value,
  offset and limit; a JSON object in the requested order.
"""

from __future__ import annotations

import json
from decimal import Decimal
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from billing.b2b_settings import b2b_settings
from billing.documents import b2b_reports as reports
from billing.domain.b2b_bills import order_snapshot, snapshot_group, snapshot_sort
from billing.domain.b2b_query import And, Node, equality_constraints, parse_filters, parse_search
from billing.domain.b2b_schema import BILL_FIELDS, BILLING_ACCOUNT_FIELDS
from billing.domain.errors import MalformedInput, NotFound
from billing.domain.records import utc_now
from billing.http.b2b_auth import B2bCaller, authenticate_b2b
from billing.http.b2b_listing import (
    CollectionQuery,
    collection_query,
    collection_response,
    select,
    single_param,
    window,
)
from billing.http.json_api import JsonApi
from billing.store.accounts import Accounts
from billing.store.billing_accounts import billing_accounts
from billing.store.bills import bills
from billing.wire import b2b as views

logger = Logger()
api: JsonApi[B2bCaller] = JsonApi(authenticate=authenticate_b2b)
accounts = Accounts()

API_NAME = "Factura B2B Billing API"
API_VERSION = "1.0"
MAX_SEARCH_BODY = 64 * 1024
SNAPSHOT_RESERVED = frozenset({"groupBy", "offset", "limit", "sort"})


@api.route("/billing/b2b/v1/status", "GET")
def status() -> Response[Any]:
    return api.respond(
        {"status": "ok", "name": API_NAME, "version": API_VERSION, "time": views.timestamp(utc_now())}
    )


# -- billing accounts ---------------------------------------------------------------------------


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
    client = billing_accounts.get(caller.tenant_id, caller.scope, _record_id(account_id, "billing account"))
    return api.respond(views.billing_account(client, accounts.get_account(caller.tenant_id).currency))


def _pinned_ids(node: Node | None) -> set[int] | None:
    """The client ids an `id=` filter allows, so they are read by key instead of listed."""
    values = equality_constraints(node).get("id") if node is not None else None
    if values is None:
        return None
    return {int(v) for v in values if isinstance(v, str) and v.isascii() and v.isdigit() and len(v) <= 19}


# -- bills ----------------------------------------------------------------------------------------


@api.route("/billing/b2b/v1/bills", "GET")
def list_bills() -> Response[Any]:
    query = collection_query(api, BILL_FIELDS)
    return collection_response(api, *_select_bills(query))


@api.route("/billing/b2b/v1/bills/<bill_id>", "GET")
def get_bill(bill_id: str) -> Response[Any]:
    caller = api.caller
    return api.respond(bills.get(caller.tenant_id, caller.scope, _record_id(bill_id, "bill")))


@api.route("/billing/b2b/v1/search", "POST")
def search_bills() -> Response[Any]:
    query = collection_query(api, BILL_FIELDS)
    body = parse_search(_search_document(), BILL_FIELDS)
    node: Node = body if query.filter is None else And((query.filter, body))
    return collection_response(api, *_select_bills(_with_filter(query, node)))


def _select_bills(query: CollectionQuery) -> tuple[list[dict[str, Any]], int]:
    caller = api.caller
    return bills.select(caller.tenant_id, caller.scope, query.filter, query.sort, query.offset, query.limit)


def _with_filter(query: CollectionQuery, node: Node) -> CollectionQuery:
    return CollectionQuery(filter=node, sort=query.sort, offset=query.offset, limit=query.limit)


def _search_document() -> Any:
    """The JSON query of a search body, decoded (numbers with a fraction as Decimal)."""
    raw = api.raw_body()
    if len(raw) > MAX_SEARCH_BODY:
        raise MalformedInput(f"the search query is larger than {MAX_SEARCH_BODY} bytes")
    if not raw.strip():
        raise MalformedInput(
            'a JSON query is required in the body, e.g. {"type": "invoice"}; {} matches every bill'
        )
    try:
        return json.loads(raw.decode("utf-8-sig"), parse_float=Decimal, parse_constant=_no_constant)
    except RecursionError:
        raise MalformedInput("the search query is nested too deeply") from None
    except (UnicodeDecodeError, ValueError) as error:
        raise MalformedInput(f"the search query is not valid JSON: {error}") from None


def _no_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


# -- reports --------------------------------------------------------------------------------------


@api.route("/billing/b2b/v1/reports", "GET")
def list_reports() -> Response[Any]:
    query = collection_query(api, BILL_FIELDS)
    items, total = _select_bills(query)
    return collection_response(api, [reports.report_descriptor(view) for view in items], total)


@api.route("/billing/b2b/v1/reports/<name>", "GET")
def get_report(name: str) -> Response[Any]:
    caller = api.caller
    request = reports.parse_report_name(name)
    offered = (request.media_type,) if request.media_type else reports.FORMATS
    media_type = reports.negotiate(api.header("accept"), offered)
    bills.get(caller.tenant_id, caller.scope, request.bill_id)  # 404 outside the scope
    document = _invoice(caller.tenant_id, request.bill_id)
    filename = reports.filename(request.bill_id, media_type)
    disposition = f'attachment; filename="{filename}"'
    if media_type == reports.PDF:
        return _pdf(caller.tenant_id, document, disposition)
    reversed_number = _reversed_number(caller.tenant_id, document)
    body = reports.charges_csv(document, reversed_number=reversed_number)
    settings = b2b_settings()
    if len(body) > settings.file_redirect_bytes:
        from billing.store import report_files

        key = report_files.report_key(caller.tenant_id, request.bill_id, body)
        report_files.put_report(key, body, reports.CSV_CONTENT_TYPE)
        url = report_files.presigned_download(
            key, content_type=reports.CSV_CONTENT_TYPE, disposition=disposition, seconds=settings.file_url_ttl
        )
        return _redirect(url, len(body))
    return Response(
        status_code=HTTPStatus.OK,
        content_type=reports.CSV_CONTENT_TYPE,
        body=body.decode("utf-8"),
        headers={"Content-Disposition": disposition},
    )


def _invoice(tenant_id: int, bill_id: int) -> Any:
    from billing.domain.documents import DocumentKind
    from billing.store.documents import DOCUMENTS

    try:
        return DOCUMENTS[DocumentKind.INVOICE].get(tenant_id, bill_id)
    except NotFound:
        raise NotFound(f"bill {bill_id} not found") from None


def _reversed_number(tenant_id: int, document: Any) -> str | None:
    """The printed number of the invoice a credit note reverses, when it still exists."""
    if document.reversed_document_id is None:
        return None
    from billing.domain.documents import DocumentKind
    from billing.store.documents import DOCUMENTS

    item = DOCUMENTS[DocumentKind.INVOICE].get_item(tenant_id, document.reversed_document_id)
    if item is None or not item.get("document_number"):
        return None
    return str(item["document_number"])


def _pdf(tenant_id: int, document: Any, disposition: str) -> Response[Any]:
    """The bill's PDF: the archived file of its issue when there is one, else rendered now."""
    from billing.domain.documents import DocumentKind
    from billing.store import files

    settings = b2b_settings()
    stored = _archived(document.pdf_key, settings.file_redirect_bytes) if document.pdf_key else None
    if stored is not None:
        if stored.body is None:
            url = files.presigned_get(stored.key, filename_header=disposition, seconds=settings.file_url_ttl)
            return _redirect(url, stored.size)
        pdf = stored.body
    else:
        from billing.documents.mapping import to_pdf_document
        from billing.documents.pdf import render_pdf

        view = to_pdf_document(
            DocumentKind.INVOICE, document, reversed_document_number=_reversed_number(tenant_id, document)
        )
        pdf = render_pdf(view)
        if len(pdf) > settings.file_redirect_bytes:
            key = files.preview_key(tenant_id, DocumentKind.INVOICE.value, document.id, files.sha256_hex(pdf))
            files.put_preview(key, pdf)
            url = files.presigned_get(key, filename_header=disposition, seconds=settings.file_url_ttl)
            return _redirect(url, len(pdf))
    return Response(
        status_code=HTTPStatus.OK,
        content_type=reports.PDF,
        body=pdf,
        headers={"Content-Disposition": disposition},
    )


def _archived(key: str, max_inline: int) -> Any:
    """The archived PDF (its body when small enough), or None when the object is not there."""
    from billing.store import files
    from botocore.exceptions import ClientError

    try:
        return files.fetch(key, max_inline=max_inline)
    except ClientError as error:
        if error.response.get("Error", {}).get("Code") not in ("NoSuchKey", "404"):
            raise
        logger.warning("archived PDF missing; rendering it", extra={"key": key})
        return None


def _redirect(url: str, size: int) -> Response[Any]:
    """302 to a presigned URL; the body says the same for clients that do not follow redirects."""
    return api.respond(
        {"location": url, "expiresIn": b2b_settings().file_url_ttl, "size": size},
        HTTPStatus.FOUND,
        {"Location": url, "Cache-Control": "no-store"},
    )


# -- snapshots ------------------------------------------------------------------------------------


@api.route("/billing/b2b/v1/snapshots", "GET")
def snapshots() -> Response[Any]:
    caller = api.caller
    params = api.query_params()
    group = snapshot_group(single_param(params, "groupBy"))
    node = parse_filters(params, BILL_FIELDS, SNAPSHOT_RESERVED)
    sort = snapshot_sort(single_param(params, "sort"))
    offset, limit = window(params)
    counts = bills.snapshot(caller.tenant_id, caller.scope, node, group)
    ordered = order_snapshot(counts, sort)
    page = ordered[offset : offset + limit]
    return api.respond(
        dict(page), headers={"X-Total-Count": str(len(ordered)), "X-Result-Count": str(len(page))}
    )


# -- plumbing -------------------------------------------------------------------------------------


def _record_id(text: str, what: str) -> int:
    if not text.isascii() or not text.isdigit() or len(text) > 19 or int(text) == 0:
        raise NotFound(f"{what} {text[:40]} not found")
    return int(text)


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handler(event, context)
