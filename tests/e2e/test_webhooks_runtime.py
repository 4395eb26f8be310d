"""Webhooks under `make run`: an endpoint on 127.0.0.1 is accepted (the local runtime allows
loopback receivers), the dispatcher runs from the template's SQS event source, and a replay
reaches the receiver again under the same webhook id."""

from __future__ import annotations

import time
from collections.abc import Callable

import boto3
import httpx
import pytest
from billing.payments.callbacks import build_payload, messages_for, payment_callback_data
from standardwebhooks import Webhook

from tests.e2e.conftest import RunningRuntime
from tests.support.webhooks import receiver

pytestmark = pytest.mark.e2e


def wait_for(condition: Callable[[], bool], timeout: float = 15) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out")
        time.sleep(0.05)


def test_callback_delivered_and_replayed_by_the_running_system(runtime: RunningRuntime) -> None:
    with (
        receiver() as hook,
        httpx.Client(base_url=runtime.base_url, auth=(runtime.api_key, "x"), timeout=10) as http,
    ):
        created = http.post(
            "/api/v1/webhook_endpoints.json",
            json={"webhook_endpoint": {"url": hook.url, "event_types": ["payment.online_registered"]}},
        )
        assert created.status_code == 201, created.text
        endpoint = created.json()

        # what enqueue_event puts on the queue, sent to the runtime's own SQS
        body = build_payload(
            "payment.online_registered", payment_callback_data({"id": 1}, {"id": 2, "amount": "10.0"})
        )
        (message,) = messages_for(
            int(runtime.demo["tenant_id"]), [endpoint["id"]], "payment.online_registered", body
        )
        sqs = boto3.client(
            "sqs",
            region_name=runtime.demo["region"],
            endpoint_url=runtime.demo["aws_endpoint_url"],
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        queue_url = sqs.get_queue_url(QueueName="factura-callbacks-local")["QueueUrl"]
        sqs.send_message(QueueUrl=queue_url, MessageBody=message.to_body())

        wait_for(lambda: len(hook.requests) == 1)
        (request,) = hook.requests
        assert request.webhook_id == message.webhook_id
        Webhook(endpoint["secret"]).verify(request.body, request.headers)

        wait_for(lambda: bool(http.get("/api/v1/webhook_deliveries.json").json()))
        (delivery,) = http.get("/api/v1/webhook_deliveries.json").json()
        assert delivery["outcome"] == "delivered"
        replay = http.post(f"/api/v1/webhook_deliveries/{delivery['id']}/replay.json")
        assert replay.status_code == 202, replay.text
        wait_for(lambda: len(hook.requests) == 2)
        assert hook.requests[1].webhook_id == message.webhook_id
        assert hook.requests[1].body == request.body
