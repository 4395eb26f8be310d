"""Document states through the API (§7.1.9): every transition, refused ones included; the
issuance workflow started by mark_open; what an issued document may still change; deletion."""

from __future__ import annotations

import time
from decimal import Decimal
from typing import Any

import pytest
from billing.domain.states import TRANSITIONS, DocumentState

from tests.integration.test_documents_api import (
    POSITION,
    create_client,
    create_document,
    create_series,
    errors,
    mark,
    xml,
)
from tests.support.aws import LocalStack
from tests.support.client import ApiClient

STATES = [s.value for s in DocumentState]
PATHS = {"draft": [], "open": ["open"], "closed": ["open", "closed"], "cancelled": ["cancelled"]}


def document_in(client: ApiClient, state: str, kind: str = "invoice") -> dict[str, Any]:
    doc = create_document(client, create_client(client), create_series(client, f"{kind}_series"), kind=kind)
    for step in PATHS[state]:
        response = mark(client, kind, doc["id"], step)
        assert response.status == 200, response.text
    return doc


@pytest.mark.parametrize("target", STATES)
@pytest.mark.parametrize("current", STATES)
def test_transition_table(client: ApiClient, current: str, target: str) -> None:
    doc = document_in(client, current)
    allowed = current == target or (DocumentState(current), DocumentState(target)) in TRANSITIONS
    response = mark(client, "invoice", doc["id"], target)
    after = client.get(f"/api/v1/invoices/{doc['id']}.json").json()
    if allowed:
        assert response.status == 200, response.text
        assert xml(response).findtext("document_state") == target
        assert after["document_state"] == target
    else:
        assert response.status == 422, response.text
        (message,) = errors(response)
        assert message.startswith(f"invoice {doc['id']} is {current} and cannot become {target}: ")
        assert after["document_state"] == current, "a refused transition changes nothing"


def test_allowed_transitions_are_exactly_these() -> None:
    pairs = {(a.value, b.value) for a, b in TRANSITIONS}
    assert pairs == {
        ("draft", "open"),
        ("draft", "cancelled"),
        ("open", "closed"),
        ("open", "cancelled"),
        ("closed", "open"),
    }


@pytest.mark.parametrize("kind", ["proforma_invoice", "notice", "receipt"])
def test_other_kinds_follow_the_same_states(client: ApiClient, kind: str) -> None:
    series_id = create_series(client, f"{kind}_series")
    client_id = create_client(client)
    if kind == "receipt":
        response = client.send_json(
            "POST",
            "/api/v1/receipts.json",
            {
                "receipt": {
                    "client_id": client_id,
                    "currency_id": "EUR",
                    "document_date": "2024-05-21",
                    "document_series_id": series_id,
                    "receipt_amount": "10.5",
                }
            },
        )
        assert response.status == 201, response.text
        doc = response.json()
    else:
        doc = create_document(client, client_id, series_id, kind=kind)
    assert mark(client, kind, doc["id"], "open").status == 200
    assert mark(client, kind, doc["id"], "draft").status == 422
    assert mark(client, kind, doc["id"], "cancelled").status == 200
    assert client.get(f"/api/v1/{kind}s/{doc['id']}.json").json()["document_state"] == "cancelled"


def test_state_actions_accept_the_reference_php_request_and_json(client: ApiClient) -> None:
    """The reference's PHP: PUT with CURLOPT_POSTFIELDS http_build_query([]) (an empty body)."""
    doc = document_in(client, "draft")
    response = client.send_form("PUT", f"/api/v1/invoices/{doc['id']}/mark_open.xml", {})
    assert response.status == 200, response.text
    closed = client.request("PUT", f"/api/v1/invoices/{doc['id']}/mark_closed.json")
    assert closed.status == 200 and closed.json()["document_state"] == "closed"
    reopened = client.request("PUT", f"/api/invoices/{doc['id']}/mark_open.xml", body="")
    assert reopened.status == 200 and xml(reopened).findtext("document_state") == "open"
    assert client.get(f"/api/v1/invoices/{doc['id']}/mark_open.xml").status == 405


def _executions(name_part: str) -> list[dict[str, Any]]:
    from billing.config import settings
    from billing.store.aws import client

    arn = settings().issue_state_machine_arn
    executions = client("stepfunctions").list_executions(stateMachineArn=arn, maxResults=1000)["executions"]
    return [e for e in executions if name_part in e["name"]]


def _wait_finished(name_part: str) -> list[dict[str, Any]]:
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        found = _executions(name_part)
        if found and all(e["status"] != "RUNNING" for e in found):
            return found
        time.sleep(0.05)
    raise AssertionError(f"execution {name_part} did not finish: {_executions(name_part)}")


def test_mark_open_starts_the_issuance_once(aws: LocalStack, client: ApiClient) -> None:
    doc = document_in(client, "draft")
    tenant_id = client.get("/api/v1/account.json").json()["id"]
    opened = mark(client, "invoice", doc["id"], "open")
    assert opened.status == 200
    assert xml(opened).findtext("issuance_status") == "pending"
    name = f"invoice-{tenant_id}-{doc['id']}-v1"
    (execution,) = _wait_finished(name)
    assert execution["name"] == name and execution["status"] == "SUCCEEDED"
    assert client.get(f"/api/v1/invoices/{doc['id']}.json").json()["issuance_status"] == "completed"
    # a repeated mark_open, and a close/reopen cycle, do not issue again
    assert mark(client, "invoice", doc["id"], "open").status == 200
    assert mark(client, "invoice", doc["id"], "closed").status == 200
    assert mark(client, "invoice", doc["id"], "open").status == 200
    time.sleep(0.2)
    assert len(_executions(f"-{doc['id']}-")) == 1
    from billing.store.aws import client as aws_client

    detail = aws_client("stepfunctions").describe_execution(executionArn=execution["executionArn"])
    assert '"document_id":' in detail["input"] and f'"sk":"{doc["id"]:020d}"' in detail["input"]


def test_created_open_starts_the_issuance(aws: LocalStack, client: ApiClient) -> None:
    client_id, series_id = create_client(client), create_series(client, "notice_series")
    doc = create_document(client, client_id, series_id, kind="notice", document_state="open")
    assert doc["document_state"] == "open" and doc["issuance_status"] == "pending"
    (execution,) = _wait_finished(f"notice-{client.get('/api/v1/account.json').json()['id']}-{doc['id']}-v1")
    assert execution["status"] == "SUCCEEDED"


def test_a_pending_issuance_is_restarted_by_a_repeated_mark_open(aws: LocalStack, client: ApiClient) -> None:
    """The start is sent after the state is stored; if it was lost, mark_open sends it again."""
    from billing.store import issuance

    doc = document_in(client, "draft")
    original = issuance.client

    def failing(service: str) -> Any:
        raise RuntimeError("Step Functions unavailable")

    issuance.client = failing  # type: ignore[assignment]
    try:
        assert mark(client, "invoice", doc["id"], "open").status == 200
    finally:
        issuance.client = original
    assert _executions(f"-{doc['id']}-v1") == []
    assert client.get(f"/api/v1/invoices/{doc['id']}.json").json()["issuance_status"] == "pending"
    assert mark(client, "invoice", doc["id"], "open").status == 200
    (execution,) = _wait_finished(f"-{doc['id']}-v1")
    assert execution["status"] == "SUCCEEDED"


# ------------------------------------------------------------------- modifying issued documents

ISSUED_ALLOWED: dict[str, Any] = {
    "note": "paid by transfer",
    "lower_annotation": "thanks",
    "upper_annotation": "order 12",
    "due_days": 30,
    "flag_sent_by_email": "1",
    "flag_filed": "true",
    "means_of_transport": "van",
    "delivery_date": "2024-05-22",
    "locale": "ro",
}

ISSUED_REFUSED: dict[str, Any] = {
    "client_id": "CLIENT",
    "currency_id": "USD",
    "exchange_rate": "4.9",
    "document_date": "2024-06-01",
    "vat_type": 0,
    "document_positions": [POSITION],
    "account_company_pays_vat_on_payment": "1",
}


@pytest.mark.parametrize("state", ["open", "closed"])
def test_issued_documents_accept_presentation_changes(client: ApiClient, state: str) -> None:
    doc = document_in(client, state)
    response = client.send_json("PUT", f"/api/v1/invoices/{doc['id']}.json", {"invoice": ISSUED_ALLOWED})
    assert response.status == 200, response.text
    after = response.json()
    assert (
        after["note"] == "paid by transfer" and after["due_days"] == 30 and after["due_date"] == "2024-06-19"
    )
    assert after["flag_sent_by_email"] is True and after["locale"] == "ro"
    assert after["total"] == doc["total"] and after["document_state"] == state


@pytest.mark.parametrize("field", sorted(ISSUED_REFUSED))
def test_issued_documents_refuse_financial_changes(client: ApiClient, field: str) -> None:
    doc = document_in(client, "open")
    before = client.get(f"/api/v1/invoices/{doc['id']}.json").json()
    value = ISSUED_REFUSED[field]
    if value == "CLIENT":
        value = create_client(client, "Someone else")
    response = client.send_json(
        "PUT", f"/api/v1/invoices/{doc['id']}.json", {"invoice": {"note": "changed", field: value}}
    )
    assert response.status == 422, response.text
    (message,) = errors(response)
    assert message.startswith(f"invoice.{field} cannot be changed: invoice {doc['id']} is issued (open)")
    assert "cancel it (mark_cancelled) or issue a reversal" in message
    after = client.get(f"/api/v1/invoices/{doc['id']}.json").json()
    before.pop("issuance_status"), after.pop("issuance_status")  # the workflow may run meanwhile
    assert after == before, "nothing changed"
    assert Decimal(after["total"]) == Decimal(doc["total"])


def test_sending_an_unchanged_financial_field_to_an_issued_document_is_fine(client: ApiClient) -> None:
    doc = document_in(client, "open")
    response = client.send_json(
        "PUT",
        f"/api/v1/invoices/{doc['id']}.json",
        {"invoice": {"client_id": doc["client_id"], "vat_type": 1, "note": "same values"}},
    )
    assert response.status == 200, response.text


def test_cancelled_documents_accept_only_flags_and_note(client: ApiClient) -> None:
    doc = document_in(client, "cancelled")
    ok = client.send_form(
        "PUT", f"/api/v1/invoices/{doc['id']}.xml", {"invoice": {"flag_filed": "1", "note": "void"}}
    )
    assert ok.status == 200, ok.text
    refused = client.send_form(
        "PUT", f"/api/v1/invoices/{doc['id']}.xml", {"invoice": {"lower_annotation": "x"}}
    )
    assert refused.status == 422
    assert errors(refused) == [
        "invoice.lower_annotation cannot be changed: a cancelled document only accepts flags and the note"
    ]


@pytest.mark.parametrize(
    ("state", "message"),
    [("open", "cancel it instead"), ("closed", "cancel it instead"), ("cancelled", "keeps its number")],
)
def test_issued_and_cancelled_documents_cannot_be_deleted(
    client: ApiClient, state: str, message: str
) -> None:
    doc = document_in(client, state)
    response = client.delete(f"/api/v1/invoices/{doc['id']}.xml")
    assert response.status == 422
    assert message in errors(response)[0]
    assert client.get(f"/api/v1/invoices/{doc['id']}.xml").status == 200


def test_a_draft_is_deleted(client: ApiClient) -> None:
    doc = document_in(client, "draft")
    response = client.delete(f"/api/v1/invoices/{doc['id']}.json")
    assert response.status == 200 and response.json()["id"] == doc["id"]
    assert client.get(f"/api/v1/invoices/{doc['id']}.json").status == 404
    from billing.store.documents import find_by_hashcode

    assert find_by_hashcode(doc["hashcode"]) is None, "its share code goes with it"
