"""Listing and field search cost versus tenant size: a page of invoices and a client_id search
(100 invoices each), in a tenant holding 20,000 invoices and in one holding 200, through the
whole path (API Gateway event -> documents handler -> DynamoDB -> XML). Reported as ratios big /
small measured in the same run (interleaved trials, medians). The design bar is < 1.5 (DESIGN:
listing and field search cost O(page), not O(tenant's data)).

Three figures per case:

- DynamoDB work per request, from the Query responses themselves: calls, items returned and
  ScannedCount (the items DynamoDB reads and bills). Machine-independent; must be identical in
  both tenants.
- our code: the request's time minus the time spent inside the DynamoDB stand-in. This is the
  ratio held to the bar.
- end to end, moto included, for information. moto is not a model of DynamoDB's cost: every
  Query sorts every item of the table and then the queried partition (or, for an index, every
  item carrying the slot), so its time grows with the tenant's data where DynamoDB's does not
  (a Query reads O(page) items, as ScannedCount shows).

Seeding: one invoice per tenant is created through the API, then cloned (fresh ids, rotating
clients, states and numbers) and written with BatchWriteItem through the repository's to_item,
so the items are exactly what the API writes.

Run: make bench  (or: PYTHONPATH=layers/core:. .venv/bin/python bench/bench_listing.py)
     BENCH_DOCUMENTS=2000 for a quick run."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]

BIG = int(os.environ.get("BENCH_DOCUMENTS", "20000"))
SMALL = 200
PAGE = 100
TRIALS = int(os.environ.get("BENCH_TRIALS", "15"))
BAR = 1.5


def main() -> int:
    import logging

    logging.disable(logging.INFO)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"

    from tests.conftest import make_tenant
    from tests.support.aws import local_stack
    from tests.support.client import ApiClient

    with local_stack() as aws:
        from billing.store.aws import client

        tenants = {}
        started = time.perf_counter()
        for label, count, clients in (("big", BIG, BIG // PAGE // 10), ("small", SMALL, SMALL // PAGE)):
            tenant = make_tenant(label)
            api = ApiClient(aws.gateway, tenant.api_key)
            client_ids = _seed(api, tenant.tenant_id, count, max(clients, 1))
            tenants[label] = (api, client_ids[0])
        print(f"seeded {BIG} + {SMALL} invoices in {time.perf_counter() - started:.0f} s")

        calls: Counter[str] = Counter()
        in_moto = [0.0]

        def count_query(parsed: dict[str, Any], **_: Any) -> None:
            calls["queries"] += 1
            calls["returned"] += int(parsed.get("Count", 0))
            calls["scanned"] += int(parsed.get("ScannedCount", 0))

        client("dynamodb").meta.events.register("after-call.dynamodb.Query", count_query)
        from moto.core.botocore_stubber import BotocoreStubber

        stubbed = BotocoreStubber.__call__

        def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return stubbed(self, *args, **kwargs)
            finally:
                in_moto[0] += time.perf_counter() - began

        BotocoreStubber.__call__ = timed  # type: ignore[method-assign]

        cases = {
            "page of invoices": lambda cid: f"/api/v1/invoices.xml?per_page={PAGE}",
            "search client_id": lambda cid: (
                f"/api/v1/invoices/search.xml?field=client_id&value={cid}&per_page={PAGE}"
            ),
        }
        worst = 0.0
        print(
            f"\n{'':18} {'our code ms':>17} {'ratio':>6}   {'end to end ms':>17} {'ratio':>6}"
            "   DynamoDB work per request (big | small)"
        )
        print(f"{'':18} {'big':>8} {'small':>8} {'':>6}   {'big':>8} {'small':>8}")
        for name, path in cases.items():
            code: dict[str, list[float]] = {"big": [], "small": []}
            total: dict[str, list[float]] = {"big": [], "small": []}
            work: dict[str, Counter[str]] = {}
            for label, (api, client_id) in tenants.items():  # warm up, and count the work
                calls.clear()
                response = api.get(path(client_id))
                assert response.status == 200, response.text
                assert response.text.count("<invoice>") == PAGE, f"{label}: expected a full page"
                work[label] = Counter(calls)
            for _ in range(TRIALS):
                for label, (api, client_id) in tenants.items():  # interleaved, so drift hits both
                    in_moto[0] = 0.0
                    began = time.perf_counter()
                    api.get(path(client_id))
                    elapsed = time.perf_counter() - began
                    total[label].append(elapsed)
                    code[label].append(elapsed - in_moto[0])
            ours = [statistics.median(code[t]) for t in ("big", "small")]
            whole = [statistics.median(total[t]) for t in ("big", "small")]
            ratio = ours[0] / ours[1]
            worst = max(worst, ratio)
            described = " | ".join(
                f"{w['queries']} Query, {w['returned']} items, ScannedCount {w['scanned']}"
                for w in (work["big"], work["small"])
            )
            print(
                f"{name:18} {ours[0] * 1000:8.1f} {ours[1] * 1000:8.1f} {ratio:6.2f}   "
                f"{whole[0] * 1000:8.1f} {whole[1] * 1000:8.1f} {whole[0] / whole[1]:6.2f}   {described}"
            )
            if work["big"] != work["small"]:
                print(f"  FAIL: {name} asks DynamoDB for more in the big tenant")
                worst = float("inf")
        BotocoreStubber.__call__ = stubbed  # type: ignore[method-assign]
        verdict = "ok" if worst < BAR else "FAIL"
        print(f"\nworst ratio big/small of our code: {worst:.2f} (bar < {BAR}): {verdict}")
        return 0 if worst < BAR else 1


def _seed(api: Any, tenant_id: int, count: int, clients: int) -> list[int]:
    """`count` invoices over `clients` clients (the first client gets a full page or more)."""
    from billing.domain.documents import DocumentKind
    from billing.domain.ids import new_id
    from billing.domain.states import DocumentState
    from billing.store.aws import client
    from billing.store.documents import DOCUMENTS
    from billing.store.table import serialize

    client_ids = []
    for index in range(clients):
        response = api.send_json("POST", "/api/v1/clients.json", {"client": {"name": f"Client {index}"}})
        client_ids.append(int(response.json()["id"]))
    series = api.send_json("POST", "/api/v1/invoice_series.json", {"invoice_series": {"prefix": "B"}})
    created = api.send_json(
        "POST",
        "/api/v1/invoices.json",
        {
            "invoice": {
                "client_id": client_ids[0],
                "currency_id": "EUR",
                "document_date": "2024-05-20",
                "document_series_id": series.json()["id"],
                "vat_type": 1,
                "document_positions": [
                    {"description": "Service", "unit": "h", "unit_count": "3", "price": "40", "vat": "19"},
                    {"type": "DiscountPosition", "description": "Loyalty", "discount_rate": "5"},
                ],
            }
        },
    )
    assert created.status == 201, created.text
    records = DOCUMENTS[DocumentKind.INVOICE]
    template = records.get(tenant_id, created.json()["id"])
    states = (DocumentState.DRAFT, DocumentState.OPEN, DocumentState.CLOSED)
    table = records.table.name
    ddb = client("dynamodb")
    batch: list[dict[str, Any]] = []
    for number in range(2, count + 1):
        document = template.model_copy(
            update={
                "id": new_id(),
                "client_id": client_ids[number % clients],
                "document_state": states[number % 3],
                "document_series_counter": number,
                "document_number": f"B-{number}",
            }
        )
        batch.append({"PutRequest": {"Item": serialize(records.to_item(tenant_id, document, rev=1))}})
        if len(batch) == 25 or number == count:
            pending: dict[str, Any] = {table: batch}
            while pending:
                pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
            batch = []
    return client_ids


if __name__ == "__main__":
    sys.exit(main())
