"""Callback dispatcher throughput to a receiver on 127.0.0.1, as a ratio to a bare httpx POST loop
to the same receiver in the same run (absolute rates depend on the machine).

Two dispatcher figures: the handler alone (SQS batch events built in memory: endpoint read,
signing, POST, delivery-log write on moto) and end to end (the template's SQS event source on
moto: receive, handler, delete). moto in-process stands in for DynamoDB, SQS and Secrets Manager,
so the dispatcher's AWS calls cost more than the real ones would (and far more than the bare
loop's zero): the ratio is an upper bound on the dispatcher's overhead.

Run: make bench  (or: PYTHONPATH=layers/core:. .venv/bin/python bench/bench_dispatcher.py)"""

from __future__ import annotations

import json
import os
import sys
import threading
import time
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]

N = int(os.environ.get("BENCH_CALLBACKS", "300"))


def main() -> None:
    os.environ["ALLOW_LOOPBACK_WEBHOOKS"] = "true"
    import logging

    logging.disable(logging.INFO)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"

    import httpx
    from billing.payments.callbacks import build_payload, messages_for, payment_callback_data, send_messages
    from billing.payments.webhooks import create_endpoint

    from local.sqs import SqsPoller, sqs_event, sqs_subscriptions
    from tests.conftest import make_tenant
    from tests.support.aws import local_stack
    from tests.support.webhooks import receiver

    invoice = {"id": 1, "document_number": "FCT-0001", "document_total": "1190.0", "currency": "RON"}
    payment = {"id": 2, "amount": "1190.0", "currency": "RON", "payment_type": "online"}
    body = build_payload("payment.online_registered", payment_callback_data(invoice, payment))

    with local_stack() as aws, receiver() as hook:
        from billing.payments.config import webhook_settings

        webhook_settings.cache_clear()
        tenant = make_tenant("bench")
        endpoint, _ = create_endpoint(
            tenant.tenant_id, {"url": hook.url, "event_types": ["payment.online_registered"]}
        )
        function = aws.functions.resolve("CallbackDispatcherFunction")
        function.load()

        # bare httpx loop: the floor
        with httpx.Client() as http:
            for _ in range(20):
                http.post(hook.url, content=body, headers={"content-type": "application/json"})
            started = time.perf_counter()
            for _ in range(N):
                http.post(hook.url, content=body, headers={"content-type": "application/json"})
            bare = N / (time.perf_counter() - started)

        # the handler alone, batches of 10 built in memory
        messages = messages_for(tenant.tenant_id, [endpoint.id] * N, "payment.online_registered", body)
        records = [
            {
                "MessageId": str(uuid.uuid4()),
                "ReceiptHandle": "bench",
                "Body": m.to_body(),
                "Attributes": {"ApproximateReceiveCount": "1"},
            }
            for m in messages
        ]
        function.invoke(sqs_event(records[:10], "arn:aws:sqs:us-east-1:123456789012:bench"))  # warm
        hook.requests.clear()
        started = time.perf_counter()
        for start in range(0, N, 10):
            result = function.invoke(sqs_event(records[start : start + 10], "arn:aws:sqs:bench"))
            assert result == {"batchItemFailures": []}, result
        handler = N / (time.perf_counter() - started)
        assert len(hook.requests) == N

        # end to end through the queue and the template's event source
        (subscription,) = [s for s in sqs_subscriptions(aws.stack) if s.function == function.name]
        poller = SqsPoller(subscription, function, threading.Event(), endpoint_url=None)
        send_messages(messages_for(tenant.tenant_id, [endpoint.id] * N, "payment.online_registered", body))
        hook.requests.clear()
        started = time.perf_counter()
        while len(hook.requests) < N:
            if poller.poll_once(wait_seconds=0) == 0 and len(hook.requests) < N:
                raise RuntimeError(f"queue drained after {len(hook.requests)} of {N} callbacks")
        end_to_end = N / (time.perf_counter() - started)

    print(f"callback dispatcher, {N} callbacks of {len(body)} bytes to a receiver on 127.0.0.1")
    print(f"  bare httpx POST loop      {bare:8.0f} /s  1.00")
    print(f"  dispatcher handler        {handler:8.0f} /s  {handler / bare:.2f}")
    print(f"  dispatcher via SQS (moto) {end_to_end:8.0f} /s  {end_to_end / bare:.2f}")
    print(
        json.dumps(
            {
                "bare_per_s": round(bare),
                "handler_ratio": round(handler / bare, 3),
                "end_to_end_ratio": round(end_to_end / bare, 3),
            }
        )
    )


if __name__ == "__main__":
    main()
