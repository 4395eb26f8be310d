"""The issuance workflow in moto's Step Functions interpreter (in-process), its Lambda tasks
bridged to IssuanceFunction: archive, e-mail, events, exactly once, retries and failures.

Faults are injected per document (matching its S3 key or its recipients), so executions of
other tests running in the background of the same process are never hit."""

from __future__ import annotations

import email
import hashlib
import json
import time
from collections.abc import Iterator
from email import policy
from io import BytesIO
from pathlib import Path
from typing import Any

import boto3
import pytest
from botocore.exceptions import ClientError
from pypdf import PdfReader

from local.bridges import install_ses_outbox
from local.template import REGION
from tests.conftest import Tenant
from tests.support.aws import LocalStack
from tests.support.client import ApiClient
from tests.support.issuance import create_document, mark, wait_for_execution, wait_for_issuance

ARCHIVE = "tenants/{t}/documents/{kind}/{id}/v1.pdf"


@pytest.fixture
def outbox(aws: LocalStack, tmp_path: Path) -> Path:
    install_ses_outbox(tmp_path)
    return tmp_path


def execution_name(tenant: Tenant, kind: str, document_id: int) -> str:
    return f"{kind}-{tenant.tenant_id}-{document_id}-v1"


def s3() -> Any:
    return boto3.client("s3", region_name=REGION)


def item(aws: LocalStack, tenant: Tenant, kind: str, document_id: int) -> dict[str, Any]:
    from billing.store.table import Table

    found = Table().get(f"T#{tenant.tenant_id}#{kind}", f"{document_id:020d}", consistent=True)
    assert found is not None
    return found


def versions(aws: LocalStack, key: str) -> list[dict[str, Any]]:
    bucket = aws.stack.ref("FilesBucket")
    listed = s3().list_object_versions(Bucket=bucket, Prefix=key)
    return [v for v in listed.get("Versions", []) if v["Key"] == key]


def mails_to(outbox: Path, address: str) -> list[email.message.EmailMessage]:
    found = []
    for path in sorted(outbox.glob("*.eml")):
        message = email.message_from_bytes(path.read_bytes(), policy=policy.default)
        if address in str(message["To"]):
            found.append(message)
    return found  # type: ignore[return-value]


def history(name: str) -> list[dict[str, Any]]:
    from billing.config import settings
    from billing.store.aws import client

    arn = settings().issue_state_machine_arn.replace(":stateMachine:", ":execution:") + f":{name}"
    return list(client("stepfunctions").get_execution_history(executionArn=arn, maxResults=1000)["events"])


# -- the flow ----------------------------------------------------------------------------------


def test_issue_archives_emails_publishes_and_completes(
    aws: LocalStack, client: ApiClient, tenant: Tenant, outbox: Path
) -> None:
    bus = aws.stack.ref("DocumentEventsBus")
    events, sqs = boto3.client("events", region_name=REGION), boto3.client("sqs", region_name=REGION)
    queue = sqs.create_queue(QueueName=f"issued-{tenant.tenant_id}")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=queue, AttributeNames=["QueueArn"])["Attributes"][
        "QueueArn"
    ]
    rule = f"issued-{tenant.tenant_id}"
    events.put_rule(
        Name=rule,
        EventBusName=bus,
        EventPattern=json.dumps(
            {
                "source": ["factura.documents"],
                "detail-type": ["document.issued"],
                "detail": {"tenant_id": [tenant.tenant_id]},
            }
        ),
    )
    events.put_targets(Rule=rule, EventBusName=bus, Targets=[{"Id": "q", "Arn": queue_arn}])

    doc = create_document(client)
    opened = mark(
        client,
        "invoice",
        doc["id"],
        "open",
        to=["client@example.com"],
        bcc=["me@example.com"],
        body="Vă mulțumim!",
    )
    assert opened.status == 200, opened.text
    execution = wait_for_execution(execution_name(tenant, "invoice", doc["id"]))
    assert execution["status"] == "SUCCEEDED", execution
    issued = client.get(f"/api/v1/invoices/{doc['id']}.json").json()
    assert issued["issuance_status"] == "completed" and issued["issuance_error"] is None
    assert issued["flag_sent_by_email"] is True
    assert "pdf_key" not in issued and "pdf_sha256" not in issued, (
        "internal: not part of the v1 representation"
    )

    # archived once, under the tenant's prefix, with its type, SSE and metadata
    key = ARCHIVE.format(t=tenant.tenant_id, kind="invoice", id=doc["id"])
    stored = item(aws, tenant, "invoice", doc["id"])
    assert stored["pdf_key"] == key
    head = s3().head_object(Bucket=aws.stack.ref("FilesBucket"), Key=key)
    assert head["ContentType"] == "application/pdf" and head["ServerSideEncryption"] == "aws:kms"
    assert head["Metadata"] == {
        "tenant-id": str(tenant.tenant_id),
        "kind": "invoice",
        "document-id": str(doc["id"]),
        "issue-version": "1",
        "sha256": stored["pdf_sha256"],
    }
    pdf = s3().get_object(Bucket=aws.stack.ref("FilesBucket"), Key=key)["Body"].read()
    assert hashlib.sha256(pdf).hexdigest() == stored["pdf_sha256"]
    text = PdfReader(BytesIO(pdf)).pages[0].extract_text()
    assert doc["document_number"] in text and "Șuțu Ăîâ SRL" in text

    # e-mailed with that PDF attached
    (message,) = mails_to(outbox, "client@example.com")
    assert message["Bcc"] is None
    (attachment,) = list(message.iter_attachments())
    assert hashlib.sha256(attachment.get_content()).hexdigest() == stored["pdf_sha256"]

    # document.issued on the bus
    details: list[dict[str, Any]] = []
    deadline = time.monotonic() + 10
    while not details and time.monotonic() < deadline:
        received = sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10, WaitTimeSeconds=1)
        details += [json.loads(m["Body"])["detail"] for m in received.get("Messages", [])]
    (detail,) = [d for d in details if d["document_id"] == doc["id"]]
    assert detail["event_id"] == execution_name(tenant, "invoice", doc["id"])
    assert detail["pdf"] == {"key": key, "sha256": stored["pdf_sha256"], "size": len(pdf)}
    assert detail["email"] == "sent" and detail["document_number"] == doc["document_number"]


def test_a_document_created_open_is_issued_without_email(
    aws: LocalStack, client: ApiClient, tenant: Tenant, outbox: Path
) -> None:
    doc = create_document(client, "proforma_invoice", document_state="open")
    execution = wait_for_execution(execution_name(tenant, "proforma_invoice", doc["id"]))
    assert execution["status"] == "SUCCEEDED" and "email_result" not in json.loads(execution["output"])
    issued = client.get(f"/api/v1/proforma_invoices/{doc['id']}.json").json()
    assert issued["issuance_status"] == "completed" and issued["flag_sent_by_email"] is False


@pytest.mark.parametrize("kind", ["notice", "receipt"])
def test_other_kinds_are_issued(aws: LocalStack, client: ApiClient, tenant: Tenant, kind: str) -> None:
    doc = create_document(client, kind)
    assert mark(client, kind, doc["id"], "open").status == 200
    assert wait_for_issuance(client, kind, doc["id"])["issuance_status"] == "completed"
    key = ARCHIVE.format(t=tenant.tenant_id, kind=kind, id=doc["id"])
    assert len(versions(aws, key)) == 1


def test_mark_open_refuses_bad_recipients_and_changes_nothing(client: ApiClient) -> None:
    doc = create_document(client)
    response = mark(client, "invoice", doc["id"], "open", to=["ok@example.com", "not an address"])
    assert response.status == 422
    assert "to[1] 'not an address' is not a valid e-mail address" in response.text
    assert client.get(f"/api/v1/invoices/{doc['id']}.json").json()["document_state"] == "draft"


# -- exactly once --------------------------------------------------------------------------------


def test_issuing_twice_runs_once_archives_once_and_sends_once(
    aws: LocalStack, client: ApiClient, tenant: Tenant, outbox: Path
) -> None:
    from billing.issuance.steps import run
    from billing.store.issuance import IssuanceRequest, start_issuance
    from billing.store.keys import record_sk, tenant_pk

    doc = create_document(client)
    recipient = f"once-{doc['id']}@example.com"
    email_params = {"to": [recipient]}
    assert mark(client, "invoice", doc["id"], "open", **email_params).status == 200
    assert mark(client, "invoice", doc["id"], "open", **email_params).status == 200  # repeated request
    name = execution_name(tenant, "invoice", doc["id"])
    assert wait_for_execution(name)["status"] == "SUCCEEDED"
    # a start sent again (a retried request after the first finished) does not run it again
    request = IssuanceRequest(
        tenant_id=tenant.tenant_id,
        kind="invoice",
        document_id=doc["id"],
        version=1,
        pk=tenant_pk(tenant.tenant_id, "invoice"),
        sk=record_sk(doc["id"]),
        email={"to": [recipient], "cc": [], "bcc": [], "body": "", "subject": ""},
    )
    assert start_issuance(request) is None
    from tests.support.issuance import executions

    assert len(executions(name)) == 1

    # the store and e-mail steps run again (a retried task): nothing new is written or sent
    key = ARCHIVE.format(t=tenant.tenant_id, kind="invoice", id=doc["id"])
    before = item(aws, tenant, "invoice", doc["id"])
    state = json.loads(request.input())
    stored = run({"step": "store", "input": state})
    assert stored == {"key": key, "sha256": before["pdf_sha256"], "size": stored["size"], "created": False}
    state["pdf"] = {"key": key, "sha256": before["pdf_sha256"], "size": stored["size"]}
    assert run({"step": "email", "input": state})["outcome"] == "already_sent"
    assert len(versions(aws, key)) == 1, "one object, one S3 version"
    assert len(mails_to(outbox, recipient)) == 1, "one e-mail"

    # the archive is put only if absent: a second put of other bytes at that key is refused
    from billing.store.files import put_once

    again = put_once(key, b"%PDF-other", {})
    assert again.created is False and again.sha256 == before["pdf_sha256"]
    assert len(versions(aws, key)) == 1


def test_an_email_whose_sending_outcome_is_unknown_is_not_sent_again(
    aws: LocalStack, client: ApiClient, tenant: Tenant, outbox: Path
) -> None:
    """A marker left in 'sending' (an attempt that died while calling SES) stops a retry."""
    from billing.store.document_marks import claim_email

    doc = create_document(client)
    claim_email(tenant.tenant_id, "invoice", doc["id"], 1)
    recipient = f"unknown-{doc['id']}@example.com"
    assert mark(client, "invoice", doc["id"], "open", to=[recipient]).status == 200
    execution = wait_for_execution(execution_name(tenant, "invoice", doc["id"]))
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"])["email_result"] == {"outcome": "unknown"}
    assert mails_to(outbox, recipient) == []


def test_issuance_writes_bump_rev_so_a_stale_put_cannot_erase_them(
    aws: LocalStack, client: ApiClient, tenant: Tenant
) -> None:
    """The race the documents engineer noted: a modify that read the document before an
    issuance write must not put the old item back."""
    from billing.domain.documents import DocumentChanges, DocumentKind
    from billing.store.document_marks import record_archive
    from billing.store.documents import SERVICES
    from billing.store.table import ConditionFailed

    doc = create_document(client)
    service = SERVICES[DocumentKind.INVOICE]
    assert mark(client, "invoice", doc["id"], "open").status == 200
    wait_for_issuance(client, "invoice", doc["id"])
    current, rev = service._read(tenant.tenant_id, doc["id"])
    record_archive(tenant.tenant_id, "invoice", doc["id"], 1, key="k", sha256="s")
    stale = current.model_copy(update={"note": "stale"})
    with pytest.raises(ConditionFailed):
        service.table.transact([service._put(tenant.tenant_id, stale, rev)])
    assert item(aws, tenant, "invoice", doc["id"])["pdf_key"] == "k"
    # a modify request re-reads and applies on top of the issuance write
    updated = service.modify(tenant.tenant_id, doc["id"], DocumentChanges({"note": "fresh"}, None))
    assert updated.note == "fresh" and updated.pdf_key == "k"


def test_every_issuance_write_bumps_rev(aws: LocalStack, client: ApiClient, tenant: Tenant) -> None:
    doc = create_document(client)
    assert mark(client, "invoice", doc["id"], "open").status == 200
    opened_rev = 2  # created (1), opened (2)
    wait_for_issuance(client, "invoice", doc["id"])
    # started (state machine), archived (store step), completed (state machine)
    assert item(aws, tenant, "invoice", doc["id"])["rev"] == opened_rev + 3


def test_an_execution_for_another_version_does_nothing(
    aws: LocalStack, client: ApiClient, tenant: Tenant
) -> None:
    from billing.store.issuance import IssuanceRequest, start_issuance
    from billing.store.keys import record_sk, tenant_pk

    doc = create_document(client)
    request = IssuanceRequest(
        tenant_id=tenant.tenant_id,
        kind="invoice",
        document_id=doc["id"],
        version=7,
        pk=tenant_pk(tenant.tenant_id, "invoice"),
        sk=record_sk(doc["id"]),
    )
    assert start_issuance(request)
    execution = wait_for_execution(request.execution_name)
    assert execution["status"] == "SUCCEEDED"
    assert item(aws, tenant, "invoice", doc["id"]).get("issuance_status") is None, "the draft is untouched"


# -- faults --------------------------------------------------------------------------------------


class _FlakyS3:
    """The store step's S3 client, failing PutObject of one key with `errors` in turn."""

    def __init__(self, real: Any, key: str, errors: list[ClientError], forever: bool = False) -> None:
        self.real, self.key, self.errors, self.forever = real, key, errors, forever
        self.puts = 0

    def put_object(self, **kwargs: Any) -> Any:
        if kwargs.get("Key") == self.key:
            self.puts += 1
            if self.errors:
                raise self.errors[0] if self.forever else self.errors.pop(0)
        return self.real.put_object(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.real, name)


@pytest.fixture
def flaky_s3(monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    from billing.store import files
    from billing.store.aws import client as real_client

    installed: dict[str, _FlakyS3] = {}

    def install(key: str, errors: list[ClientError], forever: bool = False) -> _FlakyS3:
        installed["s3"] = _FlakyS3(real_client("s3"), key, errors, forever)
        return installed["s3"]

    def patched(service: str) -> Any:
        return installed["s3"] if service == "s3" and "s3" in installed else real_client(service)

    monkeypatch.setattr(files, "client", patched)
    yield install


def s3_error(code: str, status: int) -> ClientError:
    return ClientError(
        {"Error": {"Code": code, "Message": code}, "ResponseMetadata": {"HTTPStatusCode": status}},
        "PutObject",
    )


def test_a_throttled_store_is_retried_and_the_flow_succeeds(
    aws: LocalStack, client: ApiClient, tenant: Tenant, flaky_s3: Any
) -> None:
    doc = create_document(client)
    key = ARCHIVE.format(t=tenant.tenant_id, kind="invoice", id=doc["id"])
    flaky = flaky_s3(key, [s3_error("SlowDown", 503)])
    assert mark(client, "invoice", doc["id"], "open").status == 200
    name = execution_name(tenant, "invoice", doc["id"])
    assert wait_for_execution(name)["status"] == "SUCCEEDED"
    assert flaky.puts == 2 and len(versions(aws, key)) == 1
    failures = [e for e in history(name) if e["type"] in ("TaskFailed", "LambdaFunctionFailed")]
    assert [
        json.loads(f.get("taskFailedEventDetails", {}).get("cause", "{}")).get("errorType") for f in failures
    ] == ["TransientIssuanceError"]
    assert client.get(f"/api/v1/invoices/{doc['id']}.json").json()["issuance_status"] == "completed"


def test_a_permanent_failure_marks_the_document_failed_and_the_api_still_serves_it(
    aws: LocalStack, client: ApiClient, tenant: Tenant, flaky_s3: Any
) -> None:
    doc = create_document(client)
    key = ARCHIVE.format(t=tenant.tenant_id, kind="invoice", id=doc["id"])
    flaky = flaky_s3(key, [s3_error("AccessDenied", 403)], forever=True)
    assert mark(client, "invoice", doc["id"], "open").status == 200
    execution = wait_for_execution(execution_name(tenant, "invoice", doc["id"]))
    assert execution["status"] == "FAILED" and execution["error"] == "IssuanceFailed"
    assert flaky.puts == 1, "a permanent error is not retried"
    shown = client.get(f"/api/v1/invoices/{doc['id']}.json")
    assert shown.status == 200
    assert shown.json()["issuance_status"] == "failed"
    assert shown.json()["issuance_error"] == "PermanentIssuanceError: PutObject: AccessDenied: AccessDenied"
    pdf = client.get(f"/api/v1/invoices/{doc['id']}.pdf")
    assert pdf.status == 200 and pdf.header("Content-Type") == "application/pdf"
    assert doc["document_number"] in PdfReader(BytesIO(pdf.body)).pages[0].extract_text(), (
        "rendered on demand"
    )
    assert versions(aws, key) == []


def test_a_throttled_email_is_retried_and_sent_once(
    aws: LocalStack, client: ApiClient, tenant: Tenant, outbox: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from billing.documents import mailer

    real = mailer._ses()
    doc = create_document(client)
    recipient = f"throttled-{doc['id']}@example.com"
    calls: list[int] = []

    class ThrottledOnce:
        def send_raw_email(self, **kwargs: Any) -> Any:
            if recipient in kwargs["Destinations"]:
                calls.append(1)
                if len(calls) == 1:
                    raise ClientError(
                        {"Error": {"Code": "Throttling", "Message": "Maximum sending rate exceeded."}},
                        "SendRawEmail",
                    )
            return real.send_raw_email(**kwargs)

    monkeypatch.setattr(mailer, "_ses", lambda: ThrottledOnce())
    assert mark(client, "invoice", doc["id"], "open", to=[recipient]).status == 200
    execution = wait_for_execution(execution_name(tenant, "invoice", doc["id"]))
    assert execution["status"] == "SUCCEEDED"
    assert len(calls) == 2 and len(mails_to(outbox, recipient)) == 1
    assert client.get(f"/api/v1/invoices/{doc['id']}.json").json()["flag_sent_by_email"] is True


def test_a_refused_email_fails_the_issuance_with_the_reason(
    aws: LocalStack, client: ApiClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from billing.documents import mailer

    real = mailer._ses()
    doc = create_document(client)
    recipient = f"refused-{doc['id']}@example.com"

    class Refusing:
        def send_raw_email(self, **kwargs: Any) -> Any:
            if recipient in kwargs["Destinations"]:
                raise ClientError(
                    {"Error": {"Code": "MessageRejected", "Message": "Email address is not verified."}},
                    "SendRawEmail",
                )
            return real.send_raw_email(**kwargs)

    monkeypatch.setattr(mailer, "_ses", lambda: Refusing())
    assert mark(client, "invoice", doc["id"], "open", to=[recipient]).status == 200
    failed = wait_for_issuance(client, "invoice", doc["id"])
    assert failed["issuance_status"] == "failed"
    assert failed["issuance_error"] == (
        "PermanentIssuanceError: the e-mail was refused (MessageRejected): Email address is not verified."
    )
    # the PDF was archived before the e-mail step: the archive is what the API serves
    stored = item(aws, tenant, "invoice", doc["id"])
    pdf = client.get(f"/api/v1/invoices/{doc['id']}.pdf")
    assert hashlib.sha256(pdf.body).hexdigest() == stored["pdf_sha256"]


def test_callbacks_are_queued_for_subscribed_endpoints(
    aws: LocalStack, client: ApiClient, tenant: Tenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    from billing.payments.callbacks import CallbackMessage
    from billing.payments.config import webhook_settings

    monkeypatch.setenv("ALLOW_LOOPBACK_WEBHOOKS", "true")
    webhook_settings.cache_clear()
    try:
        endpoint = client.send_json(
            "POST",
            "/api/v1/webhook_endpoints.json",
            {"webhook_endpoint": {"url": "http://127.0.0.1:9/hook", "event_types": ["document.issued"]}},
        )
        assert endpoint.status == 201, endpoint.text
    finally:
        monkeypatch.delenv("ALLOW_LOOPBACK_WEBHOOKS")
        webhook_settings.cache_clear()
    doc = create_document(client)
    assert mark(client, "invoice", doc["id"], "open").status == 200
    assert wait_for_issuance(client, "invoice", doc["id"])["issuance_status"] == "completed"
    sqs = boto3.client("sqs", region_name=REGION)
    queue = aws.stack.ref("CallbacksQueue")
    mine = []
    deadline = time.monotonic() + 5
    while not mine and time.monotonic() < deadline:
        for message in sqs.receive_message(QueueUrl=queue, MaxNumberOfMessages=10).get("Messages", []):
            callback = CallbackMessage.model_validate_json(message["Body"])
            if callback.tenant_id == tenant.tenant_id:
                mine.append(callback)
                sqs.delete_message(QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"])
            else:  # someone else's: leave it
                sqs.change_message_visibility(
                    QueueUrl=queue, ReceiptHandle=message["ReceiptHandle"], VisibilityTimeout=0
                )
    (callback,) = mine
    body = json.loads(callback.body)
    assert callback.event_type == body["type"] == "document.issued"
    assert (
        body["data"]["invoice"]["id"] == doc["id"]
        and body["data"]["invoice"]["issuance_status"] == "completed"
    )
