"""Numbering under concurrency (DESIGN "Numbering"): numbers generated on a series are unique and
consecutive whatever the interleaving, and a caller-supplied counter is taken at most once.

The writers are real threads calling the documents service (the same code the handler calls;
the Powertools resolver keeps the current request on the instance, so one handler module cannot
serve threads). moto's in-process DynamoDB is NOT thread-safe: TransactWriteItems deep-copies the
table, applies the items one by one and, on a failed condition, swaps the copy back in, so a
concurrent write landing in between would be lost and a concurrent read could see half a
transaction. Real DynamoDB applies each request atomically; to model exactly that (and nothing
more) the tests serialize moto's request dispatch with a lock, one AWS request at a time. The
races this code must survive, between a request that reads the series counter and the
transaction that takes the number, stay fully interleaved: 16 threads read the same counter and
race their transactions.

Cost: moto deep-copies the whole table for every transaction, to roll back when a condition
fails, which makes 200 numbered writes quadratic. The documents of these tests therefore live
in a table of their own (same key schema and indexes, from template.yaml), dropped afterwards,
and while the lock is held a transaction is evaluated the way DynamoDB does it: all conditions
first, against the current items (each item of a transaction is a distinct item, so no
condition depends on another item's write); if one fails the transaction is cancelled with
moto's cancellation reasons and nothing is written, otherwise each item is applied with moto's
own single-item write, in order. Nothing else can run in between, so this is atomic.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import pytest
from billing.domain.clients import Client
from billing.domain.documents import DocumentChanges, DocumentKind
from billing.domain.errors import Conflict
from billing.domain.series import SeriesCreate
from billing.domain.totals import PositionInput
from billing.store import keys
from billing.store.aws import client
from billing.store.clients import clients
from billing.store.documents import DocumentService
from billing.store.series import SeriesStore
from billing.store.table import Table
from moto.core.botocore_stubber import BotocoreStubber
from moto.dynamodb.comparisons import get_filter_expression
from moto.dynamodb.exceptions import TransactionCanceledException
from moto.dynamodb.models import DynamoDBBackend

from local.template import load_template
from tests.conftest import Tenant
from tests.support.aws import LocalStack

THREADS = 16


@contextmanager
def serialized_moto() -> Iterator[None]:
    """One moto request at a time (see the module docstring); test-only."""
    lock = threading.Lock()
    original = BotocoreStubber.__call__
    original_transact = DynamoDBBackend.transact_write_items

    def locked(self: BotocoreStubber, *args: Any, **kwargs: Any) -> Any:
        with lock:
            return original(self, *args, **kwargs)

    def checked_first(self: DynamoDBBackend, transact_items: list[dict[str, Any]]) -> None:
        operations = []
        for entry in transact_items:
            ((op_type, op),) = entry.items()
            table = self.get_table(op["TableName"])
            if op_type == "Put":
                key = {table.hash_key_attr: op["Item"][table.hash_key_attr]}
                key[table.range_key_attr] = op["Item"][table.range_key_attr]  # type: ignore[index]
            else:
                key = op["Key"]
            operations.append((op_type, op, key))
        if len({(op["TableName"], str(sorted(key.items()))) for _, op, key in operations}) < len(operations):
            return original_transact(self, transact_items)  # moto's own error for two ops on one item
        reasons: list[Any] = []
        for _, op, key in operations:
            condition = op.get("ConditionExpression")
            holds = condition is None or get_filter_expression(
                condition, op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            ).expr(self.get_item(op["TableName"], key))
            reasons.append(
                (None, None, None) if holds else ("ConditionalCheckFailed", "condition failed", None)
            )
        if any(code for code, _, _ in reasons):
            raise TransactionCanceledException(reasons)
        # every condition holds: apply each item with moto's own single-item writes, in order
        for op_type, op, key in operations:
            names, values = op.get("ExpressionAttributeNames"), op.get("ExpressionAttributeValues")
            if op_type == "Put":
                self.put_item(
                    op["TableName"],
                    op["Item"],
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
            elif op_type == "Delete":
                self.delete_item(
                    op["TableName"], key, expression_attribute_names=names, expression_attribute_values=values
                )
            elif op_type == "Update":
                self.update_item(
                    op["TableName"],
                    key,
                    update_expression=op["UpdateExpression"],
                    expression_attribute_names=names,
                    expression_attribute_values=values,
                )
        return None

    BotocoreStubber.__call__ = locked  # type: ignore[method-assign]
    DynamoDBBackend.transact_write_items = checked_first  # type: ignore[method-assign]
    try:
        yield
    finally:
        BotocoreStubber.__call__ = original  # type: ignore[method-assign]
        DynamoDBBackend.transact_write_items = original_transact  # type: ignore[method-assign]


@pytest.fixture
def table(aws: LocalStack) -> Iterator[Table]:
    """A billing table of this test's own (see the module docstring)."""
    props = load_template()["Resources"]["BillingTable"]["Properties"]
    name = f"factura-numbering-{threading.get_ident()}"
    client("dynamodb").create_table(
        TableName=name,
        AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"],
        GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
        BillingMode="PAY_PER_REQUEST",
    )
    yield Table(name)
    client("dynamodb").delete_table(TableName=name)


def _setup(tenant: Tenant, table: Table) -> tuple[int, int]:
    series = SeriesStore("invoice_series", table).create(
        tenant.tenant_id, SeriesCreate.model_validate({"prefix": "C", "sepparator": "-"}), "invoice_series"
    )
    client = clients.insert(tenant.tenant_id, lambda new_id: Client(id=new_id, name="Concurrent SRL"))
    return series.id, client.id


def _changes(client_id: int, series_id: int, counter: int | None = None) -> DocumentChanges:
    fields: dict[str, Any] = {
        "client_id": client_id,
        "currency_id": 978,
        "document_date": __import__("datetime").date(2024, 5, 20),
        "document_series_id": series_id,
        "vat_type": 1,
    }
    if counter is not None:
        fields["document_series_counter"] = counter
    position = PositionInput(
        description="Item", unit="pcs", unit_count=Decimal(1), price=Decimal("10"), vat=Decimal(19)
    )
    return DocumentChanges(fields, [position])


def _guards(tenant: Tenant, series_id: int, table: Table) -> list[dict[str, Any]]:
    found, cursor = [], None
    while True:
        page = table.query_page(
            keys.tenant_pk(tenant.tenant_id, f"invoice_series#{series_id}"), limit=500, cursor=cursor
        )
        found += page.items
        if page.cursor is None:
            return found
        cursor = page.cursor


def test_200_concurrent_invoices_get_200_consecutive_numbers(table: Table, tenant: Tenant) -> None:
    series_id, client_id = _setup(tenant, table)
    service = DocumentService(DocumentKind.INVOICE, table=table)
    changes = _changes(client_id, series_id)
    barrier = threading.Barrier(THREADS, timeout=60)

    def create(index: int) -> Any:
        if index < THREADS:
            barrier.wait()  # the first wave starts together and reads the same counter
        return service.create(tenant.tenant_id, tenant.user_id, changes)

    with serialized_moto(), ThreadPoolExecutor(THREADS) as pool:
        documents = list(pool.map(create, range(200)))

    counters = sorted(d.document_series_counter for d in documents)
    assert counters == list(range(1, 201)), "unique and gap-free"
    assert len({d.id for d in documents}) == 200
    assert sorted(d.document_number for d in documents) == sorted(f"C-{n}" for n in range(1, 201))
    # what is stored agrees: the series counter, its document count, one guard per number
    series = SeriesStore("invoice_series", table).read(tenant.tenant_id, series_id)
    assert series is not None and series.counter_current == 200 and series.document_count == 200
    guards = _guards(tenant, series_id, table)
    assert sorted(int(g["SK"]) for g in guards) == list(range(1, 201))
    assert {int(g["document_id"]) for g in guards} == {d.id for d in documents}
    for doc in documents[:5]:
        stored = service.get(tenant.tenant_id, doc.id)
        assert stored.document_series_counter == doc.document_series_counter


def test_the_same_supplied_counter_is_taken_once(table: Table, tenant: Tenant) -> None:
    series_id, client_id = _setup(tenant, table)
    service = DocumentService(DocumentKind.INVOICE, table=table)
    barrier = threading.Barrier(8, timeout=60)

    def create(_: int) -> str:
        barrier.wait()
        try:
            service.create(tenant.tenant_id, tenant.user_id, _changes(client_id, series_id, counter=4321))
            return "created"
        except Conflict as err:
            assert "document_series_counter 4321 is already used" in err.messages[0]
            return "taken"

    with serialized_moto(), ThreadPoolExecutor(8) as pool:
        outcomes = list(pool.map(create, range(8)))

    assert sorted(outcomes) == ["created"] + ["taken"] * 7
    series = SeriesStore("invoice_series", table).read(tenant.tenant_id, series_id)
    assert series is not None and series.counter_current == 0, "a supplied counter does not move the sequence"
    assert series.document_count == 1
    assert [int(g["SK"]) for g in _guards(tenant, series_id, table)] == [4321]


def test_automatic_numbers_skip_supplied_ones_under_concurrency(table: Table, tenant: Tenant) -> None:
    """Numbers 5, 6 and 12 are supplied first; then 27 automatic numbers are taken concurrently:
    no duplicate, and the automatic sequence runs over the supplied numbers without a gap.
    (Supplying a number while the sequence may reach it concurrently is a race either side can
    win; the loser's 422 is test_the_same_supplied_counter_is_taken_once's subject.)"""
    series_id, client_id = _setup(tenant, table)
    service = DocumentService(DocumentKind.INVOICE, table=table)
    supplied = [5, 6, 12]
    for counter in supplied:
        service.create(tenant.tenant_id, tenant.user_id, _changes(client_id, series_id, counter))

    def create(_: int) -> int:
        doc = service.create(tenant.tenant_id, tenant.user_id, _changes(client_id, series_id, None))
        return doc.document_series_counter

    with serialized_moto(), ThreadPoolExecutor(8) as pool:
        automatic = list(pool.map(create, range(27)))

    counters = supplied + automatic
    assert len(set(counters)) == 30
    assert not set(automatic) & set(supplied), "automatic numbering skips supplied numbers"
    series = SeriesStore("invoice_series", table).read(tenant.tenant_id, series_id)
    assert series is not None
    assert sorted(counters) == list(range(1, series.counter_current + 1)), "gap-free"
    assert series.counter_current == 30


@pytest.mark.parametrize("workers", [4])
def test_concurrent_creates_in_two_series_do_not_interfere(
    table: Table, tenant: Tenant, workers: int
) -> None:
    first, client_id = _setup(tenant, table)
    second, _ = _setup(tenant, table)
    service = DocumentService(DocumentKind.INVOICE, table=table)

    def create(index: int) -> tuple[int, int]:
        series_id = first if index % 2 else second
        doc = service.create(tenant.tenant_id, tenant.user_id, _changes(client_id, series_id))
        return series_id, doc.document_series_counter

    with serialized_moto(), ThreadPoolExecutor(workers) as pool:
        results = list(pool.map(create, range(40)))

    for series_id in (first, second):
        assert sorted(c for s, c in results if s == series_id) == list(range(1, 21))
