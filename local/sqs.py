"""SQS event source mappings: poll each queue a function subscribes to in the template and
deliver batches as Lambda would, including partial batch failures (ReportBatchItemFailures)."""

from __future__ import annotations

import hashlib
import threading
import traceback
from dataclasses import dataclass
from typing import Any

import boto3

from local.functions import Functions, LocalFunction
from local.provision import Stack
from local.template import REGION, function_specs


@dataclass(frozen=True)
class SqsSubscription:
    function: str
    queue_arn: str
    queue_url: str
    batch_size: int
    report_failures: bool


def sqs_subscriptions(stack: Stack) -> list[SqsSubscription]:
    subscriptions = []
    for spec in function_specs(stack.template):
        for event in spec.events.values():
            if event.get("Type") != "SQS":
                continue
            props = stack.context.resolve(event["Properties"])
            queue_arn = props["Queue"]
            queue_url = next(
                attrs["QueueUrl"]
                for attrs in stack.context.attributes.values()
                if attrs.get("Arn") == queue_arn
            )
            subscriptions.append(
                SqsSubscription(
                    function=spec.logical_id,
                    queue_arn=queue_arn,
                    queue_url=queue_url,
                    batch_size=int(props.get("BatchSize", 10)),
                    report_failures="ReportBatchItemFailures" in props.get("FunctionResponseTypes", []),
                )
            )
    return subscriptions


def sqs_event(messages: list[dict[str, Any]], queue_arn: str) -> dict[str, Any]:
    records = []
    for message in messages:
        attributes = {
            name: {
                "stringValue": value.get("StringValue"),
                "binaryValue": value.get("BinaryValue"),
                "stringListValues": [],
                "binaryListValues": [],
                "dataType": value["DataType"],
            }
            for name, value in message.get("MessageAttributes", {}).items()
        }
        records.append(
            {
                "messageId": message["MessageId"],
                "receiptHandle": message["ReceiptHandle"],
                "body": message["Body"],
                "attributes": message.get("Attributes", {}),
                "messageAttributes": attributes,
                "md5OfBody": message.get("MD5OfBody") or hashlib.md5(message["Body"].encode()).hexdigest(),
                "eventSource": "aws:sqs",
                "eventSourceARN": queue_arn,
                "awsRegion": REGION,
            }
        )
    return {"Records": records}


def failed_message_ids(result: Any, delivered: set[str]) -> set[str]:
    """The messages to leave on the queue after a ReportBatchItemFailures response. As in Lambda,
    a malformed response or an unknown id fails the whole batch."""
    if result is None:
        return set()
    try:
        failures = {str(item["itemIdentifier"]) for item in result.get("batchItemFailures", [])}
    except (AttributeError, KeyError, TypeError):
        return delivered
    if not failures <= delivered or any(not f for f in failures):
        return delivered
    return failures


class SqsPoller(threading.Thread):
    def __init__(
        self, subscription: SqsSubscription, function: LocalFunction, stop: threading.Event, endpoint_url: str
    ):
        super().__init__(name=f"sqs-{subscription.function}", daemon=True)
        self.subscription = subscription
        self.function = function
        self.stop_event = stop
        self.sqs = boto3.client("sqs", region_name=REGION, endpoint_url=endpoint_url)

    def run(self) -> None:
        while not self.stop_event.is_set():
            try:
                self.poll_once(wait_seconds=1)
            except Exception:  # keep polling, as the managed event source would
                traceback.print_exc()
                self.stop_event.wait(1)

    def poll_once(self, wait_seconds: int = 0) -> int:
        sub = self.subscription
        messages = self.sqs.receive_message(
            QueueUrl=sub.queue_url,
            MaxNumberOfMessages=min(sub.batch_size, 10),
            WaitTimeSeconds=wait_seconds,
            AttributeNames=["All"],
            MessageAttributeNames=["All"],
        ).get("Messages", [])
        if not messages:
            return 0
        delivered = {m["MessageId"] for m in messages}
        try:
            result = self.function.invoke(sqs_event(messages, sub.queue_arn))
        except Exception:
            traceback.print_exc()
            return len(messages)  # nothing deleted: every message is retried after its visibility timeout
        failed = failed_message_ids(result, delivered) if sub.report_failures else set()
        done = [m for m in messages if m["MessageId"] not in failed]
        if done:
            self.sqs.delete_message_batch(
                QueueUrl=sub.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(done)],
            )
        return len(messages)


def start_pollers(
    stack: Stack, functions: Functions, stop: threading.Event, endpoint_url: str
) -> list[SqsPoller]:
    pollers = [
        SqsPoller(sub, functions.resolve(sub.function), stop, endpoint_url)
        for sub in sqs_subscriptions(stack)
    ]
    for poller in pollers:
        poller.start()
    return pollers
