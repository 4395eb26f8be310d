"""Callback payloads, webhook ids, signatures and the retry schedule (pure parts of
billing.payments.callbacks and billing.payments.retry)."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from decimal import Decimal

import pytest
from billing.domain.webhooks import new_signing_secret
from billing.payments import retry
from billing.payments.callbacks import (
    CallbackMessage,
    build_payload,
    messages_for,
    new_webhook_id,
    payment_callback_data,
    webhook_headers,
)
from standardwebhooks import Webhook, WebhookVerificationError

INVOICE = {"id": 42, "document_number": "FCT-0042", "document_total": Decimal("119.00"), "currency": "RON"}
PAYMENT = {"id": 7, "amount": Decimal("119.0"), "paid_at": datetime(2025, 1, 31, 10, 0, tzinfo=UTC)}


# -- payload ---------------------------------------------------------------------------------


def test_payload_has_type_timestamp_and_the_rendered_invoice_and_payment() -> None:
    body = build_payload(
        "payment.online_registered",
        payment_callback_data(INVOICE, PAYMENT),
        occurred_at=datetime(2025, 1, 31, 10, 0, 0, 123456, tzinfo=UTC),
    )
    payload = json.loads(body)
    assert list(payload) == ["type", "timestamp", "data"]
    assert payload["type"] == "payment.online_registered"
    assert payload["timestamp"] == "2025-01-31T10:00:00.123Z"
    assert payload["data"]["invoice"] == {
        "id": 42,
        "document_number": "FCT-0042",
        "document_total": "119.0",  # Decimals as v1 JSON writes them, never floats
        "currency": "RON",
    }
    assert payload["data"]["payment"] == {"id": 7, "amount": "119.0", "paid_at": "2025-01-31T10:00:00Z"}


def test_payload_timestamps_are_utc() -> None:
    plus_two = datetime(2025, 6, 1, 12, 0, tzinfo=UTC).astimezone(timezone(timedelta(hours=2)))
    assert json.loads(build_payload("document.issued", {}, occurred_at=plus_two))["timestamp"] == (
        "2025-06-01T12:00:00.000Z"
    )


def test_unknown_event_types_and_oversize_payloads_are_refused() -> None:
    with pytest.raises(ValueError, match="unknown webhook event type"):
        build_payload("payment.refunded", {})
    with pytest.raises(ValueError, match="exceeds"):
        build_payload("document.issued", {"invoice": {"notes": "x" * 300_000}})


# -- messages and webhook ids -------------------------------------------------------------------


def test_one_message_per_endpoint_each_with_its_own_stable_webhook_id() -> None:
    body = build_payload("payment.registered", payment_callback_data(INVOICE, PAYMENT))
    messages = messages_for(5, [11, 12], "payment.registered", body, now=1000.0)
    assert [m.endpoint_id for m in messages] == [11, 12]
    assert all(m.body == body and m.enqueued_at == 1000.0 and not m.chained for m in messages)
    assert len({m.webhook_id for m in messages}) == 2
    assert all(m.webhook_id.startswith("msg_") and len(m.webhook_id) == 36 for m in messages)
    # the message survives the queue unchanged (the body is the exact text that gets signed)
    again = CallbackMessage.model_validate_json(messages[0].to_body())
    assert again == messages[0]


def test_webhook_id_from_an_event_id_is_the_same_on_every_run() -> None:
    first = new_webhook_id(5, 11, "payment.registered", "payment-7")
    assert first == new_webhook_id(5, 11, "payment.registered", "payment-7")
    assert first != new_webhook_id(5, 12, "payment.registered", "payment-7")
    assert first != new_webhook_id(6, 11, "payment.registered", "payment-7")
    assert new_webhook_id(5, 11, "payment.registered") != new_webhook_id(5, 11, "payment.registered")


# -- signatures (verified with the standardwebhooks library, as a receiver would) ----------------


def test_headers_verify_with_the_secret_and_not_with_another() -> None:
    secret = new_signing_secret()
    assert secret.startswith("whsec_")
    body = build_payload("document.issued", {"invoice": INVOICE})
    headers = webhook_headers([secret], "msg_abc", body)
    assert headers["webhook-id"] == "msg_abc"
    assert json.loads(body) == Webhook(secret).verify(body, headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(new_signing_secret()).verify(body, headers)


def test_during_a_rotation_both_secrets_sign() -> None:
    old, new = new_signing_secret(), new_signing_secret()
    body = build_payload("document.issued", {"invoice": INVOICE})
    headers = webhook_headers([new, old], "msg_abc", body)
    assert len(headers["webhook-signature"].split(" ")) == 2
    assert all(sig.startswith("v1,") for sig in headers["webhook-signature"].split(" "))
    Webhook(old).verify(body, headers)
    Webhook(new).verify(body, headers)


def test_a_changed_body_does_not_verify() -> None:
    secret = new_signing_secret()
    body = build_payload("document.issued", {"invoice": INVOICE})
    headers = webhook_headers([secret], "msg_abc", body)
    with pytest.raises(WebhookVerificationError):
        Webhook(secret).verify(body.replace("42", "43"), headers)


# -- retry schedule -----------------------------------------------------------------------------

HOUR = 3600
DAY = 24 * HOUR


def test_schedule_waits_grow_then_go_daily() -> None:
    waits = [retry.scheduled_wait(n) for n in range(1, 10)]
    assert waits == [5, 300, 1800, 2 * HOUR, 5 * HOUR, 10 * HOUR, DAY, DAY, DAY]


def _run_schedule(retry_after: float | None = None) -> list[tuple[int, retry.RetryPlan]]:
    """Fail every attempt; return (attempt, plan) until the plan is the dead-letter queue."""
    elapsed, attempt, plans, chained = 0.0, 1, [], False
    while True:
        plan = retry.plan_retry(attempt, elapsed=elapsed, retry_after=retry_after, chained=chained)
        plans.append((attempt, plan))
        if plan.action is retry.Action.DEAD_LETTER:
            return plans
        chained = chained or plan.action is retry.Action.REQUEUE
        elapsed += plan.delay
        attempt += 1


def test_nine_attempts_within_three_days_then_the_dead_letter_queue() -> None:
    plans = _run_schedule()
    assert [(a, p.action, p.delay) for a, p in plans] == [
        (1, retry.Action.VISIBILITY, 5),
        (2, retry.Action.VISIBILITY, 300),
        (3, retry.Action.VISIBILITY, 1800),
        (4, retry.Action.VISIBILITY, 2 * HOUR),
        (5, retry.Action.VISIBILITY, 5 * HOUR),
        (6, retry.Action.VISIBILITY, 10 * HOUR),
        (7, retry.Action.REQUEUE, DAY),
        (8, retry.Action.REQUEUE, DAY),
        (9, retry.Action.DEAD_LETTER, 0),
    ]
    last_attempt_at = sum(p.delay for _, p in plans)
    assert last_attempt_at <= retry.MAX_AGE_SECONDS
    assert all(p.delay <= retry.SQS_MAX_VISIBILITY_SECONDS for _, p in plans if p.action == "visibility")


def test_a_requeued_copy_is_sent_with_at_most_fifteen_minutes_delay_then_held_back() -> None:
    plan = retry.plan_retry(7, elapsed=17 * HOUR)
    assert plan.action is retry.Action.REQUEUE and plan.send_delay == 900
    # the copy is then held back with visibility, 11 h 45 min at a time
    remaining, holds = plan.delay - plan.send_delay, []
    while remaining > 0:
        holds.append(retry.wait_visibility(remaining))
        remaining -= holds[-1]
    assert holds == [42300, 42300, 900]
    assert max(holds) < retry.SQS_MAX_VISIBILITY_SECONDS


def test_a_copy_is_requeued_even_for_a_short_wait() -> None:
    assert retry.plan_retry(2, elapsed=10, chained=True) == retry.RetryPlan(retry.Action.REQUEUE, 300)
    assert retry.RetryPlan(retry.Action.REQUEUE, 300).send_delay == 300


def test_retry_after_lengthens_a_wait_never_shortens_it_and_is_capped() -> None:
    assert retry.retry_delay(1, elapsed=0, retry_after=120) == 120
    assert retry.retry_delay(3, elapsed=0, retry_after=10) == 1800
    assert retry.retry_delay(1, elapsed=0, retry_after=10 * DAY) == DAY
    assert retry.plan_retry(1, elapsed=0, retry_after=20 * HOUR).action is retry.Action.REQUEUE
    assert retry.retry_delay(2, elapsed=retry.MAX_AGE_SECONDS - 100, retry_after=None) is None


def test_parse_retry_after() -> None:
    now = datetime(2025, 1, 31, 10, 0, 0, tzinfo=UTC)
    assert retry.parse_retry_after("120", now=now) == 120
    assert retry.parse_retry_after(" 0 ", now=now) == 0
    assert retry.parse_retry_after("Fri, 31 Jan 2025 10:05:00 GMT", now=now) == 300
    assert retry.parse_retry_after("Fri, 31 Jan 2025 09:00:00 GMT", now=now) == 0  # in the past
    for unreadable in (None, "", "soon", "-5", "1.5", "Fri, 99 Foo 2025"):
        assert retry.parse_retry_after(unreadable, now=now) is None
