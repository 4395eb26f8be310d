"""The payment processor in-process: signed provider events posted to the webhook endpoint, the
PaymentEventsQueue read by the PaymentProcessorFunction through its template event source, the
payment registered once per provider event (repeats one after another and at the same moment),
the callbacks queued once per endpoint, conversions, and the failures that are dead-lettered at
once or retried."""

from __future__ import annotations

import json
import threading
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import Tenant
from tests.integration.test_documents_api import (
    create_client,
    create_document,
    create_series,
    mark,
    set_home_currency,
)
from tests.support.aws import LocalStack
from tests.support.client import ApiClient
from tests.support.payments import (
    ProcessorHarness,
    standard_body,
    standard_headers,
    stripe_checkout_completed,
    stripe_payment_intent,
    stripe_sign,
)

STRIPE_SECRET = "whsec_" + "Qm7" * 11


@pytest.fixture
def harness(aws: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[ProcessorHarness]:
    from billing.payments.config import webhook_settings
    from billing.store.provider_secrets import provider_secrets

    monkeypatch.setenv("ALLOW_LOOPBACK_WEBHOOKS", "true")  # endpoints on 127.0.0.1 (never called here)
    webhook_settings.cache_clear()
    provider_secrets.reset()
    running = ProcessorHarness(aws)
    running.purge()
    running.take(running.callbacks_url)
    yield running
    running.purge()
    running.take(running.callbacks_url)
    monkeypatch.delenv("ALLOW_LOOPBACK_WEBHOOKS")
    webhook_settings.cache_clear()


@pytest.fixture
def setup(client: ApiClient) -> dict[str, Any]:
    standard = client.request("POST", "/api/v1/payment_providers/standard.json").json()["secret"]
    stripe = client.send_json(
        "PUT", "/api/v1/payment_providers/stripe.json", {"payment_provider": {"secret": STRIPE_SECRET}}
    )
    assert stripe.status == 200, stripe.text
    return {
        "client_id": create_client(client),
        "invoice_series": create_series(client),
        "proforma_invoice_series": create_series(client, "proforma_invoice_series", prefix="PF"),
        "standard": standard,
        "stripe": STRIPE_SECRET,
    }


def open_document(
    client: ApiClient, setup: dict[str, Any], kind: str = "invoice", **extra: Any
) -> dict[str, Any]:
    """Issued, owing 119.00 (2 x 50 + 19% VAT) in EUR unless `extra` says otherwise."""
    doc = create_document(client, setup["client_id"], setup[f"{kind}_series"], kind=kind, **extra)
    assert mark(client, kind, doc["id"], "open").status == 200
    return read(client, kind, doc["id"])


def read(client: ApiClient, kind: str, document_id: int) -> dict[str, Any]:
    response = client.get(f"/api/v1/{kind}s/{document_id}.json")
    assert response.status == 200, response.text
    return dict(response.json())


def endpoint(client: ApiClient, event_types: list[str], port: int = 9) -> int:
    response = client.send_json(
        "POST",
        "/api/v1/webhook_endpoints.json",
        {"webhook_endpoint": {"url": f"http://127.0.0.1:{port}/hook", "event_types": event_types}},
    )
    assert response.status == 201, response.text
    return int(response.json()["id"])


def online_payments(tenant_id: int) -> list[Any]:
    from billing.store.payments import payments

    found, _ = payments.page(tenant_id, limit=100)
    return found


def post_standard(aws: LocalStack, tenant_id: int, secret: str, body: str) -> None:
    response = ApiClient(aws.gateway, None).request(
        "POST",
        f"/webhooks/payments/standard/{tenant_id}",
        body=body,
        headers=standard_headers(secret, body),
        auth=False,
    )
    assert response.status == 200, response.text


def post_stripe(aws: LocalStack, tenant_id: int, body: str) -> None:
    response = ApiClient(aws.gateway, None).request(
        "POST",
        f"/webhooks/payments/stripe/{tenant_id}",
        body=body,
        headers={"Stripe-Signature": stripe_sign(STRIPE_SECRET, body)},
        auth=False,
    )
    assert response.status == 200, response.text


def queued(harness: ProcessorHarness) -> str:
    """The one message on the PaymentEventsQueue, taken off it."""
    (message,) = harness.take()
    return str(message["Body"])


# -- registering -------------------------------------------------------------------------------------


def test_standard_event_registers_and_queues_both_callbacks(
    aws: LocalStack, client: ApiClient, tenant: Tenant, setup: dict[str, Any], harness: ProcessorHarness
) -> None:
    invoice = open_document(client, setup)
    online = endpoint(client, ["payment.online_registered"])
    both = endpoint(client, ["payment.online_registered", "payment.registered"])
    endpoint(client, ["document.issued"])
    post_standard(
        aws,
        tenant.tenant_id,
        setup["standard"],
        standard_body({"invoice_id": invoice["id"]}, amount="119.00", currency="EUR", id="pay_1"),
    )
    assert harness.poll() == 1
    assert harness.counts_visible() == 0

    doc = read(client, "invoice", invoice["id"])
    assert doc["document_state"] == "closed" and Decimal(doc["total_due"]) == 0
    (payment,) = online_payments(tenant.tenant_id)
    assert payment.source.value == "online" and payment.provider_event_id == "standard:pay_1"
    assert payment.amount == Decimal("119.00") and payment.invoice_id == invoice["id"]

    # Opening the invoice also queues document.issued (from the issuance flow, at its own pace);
    # what matters here is which endpoints got payment events, and that one of each did.
    callbacks = [c for c in harness.callbacks(tenant.tenant_id) if c["event_type"].startswith("payment.")]
    assert Counter((c["endpoint_id"], c["event_type"]) for c in callbacks) == {
        (online, "payment.online_registered"): 1,
        (both, "payment.online_registered"): 1,
        (both, "payment.registered"): 1,
    }
    body = json.loads(callbacks[0]["body"])
    assert (
        body["data"]["invoice"]["id"] == invoice["id"]
        and body["data"]["invoice"]["document_state"] == "closed"
    )
    assert body["data"]["payment"]["id"] == payment.id and body["data"]["payment"]["source"] == "online"
    assert harness.dead_letters() == []


def test_the_same_event_three_times_one_after_another_registers_once(
    aws: LocalStack, client: ApiClient, tenant: Tenant, setup: dict[str, Any], harness: ProcessorHarness
) -> None:
    invoice = open_document(client, setup)
    hook = endpoint(client, ["payment.online_registered"])
    body = standard_body({"invoice_id": invoice["id"]}, amount="50.00", currency="EUR", id="pay_thrice")
    for _ in range(3):  # the provider retried: three POSTs, three queue messages
        post_standard(aws, tenant.tenant_id, setup["standard"], body)
    harness.drain()
    (payment,) = online_payments(tenant.tenant_id)
    assert Decimal(read(client, "invoice", invoice["id"])["total_due"]) == Decimal("69.00")
    callbacks = harness.callbacks(tenant.tenant_id)
    assert [(c["endpoint_id"], c["event_type"]) for c in callbacks] == [(hook, "payment.online_registered")]
    # and once more, long after: still one payment, no new callback
    post_standard(aws, tenant.tenant_id, setup["standard"], body)
    harness.drain()
    assert online_payments(tenant.tenant_id) == [payment]
    assert harness.callbacks(tenant.tenant_id) == []


def test_the_same_event_three_times_at_once_registers_once(
    aws: LocalStack, client: ApiClient, tenant: Tenant, setup: dict[str, Any], harness: ProcessorHarness
) -> None:
    invoice = open_document(client, setup)
    hooks = {endpoint(client, ["payment.online_registered", "payment.registered"]) for _ in range(2)}
    body = stripe_payment_intent(
        {"invoice_id": str(invoice["id"])}, amount=11900, currency="eur", intent_id="pi_concurrent"
    )
    post_stripe(aws, tenant.tenant_id, body)
    message = queued(harness)
    start = threading.Barrier(3, timeout=60)

    def deliver(_: int) -> Any:
        start.wait()
        return harness.invoke([message])  # three Lambda invocations, each with its own copy

    with ThreadPoolExecutor(3) as pool:
        results = list(pool.map(deliver, range(3)))
    assert all(r == {"batchItemFailures": []} for r in results), results
    (payment,) = online_payments(tenant.tenant_id)
    assert payment.provider_event_id == "stripe:pi_concurrent"
    doc = read(client, "invoice", invoice["id"])
    assert doc["document_state"] == "closed" and Decimal(doc["total_due"]) == 0
    callbacks = Counter((c["endpoint_id"], c["event_type"]) for c in harness.callbacks(tenant.tenant_id))
    assert callbacks == {
        (h, t): 1 for h in hooks for t in ("payment.online_registered", "payment.registered")
    }


def test_checkout_session_and_its_payment_intent_register_one_payment(
    aws: LocalStack, client: ApiClient, tenant: Tenant, setup: dict[str, Any], harness: ProcessorHarness
) -> None:
    proforma = open_document(client, setup, "proforma_invoice")
    metadata = {"hashcode": proforma["hashcode"]}
    post_stripe(
        aws,
        tenant.tenant_id,
        stripe_checkout_completed(metadata, amount=11900, currency="eur", intent_id="pi_both"),
    )
    post_stripe(
        aws,
        tenant.tenant_id,
        stripe_payment_intent(metadata, amount=11900, currency="eur", intent_id="pi_both"),
    )
    harness.drain()
    (payment,) = online_payments(tenant.tenant_id)
    assert payment.proforma_invoice_id == proforma["id"] and payment.invoice_id is None
    assert read(client, "proforma_invoice", proforma["id"])["document_state"] == "closed"


def test_payment_in_the_account_currency_is_converted_at_the_invoice_rate(
    aws: LocalStack, client: ApiClient, tenant: Tenant, setup: dict[str, Any], harness: ProcessorHarness
) -> None:
    """RON account, EUR invoice at 4.6: Stripe reports 92.00 RON (9200 bani) -> 20.00 EUR paid."""
    set_home_currency(tenant, "RON")
    invoice = open_document(client, setup, currency_id="EUR", exchange_rate="4.6")
    post_stripe(
        aws,
        tenant.tenant_id,
        stripe_payment_intent({"invoice_id": str(invoice["id"])}, amount=9200, currency="ron"),
    )
    harness.drain()
    (payment,) = online_payments(tenant.tenant_id)
    assert (payment.amount, payment.currency, payment.amount_in_document_currency) == (
        Decimal("92.00"),
        "RON",
        Decimal("20.00"),
    )
    assert Decimal(read(client, "invoice", invoice["id"])["total_due"]) == Decimal("99.00")


# -- failures --------------------------------------------------------------------------------------------


def dead_letter_reasons(harness: ProcessorHarness) -> list[str]:
    return [m["MessageAttributes"]["reason"]["StringValue"] for m in harness.dead_letters()]


def test_permanent_failures_are_recorded_and_dead_lettered_at_once(
    aws: LocalStack, client: ApiClient, tenant: Tenant, setup: dict[str, Any], harness: ProcessorHarness
) -> None:
    from billing.store.provider_events import provider_events

    hook = endpoint(client, ["payment.online_registered"])
    cancelled = open_document(client, setup)
    assert mark(client, "invoice", cancelled["id"], "cancelled").status == 200
    eur = open_document(client, setup)  # EUR account, EUR invoice, no rate: USD cannot be counted
    cases = {
        "pay_missing": ({"invoice_id": 999_999_999}, "119.00", "EUR", "invoice 999999999 not found"),
        "pay_cancelled": ({"invoice_id": cancelled["id"]}, "119.00", "EUR", "is cancelled"),
        "pay_usd": ({"invoice_id": eur["id"]}, "10.00", "USD", "a payment in USD cannot be counted"),
        "pay_over": ({"invoice_id": eur["id"]}, "500.00", "EUR", "exceeds"),
    }
    for event_id, (document, amount, currency, _) in cases.items():
        post_standard(
            aws,
            tenant.tenant_id,
            setup["standard"],
            standard_body(document, amount=amount, currency=currency, id=event_id),
        )
    harness.drain()
    assert harness.counts_visible() == 0, "reported done: not retried"
    reasons = dead_letter_reasons(harness)
    assert len(reasons) == 4
    for event_id, (*_, expected) in cases.items():
        state = provider_events.get(tenant.tenant_id, f"standard:{event_id}")
        assert state is not None and state["event_state"] == "failed" and expected in state["reason"], state
        assert any(expected in reason for reason in reasons), (expected, reasons)
    assert online_payments(tenant.tenant_id) == []
    assert harness.callbacks(tenant.tenant_id) == [], hook


def test_a_redriven_failure_is_processed_again(
    aws: LocalStack, client: ApiClient, tenant: Tenant, setup: dict[str, Any], harness: ProcessorHarness
) -> None:
    draft = create_document(client, setup["client_id"], setup["invoice_series"])
    post_standard(
        aws,
        tenant.tenant_id,
        setup["standard"],
        standard_body({"invoice_id": draft["id"]}, amount="19.00", currency="EUR", id="pay_early"),
    )
    harness.drain()
    (dead,) = harness.dead_letters()
    assert "draft" in dead["MessageAttributes"]["reason"]["StringValue"]
    assert mark(client, "invoice", draft["id"], "open").status == 200  # the merchant fixes it
    harness.sqs.send_message(QueueUrl=harness.queue_url, MessageBody=dead["Body"])  # operator's redrive
    harness.drain()
    (payment,) = online_payments(tenant.tenant_id)
    assert payment.amount == Decimal("19.00")
    assert harness.dead_letters() == []


def test_transient_errors_are_retried_without_duplicates(
    aws: LocalStack,
    client: ApiClient,
    tenant: Tenant,
    setup: dict[str, Any],
    harness: ProcessorHarness,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """SQS refuses the callbacks once after the payment was written: the record is reported
    failed, and the retry finds the payment already registered and queues the callbacks."""
    from billing.payments import processor

    invoice = open_document(client, setup)
    hook = endpoint(client, ["payment.online_registered"])
    post_standard(
        aws,
        tenant.tenant_id,
        setup["standard"],
        standard_body({"invoice_id": invoice["id"]}, amount="10.00", currency="EUR"),
    )
    message = queued(harness)
    real = processor.enqueue_event
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("SQS is down")
        return real(*args, **kwargs)

    monkeypatch.setattr(processor, "enqueue_event", flaky)
    failed = harness.invoke([message])
    assert len(failed["batchItemFailures"]) == 1
    assert len(online_payments(tenant.tenant_id)) == 1 and harness.callbacks(tenant.tenant_id) == []
    assert harness.invoke([message]) == {"batchItemFailures": []}
    assert len(online_payments(tenant.tenant_id)) == 1
    assert [(c["endpoint_id"], c["event_type"]) for c in harness.callbacks(tenant.tenant_id)] == [
        (hook, "payment.online_registered")
    ]
    assert harness.dead_letters() == []


def test_a_message_that_is_not_a_payment_event_is_dead_lettered(harness: ProcessorHarness) -> None:
    assert harness.invoke(['{"hello": "world"}', "not json"]) == {"batchItemFailures": []}
    reasons = dead_letter_reasons(harness)
    assert len(reasons) == 2 and all(r.startswith("not a payment event message") for r in reasons)
