"""Invoicing API v1: invoices (§7.1), proforma invoices (§7.2), notices (§7.3) and receipts
(§7.4): create, read, list, modify, delete, field search (§7.1.12) and states (§7.1.9).

Invoices are also served under /api/ without v1, as the reference's "alternative for
XML-lovers" and invoice search examples use that base URL.

PDF (`GET …/[id].pdf`) and e-mail (`PUT …/[id]/email.xml`, §7.1.10): the archived PDF once the
issuance workflow stored it, else a render (billing.documents.delivery); the e-mail through the
same mailer as the workflow's e-mail step (billing.documents.mailer). `PUT …/mark_open.xml` may
carry the same to / cc / bcc / body: the workflow then e-mails the archived PDF. The PDF and
e-mail code is imported inside those routes only (cold start of every other route)."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from billing.domain.documents import SEARCH_FIELDS, DocumentKind
from billing.domain.errors import Conflict, NotAcceptable, NotFound
from billing.domain.states import ACTIONS, DocumentState
from billing.http.api import Api, parse_ref
from billing.http.listing import list_response, search_response
from billing.store.documents import DOCUMENTS, SERVICES, DocumentService
from billing.wire.codec import Format
from billing.wire.views import documents as views

api = Api()

PREFIXES: dict[DocumentKind, tuple[str, ...]] = {
    DocumentKind.INVOICE: ("/api/v1", "/api"),
    DocumentKind.PROFORMA_INVOICE: ("/api/v1",),
    DocumentKind.NOTICE: ("/api/v1",),
    DocumentKind.RECEIPT: ("/api/v1",),
}


def _written_record_id(ref: str) -> tuple[int, Format]:
    """As parse_ref, for writes: they answer in XML or JSON, so a `.pdf` write is refused
    before anything changes (a PDF is only ever read)."""
    document_id, fmt = parse_ref(ref)
    if fmt is Format.PDF:
        raise NotAcceptable("a document is changed through .xml or .json; .pdf only reads it")
    return document_id, fmt


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
        document_id, fmt = parse_ref(ref)
        doc = service.get(api.principal.tenant_id, document_id)
        if fmt is Format.PDF:
            return _pdf_response(kind, api.principal.tenant_id, doc)
        return api.respond(fmt, root, view(doc))

    @api.route(f"{base}/<ref>", "PUT")
    def modify_document(ref: str) -> Response[Any]:
        document_id, fmt = _written_record_id(ref)
        changes = views.parse_changes(kind, api.payload(root), root)
        return api.respond(fmt, root, view(service.modify(api.principal.tenant_id, document_id, changes)))

    @api.route(f"{base}/<ref>", "DELETE")
    def delete_document(ref: str) -> Response[Any]:
        document_id, fmt = _written_record_id(ref)
        return api.respond(fmt, root, view(service.delete(api.principal.tenant_id, document_id)))

    for action, state in ACTIONS.items():
        _action_route(kind, base, action, state, service)

    @api.route(f"{base}/<ref>/email.{{fmt}}", "PUT")
    def email_document(fmt: Format, ref: str) -> Response[Any]:
        from billing.documents import delivery, mailer
        from billing.store.document_marks import set_flag

        tenant_id = api.principal.tenant_id
        doc = service.get(tenant_id, _bare_id(ref))
        request = mailer.parse_email_request(api.body(), default_to=doc.client_email)
        mailer.send(kind, doc, delivery.pdf_bytes(tenant_id, kind, doc), request)
        if set_flag(tenant_id, kind.value, doc.id, "flag_sent_by_email"):
            doc = service.get(tenant_id, doc.id)
        return api.respond(fmt, root, view(doc))


def _action_route(
    kind: DocumentKind, base: str, action: str, state: DocumentState, service: DocumentService
) -> None:
    @api.route(f"{base}/<ref>/{action}.{{fmt}}", "PUT")
    def change_state(fmt: Format, ref: str) -> Response[Any]:
        # the body is ignored (the reference's PHP sends http_build_query([]), i.e. nothing),
        # except e-mail parameters on mark_open, which ask the issuance to e-mail the PDF
        tenant_id, document_id = api.principal.tenant_id, _bare_id(ref)
        email = _issue_email(service, tenant_id, document_id) if state is DocumentState.OPEN else None
        doc = service.transition(tenant_id, document_id, state, email=email)
        return api.respond(fmt, kind.value, views.document(kind, doc))


_EMAIL_PARAMS = frozenset({"to", "cc", "bcc", "body", "subject", "email"})


def _issue_email(service: DocumentService, tenant_id: int, document_id: int) -> dict[str, Any] | None:
    """The e-mail request sent with mark_open (validated now, sent by the workflow), if any."""
    if not api.event.body:
        return None
    params = api.body()
    if not _EMAIL_PARAMS.intersection(params):
        return None
    from billing.documents.mailer import parse_email_request

    doc = service.get(tenant_id, document_id)
    return parse_email_request(params, default_to=doc.client_email).model_dump(mode="json")


def _pdf_response(kind: DocumentKind, tenant_id: int, doc: Any) -> Response[Any]:
    """The document's PDF (billing.documents.delivery): inline, or a redirect to a presigned
    URL when large; sets flag_downloaded_pdf."""
    from billing.documents.delivery import download
    from billing.store.document_marks import set_flag

    pdf = download(tenant_id, kind, doc)
    try:
        set_flag(tenant_id, kind.value, doc.id, "flag_downloaded_pdf")
    except Conflict:  # lost every race for the flag: the download itself still stands
        Logger().warning("flag_downloaded_pdf not set", extra={"document_id": doc.id})
    headers = {"Content-Disposition": pdf.disposition, "Cache-Control": "private, no-store"}
    if pdf.sha256:
        headers["ETag"] = f'"{pdf.sha256}"'
    if pdf.location is not None:
        headers["Location"] = pdf.location
        return Response(status_code=HTTPStatus.TEMPORARY_REDIRECT, headers=headers, body="")
    return Response(
        status_code=HTTPStatus.OK, content_type=Format.PDF.content_type, body=pdf.body, headers=headers
    )


for _kind, _prefixes in PREFIXES.items():
    for _prefix in _prefixes:
        _routes(_kind, _prefix, SERVICES[_kind])


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handler(event, context)
