"""Payment providers' webhooks in-process (gateway event -> ProviderWebhooksFunction -> moto): the
merchant's v1 resource for the secrets, every refusal (and that nothing reaches the
PaymentEventsQueue then, read from the queue itself), and valid `standard` and `stripe` events
queued as normalized payments."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator
from decimal import Decimal
from typing import Any

import pytest

from local.apigw import HttpResponse
from tests.conftest import Tenant
from tests.support.aws import LocalStack
from tests.support.client import ApiClient
from tests.support.payments import (
    PaymentQueues,
    standard_body,
    standard_headers,
    stripe_checkout_completed,
    stripe_payment_intent,
    stripe_sign,
)

STRIPE_SECRET = "whsec_" + "Zx9" * 11  # the shape of a secret Stripe's dashboard shows


@pytest.fixture
def queues(aws: LocalStack) -> Iterator[PaymentQueues]:
    from billing.payments.config import webhook_settings
    from billing.store.provider_secrets import provider_secrets

    webhook_settings.cache_clear()
    provider_secrets.reset()
    running = PaymentQueues(aws.stack.ref("PaymentEventsQueue"), aws.stack.ref("PaymentEventsDLQ"))
    running.purge()
    yield running
    running.purge()


@pytest.fixture
def public(aws: LocalStack) -> ApiClient:
    return ApiClient(aws.gateway, None)


def configure(client: ApiClient, provider: str, **query: str) -> dict[str, Any]:
    suffix = "?" + "&".join(f"{k}={v}" for k, v in query.items()) if query else ""
    response = client.request("POST", f"/api/v1/payment_providers/{provider}.json{suffix}")
    assert response.status in (200, 201), response.text
    return dict(response.json())


@pytest.fixture
def secrets(client: ApiClient) -> dict[str, str]:
    standard = configure(client, "standard")["secret"]
    response = client.send_json(
        "PUT", "/api/v1/payment_providers/stripe.json", {"payment_provider": {"secret": STRIPE_SECRET}}
    )
    assert response.status == 200, response.text
    return {"standard": standard, "stripe": STRIPE_SECRET}


def post(
    public: ApiClient,
    provider: str,
    tenant_id: int | str,
    body: str | bytes,
    headers: dict[str, str],
    content_type: str | None = None,
) -> HttpResponse:
    return public.request(
        "POST",
        f"/webhooks/payments/{provider}/{tenant_id}",
        body=body,
        headers=headers,
        content_type=content_type,
        auth=False,
    )


def send_standard(public: ApiClient, tenant_id: int, secret: str, body: str, **kwargs: Any) -> HttpResponse:
    return post(public, "standard", tenant_id, body, standard_headers(secret, body, **kwargs))


def send_stripe(public: ApiClient, tenant_id: int, secret: str, body: str, **kwargs: Any) -> HttpResponse:
    return post(public, "stripe", tenant_id, body, {"Stripe-Signature": stripe_sign(secret, body, **kwargs)})


# -- the merchant's resource ---------------------------------------------------------------------


def test_provider_secret_lifecycle(client: ApiClient, tenant: Tenant, queues: PaymentQueues) -> None:
    before = client.get("/api/v1/payment_providers/standard.json")
    assert before.status == 200 and before.json()["configured"] is False
    assert (
        before.json()["webhook_url"] == f"http://factura.test/webhooks/payments/standard/{tenant.tenant_id}"
    )

    created = client.request("POST", "/api/v1/payment_providers/standard.json")
    assert created.status == 201, created.text
    first = created.json()["secret"]
    assert first.startswith("whsec_") and created.json()["configured"] is True

    shown = client.get("/api/v1/payment_providers/standard.xml")
    assert (
        shown.status == 200 and "whsec_" not in shown.text and '<configured type="boolean">true' in shown.text
    )

    rotated = client.request("POST", "/api/v1/payment_providers/standard.json")
    assert rotated.status == 200 and rotated.json()["secret"] not in (first, None)
    assert rotated.json()["previous_secret_expires_at"] is not None, "the old secret verifies for a day"

    immediate = client.request("POST", "/api/v1/payment_providers/standard.json?overlap_seconds=0")
    assert immediate.status == 200 and immediate.json()["previous_secret_expires_at"] is None

    deleted = client.delete("/api/v1/payment_providers/standard.json")
    assert deleted.status == 200 and deleted.json()["configured"] is False
    assert client.delete("/api/v1/payment_providers/standard.json").status == 404


def test_provider_resource_refusals(client: ApiClient, aws: LocalStack) -> None:
    assert client.get("/api/v1/payment_providers/paypal.json").status == 404
    assert ApiClient(aws.gateway, None).get("/api/v1/payment_providers/stripe.json").status == 401
    bad = client.send_json(
        "PUT", "/api/v1/payment_providers/stripe.json", {"payment_provider": {"secret": "sk_live_1"}}
    )
    assert bad.status == 422 and "whsec_" in bad.text
    assert client.request("POST", "/api/v1/payment_providers/stripe.json?overlap_seconds=-1").status == 422
    assert (
        client.request("POST", "/api/v1/payment_providers/stripe.json?overlap_seconds=999999999").status
        == 422
    )
    assert client.request("PATCH", "/api/v1/payment_providers/stripe.json").status == 405
    assert client.get("/api/v1/payment_providers/stripe.json").json()["configured"] is False, (
        "nothing was stored"
    )


# -- refusals: 4xx, nothing queued ---------------------------------------------------------------


def test_every_refusal_is_4xx_and_queues_nothing(
    public: ApiClient,
    client: ApiClient,
    tenant: Tenant,
    other_tenant: Tenant,
    secrets: dict[str, str],
    queues: PaymentQueues,
) -> None:
    t = tenant.tenant_id
    body = standard_body({"invoice_id": 42})
    other_secret = configure(ApiClient(client.gateway, other_tenant.api_key), "standard")["secret"]
    huge = json.dumps({"type": "payment.succeeded", "pad": "x" * 70_000})
    malformed = '{"type": "payment.succeeded", "data": {'
    pi = stripe_payment_intent({"invoice_id": "42"})
    cases: list[tuple[str, HttpResponse, int]] = [
        ("forged signature", send_standard(public, t, other_secret, body), 400),
        (
            "tampered body",
            post(
                public,
                "standard",
                t,
                body.replace("119.00", "1.00"),
                standard_headers(secrets["standard"], body),
            ),
            400,
        ),
        (
            "another tenant's secret",
            send_standard(public, other_tenant.tenant_id, secrets["standard"], body),
            400,
        ),
        ("unknown tenant", send_standard(public, 999999999999, secrets["standard"], body), 404),
        ("tenant id not a number", send_standard(public, "abc", secrets["standard"], body), 404),  # type: ignore[arg-type]
        (
            "unknown provider",
            post(public, "paypal", t, body, standard_headers(secrets["standard"], body)),
            404,
        ),
        (
            "stale timestamp",
            send_standard(public, t, secrets["standard"], body, timestamp=time.time() - 600),
            400,
        ),
        (
            "future timestamp",
            send_standard(public, t, secrets["standard"], body, timestamp=time.time() + 600),
            400,
        ),
        ("missing headers", post(public, "standard", t, body, {"Content-Type": "application/json"}), 400),
        ("malformed JSON, signed", send_standard(public, t, secrets["standard"], malformed), 400),
        ("huge body", send_standard(public, t, secrets["standard"], huge), 413),
        (
            "unusable data, signed",
            send_standard(public, t, secrets["standard"], standard_body({"invoice_id": 42}, amount="-1")),
            422,
        ),
        ("stripe forged", send_stripe(public, t, other_secret, pi), 400),
        ("stripe stale", send_stripe(public, t, secrets["stripe"], pi, timestamp=time.time() - 301), 400),
        ("stripe without header", post(public, "stripe", t, pi, {}), 400),
        (
            "stripe unknown currency",
            send_stripe(
                public, t, secrets["stripe"], stripe_payment_intent({"invoice_id": "4"}, currency="zzz")
            ),
            422,
        ),
    ]
    for name, response, status in cases:
        assert response.status == status, (name, response.status, response.text)
        assert response.header("Content-Type") and "error" in response.json(), name
    wrong_verb = public.get(f"/webhooks/payments/standard/{t}", auth=False)
    assert wrong_verb.status == 405
    assert queues.events() == []
    # not configured: the same 404 as an unknown tenant
    unconfigured = send_stripe(public, other_tenant.tenant_id, secrets["stripe"], pi)
    assert (
        unconfigured.status == 404
        and unconfigured.json() == send_standard(public, 1, secrets["standard"], body).json()
    )
    assert queues.events() == []


# -- accepted --------------------------------------------------------------------------------------


def test_valid_standard_event_is_queued(
    public: ApiClient, tenant: Tenant, secrets: dict[str, str], queues: PaymentQueues
) -> None:
    body = standard_body({"invoice_id": 42}, amount="238.50", currency="RON", id="pay_abc")
    response = send_standard(public, tenant.tenant_id, secrets["standard"], body)
    assert response.status == 200, response.text
    assert response.json() == {"received": True, "queued": True, "provider_event_id": "standard:pay_abc"}
    (event,) = queues.events()
    assert event["tenant_id"] == tenant.tenant_id and event["provider"] == "standard"
    assert (event["event_id"], event["invoice_id"], Decimal(event["amount"]), event["currency"]) == (
        "pay_abc",
        42,
        Decimal("238.50"),
        "RON",
    )


def test_valid_stripe_events_are_queued(
    public: ApiClient, tenant: Tenant, secrets: dict[str, str], queues: PaymentQueues
) -> None:
    pi = stripe_payment_intent({"invoice_id": "42"}, amount=50000, currency="jpy", intent_id="pi_jpy")
    assert send_stripe(public, tenant.tenant_id, secrets["stripe"], pi).status == 200
    session = stripe_checkout_completed(
        {"proforma_invoice_id": "7"}, amount=1999, currency="eur", intent_id="pi_eur"
    )
    assert send_stripe(public, tenant.tenant_id, secrets["stripe"], session).status == 200
    first, second = queues.events()
    assert (first["event_id"], Decimal(first["amount"]), first["currency"], first["invoice_id"]) == (
        "pi_jpy",
        Decimal(50000),
        "JPY",
        42,
    )
    assert (
        second["event_id"],
        Decimal(second["amount"]),
        second["currency"],
        second["proforma_invoice_id"],
    ) == ("pi_eur", Decimal("19.99"), "EUR", 7)


def test_ignored_events_are_2xx_and_queue_nothing(
    public: ApiClient, tenant: Tenant, secrets: dict[str, str], queues: PaymentQueues
) -> None:
    for body in (
        json.dumps(
            {"id": "evt_1", "type": "customer.created", "created": 1, "data": {"object": {"id": "cus_1"}}}
        ),
        stripe_payment_intent({"shop_order": "1001"}),
        stripe_checkout_completed({"invoice_id": "1"}, payment_status="unpaid"),
    ):
        response = send_stripe(public, tenant.tenant_id, secrets["stripe"], body)
        assert response.status == 200 and response.json()["queued"] is False and response.json()["ignored"]
    other = json.dumps({"type": "payment.refunded", "data": {"id": "r1"}})
    assert send_standard(public, tenant.tenant_id, secrets["standard"], other).json()["queued"] is False
    assert queues.events() == []


def test_binary_body_is_verified_on_its_raw_bytes(
    public: ApiClient, tenant: Tenant, secrets: dict[str, str], queues: PaymentQueues
) -> None:
    """Sent as application/octet-stream (a binary media type), API Gateway base64-encodes it."""
    body = standard_body({"invoice_id": 42}, description="Plată ăâîșț")
    headers = standard_headers(secrets["standard"], body)
    del headers["Content-Type"]
    response = post(
        public, "standard", tenant.tenant_id, body.encode(), headers, content_type="application/octet-stream"
    )
    assert response.status == 200, response.text
    assert len(queues.events()) == 1
    garbage = post(
        public,
        "standard",
        tenant.tenant_id,
        b"\xff\xfe\x00",
        headers,
        content_type="application/octet-stream",
    )
    assert garbage.status == 400 and queues.events() == []


def test_rotation_overlap_and_a_rotation_made_by_another_container(
    public: ApiClient,
    client: ApiClient,
    tenant: Tenant,
    secrets: dict[str, str],
    queues: PaymentQueues,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from billing.payments import inbound
    from billing.store.provider_secrets import ProviderSecrets, provider_secrets

    old = secrets["standard"]
    new = configure(client, "standard")["secret"]
    for secret in (old, new):  # the previous secret verifies during the overlap
        assert send_standard(public, tenant.tenant_id, secret, standard_body({"invoice_id": 1})).status == 200
    newest = configure(client, "standard", overlap_seconds="0")["secret"]
    assert send_standard(public, tenant.tenant_id, new, standard_body({"invoice_id": 1})).status == 400
    assert len(queues.events()) == 2

    # the webhooks function caches the secret; a rotation made by the merchant's function in
    # another container is picked up on the first signature that does not match
    assert send_standard(public, tenant.tenant_id, newest, standard_body({"invoice_id": 1})).status == 200
    ProviderSecrets().replace(tenant.tenant_id, "standard", secret=None, overlap_seconds=0, now=time.time())
    (rotated, _) = ProviderSecrets().signing(tenant.tenant_id, "standard")
    assert rotated is not None
    cached, _ = provider_secrets.signing(tenant.tenant_id, "standard")
    assert cached is not None and cached.current == newest, "still cached"
    monkeypatch.setattr(inbound, "REFRESH_AFTER_SECONDS", 0)
    assert (
        send_standard(public, tenant.tenant_id, rotated.current, standard_body({"invoice_id": 1})).status
        == 200
    )
    assert len(queues.events()) == 2


def test_sample_event_body_is_a_valid_standard_event() -> None:
    from local.template import ROOT

    event = json.loads((ROOT / "events" / "provider_webhooks.json").read_text())
    assert event["path"].startswith("/webhooks/payments/standard/")
    raw = base64.b64decode(event["body"]) if event["isBase64Encoded"] else event["body"].encode()
    assert json.loads(raw)["type"] == "payment.succeeded"
