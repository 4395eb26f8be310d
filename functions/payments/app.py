"""Invoicing API v1: payments (§7.5) and their field search (§7.5.1).

    GET    /api/v1/payments.xml|.json             list (paginated like every listing)
    POST   /api/v1/payments.xml|.json             register a payment (201 + Location)
    GET    /api/v1/payments/search.xml|.json      ?field=payment_date|proforma_invoice_id|
                                                   invoice_id|description|created_at|updated_at
    GET    /api/v1/payments/{id}[.xml|.json]      one payment
    DELETE /api/v1/payments/{id}[.xml|.json]      delete it: the document's total_due is restored

Payments are immutable records: PUT answers 405 (delete the payment and register it again).
The rules (which documents can be paid, conversion, overpayment, closing and reopening) are in
billing.payments.registration."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from billing.domain.payments import PLURAL, ROOT, SEARCH_FIELDS, PaymentFields
from billing.http.api import Api, parse_ref
from billing.http.listing import list_response, search_response
from billing.payments.registration import delete_payment, register
from billing.store.payments import payments
from billing.wire.codec import Format
from billing.wire.views.payments import payment_view

api = Api()
BASE = f"/api/v1/{PLURAL}"


@api.route(f"{BASE}.{{fmt}}", "GET")
def list_payments(fmt: Format) -> Response[Any]:
    return list_response(api, fmt, PLURAL, payments, payment_view)


@api.route(f"{BASE}.{{fmt}}", "POST")
def create_payment(fmt: Format) -> Response[Any]:
    fields = api.parse(ROOT, PaymentFields).changes()
    principal = api.principal
    registration = register(
        principal.tenant_id,
        invoice_id=fields.get("invoice_id"),
        proforma_invoice_id=fields.get("proforma_invoice_id"),
        amount=fields.get("amount"),
        currency=fields.get("currency_id"),
        payment_date=fields.get("payment_date"),
        description=fields.get("description") or "",
        source="api",
        user_id=principal.user_id,
    )
    payment = registration.payment
    return api.created(fmt, ROOT, payment_view(payment), f"{BASE}/{payment.id}")


@api.route(f"{BASE}/search.{{fmt}}", "GET")
def search_payments(fmt: Format) -> Response[Any]:
    return search_response(api, fmt, PLURAL, payments, SEARCH_FIELDS, payment_view)


@api.route(f"{BASE}/<ref>", "GET")
def get_payment(ref: str) -> Response[Any]:
    payment_id, fmt = parse_ref(ref)
    return api.respond(fmt, ROOT, payment_view(payments.get(api.principal.tenant_id, payment_id)))


@api.route(f"{BASE}/<ref>", "DELETE")
def remove_payment(ref: str) -> Response[Any]:
    payment_id, fmt = parse_ref(ref)
    return api.respond(fmt, ROOT, payment_view(delete_payment(api.principal.tenant_id, payment_id)))


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handler(event, context)
