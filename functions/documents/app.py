"""Invoicing API v1: invoices (§7.1), proforma invoices (§7.2), notices (§7.3) and receipts
(§7.4): create, read, list, modify, delete, field search (§7.1.12) and states (§7.1.9).

Invoices are also served under /api/ without v1, as the reference's "alternative for
XML-lovers" and invoice search examples use that base URL."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from billing.domain.documents import SEARCH_FIELDS, DocumentKind
from billing.domain.errors import MethodNotAllowed, NotFound
from billing.domain.states import ACTIONS, DocumentState
from billing.http.api import Api, parse_ref
from billing.http.listing import list_response, search_response
from billing.store.documents import DOCUMENTS, SERVICES, DocumentService
from billing.wire.codec import Format, split_format
from billing.wire.views import documents as views

api = Api()

PREFIXES: dict[DocumentKind, tuple[str, ...]] = {
    DocumentKind.INVOICE: ("/api/v1", "/api"),
    DocumentKind.PROFORMA_INVOICE: ("/api/v1",),
    DocumentKind.NOTICE: ("/api/v1",),
    DocumentKind.RECEIPT: ("/api/v1",),
}


def _record_id(ref: str) -> tuple[int, Format]:
    """The record a `/<plural>/<ref>` path names; `search.xml` is a collection that only reads."""
    if split_format(ref)[0] == "search":
        raise MethodNotAllowed(f"{api.event.http_method} is not allowed on {api.event.path}; allowed: GET")
    return parse_ref(ref)


def _bare_id(ref: str) -> int:
    """The id segment before an action (`/invoices/12/mark_open.xml`)."""
    if not ref.isdigit() or len(ref) > 19 or int(ref) == 0:
        raise NotFound(f"no record '{ref}'")
    return int(ref)


def _routes(kind: DocumentKind, prefix: str, service: DocumentService) -> None:
    root, plural = kind.value, kind.plural
    base = f"{prefix}/{plural}"
    records = DOCUMENTS[kind]

    def view(doc: Any) -> dict[str, Any]:
        return views.document(kind, doc)

    @api.route(f"{base}.{{fmt}}", "GET")
    def list_documents(fmt: Format) -> Response[Any]:
        return list_response(api, fmt, plural, records, view)

    @api.route(f"{base}.{{fmt}}", "POST")
    def create_document(fmt: Format) -> Response[Any]:
        changes = views.parse_changes(kind, api.payload(root), root)
        principal = api.principal
        doc = service.create(principal.tenant_id, principal.user_id, changes)
        return api.created(fmt, root, view(doc), f"{base}/{doc.id}")

    @api.route(f"{base}/search.{{fmt}}", "GET")
    def search_documents(fmt: Format) -> Response[Any]:
        return search_response(api, fmt, plural, records, SEARCH_FIELDS, view)

    @api.route(f"{base}/<ref>", "GET")
    def get_document(ref: str) -> Response[Any]:
        document_id, fmt = _record_id(ref)
        return api.respond(fmt, root, view(service.get(api.principal.tenant_id, document_id)))

    @api.route(f"{base}/<ref>", "PUT")
    def modify_document(ref: str) -> Response[Any]:
        document_id, fmt = _record_id(ref)
        changes = views.parse_changes(kind, api.payload(root), root)
        return api.respond(fmt, root, view(service.modify(api.principal.tenant_id, document_id, changes)))

    @api.route(f"{base}/<ref>", "DELETE")
    def delete_document(ref: str) -> Response[Any]:
        document_id, fmt = _record_id(ref)
        return api.respond(fmt, root, view(service.delete(api.principal.tenant_id, document_id)))

    for action, state in ACTIONS.items():
        _action_route(kind, base, action, state, service)


def _action_route(
    kind: DocumentKind, base: str, action: str, state: DocumentState, service: DocumentService
) -> None:
    @api.route(f"{base}/<ref>/{action}.{{fmt}}", "PUT")
    def change_state(fmt: Format, ref: str) -> Response[Any]:
        # the body is ignored: the reference's PHP sends http_build_query([]), i.e. nothing
        doc = service.transition(api.principal.tenant_id, _bare_id(ref), state)
        return api.respond(fmt, kind.value, views.document(kind, doc))


for _kind, _prefixes in PREFIXES.items():
    for _prefix in _prefixes:
        _routes(_kind, _prefix, SERVICES[_kind])


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handler(event, context)
