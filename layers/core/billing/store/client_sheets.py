"""The client sheet (reference §7.7.2): a client's invoices with their payments, what the client
owes per currency, and its recurring invoices.

Reads, all inside the tenant's partitions:

- invoices: the documents' client_id search slot (GSI2 `T#<t>#invoice#client_id`, begins_with
  `<client id>#`), one page at a time like every listing: O(page);
- payments of each invoice on the page: GSI3 `T#<t>#payment#invoice_id`: O(page x payments);
- dues: the same client_id slot read to the end, keeping only open invoices (FilterExpression)
  and only currency_id and total_due (ProjectionExpression): O(the client's invoices) read
  capacity, returning only the open ones. Every invoice of the client must be seen to sum what
  it owes; a per-client counter would make it O(1) at the price of one more item in every
  document write, which is not worth it while sheets are an occasional read.
- recurring invoices: Factura has none yet, so the sheet lists none (no data is invented).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from billing.domain.clients import Client
from billing.domain.documents import Document, DocumentKind
from billing.domain.payments import Payment
from billing.domain.reference_data import known_currency
from billing.domain.states import DocumentState
from billing.store import keys
from billing.store.aws import client as aws_client
from billing.store.clients import clients
from billing.store.documents import DOCUMENTS
from billing.store.payments import payments_of
from billing.store.table import from_item

CLIENT_FIELD = "client_id"


@dataclass(frozen=True)
class ClientSheet:
    client: Client
    invoices: Sequence[tuple[Document, Sequence[Payment]]]
    """This page of the client's invoices (oldest first), each with its payments."""
    dues: dict[str, Decimal]
    """Sum of total_due of the client's open invoices, by currency ISO code (sorted; no zeros)."""
    cursor: str | None
    """Cursor of the next page of invoices, None on the last one."""


def client_sheet(tenant_id: int, client_id: int, *, limit: int, cursor: str | None = None) -> ClientSheet:
    """The sheet of a client of the tenant (NotFound for an unknown or another tenant's client)."""
    record = clients.get(tenant_id, client_id)
    invoices, next_cursor = DOCUMENTS[DocumentKind.INVOICE].search(
        tenant_id, CLIENT_FIELD, f"{client_id}#", limit=limit, cursor=cursor
    )
    with_payments = [(invoice, payments_of(tenant_id, "invoice_id", invoice.id)) for invoice in invoices]
    return ClientSheet(record, with_payments, client_dues(tenant_id, client_id), next_cursor)


def client_dues(tenant_id: int, client_id: int) -> dict[str, Decimal]:
    """What the client owes, per currency (see the module docstring for the cost)."""
    records = DOCUMENTS[DocumentKind.INVOICE]
    index = records.slot_index(CLIENT_FIELD)
    kwargs: dict[str, Any] = {
        "TableName": records.table.name,
        "IndexName": index,
        "KeyConditionExpression": "#pk = :pk AND begins_with(#sk, :client)",
        "FilterExpression": "#state = :open",
        "ProjectionExpression": "#currency, #due",
        "ExpressionAttributeNames": {
            "#pk": f"{index}PK",
            "#sk": f"{index}SK",
            "#state": "document_state",
            "#currency": "currency_id",
            "#due": "total_due",
        },
        "ExpressionAttributeValues": {
            ":pk": {"S": keys.search_pk(tenant_id, DocumentKind.INVOICE.value, CLIENT_FIELD)},
            ":client": {"S": f"{client_id}#"},
            ":open": {"S": DocumentState.OPEN.value},
        },
    }
    sums: dict[str, Decimal] = {}
    while True:
        response = aws_client("dynamodb").query(**kwargs)
        for raw in response.get("Items", []):
            item = from_item(raw)
            currency = known_currency(item["currency_id"], "currency_id").iso_name
            sums[currency] = sums.get(currency, Decimal(0)) + Decimal(item.get("total_due", 0))
        if "LastEvaluatedKey" not in response:
            break
        kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]
    return {currency: amount for currency, amount in sorted(sums.items()) if amount}
