"""Clients of a tenant, and the check that keeps a client with documents from being deleted.

Every write goes through `check_client` (a company needs a uid), whichever handler makes it.

Contract with the documents' repositories: every document kind in DOCUMENT_KINDS is stored by
`Records(kind, …, searchable=("document_state", "client_id", …))`, so a document's client id is
in search slot 2: GSI2PK = keys.search_pk(tenant, kind, "client_id"), GSI2SK =
"<client_id>#<document id>". `client_has_documents` asks that slot, one Limit=1 query per kind:
O(number of kinds), whatever the number of documents.
"""

from __future__ import annotations

from collections.abc import Callable

from billing.domain.clients import SEARCH_FIELDS, Client, check_client
from billing.domain.errors import ValidationFailed
from billing.store import keys
from billing.store.records import Records

DOCUMENT_KINDS = ("invoice", "proforma_invoice", "notice", "receipt")
DOCUMENT_CLIENT_FIELD = "client_id"
DOCUMENT_CLIENT_INDEX = "GSI2"


class ClientRecords(Records[Client]):
    """`Records` of kind "client" whose writes check the client rules and whose delete refuses a
    client that documents refer to (documents are never cascaded)."""

    def insert(self, tenant_id: int, build: Callable[[int], Client]) -> Client:
        return super().insert(tenant_id, lambda new_id: check_client(build(new_id)))

    def replace(self, tenant_id: int, record: Client, *, expected_rev: int) -> Client:
        return super().replace(tenant_id, check_client(record), expected_rev=expected_rev)

    def delete(self, tenant_id: int, record_id: int) -> None:
        if self.has_documents(tenant_id, record_id):
            raise ValidationFailed(
                f"client {record_id} has documents; it cannot be deleted while invoices, proformas, "
                "notices or receipts refer to it (delete those first)"
            )
        super().delete(tenant_id, record_id)

    def has_documents(self, tenant_id: int, client_id: int) -> bool:
        for kind in DOCUMENT_KINDS:
            page = self.table.query_page(
                keys.search_pk(tenant_id, kind, DOCUMENT_CLIENT_FIELD),
                index=DOCUMENT_CLIENT_INDEX,
                sort_prefix=f"{client_id}#",
                limit=1,
            )
            if page.items:
                return True
        return False


clients = ClientRecords("client", Client, searchable=tuple(SEARCH_FIELDS))


def client_has_documents(tenant_id: int, client_id: int) -> bool:
    """Whether any invoice, proforma invoice, notice or receipt of the tenant names this client."""
    return clients.has_documents(tenant_id, client_id)
