"""B2B report files too large to answer inline: kept in the files bucket under the tenant's
prefix and downloaded through a short-lived presigned URL.

| object                      | key                                                 |
|-----------------------------|-----------------------------------------------------|
| a large charges report (CSV)| `tenants/<t>/reports/<bill id>/<sha256 of the CSV>.csv` |

The key names the content, so a repeated download of an unchanged bill overwrites the object
with the same bytes and a changed bill gets a new object. Objects are tagged like the on-demand
PDF previews (`factura-preview=true`), so the bucket's lifecycle rule deletes them after a day:
they exist only to be downloaded through the URL, which lives minutes. (Archived and preview PDFs are
billing.store.files' objects; a bill's PDF is served from there.)
"""

from __future__ import annotations

import hashlib
from functools import cache
from typing import Any

from billing.config import settings
from billing.store.aws import client

EXPIRING_TAG = "factura-preview=true"
"""The tag of the bucket's one-day expiration rule (template.yaml: ExpireOnDemandPdfPreviews)."""


def report_key(tenant_id: int, bill_id: int, body: bytes) -> str:
    return f"tenants/{tenant_id}/reports/{bill_id}/{hashlib.sha256(body).hexdigest()}.csv"


def put_report(key: str, body: bytes, content_type: str) -> None:
    client("s3").put_object(
        Bucket=_bucket(),
        Key=key,
        Body=body,
        ContentType=content_type,
        ServerSideEncryption="aws:kms",
        Tagging=EXPIRING_TAG,
    )


def presigned_download(key: str, *, content_type: str, disposition: str, seconds: int) -> str:
    """A GET URL for `key`, valid `seconds`, answering with our type and Content-Disposition."""
    url: str = _presigner().generate_presigned_url(
        "get_object",
        Params={
            "Bucket": _bucket(),
            "Key": key,
            "ResponseContentType": content_type,
            "ResponseContentDisposition": disposition,
        },
        ExpiresIn=seconds,
    )
    return url


def _bucket() -> str:
    bucket = settings().bucket_name
    if not bucket:
        raise RuntimeError("BUCKET_NAME is not set")
    return bucket


@cache
def _presigner() -> Any:
    """SigV4 (objects are KMS-encrypted, which refuses other signatures)."""
    import boto3
    from botocore.config import Config

    return boto3.session.Session().client("s3", config=Config(signature_version="s3v4"))
