"""Online-payment test helpers: sign provider events the way the providers do (Standard Webhooks
with the `standardwebhooks` library, Stripe's `t=…,v1=…`), build their bodies, and read the
PaymentEventsQueue / PaymentEventsDLQ of a stack."""

from __future__ import annotations

import hashlib
import hmac
import json
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import boto3
from standardwebhooks import Webhook

from local.template import REGION


def standard_body(
    document: dict[str, Any], amount: str = "119.00", currency: str = "RON", **data: Any
) -> str:
    payload = {
        "type": "payment.succeeded",
        "timestamp": datetime.now(UTC).isoformat(),
        "data": {
            "id": f"pay_{uuid.uuid4().hex[:12]}",
            **document,
            "amount": amount,
            "currency": currency,
            **data,
        },
    }
    return json.dumps(payload)


def standard_headers(
    secret: str, body: str, *, timestamp: float | None = None, msg_id: str | None = None
) -> dict[str, str]:
    """What a Standard Webhooks sender puts on the POST (signed by the reference library)."""
    ts = time.time() if timestamp is None else timestamp
    webhook_id = msg_id or f"msg_{uuid.uuid4().hex}"
    signature = Webhook(secret).sign(webhook_id, datetime.fromtimestamp(ts, UTC), body)
    return {
        "Content-Type": "application/json",
        "webhook-id": webhook_id,
        "webhook-timestamp": str(int(ts)),
        "webhook-signature": signature,
    }


def stripe_sign(secret: str, body: str | bytes, *, timestamp: float | None = None) -> str:
    """A Stripe-Signature header, computed independently of billing.payments.providers."""
    ts = int(time.time() if timestamp is None else timestamp)
    raw = body.encode() if isinstance(body, str) else body
    digest = hmac.new(secret.encode(), f"{ts}.".encode() + raw, hashlib.sha256).hexdigest()
    return f"t={ts},v1={digest}"


def stripe_payment_intent(
    metadata: dict[str, str], amount: int = 11900, currency: str = "ron", intent_id: str | None = None
) -> str:
    intent = intent_id or f"pi_{uuid.uuid4().hex[:24]}"
    return json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "api_version": "2024-06-20",
            "created": int(time.time()),
            "livemode": False,
            "type": "payment_intent.succeeded",
            "data": {
                "object": {
                    "id": intent,
                    "object": "payment_intent",
                    "amount": amount,
                    "amount_received": amount,
                    "currency": currency,
                    "status": "succeeded",
                    "metadata": metadata,
                }
            },
        }
    )


def stripe_checkout_completed(
    metadata: dict[str, str],
    amount: int = 11900,
    currency: str = "ron",
    intent_id: str | None = None,
    payment_status: str = "paid",
) -> str:
    return json.dumps(
        {
            "id": f"evt_{uuid.uuid4().hex[:24]}",
            "object": "event",
            "created": int(time.time()),
            "type": "checkout.session.completed",
            "data": {
                "object": {
                    "id": f"cs_test_{uuid.uuid4().hex[:24]}",
                    "object": "checkout.session",
                    "amount_total": amount,
                    "currency": currency,
                    "payment_status": payment_status,
                    "payment_intent": intent_id,
                    "metadata": metadata,
                }
            },
        }
    )


def sign_sample_event(event: dict[str, Any], tenant_id: int) -> None:
    """Make events/provider_webhooks.json valid for `tenant_id` now: configure the provider for
    the tenant, point the path at it and sign the body with a fresh timestamp."""
    from billing.store.provider_secrets import provider_secrets

    provider = event["pathParameters"]["provider"]
    signing = provider_secrets.read(tenant_id, provider)
    secret = signing.current if signing else provider_secrets.create(tenant_id, provider)
    event["path"] = f"/webhooks/payments/{provider}/{tenant_id}"
    event["pathParameters"]["tenant_id"] = str(tenant_id)
    headers = standard_headers(secret, event["body"], msg_id=event["headers"]["webhook-id"])
    for name in ("webhook-timestamp", "webhook-signature"):
        event["headers"][name] = headers[name]
        event["multiValueHeaders"][name] = [headers[name]]


class PaymentQueues:
    """The PaymentEventsQueue and its DLQ of a (moto) stack."""

    def __init__(self, queue_url: str, dlq_url: str, *, endpoint_url: str | None = None) -> None:
        self.sqs = boto3.client("sqs", region_name=REGION, endpoint_url=endpoint_url)
        self.queue_url = queue_url
        self.dlq_url = dlq_url

    def take(self, url: str | None = None) -> list[dict[str, Any]]:
        """Receive and delete every message now visible (bodies parsed, attributes kept)."""
        taken: list[dict[str, Any]] = []
        while messages := self.sqs.receive_message(
            QueueUrl=url or self.queue_url,
            MaxNumberOfMessages=10,
            MessageAttributeNames=["All"],
            AttributeNames=["All"],
        ).get("Messages"):
            taken.extend(messages)
            self.sqs.delete_message_batch(
                QueueUrl=url or self.queue_url,
                Entries=[{"Id": str(i), "ReceiptHandle": m["ReceiptHandle"]} for i, m in enumerate(messages)],
            )
        return taken

    def events(self) -> list[dict[str, Any]]:
        return [json.loads(m["Body"]) for m in self.take()]

    def dead_letters(self) -> list[dict[str, Any]]:
        return self.take(self.dlq_url)

    def purge(self) -> None:
        self.take()
        self.take(self.dlq_url)


PROCESSOR = "PaymentProcessorFunction"


class ProcessorHarness(PaymentQueues):
    """The PaymentProcessorFunction driven through its template SQS event source (one poll =
    receive, invoke, delete what was not reported failed), and the CallbacksQueue it feeds."""

    def __init__(self, aws: Any) -> None:
        import threading

        from local.sqs import SqsPoller, sqs_subscriptions

        super().__init__(aws.stack.ref("PaymentEventsQueue"), aws.stack.ref("PaymentEventsDLQ"))
        self.callbacks_url = aws.stack.ref("CallbacksQueue")
        self.function = aws.functions.resolve(PROCESSOR)
        self.function.load()
        (subscription,) = [s for s in sqs_subscriptions(aws.stack) if s.function == PROCESSOR]
        self.subscription = subscription
        self.poller = SqsPoller(subscription, self.function, threading.Event(), endpoint_url=None)  # type: ignore[arg-type]

    def poll(self) -> int:
        return self.poller.poll_once(wait_seconds=0)

    def drain(self, rounds: int = 10) -> None:
        for _ in range(rounds):
            if self.poll() == 0:
                return

    def invoke(self, bodies: list[str]) -> Any:
        """Call the handler with an SQS batch made of `bodies` (not through the queue)."""
        from local.sqs import sqs_event

        messages = [
            {
                "MessageId": str(uuid.uuid4()),
                "ReceiptHandle": uuid.uuid4().hex,
                "Body": body,
                "Attributes": {},
            }
            for body in bodies
        ]
        return self.function.invoke(sqs_event(messages, self.subscription.queue_arn))

    def counts_visible(self) -> int:
        """Messages still on the PaymentEventsQueue, visible or held back for a retry."""
        attributes = self.sqs.get_queue_attributes(QueueUrl=self.queue_url, AttributeNames=["All"])[
            "Attributes"
        ]
        return int(attributes["ApproximateNumberOfMessages"]) + int(
            attributes["ApproximateNumberOfMessagesNotVisible"]
        )

    def callbacks(self, tenant_id: int) -> list[dict[str, Any]]:
        """The callback messages queued for the tenant (taken off the CallbacksQueue)."""
        taken = [json.loads(m["Body"]) for m in self.take(self.callbacks_url)]
        return [m for m in taken if m["tenant_id"] == tenant_id]
