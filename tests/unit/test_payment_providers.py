"""Provider webhooks, pure parts: signature verification of both providers (signed here the way
the providers sign, independently of the code under test), minor units, and what an event
becomes (a PaymentEvent, Ignored, or which error)."""

from __future__ import annotations

import json
import re
import time
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest
from billing.domain.errors import MalformedInput, ValidationFailed
from billing.domain.webhooks import new_signing_secret
from billing.payments.providers import (
    ISO_4217_EXPONENTS,
    MAX_BODY_BYTES,
    STRIPE_EXPONENTS,
    Ignored,
    PayloadTooLarge,
    PaymentEvent,
    Provider,
    VerificationFailed,
    check_body_size,
    check_signing_secret,
    from_minor_units,
    iso_exponent,
    load_event,
    parse_stripe_header,
    stripe_exponent,
    tenant_from_path,
    verify_and_parse,
    verify_standard,
    verify_stripe,
)

from tests.support.payments import (
    standard_body,
    standard_headers,
    stripe_checkout_completed,
    stripe_payment_intent,
    stripe_sign,
)

TENANT = 373329733425376
SECRET = new_signing_secret()
OTHER = new_signing_secret()
BODY = standard_body({"invoice_id": 42})
NOW = time.time()


# -- Standard Webhooks ---------------------------------------------------------------------------


def test_standard_valid_signature_passes() -> None:
    verify_standard(BODY.encode(), standard_headers(SECRET, BODY), [SECRET])


def test_standard_headers_are_case_insensitive() -> None:
    headers = {k.upper(): v for k, v in standard_headers(SECRET, BODY).items()}
    verify_standard(BODY.encode(), headers, [SECRET])


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("wrong secret", "No matching signature"),
        ("tampered body", "No matching signature"),
        ("stale timestamp", "too old"),
        ("future timestamp", "too new"),
        ("no webhook-id", "missing signature header(s): webhook-id"),
        ("no webhook-timestamp", "webhook-timestamp"),
        ("no webhook-signature", "webhook-signature"),
        ("no headers at all", "webhook-id, webhook-timestamp, webhook-signature"),
        ("garbage signature", "malformed webhook-signature"),
        ("garbage timestamp", "Invalid Signature Headers"),
        ("no secret", "no signing secret"),
        ("replayed id", "No matching signature"),
    ],
)
def test_standard_refusals(case: str, expected: str) -> None:
    body, secrets = BODY, [SECRET]
    headers = standard_headers(SECRET, BODY)
    if case == "wrong secret":
        headers = standard_headers(OTHER, BODY)
    elif case == "tampered body":
        body = BODY.replace('"amount": "119.00"', '"amount": "1.00"')
        assert body != BODY
    elif case == "stale timestamp":
        headers = standard_headers(SECRET, BODY, timestamp=time.time() - 301)
    elif case == "future timestamp":
        headers = standard_headers(SECRET, BODY, timestamp=time.time() + 301)
    elif case.startswith("no webhook-"):
        del headers[case.removeprefix("no ")]
    elif case == "no headers at all":
        headers = {}
    elif case == "garbage signature":
        headers["webhook-signature"] = "v1-not-a-signature"
    elif case == "garbage timestamp":
        headers["webhook-timestamp"] = "yesterday"
    elif case == "no secret":
        secrets = []
    elif case == "replayed id":
        headers["webhook-id"] = "msg_another"
    with pytest.raises(VerificationFailed, match=re.escape(expected)):
        verify_standard(body.encode(), headers, secrets)


def test_standard_any_of_several_signatures_or_secrets() -> None:
    """A sender in its rotation overlap signs with both secrets; we, in ours, accept both."""
    headers = standard_headers(OTHER, BODY)
    both = standard_headers(
        SECRET, BODY, timestamp=float(headers["webhook-timestamp"]), msg_id=headers["webhook-id"]
    )
    headers["webhook-signature"] = f"{headers['webhook-signature']} {both['webhook-signature']}"
    verify_standard(BODY.encode(), headers, [SECRET])
    verify_standard(BODY.encode(), standard_headers(OTHER, BODY), [SECRET, OTHER])  # rotation overlap
    with pytest.raises(VerificationFailed):
        verify_standard(BODY.encode(), standard_headers(OTHER, BODY), [SECRET])


def test_standard_non_utf8_body_is_refused() -> None:
    headers = standard_headers(SECRET, BODY)
    with pytest.raises(VerificationFailed, match="UTF-8"):
        verify_standard(b"\xff\xfe" + BODY.encode(), headers, [SECRET])


# -- Stripe ------------------------------------------------------------------------------------------

PI = stripe_payment_intent({"invoice_id": "42"}, amount=11900, currency="ron")


def test_stripe_valid_signature_passes() -> None:
    verify_stripe(PI.encode(), stripe_sign(SECRET, PI, timestamp=NOW), [SECRET], now=NOW)


@pytest.mark.parametrize(
    ("case", "expected"),
    [
        ("wrong secret", "no signature matches"),
        ("tampered body", "no signature matches"),
        ("stale timestamp", "too old"),
        ("future timestamp", "too new"),
        ("missing header", "missing signature header: Stripe-Signature"),
        ("no timestamp", "no valid timestamp"),
        ("timestamp not a number", "no valid timestamp"),
        ("no v1", "no v1 signature"),
        ("only v0", "no v1 signature"),
        ("signature of another timestamp", "no signature matches"),
        ("non-ascii signature", "no signature matches"),
    ],
)
def test_stripe_refusals(case: str, expected: str) -> None:
    body, header = PI, stripe_sign(SECRET, PI, timestamp=NOW)
    signature = header.split("v1=")[1]
    if case == "wrong secret":
        header = stripe_sign(OTHER, PI, timestamp=NOW)
    elif case == "tampered body":
        body = PI.replace("11900", "100")
    elif case == "stale timestamp":
        header = stripe_sign(SECRET, PI, timestamp=NOW - 301)
    elif case == "future timestamp":
        header = stripe_sign(SECRET, PI, timestamp=NOW + 301)
    elif case == "missing header":
        header = ""
    elif case == "no timestamp":
        header = f"v1={signature}"
    elif case == "timestamp not a number":
        header = f"t=12e9,v1={signature}"
    elif case == "no v1":
        header = f"t={int(NOW)}"
    elif case == "only v0":
        header = f"t={int(NOW)},v0={signature}"
    elif case == "signature of another timestamp":
        header = f"t={int(NOW) - 1},v1={signature}"
    elif case == "non-ascii signature":
        header = f"t={int(NOW)},v1=ünïcödé"
    with pytest.raises(VerificationFailed, match=expected):
        verify_stripe(body.encode(), header, [SECRET], now=NOW)


def test_stripe_within_tolerance_either_way() -> None:
    verify_stripe(PI.encode(), stripe_sign(SECRET, PI, timestamp=NOW - 299), [SECRET], now=NOW)
    verify_stripe(PI.encode(), stripe_sign(SECRET, PI, timestamp=NOW + 299), [SECRET], now=NOW)


def test_stripe_any_of_several_v1_signatures() -> None:
    """While a secret is rolled, Stripe signs with the old and the new one."""
    good = stripe_sign(SECRET, PI, timestamp=NOW).split("v1=")[1]
    other = stripe_sign(OTHER, PI, timestamp=NOW).split("v1=")[1]
    for header in (
        f"t={int(NOW)},v1={other},v1={good}",
        f"t={int(NOW)},v1={good},v1={other}",
        f"t={int(NOW)}, v0={other}, v1={good}",
    ):
        verify_stripe(PI.encode(), header, [SECRET], now=NOW)


def test_stripe_rotation_overlap_accepts_the_previous_secret() -> None:
    verify_stripe(PI.encode(), stripe_sign(OTHER, PI, timestamp=NOW), [SECRET, OTHER], now=NOW)


def test_stripe_header_parsing() -> None:
    assert parse_stripe_header("t=1700000000,v1=aa,v1=bb,v0=cc") == (1700000000, ["aa", "bb"])
    assert parse_stripe_header("t=1700000000,t=1,v1=aa,junk") == (1700000000, ["aa"])


# -- minor units ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("currency", "minor", "expected"),
    [
        ("EUR", 1999, "19.99"),
        ("RON", 11900, "119.00"),
        ("USD", 5, "0.05"),
        ("JPY", 5000, "5000"),
        ("KRW", 12345, "12345"),
        ("CLP", 990, "990"),
        ("XOF", 1000, "1000"),
        ("KWD", 5120, "5.120"),
        ("BHD", 1000, "1.000"),
        ("TND", 2500, "2.500"),
        ("ISK", 50000, "500.00"),  # Stripe keeps ISK two-decimal (ISO says 0)
        ("HUF", 100000, "1000.00"),
        ("MGA", 3000, "3000"),  # Stripe: zero-decimal (ISO says 2)
        ("eur", 100, "1.00"),
    ],
)
def test_stripe_minor_units(currency: str, minor: int, expected: str) -> None:
    amount = from_minor_units(minor, stripe_exponent(currency))
    assert amount == Decimal(expected) and str(amount) == expected


def test_iso_exponents() -> None:
    assert [iso_exponent(c) for c in ("EUR", "RON", "JPY", "ISK", "KWD", "IQD", "CLF", "MGA")] == [
        2,
        2,
        0,
        0,
        3,
        3,
        4,
        2,
    ]
    assert set(STRIPE_EXPONENTS) - set(ISO_4217_EXPONENTS) == {"MGA"}
    assert {c for c, e in ISO_4217_EXPONENTS.items() if STRIPE_EXPONENTS.get(c, 2) != e} == {
        "ISK",
        "UYI",
        "IQD",
        "LYD",
        "CLF",
        "UYW",
    }


# -- events -------------------------------------------------------------------------------------------


def standard(body: str, *, now: float | None = None) -> PaymentEvent | Ignored:
    return verify_and_parse(
        Provider.STANDARD,
        TENANT,
        body.encode(),
        standard_headers(SECRET, body),
        [SECRET],
        now=now or time.time(),
    )


def stripe(body: str) -> PaymentEvent | Ignored:
    return verify_and_parse(
        Provider.STRIPE,
        TENANT,
        body.encode(),
        {"Stripe-Signature": stripe_sign(SECRET, body, timestamp=NOW)},
        [SECRET],
        now=NOW,
    )


def test_standard_payment_succeeded() -> None:
    body = standard_body(
        {"invoice_id": 42}, amount="238.5", currency="ron", id="pay_1", paid_at="2025-01-31T09:59:58+02:00"
    )
    event = standard(body)
    assert isinstance(event, PaymentEvent)
    assert (event.provider, event.event_id, event.provider_event_id) == (
        Provider.STANDARD,
        "pay_1",
        "standard:pay_1",
    )
    assert (event.invoice_id, event.proforma_invoice_id, event.hashcode) == (42, None, None)
    assert (event.amount, event.currency) == (Decimal("238.5"), "RON")
    assert event.paid_at == datetime(2025, 1, 31, 7, 59, 58, tzinfo=UTC)
    assert PaymentEvent.model_validate_json(event.to_body()) == event


def test_standard_json_number_is_decimal_and_defaults() -> None:
    payload = {
        "type": "payment.succeeded",
        "data": {"proforma_invoice_id": "7", "amount": 10.1, "currency": 946},
    }
    body = json.dumps(payload)
    headers = standard_headers(SECRET, body, msg_id="msg_fallback")
    event = verify_and_parse(Provider.STANDARD, TENANT, body.encode(), headers, [SECRET], now=time.time())
    assert isinstance(event, PaymentEvent)
    assert event.amount == Decimal("10.1") and event.currency == "RON" and event.proforma_invoice_id == 7
    assert event.event_id == "msg_fallback", "without data.id the webhook-id identifies the payment"
    assert abs(event.paid_at.timestamp() - int(headers["webhook-timestamp"])) < 1


def test_standard_hashcode_must_be_the_tenants() -> None:
    event = standard(standard_body({"hashcode": f"{TENANT}-abcdefghijklmnopqrstuvwxyz012345"}))
    assert isinstance(event, PaymentEvent) and event.hashcode
    with pytest.raises(ValidationFailed, match="not a share code of this account"):
        standard(standard_body({"hashcode": "1-abcdefghijklmnopqrstuvwxyz012345"}))


def test_standard_other_types_are_ignored() -> None:
    body = json.dumps({"type": "payment.refunded", "data": {}})
    assert isinstance(standard(body), Ignored)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"amount": "1", "currency": "RON"}, "must name the paid document"),
        ({"invoice_id": 1, "hashcode": "x", "amount": "1", "currency": "RON"}, "give one of"),
        ({"invoice_id": "abc", "amount": "1", "currency": "RON"}, "must be a document id"),
        ({"invoice_id": True, "amount": "1", "currency": "RON"}, "must be a document id"),
        ({"invoice_id": 1, "amount": "-5", "currency": "RON"}, "greater than 0"),
        ({"invoice_id": 1, "amount": "0", "currency": "RON"}, "greater than 0"),
        ({"invoice_id": 1, "amount": "abc", "currency": "RON"}, "must be a number"),
        ({"invoice_id": 1, "currency": "RON"}, "data.amount is required"),
        ({"invoice_id": 1, "amount": "100.5", "currency": "JPY"}, "more decimal places than JPY"),
        ({"invoice_id": 1, "amount": "1.001", "currency": "EUR"}, "more decimal places than EUR"),
        ({"invoice_id": 1, "amount": "1", "currency": "XYZ"}, "not a known currency"),
        ({"invoice_id": 1, "amount": "1"}, "data.currency must be an ISO 4217"),
        ({"invoice_id": 1, "amount": "1", "currency": "RON", "paid_at": "last tuesday"}, "paid_at"),
        ({"invoice_id": 1, "amount": "1", "currency": "RON", "id": "has spaces in it"}, "data.id"),
    ],
)
def test_standard_unusable_data_is_422(data: dict[str, Any], message: str) -> None:
    body = json.dumps({"type": "payment.succeeded", "data": {"id": "pay_1", **data}})
    with pytest.raises(ValidationFailed, match=message):
        standard(body)


@pytest.mark.parametrize(
    "body",
    [
        "{not json",
        "[1, 2]",
        '"text"',
        '{"data": {}}',
        '{"type": "payment.succeeded", "data": {"amount": NaN}}',
    ],
)
def test_malformed_events_are_400(body: str) -> None:
    with pytest.raises(MalformedInput):
        standard(body)


def test_stripe_payment_intent_succeeded() -> None:
    event = stripe(
        stripe_payment_intent({"invoice_id": "42"}, amount=500000, currency="jpy", intent_id="pi_1")
    )
    assert isinstance(event, PaymentEvent)
    assert (event.event_id, event.provider_event_id, event.currency, event.amount) == (
        "pi_1",
        "stripe:pi_1",
        "JPY",
        Decimal(500000),
    )
    assert event.delivery_id and event.delivery_id.startswith("evt_")


def test_stripe_checkout_session_is_identified_by_its_payment_intent() -> None:
    event = stripe(
        stripe_checkout_completed(
            {"hashcode": f"{TENANT}-abcdefghijklmnopqrstuvwxyz012345"}, 1999, "eur", "pi_1"
        )
    )
    assert isinstance(event, PaymentEvent)
    assert (event.provider_event_id, event.amount, event.currency) == ("stripe:pi_1", Decimal("19.99"), "EUR")
    assert event.event_type == "checkout.session.completed"
    without_intent = stripe(stripe_checkout_completed({"invoice_id": "1"}, 1999, "eur", None))
    assert isinstance(without_intent, PaymentEvent) and without_intent.event_id.startswith("cs_test_")


@pytest.mark.parametrize(
    ("body", "reason"),
    [
        (stripe_payment_intent({}), "names no Factura document"),
        (stripe_payment_intent({"order": "77"}), "names no Factura document"),
        (stripe_checkout_completed({"invoice_id": "1"}, payment_status="unpaid"), "not paid"),
        (stripe_payment_intent({"invoice_id": "1"}, amount=0), "nothing was paid"),
        (json.dumps({"id": "evt_1", "type": "customer.created", "data": {"object": {}}}), "not handled"),
        (json.dumps({"id": "evt_1", "type": "charge.refunded", "data": {"object": {}}}), "not handled"),
    ],
)
def test_stripe_ignored(body: str, reason: str) -> None:
    outcome = stripe(body)
    assert isinstance(outcome, Ignored) and reason in outcome.reason


@pytest.mark.parametrize(
    ("body", "message"),
    [
        (stripe_payment_intent({"invoice_id": "FCT-0001"}), "must be a document id"),
        (stripe_payment_intent({"invoice_id": "1"}, currency="zzz"), "not a known currency"),
        (
            json.dumps(
                {
                    "type": "payment_intent.succeeded",
                    "data": {
                        "object": {
                            "id": "pi_1",
                            "currency": "eur",
                            "amount_received": "100",
                            "metadata": {"invoice_id": "1"},
                        }
                    },
                }
            ),
            "whole number of minor units",
        ),
    ],
)
def test_stripe_unusable_data_is_422(body: str, message: str) -> None:
    with pytest.raises(ValidationFailed, match=message):
        stripe(body)


def test_stripe_event_without_object_is_400() -> None:
    with pytest.raises(MalformedInput, match=r"data\.object"):
        stripe(json.dumps({"id": "evt_1", "type": "payment_intent.succeeded"}))


# -- sizes, paths, secrets ----------------------------------------------------------------------------


def test_body_size_limits() -> None:
    check_body_size("x" * MAX_BODY_BYTES, False)
    with pytest.raises(PayloadTooLarge):
        check_body_size("x" * (MAX_BODY_BYTES + 1), False)
    with pytest.raises(PayloadTooLarge):
        check_body_size("QUFB" * (MAX_BODY_BYTES // 3 + 1), True)
    big = json.dumps({"type": "payment.succeeded", "pad": "x" * MAX_BODY_BYTES})
    with pytest.raises(PayloadTooLarge):
        standard(big)


def test_tenant_ids_in_paths() -> None:
    assert tenant_from_path("373329733425376") == 373329733425376
    for bad in ("0", "-1", "1.5", "abc", "\uff11\uff12", "1" * 20, "", " 1"):
        assert tenant_from_path(bad) is None


def test_load_event_keeps_money_exact() -> None:
    assert load_event(b'{"amount": 0.1}') == {"amount": Decimal("0.1")}


def test_merchant_supplied_secrets() -> None:
    assert check_signing_secret(Provider.STANDARD, SECRET) == SECRET
    assert check_signing_secret(Provider.STRIPE, "whsec_" + "a1B2" * 8) == "whsec_" + "a1B2" * 8
    for provider, bad in [
        (Provider.STRIPE, "sk_live_123"),
        (Provider.STRIPE, "whsec_short"),
        (Provider.STRIPE, "whsec_" + "a" * 20 + "!"),
        (Provider.STANDARD, "whsec_" + "A" * 20),  # base64 of 15 bytes: too short for the spec
        (Provider.STANDARD, None),
    ]:
        with pytest.raises(ValidationFailed):
            check_signing_secret(provider, bad)
