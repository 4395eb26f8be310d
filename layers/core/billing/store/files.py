"""Document PDFs in the files bucket (private, versioned, SSE-KMS by default).

Keys, all under the tenant's prefix (IAM policies are scoped to `tenants/*`):

| object | key | written by |
|---|---|---|
| archived PDF of an issued document | `tenants/<t>/documents/<kind>/<id>/v<issue version>.pdf` | the issuance workflow, once |
| on-demand render too large to answer inline | `tenants/<t>/previews/<kind>/<id>/<sha256>.pdf` | the .pdf routes |

An archive is written at most once per key: `put_once` sends `If-None-Match: *`, so a retried
or repeated store step gets 412 and reads back the object already there (its SHA-256 is in the
object's metadata) instead of writing a second version. Objects carry ContentType
application/pdf, SSE (aws:kms), a SHA-256 checksum S3 verifies on upload, and metadata naming
the document (tenant, kind, document id, version, sha256).

Downloads larger than what a Lambda response can carry are answered with a short-lived
presigned GET URL (`presigned_get`, SigV4: KMS-encrypted objects refuse other signatures).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from typing import Any, Final

from botocore.exceptions import ClientError

from billing.config import settings
from billing.store.aws import client

PDF_CONTENT_TYPE: Final = "application/pdf"
PRESIGN_SECONDS: Final = 120
_ALREADY_THERE: Final = frozenset({"PreconditionFailed", "ConditionalRequestConflict", "412"})


def archive_key(tenant_id: int, kind: str, document_id: int, version: int) -> str:
    return f"tenants/{tenant_id}/documents/{kind}/{document_id}/v{version}.pdf"


def preview_key(tenant_id: int, kind: str, document_id: int, sha256: str) -> str:
    return f"tenants/{tenant_id}/previews/{kind}/{document_id}/{sha256}.pdf"


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


@dataclass(frozen=True)
class StoredPdf:
    key: str
    sha256: str
    size: int
    version_id: str | None
    created: bool
    """False when the object was already there (a repeated store): nothing was written."""


@dataclass(frozen=True)
class PdfObject:
    """A fetched object: its bytes when small enough to answer inline, else only its size."""

    key: str
    size: int
    body: bytes | None
    sha256: str | None


def _bucket() -> str:
    bucket = settings().bucket_name
    if not bucket:
        raise RuntimeError("BUCKET_NAME is not set")
    return bucket


def put_once(key: str, pdf: bytes, metadata: Mapping[str, str]) -> StoredPdf:
    """Store `pdf` at `key` unless an object is already there (then return that one)."""
    digest = hashlib.sha256(pdf)
    try:
        response = client("s3").put_object(
            Bucket=_bucket(),
            Key=key,
            Body=pdf,
            IfNoneMatch="*",
            ContentType=PDF_CONTENT_TYPE,
            ServerSideEncryption="aws:kms",
            ChecksumSHA256=base64.b64encode(digest.digest()).decode(),
            Metadata={**metadata, "sha256": digest.hexdigest()},
        )
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in _ALREADY_THERE:
            raise
        return existing(key)
    return StoredPdf(key, digest.hexdigest(), len(pdf), response.get("VersionId"), created=True)


def existing(key: str) -> StoredPdf:
    head = client("s3").head_object(Bucket=_bucket(), Key=key)
    return StoredPdf(
        key,
        str(head.get("Metadata", {}).get("sha256", "")),
        int(head["ContentLength"]),
        head.get("VersionId"),
        created=False,
    )


def put_preview(key: str, pdf: bytes) -> None:
    """An on-demand render kept only to be downloaded through a presigned URL (same key for the
    same bytes, so a repeat overwrites with identical content)."""
    client("s3").put_object(
        Bucket=_bucket(),
        Key=key,
        Body=pdf,
        ContentType=PDF_CONTENT_TYPE,
        ServerSideEncryption="aws:kms",
        Tagging="factura-preview=true",
    )


def fetch(key: str, *, max_inline: int) -> PdfObject:
    """The object at `key`; its body only when it is at most `max_inline` bytes (the caller
    redirects to a presigned URL otherwise). One GetObject either way."""
    response = client("s3").get_object(Bucket=_bucket(), Key=key)
    size = int(response["ContentLength"])
    stream: Any = response["Body"]
    sha256 = response.get("Metadata", {}).get("sha256")
    if size > max_inline:
        stream.close()
        return PdfObject(key, size, None, sha256)
    return PdfObject(key, size, stream.read(), sha256)


def read(key: str) -> bytes:
    body: bytes = client("s3").get_object(Bucket=_bucket(), Key=key)["Body"].read()
    return body


@cache
def _presigner() -> Any:
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client("s3", config=Config(signature_version="s3v4"))


def presigned_get(key: str, *, filename_header: str, seconds: int = PRESIGN_SECONDS) -> str:
    """A GET URL for `key` valid `seconds`, answering with the PDF type and our
    Content-Disposition."""
    url: str = _presigner().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": _bucket(),
            "Key": key,
            "ResponseContentType": PDF_CONTENT_TYPE,
            "ResponseContentDisposition": filename_header,
        },
        ExpiresIn=seconds,
    )
    return url


def reset_presigner() -> None:
    _presigner.cache_clear()
