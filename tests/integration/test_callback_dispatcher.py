"""The callback dispatcher end to end, in-process: enqueue_event -> CallbacksQueue -> the
dispatcher (through its template SQS event source) -> a receiver on 127.0.0.1. Retries are
followed through the ChangeMessageVisibility calls the dispatcher makes; time is moved, never
slept. Signatures are checked with the standardwebhooks library, as a merchant would."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
from billing.payments.callbacks import enqueue_event, payment_callback_data
from standardwebhooks import Webhook, WebhookVerificationError

from local.runtime import free_port
from tests.conftest import Tenant
from tests.support.aws import LocalStack
from tests.support.client import ApiClient
from tests.support.webhooks import DispatcherHarness, Receiver, receiver

INVOICE = {"id": 1001, "document_number": "FCT-1001", "document_total": "238.0", "currency": "RON"}
PAYMENT = {"id": 2002, "amount": "238.0", "currency": "RON", "payment_type": "online"}
DATA = payment_callback_data(INVOICE, PAYMENT)
EVENT = "payment.online_registered"


@pytest.fixture
def harness(aws: LocalStack, monkeypatch: pytest.MonkeyPatch) -> Iterator[DispatcherHarness]:
    from billing.payments.config import webhook_settings

    monkeypatch.setenv("ALLOW_LOOPBACK_WEBHOOKS", "true")
    webhook_settings.cache_clear()
    running = DispatcherHarness(aws)
    running.module.dispatcher.reset()
    running.purge()
    yield running
    running.close()
    running.purge()
    monkeypatch.delenv("ALLOW_LOOPBACK_WEBHOOKS")
    webhook_settings.cache_clear()
    running.module.dispatcher.reset()


@pytest.fixture
def hook() -> Iterator[Receiver]:
    with receiver() as running:
        yield running


def endpoint(client: ApiClient, url: str, event_types: list[str] | None = None) -> dict[str, Any]:
    response = client.send_json(
        "POST",
        "/api/v1/webhook_endpoints.json",
        {"webhook_endpoint": {"url": url, "event_types": event_types or [EVENT]}},
    )
    assert response.status == 201, response.text
    return response.json()


def deliveries(client: ApiClient, query: str = "") -> list[dict[str, Any]]:
    response = client.get(f"/api/v1/webhook_deliveries.json{query}")
    assert response.status == 200, response.text
    return response.json()


class VirtualClock:
    def __init__(self) -> None:
        self.now = time.time()

    def __call__(self) -> float:
        return self.now


# -- delivery ------------------------------------------------------------------------------------


def test_delivered_signed_with_the_stable_webhook_id(
    client: ApiClient, tenant: Tenant, harness: DispatcherHarness, hook: Receiver
) -> None:
    created = endpoint(client, hook.url)
    endpoint(client, hook.url, ["document.issued"])  # not subscribed: gets nothing
    (webhook_id,) = enqueue_event(tenant.tenant_id, EVENT, DATA, event_id="payment-2002")
    assert harness.poll() == 1
    (request,) = hook.requests
    assert request.webhook_id == webhook_id
    assert request.headers["content-type"] == "application/json"
    assert Webhook(created["secret"]).verify(request.body, request.headers) == request.json()
    assert request.json()["type"] == EVENT and request.json()["data"] == DATA
    assert harness.counts() == (0, 0)
    (log,) = deliveries(client)
    assert log["webhook_id"] == webhook_id and log["outcome"] == "delivered" and log["status_code"] == 200
    assert log["attempt"] == 1 and log["endpoint_id"] == created["id"] and log["latency_ms"] >= 0
    assert log["error"] is None and log["url"] == hook.url


def test_a_500_is_retried_with_the_same_webhook_id_then_delivered(
    client: ApiClient, tenant: Tenant, harness: DispatcherHarness, hook: Receiver
) -> None:
    created = endpoint(client, hook.url)
    hook.answer(500, body=b"database down")
    (webhook_id,) = enqueue_event(tenant.tenant_id, EVENT, DATA)
    harness.poll()
    assert harness.visibility == [5], "first retry after 5 s, on the message itself"
    assert harness.counts() == (0, 1)
    harness.release_held()
    harness.poll()
    assert [r.webhook_id for r in hook.requests] == [webhook_id, webhook_id]
    assert hook.requests[0].body == hook.requests[1].body
    for request in hook.requests:
        Webhook(created["secret"]).verify(request.body, request.headers)
    assert harness.counts() == (0, 0)
    second, first = deliveries(client, f"?webhook_id={webhook_id}")  # newest first
    assert (first["attempt"], first["outcome"], first["status_code"]) == (1, "failed", 500)
    assert first["error"] == "HTTP 500: database down" and first["next_attempt_at"] is not None
    assert (second["attempt"], second["outcome"], second["status_code"]) == (2, "delivered", 200)


def test_retry_after_is_honoured(
    client: ApiClient, tenant: Tenant, harness: DispatcherHarness, hook: Receiver
) -> None:
    endpoint(client, hook.url)
    hook.answer(503, {"Retry-After": "120"})
    enqueue_event(tenant.tenant_id, EVENT, DATA)
    harness.poll()
    assert harness.visibility == [120]


def test_redirects_are_not_followed(
    client: ApiClient, tenant: Tenant, harness: DispatcherHarness, hook: Receiver
) -> None:
    endpoint(client, hook.url)
    hook.answer(302, {"Location": "http://169.254.169.254/latest/meta-data/"})
    enqueue_event(tenant.tenant_id, EVENT, DATA)
    harness.poll()
    assert len(hook.requests) == 1
    assert harness.visibility == [5]
    (log,) = deliveries(client)
    assert log["status_code"] == 302 and "not followed" in log["error"]


def test_410_disables_the_endpoint_and_stops(
    client: ApiClient, tenant: Tenant, harness: DispatcherHarness, hook: Receiver
) -> None:
    created = endpoint(client, hook.url)
    hook.answer(410)
    enqueue_event(tenant.tenant_id, EVENT, DATA)
    harness.poll()
    assert harness.visibility == [] and harness.counts() == (0, 0), "no retry"
    assert harness.dead_letters() == []
    now = client.get(f"/api/v1/webhook_endpoints/{created['id']}.json").json()
    assert now["enabled"] is False and "410" in now["disabled_reason"]
    assert deliveries(client)[0]["outcome"] == "gone"
    assert enqueue_event(tenant.tenant_id, EVENT, DATA) == [], "a disabled endpoint gets no callbacks"


def test_the_address_policy_is_applied_when_connecting(
    client: ApiClient,
    tenant: Tenant,
    harness: DispatcherHarness,
    hook: Receiver,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """An endpoint saved while loopback was allowed, delivered when it no longer is: the guarded
    connection refuses 127.0.0.1 (as it would a name re-pointed at a private address)."""
    from billing.payments.config import webhook_settings

    endpoint(client, hook.url.replace("http://", "https://"))
    monkeypatch.setenv("ALLOW_LOOPBACK_WEBHOOKS", "false")
    webhook_settings.cache_clear()
    harness.module.dispatcher.reset()
    enqueue_event(tenant.tenant_id, EVENT, DATA)
    harness.poll()
    assert hook.requests == []
    (log,) = deliveries(client)
    assert log["outcome"] == "failed" and "address refused" in log["error"] and "loopback" in log["error"]


def test_receiver_down_follows_the_schedule_then_the_dead_letter_queue(
    client: ApiClient, tenant: Tenant, harness: DispatcherHarness, monkeypatch: pytest.MonkeyPatch
) -> None:
    from billing.payments import dispatch, retry

    clock = VirtualClock()
    monkeypatch.setattr(dispatch, "clock", clock)
    monkeypatch.setattr(retry, "SQS_MAX_DELAY_SECONDS", 0)  # requeued copies visible at once
    created = endpoint(client, f"http://127.0.0.1:{free_port()}/nobody-listens")
    (webhook_id,) = enqueue_event(tenant.tenant_id, EVENT, DATA)
    clock.now = time.time()

    for _ in range(40):
        held_before = len(harness.visibility)
        if harness.poll() == 0:
            break
        if len(harness.visibility) == held_before:
            continue  # requeued: the copy is already visible
        clock.now += harness.visibility[-1]
        harness.release_held()
    else:
        pytest.fail("the schedule never ended")

    day_hold = [42300, 42300, 86400 - 2 * 42300]  # a day, in holds of 11 h 45 min
    assert harness.visibility == [5, 300, 1800, 7200, 18000, 36000, *day_hold, *day_hold]
    (dead,) = harness.dead_letters()
    assert webhook_id in dead["Body"]
    assert "retries exhausted after attempt 9" in dead["MessageAttributes"]["reason"]["StringValue"]
    assert harness.counts() == (0, 0)

    log = deliveries(client, f"?endpoint_id={created['id']}")
    assert [d["attempt"] for d in log] == list(range(9, 0, -1))
    assert [d["outcome"] for d in log] == ["exhausted"] + ["failed"] * 8
    assert all(d["webhook_id"] == webhook_id and d["status_code"] is None for d in log)
    assert all("ConnectError" in d["error"] for d in log)
    assert log[0]["next_attempt_at"] is None


def test_rotation_overlap_signs_with_both_secrets(
    client: ApiClient, tenant: Tenant, harness: DispatcherHarness, hook: Receiver
) -> None:
    created = endpoint(client, hook.url)
    old = created["secret"]
    enqueue_event(tenant.tenant_id, EVENT, DATA)
    harness.poll()  # the dispatcher now has the old secret cached
    new = client.request("POST", f"/api/v1/webhook_endpoints/{created['id']}/rotate_secret.json").json()[
        "secret"
    ]
    enqueue_event(tenant.tenant_id, EVENT, DATA)
    harness.poll()
    during = hook.requests[-1]
    assert len(during.headers["webhook-signature"].split(" ")) == 2
    Webhook(old).verify(during.body, during.headers)  # a receiver not yet switched
    Webhook(new).verify(during.body, during.headers)  # a receiver already switched

    client.request("POST", f"/api/v1/webhook_endpoints/{created['id']}/rotate_secret.json?overlap_seconds=0")
    newest = client.get(f"/api/v1/webhook_endpoints/{created['id']}.json").json()
    assert newest["previous_secret_expires_at"] is None
    enqueue_event(tenant.tenant_id, EVENT, DATA)
    harness.poll()
    after = hook.requests[-1]
    assert len(after.headers["webhook-signature"].split(" ")) == 1
    for revoked in (old, new):
        with pytest.raises(WebhookVerificationError):
            Webhook(revoked).verify(after.body, after.headers)


def test_replay_sends_the_same_body_under_the_same_webhook_id(
    aws: LocalStack,
    client: ApiClient,
    other_tenant: Tenant,
    tenant: Tenant,
    harness: DispatcherHarness,
    hook: Receiver,
) -> None:
    created = endpoint(client, hook.url)
    (webhook_id,) = enqueue_event(tenant.tenant_id, EVENT, DATA)
    harness.poll()
    (delivered,) = deliveries(client)

    other = ApiClient(aws.gateway, other_tenant.api_key)
    assert other.request("POST", f"/api/v1/webhook_deliveries/{delivered['id']}/replay.json").status == 404
    assert other.get("/api/v1/webhook_deliveries.json").json() == []
    assert other.get(f"/api/v1/webhook_deliveries.json?webhook_id={webhook_id}").json() == []

    replay = client.request("POST", f"/api/v1/webhook_deliveries/{delivered['id']}/replay.xml")
    assert replay.status == 202, replay.text
    assert f"<webhook_id>{webhook_id}</webhook_id>" in replay.text
    harness.poll()
    first, again = hook.requests
    assert again.webhook_id == first.webhook_id == webhook_id and again.body == first.body
    Webhook(created["secret"]).verify(again.body, again.headers)
    newest = deliveries(client, f"?endpoint_id={created['id']}&webhook_id={webhook_id}")
    assert [(d["replay"], d["outcome"]) for d in newest] == [(True, "delivered"), (False, "delivered")]

    # a disabled endpoint is not replayed to
    client.send_json(
        "PUT", f"/api/v1/webhook_endpoints/{created['id']}.json", {"webhook_endpoint": {"enabled": False}}
    )
    refused = client.request("POST", f"/api/v1/webhook_deliveries/{delivered['id']}/replay.json")
    assert refused.status == 422 and "disabled" in refused.json()["errors"][0]


def test_a_callback_queued_for_a_disabled_or_deleted_endpoint_is_skipped(
    client: ApiClient, tenant: Tenant, harness: DispatcherHarness, hook: Receiver
) -> None:
    created = endpoint(client, hook.url)
    enqueue_event(tenant.tenant_id, EVENT, DATA)
    client.delete(f"/api/v1/webhook_endpoints/{created['id']}.json")
    harness.poll()
    assert hook.requests == [] and harness.counts() == (0, 0)
    assert deliveries(client)[0]["outcome"] == "skipped"


def test_a_malformed_message_goes_to_the_dead_letter_queue(harness: DispatcherHarness) -> None:
    harness.sqs.send_message(QueueUrl=harness.queue_url, MessageBody='{"not": "a callback"}')
    harness.poll()
    (dead,) = harness.dead_letters()
    assert dead["Body"] == '{"not": "a callback"}'
    assert harness.counts() == (0, 0)


def test_no_subscriber_enqueues_nothing(tenant: Tenant, harness: DispatcherHarness) -> None:
    assert enqueue_event(tenant.tenant_id, EVENT, DATA) == []
    assert harness.counts() == (0, 0)
    with pytest.raises(ValueError):
        enqueue_event(tenant.tenant_id, "payment.unknown", DATA)
