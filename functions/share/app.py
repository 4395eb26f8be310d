"""The public share page of a document (reference §7.1.6): `GET /view/{hashcode}` answers a
read-only HTML page of that one document, `GET /view/{hashcode}.pdf` (or `?format=pdf`) its PDF.

No API key: the hashcode is the capability (192 random bits, billing.domain.documents). It is
checked for shape before any lookup, then found through its own item (find_by_hashcode), which
names the one document it opens; an unknown or malformed code is the same 404 page. Nothing
else is reachable from here: no other route, no listing, no other document's data. Every answer
carries the security headers of billing.documents.share_page."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from billing.documents.share_page import HASHCODE, SECURITY_HEADERS, not_found_page, render_page
from billing.domain.errors import BillingError, NotFound
from billing.http.resolver import Resolver

HTML = "text/html; charset=utf-8"


class SharePages(Resolver):
    """Routes of the share page; every error is an HTML page."""

    def _error_response(
        self, status: int, error: BillingError, headers: dict[str, str] | None = None
    ) -> Response[Any]:
        if status == HTTPStatus.NOT_FOUND:
            body = not_found_page()
        else:
            body = f"<!DOCTYPE html><title>{int(status)}</title><p>{HTTPStatus(status).phrase}</p>"
        return Response(
            status_code=status, content_type=HTML, body=body, headers={**SECURITY_HEADERS, **(headers or {})}
        )

    def _challenge(self, error: BillingError) -> str:
        return ""


api = SharePages()


@api.route("/view/<hashcode>", "GET")
def share_page(hashcode: str) -> Response[Any]:
    code, dot, suffix = hashcode.rpartition(".")
    if not dot:
        code, suffix = hashcode, ""
    as_pdf = suffix.lower() == "pdf" or (api.query("format") or "").lower() == "pdf"
    if (suffix and suffix.lower() != "pdf") or not HASHCODE.fullmatch(code):
        raise NotFound("no such document")
    from billing.store.documents import find_by_hashcode

    found = find_by_hashcode(code)
    if found is None or found[2].hashcode != code:
        raise NotFound("no such document")
    kind, tenant_id, doc = found
    if as_pdf:
        from billing.documents.delivery import download

        pdf = download(tenant_id, kind, doc)
        headers = {**SECURITY_HEADERS, "Content-Disposition": pdf.disposition}
        if pdf.location is not None:
            return Response(
                status_code=HTTPStatus.TEMPORARY_REDIRECT,
                headers={**headers, "Location": pdf.location},
                body="",
            )
        return Response(
            status_code=HTTPStatus.OK, content_type="application/pdf", body=pdf.body, headers=headers
        )
    from billing.documents.delivery import reversed_number
    from billing.documents.mapping import to_pdf_document

    view = to_pdf_document(kind, doc, reversed_document_number=reversed_number(tenant_id, doc))
    state = doc.document_state.value if doc.document_state.value in ("draft", "cancelled") else ""
    page = render_page(view, pdf_href=f"{code}.pdf", state=state)
    return Response(status_code=HTTPStatus.OK, content_type=HTML, body=page, headers=dict(SECURITY_HEADERS))


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handler(event, context)
