"""v1 representation of a payment (§7.5), also the `payment` part of the online-payment
callback payload (§8).

Fields, in alphabetical order as Rails' `to_xml` writes them: amount, amount_in_document_currency
(the amount in the paid document's currency, see billing.domain.payments), created_at,
currency (ISO code), currency_id, description, id, invoice_id, payment_date,
proforma_invoice_id, provider_event_id (online payments), receipt_id (payments a receipt
registered), source (api, online, receipt), updated_at, user_id.
"""

from __future__ import annotations

from typing import Any

from billing.domain.payments import Payment


def payment_view(payment: Payment) -> dict[str, Any]:
    data = payment.model_dump(mode="python")
    data["source"] = payment.source.value
    data["currency"] = payment.currency
    return dict(sorted(data.items()))
