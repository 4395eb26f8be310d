"""The local runtime's AWS-side plumbing, on a small test template: SQS batches with partial
failures and redrive, Step Functions Lambda tasks bridged to in-process handlers, SES outbox."""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from local.bridges import install_lambda_bridge, install_ses_outbox
from local.functions import Functions
from local.provision import Stack, provision
from local.sqs import SqsPoller, failed_message_ids, sqs_subscriptions
from local.template import REGION, ROOT, load_template
from tests.support.aws import LocalStack

FIXTURE = ROOT / "tests" / "fixtures" / "runtime" / "template.yaml"


@pytest.fixture(scope="module")
def plumbing(aws: LocalStack) -> Iterator[tuple[Stack, Functions]]:
    stack = provision(load_template(FIXTURE))
    functions = Functions(stack)
    install_lambda_bridge(functions)
    yield stack, functions


def _drain(sqs, url: str) -> list[str]:  # type: ignore[no-untyped-def]
    bodies = []
    while True:
        messages = sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages", [])
        if not messages:
            return bodies
        for message in messages:
            bodies.append(message["Body"])
            sqs.delete_message(QueueUrl=url, ReceiptHandle=message["ReceiptHandle"])


def test_subscriptions_come_from_the_template(plumbing: tuple[Stack, Functions]) -> None:
    stack, _ = plumbing
    (subscription,) = sqs_subscriptions(stack)
    assert subscription.function == "BatchFunction"
    assert subscription.report_failures and subscription.batch_size == 10
    assert subscription.queue_url == stack.ref("WorkQueue")


def test_partial_batch_failure_keeps_only_failed_messages_then_redrives(
    plumbing: tuple[Stack, Functions],
) -> None:
    stack, functions = plumbing
    sqs = boto3.client("sqs", region_name=REGION)
    (subscription,) = sqs_subscriptions(stack)
    poller = SqsPoller(subscription, functions.resolve("BatchFunction"), threading.Event(), endpoint_url=None)
    for body in ("ok-1", "fail", "ok-2"):
        sqs.send_message(QueueUrl=subscription.queue_url, MessageBody=body)

    assert poller.poll_once() == 3
    attributes = sqs.get_queue_attributes(QueueUrl=subscription.queue_url, AttributeNames=["All"])[
        "Attributes"
    ]
    assert attributes["ApproximateNumberOfMessages"] == "0"
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "1", "only the failed message is kept"

    time.sleep(1.1)  # visibility timeout of the test queue
    assert poller.poll_once() == 1  # second receive: fails again (maxReceiveCount 2)
    time.sleep(1.1)
    assert poller.poll_once() == 0, "after maxReceiveCount the message is redriven, not delivered"
    assert _drain(sqs, stack.ref("WorkDLQ")) == ["fail"]


def test_a_crashing_handler_leaves_the_whole_batch(plumbing: tuple[Stack, Functions]) -> None:
    stack, functions = plumbing
    sqs = boto3.client("sqs", region_name=REGION)
    (subscription,) = sqs_subscriptions(stack)
    poller = SqsPoller(subscription, functions.resolve("BatchFunction"), threading.Event(), endpoint_url=None)
    for body in ("ok", "crash"):
        sqs.send_message(QueueUrl=subscription.queue_url, MessageBody=body)
    assert poller.poll_once() == 2
    attributes = sqs.get_queue_attributes(QueueUrl=subscription.queue_url, AttributeNames=["All"])[
        "Attributes"
    ]
    assert attributes["ApproximateNumberOfMessagesNotVisible"] == "2"
    time.sleep(1.1)
    _drain(sqs, subscription.queue_url)


@pytest.mark.parametrize(
    ("result", "expected"),
    [
        (None, set()),
        ({"batchItemFailures": []}, set()),
        ({"batchItemFailures": [{"itemIdentifier": "a"}]}, {"a"}),
        ({"batchItemFailures": [{"itemIdentifier": "zzz"}]}, {"a", "b"}),  # unknown id: whole batch fails
        ({"batchItemFailures": [{"wrong": "a"}]}, {"a", "b"}),
        ("nonsense", {"a", "b"}),
    ],
)
def test_batch_response_rules(result: object, expected: set[str]) -> None:
    assert failed_message_ids(result, {"a", "b"}) == expected


def _run(stack: Stack, payload: dict) -> dict:
    sfn = boto3.client("stepfunctions", region_name=REGION)
    arn = sfn.start_execution(
        stateMachineArn=stack.ref("DoubleMachine"), name=f"run-{time.time_ns()}", input=json.dumps(payload)
    )["executionArn"]
    deadline = time.monotonic() + 10
    while True:
        execution = sfn.describe_execution(executionArn=arn)
        if execution["status"] != "RUNNING" or time.monotonic() > deadline:
            return execution
        time.sleep(0.05)


def test_step_functions_lambda_task_runs_our_handler(plumbing: tuple[Stack, Functions]) -> None:
    stack, _ = plumbing
    execution = _run(stack, {"value": 21})
    assert execution["status"] == "SUCCEEDED"
    assert json.loads(execution["output"]) == {"doubled": 42}


def test_step_functions_task_failure_reaches_catch(plumbing: tuple[Stack, Functions]) -> None:
    stack, _ = plumbing
    execution = _run(stack, {"value": -1})
    assert execution["status"] == "FAILED"
    assert execution.get("error") == "Refused"


def test_ses_outbox_keeps_raw_messages(aws: LocalStack, tmp_path: Path) -> None:
    install_ses_outbox(tmp_path)
    ses = boto3.client("ses", region_name=REGION)
    ses.verify_email_identity(EmailAddress="sender@factura.test")
    raw = "From: sender@factura.test\r\nTo: client@example.com\r\nSubject: Invoice\r\n\r\nHello"
    ses.send_raw_email(
        Source="sender@factura.test", Destinations=["client@example.com"], RawMessage={"Data": raw}
    )
    (eml,) = tmp_path.glob("*.eml")
    assert "Subject: Invoice" in eml.read_text()
