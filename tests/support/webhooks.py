"""Webhook test helpers: a tiny HTTP receiver on 127.0.0.1 that answers from a script, and a
harness that drives the callback dispatcher through its real SQS event source, recording the
ChangeMessageVisibility calls it makes so tests can follow the retry schedule without sleeping."""

from __future__ import annotations

import contextlib
import json
import threading
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import boto3

from local.sqs import SqsPoller, sqs_subscriptions
from local.template import REGION
from tests.support.aws import LocalStack

DISPATCHER = "CallbackDispatcherFunction"


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: str

    @property
    def webhook_id(self) -> str:
        return self.headers["webhook-id"]

    def json(self) -> Any:
        return json.loads(self.body)


@dataclass
class Receiver:
    """Answers each POST with the next scripted (status, headers, body); 200 when the script is
    empty. Every request is kept."""

    requests: list[Received] = field(default_factory=list)
    script: deque[tuple[int, dict[str, str], bytes]] = field(default_factory=deque)

    def __post_init__(self) -> None:
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"
            wbufsize = -1  # one write per response (flushed after each request)
            disable_nagle_algorithm = True

            def do_POST(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                body = self.rfile.read(length).decode()
                receiver.requests.append(Received({k.lower(): v for k, v in self.headers.items()}, body))
                status, headers, text = receiver.script.popleft() if receiver.script else (200, {}, b"ok")
                self.send_response(status)
                for key, value in headers.items():
                    self.send_header(key, value)
                self.send_header("Content-Length", str(len(text)))
                self.end_headers()
                self.wfile.write(text)

            def log_message(self, format: str, *args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self.thread.start()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/factura/callback"

    def answer(self, status: int, headers: dict[str, str] | None = None, body: bytes = b"") -> Receiver:
        self.script.append((status, headers or {}, body))
        return self

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()


@contextmanager
def receiver() -> Iterator[Receiver]:
    running = Receiver()
    try:
        yield running
    finally:
        running.close()


class DispatcherHarness:
    """The CallbacksQueue and CallbacksDLQ of the test stack, and the dispatcher's event source."""

    def __init__(self, aws: LocalStack) -> None:
        from billing.store.aws import client

        self.aws = aws
        self.sqs = boto3.client("sqs", region_name=REGION)
        self.queue_url = aws.stack.ref("CallbacksQueue")
        self.dlq_url = aws.stack.ref("CallbacksDLQ")
        function = aws.functions.resolve(DISPATCHER)
        function.load()
        self.module: Any = function.module
        (subscription,) = [s for s in sqs_subscriptions(aws.stack) if s.function == DISPATCHER]
        self.poller = SqsPoller(subscription, function, threading.Event(), endpoint_url=None)
        self.visibility: list[int] = []
        self.receipts: list[str] = []
        self._dispatcher_sqs = client("sqs")
        self._dispatcher_sqs.meta.events.register(
            "provide-client-params.sqs.ChangeMessageVisibility", self._record_visibility
        )

    def _record_visibility(self, params: dict[str, Any], **_: Any) -> None:
        self.visibility.append(int(params["VisibilityTimeout"]))
        self.receipts.append(params["ReceiptHandle"])

    def close(self) -> None:
        self._dispatcher_sqs.meta.events.unregister(
            "provide-client-params.sqs.ChangeMessageVisibility", self._record_visibility
        )

    def purge(self) -> None:
        """Empty both queues (PurgeQueue is allowed once a minute): release the messages the
        dispatcher held back, then receive and delete everything."""
        for receipt in self.receipts:
            with contextlib.suppress(self.sqs.exceptions.ClientError):  # already deleted
                self.sqs.change_message_visibility(
                    QueueUrl=self.queue_url, ReceiptHandle=receipt, VisibilityTimeout=0
                )
        for url in (self.queue_url, self.dlq_url):
            while messages := self.sqs.receive_message(QueueUrl=url, MaxNumberOfMessages=10).get("Messages"):
                self.sqs.delete_message_batch(
                    QueueUrl=url,
                    Entries=[
                        {"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)
                    ],
                )

    def poll(self) -> int:
        """One receive + invoke + delete of the handled messages, as the event source does."""
        return self.poller.poll_once(wait_seconds=0)

    def release_held(self) -> None:
        """End the wait the dispatcher set on the last held message (instead of sleeping)."""
        self.sqs.change_message_visibility(
            QueueUrl=self.queue_url, ReceiptHandle=self.receipts[-1], VisibilityTimeout=0
        )

    def counts(self, url: str | None = None) -> tuple[int, int]:
        attributes = self.sqs.get_queue_attributes(QueueUrl=url or self.queue_url, AttributeNames=["All"])[
            "Attributes"
        ]
        return int(attributes["ApproximateNumberOfMessages"]), int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def dead_letters(self) -> list[dict[str, Any]]:
        messages = self.sqs.receive_message(
            QueueUrl=self.dlq_url, MaxNumberOfMessages=10, MessageAttributeNames=["All"]
        ).get("Messages", [])
        for message in messages:
            self.sqs.delete_message(QueueUrl=self.dlq_url, ReceiptHandle=message["ReceiptHandle"])
        return messages
