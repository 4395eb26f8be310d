"""Pure parts of B2B bills: which queries the index can answer (pins), snapshot parameters,
report names and content negotiation, and the writes a document change adds for the index."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import pytest
from billing.documents.b2b_reports import CHARGES_COLUMNS, negotiate, parse_report_name
from billing.domain.b2b_bills import (
    Pins,
    SnapshotSort,
    order_snapshot,
    pins,
    snapshot_group,
    snapshot_sort,
    stream_ordering,
)
from billing.domain.b2b_query import parse_filters, parse_search, parse_sort
from billing.domain.b2b_schema import BILL_FIELDS
from billing.domain.documents import Document, DocumentKind
from billing.domain.errors import MalformedInput, NotAcceptable, NotFound
from billing.domain.states import DocumentState


def pinned(doc: Any) -> Pins:
    return pins(parse_search(doc, BILL_FIELDS))


@pytest.mark.parametrize(
    ("doc", "values", "exact"),
    [
        ({}, {}, True),
        ({"type": "invoice"}, {"type": {"invoice"}}, True),
        ({"currency.id": {"$in": ["GBP", "JPY"]}}, {"currency.id": {"GBP", "JPY"}}, True),
        ({"$or": [{"currency.id": "GBP"}, {"currency.id": "JPY"}]}, {"currency.id": {"GBP", "JPY"}}, True),
        (
            {"$and": [{"type": "invoice"}, {"sendingFormat": "paper"}]},
            {"type": {"invoice"}, "sendingFormat": {"paper"}},
            True,
        ),
        ({"billingAccount.id": "7", "customer.id": {"$in": ["7", "8"]}}, {"customer.id": {"7"}}, True),
        ({"type": "invoice", "customer.name": "ACME"}, {"type": {"invoice"}}, False),
        ({"$or": [{"type": "invoice"}, {"state": "open"}]}, {}, False),
        ({"type": {"$nin": ["creditNote"]}}, {}, False),
        ({"state": {"$not": "open"}}, {}, False),
        ({"type": {"$in": []}}, {"type": set()}, True),
        ({"type": "invoice", "$and": [{"type": "creditNote"}]}, {"type": set()}, True),
        ({"amounts.due": {"$gt": 0}}, {}, False),
    ],
)
def test_pins(doc: Any, values: dict[str, set[str]], exact: bool) -> None:
    found = pinned(doc)
    assert {k: set(v) for k, v in found.values.items()} == values
    assert found.exact is exact
    assert found.impossible is any(not v for v in values.values())


def test_url_filters_pin_too() -> None:
    node = parse_filters({"state": ["open", "closed"], "customer.id": ["12"]}, BILL_FIELDS, {"offset"})
    found = pins(node)
    assert found.values == {"state": frozenset({"open", "closed"}), "customer.id": frozenset({"12"})}
    assert found.exact
    assert pins(None) == Pins()


def test_scope_narrows_the_customer_pin() -> None:
    found = pinned({"customer.id": {"$in": ["1", "2"]}}).narrowed("customer.id", ["2", "3"])
    assert found.values == {"customer.id": frozenset({"2"})}
    assert pinned({}).narrowed("customer.id", ["5"]).values == {"customer.id": frozenset({"5"})}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (None, ("createdAt", False)),
        ("-updatedAt", ("updatedAt", True)),
        ("createdAt,-number", ("createdAt", False)),
        ("billDate", None),
        ("number,createdAt", None),
    ],
)
def test_stream_ordering(text: str | None, expected: tuple[str, bool] | None) -> None:
    assert stream_ordering(parse_sort(text, BILL_FIELDS, ())) == expected


def test_snapshot_parameters() -> None:
    assert snapshot_group("currency") == "currency.id"
    assert snapshot_group("billingAccount.id") == "customer.id"
    for bad in (None, "", "priority", "customer.name"):
        with pytest.raises(MalformedInput):
            snapshot_group(bad)
    assert snapshot_sort(None) == SnapshotSort(by_value=True, descending=True)
    assert snapshot_sort("key") == SnapshotSort(by_value=False, descending=False)
    with pytest.raises(MalformedInput):
        snapshot_sort("count")


def test_order_snapshot() -> None:
    counts = {"paper": 134, "eInvoicing": 41, "email": 41, "gone": 0}
    assert order_snapshot(counts, snapshot_sort("-value")) == [
        ("paper", 134),
        ("eInvoicing", 41),
        ("email", 41),
    ]
    assert order_snapshot(counts, snapshot_sort("value")) == [
        ("eInvoicing", 41),
        ("email", 41),
        ("paper", 134),
    ]
    assert order_snapshot(counts, snapshot_sort("-key")) == [
        ("paper", 134),
        ("email", 41),
        ("eInvoicing", 41),
    ]


# -- reports ------------------------------------------------------------------------------------------


def test_fifty_columns_in_the_references_order() -> None:
    assert len(CHARGES_COLUMNS) == 50
    assert CHARGES_COLUMNS[0] == "Customer Number" and CHARGES_COLUMNS[-1] == "External Reference"


@pytest.mark.parametrize(
    ("name", "bill_id", "media_type"),
    [
        ("R189-Charges+123", 123, None),
        ("R189-Charges+123.csv", 123, "text/csv"),
        ("R189-Charges+123.pdf", 123, "application/pdf"),
        ("R189-Charges%2B123.csv", 123, "text/csv"),
        ("R189-Charges 123", 123, None),
    ],
)
def test_report_names(name: str, bill_id: int, media_type: str | None) -> None:
    found = parse_report_name(name)
    assert (found.bill_id, found.media_type) == (bill_id, media_type)


@pytest.mark.parametrize(
    "name", ["R189-Charges+0", "R189-Charges+01", "R189-Charges+1.txt", "x", "R189-Charges+" + "9" * 20]
)
def test_not_report_names(name: str) -> None:
    with pytest.raises(NotFound):
        parse_report_name(name)


@pytest.mark.parametrize(
    ("accept", "expected"),
    [
        (None, "text/csv"),
        ("", "text/csv"),
        ("application/pdf", "application/pdf"),
        ("TEXT/CSV", "text/csv"),
        ("*/*;q=0.1, application/pdf;q=0.2", "application/pdf"),
        ("application/*", "application/pdf"),
        ("text/csv;q=0, */*", "application/pdf"),
    ],
)
def test_negotiate(accept: str | None, expected: str) -> None:
    assert negotiate(accept, ("text/csv", "application/pdf")) == expected


def test_negotiate_refuses() -> None:
    with pytest.raises(NotAcceptable):
        negotiate("application/json", ("text/csv", "application/pdf"))
    with pytest.raises(NotAcceptable):
        negotiate("text/csv", ("application/pdf",))
    with pytest.raises(NotAcceptable):
        negotiate("text/csv;q=abc", ("text/csv", "application/pdf"))  # a q that is not a number is 0


# -- the writes of a document change --------------------------------------------------------------------


def invoice(**changes: Any) -> Document:
    moment = datetime(2024, 5, 20, 8, 0, 0, 123000, tzinfo=UTC)
    fields: dict[str, Any] = {
        "id": 42,
        "document_series_id": 1,
        "document_series_counter": 7,
        "document_number": "FCT-7",
        "client_id": 9,
        "client_name": "ACME Corp",
        "client_is_company": True,
        "user_id": 1,
        "currency_id": 978,
        "document_date": date(2024, 5, 20),
        "vat_type": 1,
        "hashcode": "1-abcdefghijklmnopqrstuvwxyz",
        "document_state": DocumentState.OPEN,
        "issue_version": 1,
        "total": Decimal("119.00"),
        "total_due": Decimal("119.00"),
        "total_without_vat": Decimal("100.00"),
        "total_vat": Decimal("19.00"),
        "created_at": moment,
        "updated_at": moment,
    }
    return Document.model_validate({**fields, **changes})


def counter_deltas(operations: list[dict[str, Any]]) -> dict[str, int]:
    return {
        op["Update"]["Key"]["SK"]: op["Update"]["ExpressionAttributeValues"][":delta"]
        for op in operations
        if "Update" in op
    }


def test_bill_view() -> None:
    from billing.wire.b2b_bills import bill

    assert bill(invoice(flag_sent_by_email=True, due_date=date(2024, 6, 19))) == {
        "id": "42",
        "number": "FCT-7",
        "type": "invoice",
        "state": "open",
        "sendingFormat": "email",
        "customer": {"id": "9", "name": "ACME Corp", "segment": "company"},
        "billingAccount": {"id": "9", "name": "ACME Corp"},
        "currency": {"id": "EUR"},
        "amounts": {
            "totalExcludingTax": "100.00",
            "totalTax": "19.00",
            "totalIncludingTax": "119.00",
            "due": "119.00",
        },
        "billDate": "2024-05-20",
        "dueDate": "2024-06-19",
        "createdAt": "2024-05-20T08:00:00.123Z",
        "updatedAt": "2024-05-20T08:00:00.123Z",
    }
    assert bill(invoice(reversed_document_id=41, total=Decimal("-119")))["type"] == "creditNote"
    assert bill(invoice(total=Decimal("-119")))["amounts"]["totalIncludingTax"] == "-119.00"


def test_writes_of_a_new_bill() -> None:
    from billing.store.bills import bill_operations

    operations = bill_operations(5, DocumentKind.INVOICE, None, invoice())
    put = operations[0]["Put"]["Item"]
    assert (put["PK"], put["SK"]) == ("T#5#bill", f"{42:020d}")
    assert put["GSI1PK"] == "T#5#bill#type=invoice@createdAt"
    assert put["GSI1SK"] == f"2024-05-20T08:00:00.123Z#{42:020d}"
    assert put["GSI10PK"] == "T#5#bill#customer.id=9@updatedAt"
    assert counter_deltas(operations) == {
        "*#customer.id#9": 1,
        **{
            f"{level}#{k}": 1
            for level in ("*", "c9")
            for k in ("type#invoice", "state#open", "sendingFormat#paper", "currency.id#EUR")
        },
    }
    assert all(op["Update"]["Key"]["PK"] == "T#5#bill_count" for op in operations[1:])


def test_writes_of_a_change_of_state() -> None:
    from billing.store.bills import bill_operations

    operations = bill_operations(
        5, DocumentKind.INVOICE, invoice(), invoice(document_state=DocumentState.CLOSED)
    )
    assert "Put" in operations[0]
    assert counter_deltas(operations) == {
        "*#state#closed": 1,
        "c9#state#closed": 1,
        "*#state#open": -1,
        "c9#state#open": -1,
    }


def test_what_is_not_a_bill_writes_nothing() -> None:
    from billing.store.bills import bill_operations

    draft = invoice(document_state=DocumentState.DRAFT, issue_version=0)
    assert bill_operations(5, DocumentKind.INVOICE, None, draft) == []
    never_issued = invoice(document_state=DocumentState.CANCELLED, issue_version=0)
    assert bill_operations(5, DocumentKind.INVOICE, draft, never_issued) == []
    assert bill_operations(5, DocumentKind.PROFORMA_INVOICE, None, invoice()) == []
    unchanged = bill_operations(5, DocumentKind.INVOICE, invoice(), invoice(note="x"))
    assert counter_deltas(unchanged) == {} and len(unchanged) == 1
