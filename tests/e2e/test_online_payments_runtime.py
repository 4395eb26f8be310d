"""Online payments under `make run`, over real HTTP: a payment provider POSTs a signed event
(`standard`, then `stripe`) to /webhooks/payments/…, the running system queues it, the payment
processor registers it on the invoice, and the merchant's receiver gets the §8 callback, whose
signature verifies with the standardwebhooks library. Forged, misaddressed, stale, malformed and
oversized events are refused with a 4xx and change nothing."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from decimal import Decimal
from typing import Any

import boto3
import httpx
import pytest
from standardwebhooks import Webhook

from tests.e2e.conftest import RunningRuntime, create_tenant
from tests.support.payments import standard_body, standard_headers, stripe_payment_intent, stripe_sign
from tests.support.webhooks import receiver

pytestmark = pytest.mark.e2e

STRIPE_SECRET = "whsec_" + "Lk4" * 11
POSITION = {"description": "Consulting", "unit": "h", "unit_count": "2", "price": "50", "vat": "19"}


def wait_for(condition: Callable[[], bool], timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            pytest.fail("timed out")
        time.sleep(0.05)


def created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    return dict(response.json())


def open_invoice(api: httpx.Client, client_id: int, series_id: int) -> dict[str, Any]:
    fields = {
        "client_id": client_id,
        "currency_id": "EUR",
        "document_date": "2025-01-31",
        "document_series_id": series_id,
        "vat_type": 1,
        "document_positions": [POSITION],
    }
    invoice = created(api.post("/api/v1/invoices.json", json={"invoice": fields}))
    opened = api.put(f"/api/v1/invoices/{invoice['id']}/mark_open.json")
    assert opened.status_code == 200, opened.text
    return invoice


def invoice_now(api: httpx.Client, invoice_id: int) -> dict[str, Any]:
    response = api.get(f"/api/v1/invoices/{invoice_id}.json")
    assert response.status_code == 200, response.text
    return dict(response.json())


def payment_queue_counts(runtime: RunningRuntime) -> tuple[int, int]:
    """(messages on the PaymentEventsQueue, visible or in flight; messages on its DLQ)."""
    sqs = boto3.client(
        "sqs",
        region_name=runtime.demo["region"],
        endpoint_url=runtime.demo["aws_endpoint_url"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    counts = []
    for name in ("factura-payment-events-local", "factura-payment-events-dlq-local"):
        url = sqs.get_queue_url(QueueName=name)["QueueUrl"]
        attributes = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["All"])["Attributes"]
        counts.append(
            int(attributes["ApproximateNumberOfMessages"])
            + int(attributes["ApproximateNumberOfMessagesNotVisible"])
        )
    return counts[0], counts[1]


def test_demo_tenant_has_provider_secrets(runtime: RunningRuntime) -> None:
    providers = runtime.demo["providers"]
    assert providers["standard"]["secret"].startswith("whsec_") and providers["stripe"]["secret"].startswith(
        "whsec_"
    )
    with httpx.Client(base_url=runtime.base_url, auth=(runtime.api_key, "x"), timeout=10) as api:
        for name in ("standard", "stripe"):
            shown = api.get(f"/api/v1/payment_providers/{name}.json").json()
            assert shown["configured"] is True and "secret" not in shown
            assert shown["webhook_url"].endswith(f"/webhooks/payments/{name}/{runtime.demo['tenant_id']}")


def test_signed_provider_events_register_payments_and_call_the_merchant_back(runtime: RunningRuntime) -> None:
    tenant = create_tenant(runtime, "online-payments")
    tenant_id = int(tenant["tenant_id"])
    with (
        receiver() as hook,
        httpx.Client(base_url=runtime.base_url, auth=(tenant["api_key"], "x"), timeout=10) as api,
        httpx.Client(base_url=runtime.base_url, timeout=10) as provider,
    ):
        standard_secret = created(api.post("/api/v1/payment_providers/standard.json"))["secret"]
        stripe = api.put(
            "/api/v1/payment_providers/stripe.json", json={"payment_provider": {"secret": STRIPE_SECRET}}
        )
        assert stripe.status_code == 200, stripe.text
        endpoint = created(
            api.post(
                "/api/v1/webhook_endpoints.json",
                json={"webhook_endpoint": {"url": hook.url, "event_types": ["payment.online_registered"]}},
            )
        )
        series = created(
            api.post(
                "/api/v1/invoice_series.json", json={"invoice_series": {"prefix": "OP", "sepparator": "-"}}
            )
        )
        client = created(
            api.post("/api/v1/clients.json", json={"client": {"name": "Client SRL", "uid": "RO1"}})
        )
        first, second, untouched = (open_invoice(api, client["id"], series["id"]) for _ in range(3))

        # a Standard Webhooks sender, then Stripe
        body = standard_body({"invoice_id": first["id"]}, amount="119.00", currency="EUR")
        sent = provider.post(
            f"/webhooks/payments/standard/{tenant_id}",
            content=body,
            headers=standard_headers(standard_secret, body),
        )
        assert sent.status_code == 200 and sent.json()["queued"] is True, sent.text
        body = stripe_payment_intent({"invoice_id": str(second["id"])}, amount=11900, currency="eur")
        sent = provider.post(
            f"/webhooks/payments/stripe/{tenant_id}",
            content=body,
            headers={
                "Content-Type": "application/json",
                "Stripe-Signature": stripe_sign(STRIPE_SECRET, body),
            },
        )
        assert sent.status_code == 200 and sent.json()["queued"] is True, sent.text

        wait_for(lambda: len(hook.requests) == 2)
        paid = {}
        for request in hook.requests:
            payload = Webhook(endpoint["secret"]).verify(request.body, request.headers)  # not our code
            assert payload["type"] == "payment.online_registered"
            paid[payload["data"]["invoice"]["id"]] = payload["data"]
        assert set(paid) == {first["id"], second["id"]}
        for invoice_id, data in paid.items():
            assert (
                data["invoice"]["document_state"] == "closed" and Decimal(data["invoice"]["total_due"]) == 0
            )
            assert data["payment"]["invoice_id"] == invoice_id and data["payment"]["source"] == "online"
            assert (
                Decimal(data["payment"]["amount"]) == Decimal("119") and data["payment"]["currency"] == "EUR"
            )
            assert invoice_now(api, invoice_id)["document_state"] == "closed"
        assert paid[second["id"]]["payment"]["provider_event_id"].startswith("stripe:pi_")

        # refused: 4xx, nothing queued, nothing paid
        target = {"invoice_id": untouched["id"]}
        body = standard_body(target, amount="119.00", currency="EUR")
        other_secret = runtime.demo["providers"]["standard"]["secret"]  # the demo tenant's
        huge = json.dumps({"type": "payment.succeeded", "data": target, "pad": "x" * 100_000})
        malformed = '{"type": "payment.succeeded", "data": '
        refusals = {
            "forged signature": (
                f"/webhooks/payments/standard/{tenant_id}",
                body,
                standard_headers(other_secret, body),
                400,
            ),
            "wrong tenant": (
                f"/webhooks/payments/standard/{runtime.demo['tenant_id']}",
                body,
                standard_headers(standard_secret, body),
                400,
            ),
            "unknown tenant": (
                "/webhooks/payments/standard/123456789",
                body,
                standard_headers(standard_secret, body),
                404,
            ),
            "stale timestamp": (
                f"/webhooks/payments/standard/{tenant_id}",
                body,
                standard_headers(standard_secret, body, timestamp=time.time() - 3600),
                400,
            ),
            "malformed JSON": (
                f"/webhooks/payments/standard/{tenant_id}",
                malformed,
                standard_headers(standard_secret, malformed),
                400,
            ),
            "huge body": (
                f"/webhooks/payments/standard/{tenant_id}",
                huge,
                standard_headers(standard_secret, huge),
                413,
            ),
            "stripe forged": (
                f"/webhooks/payments/stripe/{tenant_id}",
                stripe_payment_intent(target),
                {"Stripe-Signature": stripe_sign("whsec_" + "x" * 32, stripe_payment_intent(target))},
                400,
            ),
        }
        for name, (path, content, headers, status) in refusals.items():
            response = provider.post(path, content=content, headers=headers)
            assert response.status_code == status, (name, response.status_code, response.text)
            assert payment_queue_counts(runtime) == (0, 0), name
        time.sleep(1.5)  # a message wrongly queued would have been processed by now
        assert invoice_now(api, untouched["id"])["document_state"] == "open"
        assert len(hook.requests) == 2
        payments = api.get("/api/v1/payments.json").json()
        assert sorted(p["invoice_id"] for p in payments) == sorted([first["id"], second["id"]])
