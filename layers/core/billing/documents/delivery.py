"""Which PDF of a document is served, e-mailed or archived, and how it leaves.

- Archived: once the issuance workflow stored the PDF of the document's current issue version
  (`pdf_key`, set by its store step), that file is the document: downloads and e-mails use its
  stored bytes, never a new render (an issued document prints what was issued, even if its
  presentation fields change later).
- On demand: before that (draft, issuance pending, started or failed) the PDF is rendered from
  the stored document for each request.
- Size: a PDF larger than PDF_REDIRECT_BYTES (billing.config) is not sent inline; the answer is
  a redirect to a presigned S3 URL valid two minutes (an on-demand render that large is first
  kept under the tenant's previews/ prefix, which expires).

The PDF code (fpdf2, fonts) is imported inside `render`, never when this module is imported.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import quote

from billing.config import settings
from billing.documents.mailer import attachment_name
from billing.domain.documents import Document, DocumentKind
from billing.domain.states import DocumentState
from billing.store import files


@dataclass(frozen=True)
class PdfDownload:
    disposition: str
    """Content-Disposition value: inline; filename="<number>.pdf" (+ filename* when needed)."""
    body: bytes | None
    """The PDF, when it is answered inline."""
    location: str | None
    """A presigned URL, when the PDF is too large to answer inline."""
    sha256: str | None
    archived: bool


def content_disposition(number: str, disposition: str = "inline") -> str:
    """RFC 6266: an ASCII filename, plus filename* (UTF-8) when the number has other characters."""
    fallback = attachment_name(number)
    value = f'{disposition}; filename="{fallback}"'
    full = f"{number.strip() or 'document'}.pdf"
    if full != fallback:
        value += f"; filename*=UTF-8''{quote(full, safe='')}"
    return value


def archived_key(tenant_id: int, kind: DocumentKind, doc: Document) -> str | None:
    """The archived PDF of the document's current issue version, if the workflow stored it."""
    if not doc.pdf_key or doc.document_state is DocumentState.DRAFT:
        return None
    expected = files.archive_key(tenant_id, kind.value, doc.id, doc.issue_version)
    return doc.pdf_key if doc.pdf_key == expected else None


def reversed_number(tenant_id: int, doc: Document) -> str | None:
    if doc.reversed_document_id is None:
        return None
    from billing.store.documents import DOCUMENTS

    item = DOCUMENTS[DocumentKind.INVOICE].get_item(tenant_id, doc.reversed_document_id)
    number = item.get("document_number") if item else None
    return str(number) if number else None


def render(tenant_id: int, kind: DocumentKind, doc: Document) -> bytes:
    """A fresh render of the stored document."""
    from billing.documents.mapping import to_pdf_document
    from billing.documents.pdf import render_pdf

    return render_pdf(to_pdf_document(kind, doc, reversed_document_number=reversed_number(tenant_id, doc)))


def pdf_bytes(tenant_id: int, kind: DocumentKind, doc: Document) -> bytes:
    """The PDF to attach to an e-mail: the archived file, else a render."""
    key = archived_key(tenant_id, kind, doc)
    return files.read(key) if key else render(tenant_id, kind, doc)


def download(
    tenant_id: int, kind: DocumentKind, doc: Document, *, max_inline: int | None = None
) -> PdfDownload:
    """The PDF answer for GET …/<id>.pdf and the share page's PDF link."""
    limit = settings().pdf_redirect_bytes if max_inline is None else max_inline
    disposition = content_disposition(doc.document_number or str(doc.id))
    key = archived_key(tenant_id, kind, doc)
    if key is not None:
        found = files.fetch(key, max_inline=limit)
        if found.body is not None:
            return PdfDownload(disposition, found.body, None, found.sha256, archived=True)
        url = files.presigned_get(key, filename_header=disposition)
        return PdfDownload(disposition, None, url, found.sha256, archived=True)
    pdf = render(tenant_id, kind, doc)
    sha256 = files.sha256_hex(pdf)
    if len(pdf) <= limit:
        return PdfDownload(disposition, pdf, None, sha256, archived=False)
    preview = files.preview_key(tenant_id, kind.value, doc.id, sha256)
    files.put_preview(preview, pdf)
    return PdfDownload(
        disposition, None, files.presigned_get(preview, filename_header=disposition), sha256, archived=False
    )
