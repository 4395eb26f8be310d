"""Helpers for the issuance workflow, the PDF routes and the share page in tests: a document
made through the API, executions polled to their end, sample events pointed at real records."""

from __future__ import annotations

import time
from typing import Any

from tests.support.client import ApiClient


def create_client(api: ApiClient, name: str = "Șuțu Ăîâ SRL", **fields: Any) -> int:
    body = {"name": name, "uid": "RO87654321", "address": "Bd. Ștefan cel Mare 45", "city": "Iași", **fields}
    response = api.send_json("POST", "/api/v1/clients.json", {"client": body})
    assert response.status == 201, response.text
    return int(response.json()["id"])


def create_series(api: ApiClient, kind: str = "invoice", prefix: str = "FCT") -> int:
    series = f"{kind}_series"
    response = api.send_json(
        "POST", f"/api/v1/{series}.json", {series: {"prefix": prefix, "sepparator": "-"}}
    )
    assert response.status == 201, response.text
    return int(response.json()["id"])


POSITIONS = [
    {
        "description": "Servicii de consultanță IT",
        "unit": "ore",
        "unit_count": "12.5",
        "price": "150",
        "vat": "19",
    },
    {"description": "Abonament găzduire", "unit": "buc", "unit_count": "1", "price": "100", "vat": "19"},
]


def create_document(api: ApiClient, kind: str = "invoice", **fields: Any) -> dict[str, Any]:
    """A document of `kind` for a new client, in a new series (a receipt: for a new issued invoice)."""
    client_id = fields.pop("client_id", None) or create_client(api)
    body: dict[str, Any] = {
        "client_id": client_id,
        "currency_id": "EUR",
        "document_date": "2026-11-20",
        "document_series_id": create_series(api, kind, prefix=kind[:3].upper()),
        "vat_type": 1,
        "document_positions": POSITIONS,
        **fields,
    }
    if kind == "receipt":
        invoice = create_document(api, "invoice", client_id=client_id)
        assert mark(api, "invoice", invoice["id"], "open").status == 200
        body = {k: v for k, v in body.items() if k not in ("document_positions", "vat_type")}
        body.update(invoice_id=invoice["id"], receipt_amount="100")
    response = api.send_json("POST", f"/api/v1/{kind}s.json", {kind: body})
    assert response.status == 201, response.text
    return dict(response.json())


def mark(api: ApiClient, kind: str, document_id: int, state: str, **form: Any) -> Any:
    from tests.support.client import http_build_query

    return api.request(
        "PUT",
        f"/api/v1/{kind}s/{document_id}/mark_{state}.xml",
        body=http_build_query(form),
        content_type="application/x-www-form-urlencoded",
    )


def wait_for_issuance(api: ApiClient, kind: str, document_id: int, timeout: float = 30) -> dict[str, Any]:
    """The document once its issuance_status is completed or failed."""
    deadline = time.monotonic() + timeout
    while True:
        doc = dict(api.get(f"/api/v1/{kind}s/{document_id}.json").json())
        if doc["issuance_status"] in ("completed", "failed") or time.monotonic() > deadline:
            return doc
        time.sleep(0.05)


def executions(name: str) -> list[dict[str, Any]]:
    from billing.config import settings
    from billing.store.aws import client

    found = client("stepfunctions").list_executions(
        stateMachineArn=settings().issue_state_machine_arn, maxResults=1000
    )["executions"]
    return [e for e in found if e["name"] == name]


def wait_for_execution(name: str, timeout: float = 60) -> dict[str, Any]:
    from billing.store.aws import client

    deadline = time.monotonic() + timeout
    while True:
        found = executions(name)
        if found and found[0]["status"] != "RUNNING":
            return dict(client("stepfunctions").describe_execution(executionArn=found[0]["executionArn"]))
        if time.monotonic() > deadline:
            raise AssertionError(f"execution {name} did not finish: {found}")
        time.sleep(0.05)


def share_sample_event(event: dict[str, Any], api: ApiClient) -> None:
    """Point the share page's sample event (events/share.json) at a document of `api`'s tenant."""
    hashcode = create_document(api)["hashcode"]
    event["path"] = f"/view/{hashcode}"
    event["pathParameters"] = {"hashcode": hashcode}
