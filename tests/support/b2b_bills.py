"""A tenant with bills of every kind, made through the v1 API (so every write goes through the
documents' transactions, bill index included), and an independent oracle of what its bills are:
read from the stored invoices, never from the bill index."""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any
from urllib.parse import urlencode

from local.apigw import HttpResponse, LocalApiGateway
from tests.conftest import Tenant, make_tenant
from tests.support.b2b import B2bHttp, access_token, make_b2b_client
from tests.support.client import ApiClient

BILLS = "/billing/b2b/v1/bills"
SEARCH = "/billing/b2b/v1/search"
REPORTS = "/billing/b2b/v1/reports"
SNAPSHOTS = "/billing/b2b/v1/snapshots"


def position(
    description: str = "Service", price: str = "50", count: str = "2", vat: str = "19"
) -> dict[str, Any]:
    return {"description": description, "unit": "pcs", "unit_count": count, "price": price, "vat": vat}


@dataclass
class Bills:
    """A tenant, its clients by name, its invoices by label, and a caller with scope 'all'."""

    tenant: Tenant
    api: ApiClient
    series_id: int
    clients: dict[str, int] = field(default_factory=dict)
    invoices: dict[str, int] = field(default_factory=dict)
    caller: B2bHttp | None = None

    def client(self, name: str, *, company: bool = True, **fields: Any) -> int:
        body = {"name": name, "uid": "RO1" if company else "", "is_company": 1 if company else 0, **fields}
        response = self.api.send_json("POST", "/api/v1/clients.json", {"client": body})
        assert response.status == 201, response.text
        self.clients[name] = int(response.json()["id"])
        return self.clients[name]

    def invoice(
        self,
        label: str,
        client: str,
        *,
        currency: str = "EUR",
        state: str = "open",
        positions: list[dict[str, Any]] | None = None,
        **fields: Any,
    ) -> int:
        body: dict[str, Any] = {
            "client_id": self.clients[client],
            "currency_id": currency,
            "document_date": fields.pop("document_date", "2024-05-20"),
            "document_series_id": self.series_id,
            "vat_type": 1,
            "document_positions": positions or [position()],
            **fields,
        }
        if currency != "EUR" and "exchange_rate" not in body:
            body["exchange_rate"] = "4.9735"
        if state != "draft":
            body["document_state"] = "open"
        response = self.api.send_json("POST", "/api/v1/invoices.json", {"invoice": body})
        assert response.status == 201, response.text
        invoice_id = int(response.json()["id"])
        self.invoices[label] = invoice_id
        if state in ("closed", "cancelled"):
            self.mark(label, state)
        return invoice_id

    def mark(self, label: str, state: str) -> None:
        path = f"/api/v1/invoices/{self.invoices[label]}/mark_{state}.xml"
        _retried(
            lambda: self.api.request("PUT", path, body="", content_type="application/x-www-form-urlencoded")
        )

    def modify(self, label: str, fields: Mapping[str, Any]) -> None:
        path = f"/api/v1/invoices/{self.invoices[label]}.json"
        _retried(lambda: self.api.send_json("PUT", path, {"invoice": dict(fields)}))

    def scoped(self, *names: str) -> B2bHttp:
        creds = make_b2b_client(self.tenant.tenant_id, [self.clients[n] for n in names])
        return B2bHttp(self.api, access_token(creds), creds.api_key)

    # -- the oracle: the stored invoices, read directly ------------------------------------------

    def oracle(self) -> list[dict[str, Any]]:
        """Every bill of the tenant as plain Python values, from the invoice records."""
        from billing.domain.documents import DocumentKind
        from billing.store.documents import DOCUMENTS

        records = DOCUMENTS[DocumentKind.INVOICE]
        found = []
        for invoice_id in self.invoices.values():
            doc = records.get(self.tenant.tenant_id, invoice_id)
            if doc.document_state.value == "draft" or doc.issue_version == 0:
                continue
            found.append(
                {
                    "id": doc.id,
                    "number": doc.document_number,
                    "type": "creditNote" if doc.reversed_document_id else "invoice",
                    "state": doc.document_state.value,
                    "sendingFormat": "email" if doc.flag_sent_by_email else "paper",
                    "customer": doc.client_id,
                    "customer_name": doc.client_name,
                    "currency": doc.currency,
                    "total": doc.total,
                    "due": doc.total_due,
                    "billDate": doc.document_date,
                    "createdAt": doc.created_at,
                    "updatedAt": doc.updated_at,
                }
            )
        return found


def _retried(send: Callable[[], HttpResponse]) -> HttpResponse:
    """A write, repeated while the issuance workflow (which writes the document in the
    background) wins the race for the document's rev."""
    for _ in range(20):
        response = send()
        if response.status != 422 or "changed by another request" not in response.text:
            assert response.status == 200, response.text
            return response
        time.sleep(0.05)
    raise AssertionError(response.text)


def build_world(gateway: LocalApiGateway, name: str = "bills") -> Bills:
    """Four customers; open, closed and cancelled invoices in EUR, USD, GBP and JPY; two credit
    notes; some sent by e-mail; a draft and a draft cancelled before issue (not bills)."""
    tenant = make_tenant(name)
    api = ApiClient(gateway, tenant.api_key)
    response = api.send_json(
        "POST", "/api/v1/invoice_series.json", {"invoice_series": {"prefix": "FCT", "sepparator": "-"}}
    )
    assert response.status == 201, response.text
    world = Bills(tenant, api, int(response.json()["id"]))
    world.client("ACME Corp")
    world.client("Globex")
    world.client("Ana Popescu", company=False)
    world.client("Initech")
    world.invoice("acme-closed", "ACME Corp", state="closed", due_days=30)
    world.invoice(
        "acme-usd-email", "ACME Corp", currency="USD", flag_sent_by_email=1, document_date="2024-06-02"
    )
    world.invoice("globex-cancelled", "Globex", state="cancelled")
    world.invoice(
        "globex-gbp", "Globex", currency="GBP", positions=[position(price="120")], document_date="2024-04-11"
    )
    world.invoice(
        "ana-email", "Ana Popescu", flag_sent_by_email=1, positions=[position(price="7.5", count="3")]
    )
    world.invoice("initech-draft", "Initech", state="draft")
    world.invoice("initech-void-draft", "Initech", state="draft")
    world.mark("initech-void-draft", "cancelled")
    world.invoice(
        "acme-credit",
        "ACME Corp",
        reversed_document_id=world.invoices["acme-closed"],
        positions=[position(price="-50", count="1")],
        document_date="2024-06-10",
    )
    world.invoice(
        "globex-credit",
        "Globex",
        currency="GBP",
        reversed_document_id=world.invoices["globex-gbp"],
        positions=[position(price="-120", count="1")],
        document_date="2024-06-11",
    )
    world.invoice(
        "ana-jpy",
        "Ana Popescu",
        currency="JPY",
        exchange_rate="0.0301",
        state="closed",
        positions=[position(price="9000", count="1")],
    )
    for index, (client, price) in enumerate(
        [
            ("Initech", "10"),
            ("ACME Corp", "250"),
            ("Globex", "33.33"),
            ("Initech", "99.99"),
            ("ACME Corp", "1"),
        ]
    ):
        world.invoice(
            f"more-{index}",
            client,
            positions=[position(price=price)],
            document_date=f"2024-05-{10 + index:02d}",
        )
    world.modify("more-1", {"flag_sent_by_email": 1, "note": "sent"})
    world.mark("more-3", "closed")
    creds = make_b2b_client(tenant.tenant_id)
    world.caller = B2bHttp(api, access_token(creds), creds.api_key)
    return world


# -- calling the API ----------------------------------------------------------------------------------


def get(
    caller: B2bHttp, path: str, params: Mapping[str, Any] | list[tuple[str, str]] | None = None, **kwargs: Any
) -> HttpResponse:
    query = urlencode(params or {}, doseq=True)
    return caller.get(f"{path}?{query}" if query else path, **kwargs)


def search(
    caller: B2bHttp,
    document: Any,
    params: Mapping[str, Any] | None = None,
    content_type: str = "application/json",
) -> HttpResponse:
    query = urlencode(params or {}, doseq=True)
    body = document if isinstance(document, str | bytes) else json.dumps(document)
    return caller.http.request(
        "POST",
        f"{SEARCH}?{query}" if query else SEARCH,
        body=body,
        content_type=content_type,
        headers=caller.headers(),
        auth=False,
    )


def counts(response: HttpResponse) -> tuple[int, int]:
    return int(response.header("X-Total-Count") or -1), int(response.header("X-Result-Count") or -1)


def ids(response: HttpResponse) -> list[int]:
    assert response.status == 200, response.text
    return [int(item["id"]) for item in response.json()]


def every_page(fetch: Callable[[int, int], HttpResponse], limit: int) -> tuple[list[int], set[int]]:
    """All ids through pages of `limit`, and the X-Total-Count values seen."""
    found: list[int] = []
    totals: set[int] = set()
    offset = 0
    while True:
        response = fetch(offset, limit)
        page = ids(response)
        total, returned = counts(response)
        assert returned == len(page)
        totals.add(total)
        found += page
        if len(page) < limit:
            return found, totals
        offset += limit


def oracle_order(records: list[dict[str, Any]], sort: list[tuple[str, bool]]) -> list[int]:
    """Ids in `sort` order (field, descending), ties by id ascending."""
    ordered = sorted(records, key=lambda r: r["id"])
    for name, descending in reversed(sort):
        ordered.sort(key=lambda r: r[name], reverse=descending)
    return [r["id"] for r in ordered]


def as_datetime(text: str) -> datetime:
    return datetime.fromisoformat(text.replace("Z", "+00:00"))
