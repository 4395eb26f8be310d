"""B2B bills cost versus tenant size: a page of bills, a filtered page (type=invoice), a page sorted
by -updatedAt, and snapshots, in a tenant holding 20,000 bills and in one holding 200, through
the whole path (API Gateway event -> B2B handler -> DynamoDB -> JSON). Reported as ratios big /
small measured in the same run (interleaved trials, medians), like bench_listing.py. The design
bar is < 1.5 for the shapes the bill index answers (docs/b2b-bills.md).

Figures per case: the DynamoDB work per request (calls, items returned, ScannedCount, counter
items read: machine-independent, must be identical in both tenants for an O(page) shape); our
code's time (the request minus the time inside the DynamoDB stand-in), the ratio held to the
bar; and end to end, moto included, for information.

One more shape is measured for information, without the bar: a filter the index cannot serve
(customer.name), which has to read every candidate bill to filter it and to count the total,
so it grows with the tenant by design (and is bounded by B2B_MAX_SCAN).

Seeding: one invoice per tenant is created through the API; clones of it (fresh ids, rotating
customers, states, currencies, sending formats, one in ten a credit note) are written with
BatchWriteItem through the repository's to_item, then `Bills.rebuild` writes their bill items
and counters, exactly what the documents' transactions write one by one.

Run: make bench  (or: PYTHONPATH=layers/core:. .venv/bin/python bench/bench_b2b.py)
     BENCH_BILLS=2000 for a quick run."""

from __future__ import annotations

import os
import statistics
import sys
import time
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "layers" / "core"), str(ROOT)]

BIG = int(os.environ.get("BENCH_BILLS", "20000"))
SMALL = 200
PAGE = 100
CUSTOMERS = 10
TRIALS = int(os.environ.get("BENCH_TRIALS", "15"))
BAR = 1.5


def main() -> int:
    import logging

    logging.disable(logging.INFO)
    os.environ["POWERTOOLS_LOG_LEVEL"] = "WARNING"
    os.environ["B2B_MAX_SCAN"] = str(max(BIG, 20_000))

    from tests.conftest import make_tenant
    from tests.support.aws import local_stack
    from tests.support.b2b import B2bHttp, access_token, make_b2b_client
    from tests.support.client import ApiClient

    with local_stack() as aws:
        from billing.b2b_settings import b2b_settings
        from billing.store.aws import client

        b2b_settings.cache_clear()
        tenants: dict[str, B2bHttp] = {}
        started = time.perf_counter()
        for label, count in (("big", BIG), ("small", SMALL)):
            tenant = make_tenant(label)
            api = ApiClient(aws.gateway, tenant.api_key)
            _seed(api, tenant.tenant_id, count)
            creds = make_b2b_client(tenant.tenant_id)
            tenants[label] = B2bHttp(api, access_token(creds), creds.api_key)
        print(f"seeded {BIG} + {SMALL} bills in {time.perf_counter() - started:.0f} s")

        calls: Counter[str] = Counter()
        in_moto = [0.0]

        def count_query(parsed: dict[str, Any], **_: Any) -> None:
            calls["queries"] += 1
            calls["returned"] += int(parsed.get("Count", 0))
            calls["scanned"] += int(parsed.get("ScannedCount", 0))

        def count_batch(parsed: dict[str, Any], **_: Any) -> None:
            calls["counters"] += sum(len(items) for items in parsed.get("Responses", {}).values())

        events = client("dynamodb").meta.events
        events.register("after-call.dynamodb.Query", count_query)
        events.register("after-call.dynamodb.BatchGetItem", count_batch)
        from moto.core.botocore_stubber import BotocoreStubber

        stubbed = BotocoreStubber.__call__

        def timed(self: Any, *args: Any, **kwargs: Any) -> Any:
            began = time.perf_counter()
            try:
                return stubbed(self, *args, **kwargs)
            finally:
                in_moto[0] += time.perf_counter() - began

        BotocoreStubber.__call__ = timed  # type: ignore[method-assign]

        cases: dict[str, tuple[str, bool]] = {
            "bills page": (f"/billing/b2b/v1/bills?limit={PAGE}", True),
            "page -updatedAt": (f"/billing/b2b/v1/bills?limit={PAGE}&sort=-updatedAt", True),
            "type=invoice page": (f"/billing/b2b/v1/bills?type=invoice&limit={PAGE}", True),
            "snapshot type": ("/billing/b2b/v1/snapshots?groupBy=type", True),
            "snapshot sendingFmt": ("/billing/b2b/v1/snapshots?groupBy=sendingFormat&sort=-value", True),
            "customer.name page": (f"/billing/b2b/v1/bills?customer.name=Customer%201&limit={PAGE}", False),
        }
        worst = 0.0
        print(
            f"\n{'':20} {'our code ms':>17} {'ratio':>6}   {'end to end ms':>17} {'ratio':>6}"
            "   DynamoDB work per request (big | small)"
        )
        print(f"{'':20} {'big':>8} {'small':>8} {'':>6}   {'big':>8} {'small':>8}")
        for name, (path, held) in cases.items():
            code: dict[str, list[float]] = {"big": [], "small": []}
            total: dict[str, list[float]] = {"big": [], "small": []}
            work: dict[str, Counter[str]] = {}
            for label, caller in tenants.items():  # warm up, and count the work
                calls.clear()
                response = caller.get(path)
                assert response.status == 200, response.text
                work[label] = Counter(calls)
            trials = TRIALS if held else max(3, TRIALS // 5)
            for _ in range(trials):
                for label, caller in tenants.items():  # interleaved, so drift hits both
                    in_moto[0] = 0.0
                    began = time.perf_counter()
                    caller.get(path)
                    elapsed = time.perf_counter() - began
                    total[label].append(elapsed)
                    code[label].append(elapsed - in_moto[0])
            ours = [statistics.median(code[t]) for t in ("big", "small")]
            whole = [statistics.median(total[t]) for t in ("big", "small")]
            ratio = ours[0] / ours[1]
            described = " | ".join(
                f"{w['queries']} Query, {w['returned']} items, Scanned {w['scanned']}, {w['counters']} counters"
                for w in (work["big"], work["small"])
            )
            note = "" if held else "   (not held to the bar: reads every candidate)"
            print(
                f"{name:20} {ours[0] * 1000:8.1f} {ours[1] * 1000:8.1f} {ratio:6.2f}   "
                f"{whole[0] * 1000:8.1f} {whole[1] * 1000:8.1f} {whole[0] / whole[1]:6.2f}   {described}{note}"
            )
            if held:
                worst = max(worst, ratio)
                if work["big"] != work["small"]:
                    print(f"  FAIL: {name} asks DynamoDB for more in the big tenant")
                    worst = float("inf")
        BotocoreStubber.__call__ = stubbed  # type: ignore[method-assign]
        verdict = "ok" if worst < BAR else "FAIL"
        print(
            f"\nworst ratio big/small of our code, index-served shapes: {worst:.2f} (bar < {BAR}): {verdict}"
        )
        return 0 if worst < BAR else 1


def _seed(api: Any, tenant_id: int, count: int) -> None:
    """`count` bills over CUSTOMERS customers (see the module docstring)."""
    from billing.domain.documents import DocumentKind
    from billing.domain.states import DocumentState
    from billing.store.aws import client
    from billing.store.bills import Bills
    from billing.store.documents import DOCUMENTS
    from billing.store.table import serialize

    customers = []
    for index in range(CUSTOMERS):
        response = api.send_json("POST", "/api/v1/clients.json", {"client": {"name": f"Customer {index}"}})
        customers.append((int(response.json()["id"]), f"Customer {index}"))
    series = api.send_json("POST", "/api/v1/invoice_series.json", {"invoice_series": {"prefix": "B"}})
    created = api.send_json(
        "POST",
        "/api/v1/invoices.json",
        {
            "invoice": {
                "client_id": customers[0][0],
                "currency_id": "EUR",
                "document_date": "2024-05-20",
                "document_series_id": series.json()["id"],
                "vat_type": 1,
                "document_state": "open",
                "document_positions": [
                    {"description": "Service", "unit": "h", "unit_count": "3", "price": "40", "vat": "19"}
                ],
            }
        },
    )
    assert created.status == 201, created.text
    records = DOCUMENTS[DocumentKind.INVOICE]
    template = records.get(tenant_id, created.json()["id"])
    states = (DocumentState.OPEN, DocumentState.CLOSED, DocumentState.CANCELLED, DocumentState.OPEN)
    currencies = (978, 978, 840, 826)  # EUR, EUR, USD, GBP
    start = datetime(2024, 1, 1, tzinfo=UTC)
    documents = [template]
    for number in range(2, count + 1):
        customer_id, customer_name = customers[number % CUSTOMERS]
        moment = start + timedelta(seconds=number * 37)
        documents.append(
            template.model_copy(
                update={
                    "id": template.id + number,
                    "client_id": customer_id,
                    "client_name": customer_name,
                    "document_state": states[number % 4],
                    "currency_id": currencies[number % 4],
                    "exchange_rate": template.exchange_rate or Decimal("4.9735"),
                    "flag_sent_by_email": number % 3 == 0,
                    "reversed_document_id": template.id if number % 10 == 0 else None,
                    "document_series_counter": number,
                    "document_number": f"B-{number}",
                    "created_at": moment,
                    "updated_at": moment + timedelta(seconds=(number * 7919) % 100_000),
                }
            )
        )
    table = records.table.name
    ddb = client("dynamodb")
    for begin in range(1, len(documents), 25):
        pending: dict[str, Any] = {
            table: [
                {"PutRequest": {"Item": serialize(records.to_item(tenant_id, document, rev=1))}}
                for document in documents[begin : begin + 25]
            ]
        }
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}
    Bills().rebuild(tenant_id, documents)


if __name__ == "__main__":
    sys.exit(main())
