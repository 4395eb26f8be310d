"""Writes on a document that are not edits by its owner: the issuance workflow's progress
(issuance_status, the archived PDF's key and SHA-256, the failure reason), the flags a download
or an e-mail sets, and the e-mail markers that keep the workflow from sending twice.

Every write on the document item is an UpdateItem that also does `rev = rev + 1`. Document
modifies and state changes are whole-item puts conditioned on the `rev` they read
(billing.store.documents), so a modify that read the item before one of these writes fails its
condition (409, retry) instead of putting back the old item and erasing what was written here.
These writes change neither `updated_at` nor any search slot nor anything the B2B bill index
shows. Flags are different: the bill index shows flag_sent_by_email, so `set_flag` goes through
DocumentService.modify like a modify request.

Workflow writes are also conditioned on `issue_version = :v`: an execution only ever writes on
the version of the document it was started for (`Superseded` otherwise).

E-mail markers are items of their own, so no document put can erase them:

| item | PK | SK | notes |
|---|---|---|---|
| e-mail of an issuance | `T#<t>#issuance_email` | `<kind>#<id 20 digits>#v<version>` | `status` sending / sent, `message_id`, `claimed_at` |
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Final

from botocore.exceptions import ClientError

from billing.config import settings
from billing.store import keys
from billing.store.aws import client
from billing.store.table import from_item, serialize

EMAIL_MARKER_KIND: Final = "issuance_email"
MAX_ERROR_CHARS: Final = 1000


class IssuanceStatus(StrEnum):
    PENDING = "pending"
    STARTED = "started"
    COMPLETED = "completed"
    FAILED = "failed"


class Superseded(Exception):
    """The document is gone or is now at another issue version than the one being written."""


def _key(tenant_id: int, kind: str, document_id: int) -> dict[str, Any]:
    return {"PK": {"S": keys.tenant_pk(tenant_id, kind)}, "SK": {"S": keys.record_sk(document_id)}}


def update_document(
    tenant_id: int,
    kind: str,
    document_id: int,
    values: Mapping[str, Any],
    *,
    version: int | None = None,
    unless: Mapping[str, Any] | None = None,
) -> bool:
    """SET `values` on the document (a None value REMOVEs the attribute), bumping `rev`.

    Conditions: the item exists; its issue_version is `version` (when given); and, when `unless`
    is given, its attributes do not all have those values already. Returns False when `unless`
    held (nothing written); raises Superseded when the item is missing or at another version."""
    names: dict[str, str] = {"#rev": "rev"}
    vals: dict[str, Any] = {":one": 1}
    sets: list[str] = []
    removes: list[str] = []
    for i, (name, value) in enumerate(values.items()):
        names[f"#a{i}"] = name
        if value is None:
            removes.append(f"#a{i}")
        else:
            vals[f":a{i}"] = value
            sets.append(f"#a{i} = :a{i}")
    sets.append("#rev = #rev + :one")
    expression = "SET " + ", ".join(sets) + (" REMOVE " + ", ".join(removes) if removes else "")
    conditions = ["attribute_exists(PK)"]
    if version is not None:
        names["#version"] = "issue_version"
        vals[":version"] = version
        conditions.append("#version = :version")
    if unless:
        same = []
        for k, (name, value) in enumerate(unless.items()):
            names[f"#u{k}"] = name
            vals[f":u{k}"] = value
            same.append(f"#u{k} = :u{k}")
        conditions.append("NOT (" + " AND ".join(same) + ")")
    ddb = client("dynamodb")
    key = _key(tenant_id, kind, document_id)
    try:
        ddb.update_item(
            TableName=settings().table_name,
            Key=key,
            UpdateExpression=expression,
            ConditionExpression=" AND ".join(conditions),
            ExpressionAttributeNames=names,
            ExpressionAttributeValues=serialize(vals),
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        raw = ddb.get_item(TableName=settings().table_name, Key=key, ConsistentRead=True).get("Item")
        item = from_item(raw) if raw else None
        if item is None or (version is not None and item.get("issue_version") != version):
            raise Superseded(f"{kind} {document_id} is not at issue version {version}") from None
        return False
    return True


# -- the workflow's writes ---------------------------------------------------------------------


def record_archive(
    tenant_id: int, kind: str, document_id: int, version: int, *, key: str, sha256: str
) -> None:
    update_document(tenant_id, kind, document_id, {"pdf_key": key, "pdf_sha256": sha256}, version=version)


def complete_issuance(
    tenant_id: int, kind: str, document_id: int, version: int, *, key: str, sha256: str
) -> None:
    update_document(
        tenant_id,
        kind,
        document_id,
        {
            "issuance_status": IssuanceStatus.COMPLETED.value,
            "pdf_key": key,
            "pdf_sha256": sha256,
            "issuance_error": None,
        },
        version=version,
    )


def fail_issuance(tenant_id: int, kind: str, document_id: int, version: int, *, reason: str) -> None:
    """issuance_status failed with `reason` (trimmed), unless the issuance already completed."""
    update_document(
        tenant_id,
        kind,
        document_id,
        {"issuance_status": IssuanceStatus.FAILED.value, "issuance_error": reason[:MAX_ERROR_CHARS]},
        version=version,
        unless={"issuance_status": IssuanceStatus.COMPLETED.value},
    )


def set_flag(tenant_id: int, kind: str, document_id: int, flag: str) -> bool:
    """Set one of the document's flags (flag_downloaded_pdf, flag_sent_by_email) as a modify
    request would: through DocumentService.modify, so the write carries what every document
    write carries (rev, updated_at, the B2B bill index, which shows flag_sent_by_email as
    sendingFormat) and is re-applied if the document changed meanwhile. No write when the flag
    is already set. Returns whether it was written."""
    from billing.domain.documents import DocumentChanges, DocumentKind
    from billing.store.documents import SERVICES

    service = SERVICES[DocumentKind(kind)]
    if getattr(service.get(tenant_id, document_id), flag):
        return False
    service.modify(tenant_id, document_id, DocumentChanges({flag: True}, None))
    return True


# -- e-mail markers ----------------------------------------------------------------------------


class Claim(StrEnum):
    CLAIMED = "claimed"
    """This caller may send: nobody sent or is sending this e-mail."""
    SENT = "sent"
    """Already sent (the marker says so): do not send again."""
    UNKNOWN = "unknown"
    """An earlier attempt claimed it and never reported back (it crashed or timed out while
    sending): whether SES accepted the message is unknown, so it is not sent again."""


@dataclass(frozen=True)
class EmailMarker:
    claim: Claim
    message_id: str | None = None


def _marker_key(tenant_id: int, kind: str, document_id: int, version: int) -> dict[str, Any]:
    return {
        "PK": {"S": keys.tenant_pk(tenant_id, EMAIL_MARKER_KIND)},
        "SK": {"S": f"{kind}#{keys.record_sk(document_id)}#v{version}"},
    }


def claim_email(tenant_id: int, kind: str, document_id: int, version: int) -> EmailMarker:
    """Claim the right to send the issuance e-mail of this document version (conditional put)."""
    ddb = client("dynamodb")
    key = _marker_key(tenant_id, kind, document_id, version)
    try:
        ddb.put_item(
            TableName=settings().table_name,
            Item={**key, **serialize({"status": "sending", "claimed_at": int(time.time())})},
            ConditionExpression="attribute_not_exists(PK)",
        )
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "ConditionalCheckFailedException":
            raise
        raw = ddb.get_item(TableName=settings().table_name, Key=key, ConsistentRead=True).get("Item")
        old = from_item(raw) if raw else {}
        if old.get("status") == "sent":
            return EmailMarker(Claim.SENT, old.get("message_id"))
        return EmailMarker(Claim.UNKNOWN)
    return EmailMarker(Claim.CLAIMED)


def confirm_email(tenant_id: int, kind: str, document_id: int, version: int, message_id: str) -> None:
    client("dynamodb").update_item(
        TableName=settings().table_name,
        Key=_marker_key(tenant_id, kind, document_id, version),
        UpdateExpression="SET #status = :sent, message_id = :id",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues=serialize({":sent": "sent", ":id": message_id}),
    )


def release_email(tenant_id: int, kind: str, document_id: int, version: int) -> None:
    """Give the claim back after SES refused the message (it was certainly not sent), so a
    retry may claim and send it."""
    client("dynamodb").delete_item(
        TableName=settings().table_name,
        Key=_marker_key(tenant_id, kind, document_id, version),
        ConditionExpression="#status = :sending",
        ExpressionAttributeNames={"#status": "status"},
        ExpressionAttributeValues=serialize({":sending": "sending"}),
    )
