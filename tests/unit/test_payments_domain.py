"""billing.domain.payments: the conversion rule of amount_in_document_currency and the amount
checks, without AWS."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from billing.domain.errors import ValidationFailed
from billing.domain.payments import (
    PaymentFields,
    amount_in_document_currency,
    check_amount,
    check_provider_event_id,
)
from pydantic import ValidationError

D = Decimal


@pytest.mark.parametrize(
    ("amount", "paid_in", "document", "rate", "home", "expected"),
    [
        (D("100"), "EUR", "EUR", None, "RON", D("100")),  # same currency: as sent, no rate needed
        (D("460"), "RON", "EUR", D("4.6"), "RON", D("100.00")),  # home -> foreign: / rate
        (D("100"), "RON", "EUR", D("4.6"), "RON", D("21.74")),  # the reference's receipt example
        (D("100"), "EUR", "RON", D("4.6"), "RON", D("460.00")),  # foreign -> home: x rate
        (D("0.01"), "EUR", "RON", D("4.6"), "RON", D("0.05")),  # 0.046 rounds half-up
        (D("10"), "RON", "EUR", D("4.6"), "RON", D("2.17")),
    ],
)
def test_conversion_rule(
    amount: Decimal, paid_in: str, document: str, rate: Decimal | None, home: str, expected: Decimal
) -> None:
    assert (
        amount_in_document_currency(
            amount, paid_in, document, rate, home_currency=home, field="payment.currency_id"
        )
        == expected
    )


@pytest.mark.parametrize(
    ("paid_in", "document", "rate", "home", "says"),
    [
        ("RON", "EUR", None, "EUR", "that has no exchange rate"),
        ("USD", "EUR", D("4.6"), "RON", "quoted against the account currency RON"),
    ],
)
def test_unconvertible_payments_are_refused(
    paid_in: str, document: str, rate: Decimal | None, home: str, says: str
) -> None:
    with pytest.raises(ValidationFailed) as failure:
        amount_in_document_currency(
            D("1"), paid_in, document, rate, home_currency=home, field="payment.currency_id"
        )
    (message,) = failure.value.messages
    assert (
        message.startswith(f"payment.currency_id: a payment in {paid_in} cannot be counted")
        and says in message
    )


@pytest.mark.parametrize(
    ("amount", "message"),
    [
        (None, "payment.amount is required"),
        (D("0"), "payment.amount must be greater than 0"),
        (D("-5"), "payment.amount must be greater than 0"),
        (D("1.001"), "payment.amount must have at most 2 decimal places"),
    ],
)
def test_amount_checks(amount: Decimal | None, message: str) -> None:
    with pytest.raises(ValidationFailed) as failure:
        check_amount(amount, "payment.amount")
    assert failure.value.messages == [message]


def test_amount_keeps_cents() -> None:
    assert check_amount(D("1.10"), "payment.amount") == D("1.10")


def test_payload_types_and_ignores_read_only_fields() -> None:
    fields = PaymentFields.model_validate(
        {
            "amount": "1001.11",
            "currency_id": "978",
            "payment_date": "2015-02-20",
            "invoice_id": "12",
            "currency": "EUR",
            "id": 3,
            "amount_in_document_currency": "1",
        }
    ).changes()
    assert fields == {
        "amount": D("1001.11"),
        "currency_id": 978,
        "payment_date": date(2015, 2, 20),
        "invoice_id": 12,
    }
    with pytest.raises(ValidationError):
        PaymentFields.model_validate({"amount": 1.5})  # a binary float is never money


@pytest.mark.parametrize("value", ["", "  ", "x" * 256])
def test_provider_event_ids(value: str) -> None:
    with pytest.raises(ValidationFailed):
        check_provider_event_id(value)
    assert check_provider_event_id("evt_1") == "evt_1" and check_provider_event_id(None) is None
