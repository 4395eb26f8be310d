"""The B2B query language against a fixture of bills.

Every search case states its expected result as a plain predicate over the fixture's "truth"
rows (typed Python values), independent of `evaluate` and of the coercion code; the records
given to `evaluate` are rendered from those rows in mixed representations (wire strings,
native types, floats, naive datetimes, missing vs null) so coercion is exercised too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import pytest
from billing.domain.b2b_query import (
    MAX_DEPTH,
    MAX_IN_VALUES,
    MAX_NODES,
    And,
    Compare,
    Membership,
    Not,
    Op,
    Or,
    SortKey,
    equality_constraints,
    evaluate,
    parse_filters,
    parse_search,
    parse_sort,
    referenced_fields,
    sort_records,
)
from billing.domain.b2b_schema import (
    BILL_FIELDS,
    BILLING_ACCOUNT_FIELDS,
    DATE,
    DATETIME,
    DECIMAL,
    STRING,
    FieldType,
    Kind,
)
from billing.domain.errors import MalformedInput

# --------------------------------------------------------------------------------------------
# Fixture
# --------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Row:
    id: str
    number: str
    type: str
    state: str
    sending: str | None
    customer_id: str
    customer_name: str
    segment: str | None
    account_id: str | None
    account_name: str | None
    currency: str
    excl: Decimal
    tax: Decimal
    incl: Decimal
    due: Decimal | None
    bill_date: date
    due_date: date | None
    created: datetime
    updated: datetime


CUSTOMERS = {
    "ACME": ("9999", "ACME Corp", "int"),
    "ACME_LC": ("1003", "acme corp", "int"),
    "GLOBEX": ("1001", "Globex", "corp"),
    "INITECH": ("1002", "Initech", None),
    "UMBRELLA": ("1004", "Umbrella Ltd", "smb"),
}
ACCOUNTS = {
    "BA-1": "ACME Main",
    "BA-2": "ACME Paris",
    "BA-3": "Globex UK",
    "BA-4": "Initech RO",
    "BA-5": "Umbrella",
}

# One bill per line, "-" for a missing value. billDate is the (UTC) day of createdAt, dueDate is
# dueIn days after it, totalIncludingTax is excl + tax.
TABLE = """
 n type       state     sending    customer account cur    excl     tax     due dueIn createdAt
 1 invoice    open      paper      ACME     BA-1    EUR  100.00   19.00  119.00    30 2024-01-05T09:00:00.000
 2 invoice    closed    email      ACME     BA-1    EUR  250.50   47.60    0.00    30 2024-01-10T10:15:30.120
 3 creditNote closed    paper      ACME     BA-2    GBP  -40.00   -8.00    0.00     - 2024-01-15T08:00:00.000
 4 invoice    open      eInvoicing GLOBEX   BA-3    GBP 1200.00  240.00 1440.00    30 2024-02-01T12:00:00.001
 5 invoice    cancelled email      GLOBEX   BA-3    GBP   80.10   16.02       -    30 2024-02-03T23:59:59.999
 6 invoice    open      -          INITECH  BA-4    RON 5000.00  950.00 5950.00    30 2024-02-10T07:30:00.000
 7 creditNote open      eInvoicing INITECH  BA-4    RON -120.00  -22.80 -142.80     - 2024-02-12T07:30:00.000
 8 invoice    closed    paper      UMBRELLA BA-5    JPY   15000    1500       0    30 2024-02-20T00:00:00.000
 9 invoice    open      paper      UMBRELLA BA-5    JPY    9800     980   10780    30 2024-03-01T03:00:00.500
10 invoice    open      email      ACME_LC  -       EUR    9.99    1.90   11.89    30 2024-03-02T15:45:00.000
11 invoice    open      paper      ACME     BA-1    EUR    0.01    0.00    0.01    30 2024-03-05T11:11:11.111
12 creditNote cancelled email      ACME     BA-2    EUR   -0.50   -0.10    0.00     - 2024-03-06T06:00:00.000
13 invoice    closed    eInvoicing GLOBEX   BA-3    EUR  333.33   63.33    0.00    30 2024-03-10T09:09:09.090
14 invoice    open      paper      GLOBEX   -       GBP   45.00    9.00   54.00     0 2024-03-15T18:20:00.000
15 invoice    open      -          UMBRELLA BA-5    JPY  120000   12000  132000    30 2024-03-20T01:02:03.004
16 creditNote closed    paper      UMBRELLA BA-5    JPY   -3000    -300       0     - 2024-03-22T13:00:00.000
17 invoice    closed    email      INITECH  BA-4    RON  710.40  134.98    0.00    30 2024-04-01T08:00:00.000
18 invoice    open      eInvoicing INITECH  BA-4    RON   12.35    2.35   14.70    30 2024-04-03T08:00:00.000
19 invoice    cancelled paper      ACME     BA-1    EUR   99.99   19.00       -    30 2024-04-05T10:00:00.000
20 invoice    open      email      ACME     BA-2    EUR 1000.00  190.00  600.00    30 2024-04-10T10:00:00.000
21 creditNote open      email      GLOBEX   BA-3    GBP  -45.00   -9.00  -54.00     - 2024-04-12T16:30:00.250
22 invoice    open      paper      ACME_LC  -       EUR   19.00    3.61   22.61    30 2024-04-20T09:00:00.000
23 invoice    closed    eInvoicing ACME     BA-1    EUR  500.00   95.00    0.00    30 2024-05-01T00:00:00.000
24 invoice    open      paper      INITECH  -       RON 2500.00  475.00 2975.00    30 2024-05-05T12:00:00.000
25 creditNote closed    -          ACME     BA-2    GBP  -10.00   -2.00    0.00     - 2024-05-10T12:00:00.000
26 invoice    open      email      UMBRELLA BA-5    JPY     500      50     550    30 2024-05-15T23:00:00.000
27 invoice    open      eInvoicing GLOBEX   BA-3    EUR 7500.00 1425.00 8925.00    30 2024-05-20T07:00:00.000
28 invoice    closed    paper      INITECH  BA-4    RON   60.00   11.40    0.00    30 2024-06-01T06:00:00.000
29 invoice    open      email      ACME     BA-1    GBP  150.00   30.00  180.00    30 2024-06-05T14:00:00.000
30 creditNote open      paper      ACME     BA-1    EUR -100.00  -19.00 -119.00     - 2023-12-20T09:00:00.000
"""


def _row(line: str) -> Row:
    n, kind, state, sending, customer, account, cur, excl, tax, due, due_in, created = (
        None if cell == "-" else cell for cell in line.split()
    )
    assert n and kind and state and customer and cur and excl and tax and created
    customer_id, customer_name, segment = CUSTOMERS[customer]
    created_at = datetime.fromisoformat(created).replace(tzinfo=UTC)
    number = int(n)
    return Row(
        id=f"B{number:02d}",
        number=f"{'F' if kind == 'invoice' else 'A'}-2024-{number:04d}",
        type=kind,
        state=state,
        sending=sending,
        customer_id=customer_id,
        customer_name=customer_name,
        segment=segment,
        account_id=account,
        account_name=None if account is None else ACCOUNTS[account],
        currency=cur,
        excl=Decimal(excl),
        tax=Decimal(tax),
        incl=Decimal(excl) + Decimal(tax),
        due=None if due is None else Decimal(due),
        bill_date=created_at.date(),
        due_date=None if due_in is None else created_at.date() + timedelta(days=int(due_in)),
        created=created_at,
        updated=created_at + timedelta(days=number % 5, milliseconds=number),
    )


ROWS = [_row(line) for line in TABLE.strip().splitlines()[1:]]
ALL_IDS = {row.id for row in ROWS}


def _wire_time(moment: datetime) -> str:
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{moment.microsecond // 1000:03d}Z"


def _record(row: Row) -> dict[str, Any]:
    """The row as a resource dict. Style 0: wire strings; 1: native types; 2: floats, naive
    datetimes. Missing optional values are left out on even rows and null on odd rows."""
    n = int(row.id[1:])
    style = n % 3

    def money(value: Decimal | None) -> Any:
        return None if value is None else (str(value), value, float(value))[style]

    def day(value: date | None) -> Any:
        return None if value is None else (value.isoformat(), value, value.isoformat())[style]

    def moment(value: datetime) -> Any:
        return (_wire_time(value), value, value.replace(tzinfo=None))[style]

    def put(target: dict[str, Any], key: str, value: Any) -> None:
        if value is not None or n % 2:
            target[key] = value

    customer: dict[str, Any] = {"id": row.customer_id, "name": row.customer_name}
    put(customer, "segment", row.segment)
    amounts: dict[str, Any] = {
        "totalExcludingTax": money(row.excl),
        "totalTax": money(row.tax),
        "totalIncludingTax": money(row.incl),
    }
    put(amounts, "due", money(row.due))
    record: dict[str, Any] = {
        "id": row.id,
        "number": row.number,
        "type": row.type,
        "state": row.state,
        "customer": customer,
        "currency": {"id": row.currency},
        "amounts": amounts,
        "billDate": day(row.bill_date),
        "createdAt": moment(row.created),
        "updatedAt": moment(row.updated),
    }
    put(record, "sendingFormat", row.sending)
    put(record, "dueDate", day(row.due_date))
    account = None if row.account_id is None else {"id": row.account_id, "name": row.account_name}
    put(record, "billingAccount", account)
    return record


RECORDS = [_record(row) for row in ROWS]


def _search(query: Any) -> set[str]:
    node = parse_search(query, BILL_FIELDS)
    return {record["id"] for record in RECORDS if evaluate(node, record)}


def _expected(predicate: Callable[[Row], bool]) -> set[str]:
    return {row.id for row in ROWS if predicate(row)}


def _utc(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


D = Decimal

# --------------------------------------------------------------------------------------------
# Search cases: (name, query, expected predicate over Row). Names starting with "empty" must
# select nothing, "all" everything (guards against the fixture drifting under a case).
# --------------------------------------------------------------------------------------------

SEARCH_CASES: list[tuple[str, Any, Callable[[Row], bool]]] = [
    # The reference's own examples.
    ("ref-or-currency", {"$or": [{"currency.id": "GBP"}, {"currency.id": "JPY"}]},
     lambda b: b.currency in ("GBP", "JPY")),
    ("ref-and-type-format", {"$and": [{"type": "invoice"}, {"sendingFormat": "paper"}]},
     lambda b: b.type == "invoice" and b.sending == "paper"),
    ("ref-eq", {"type": {"$eq": "invoice"}}, lambda b: b.type == "invoice"),
    ("ref-nin", {"type": {"$nin": ["creditNote"]}}, lambda b: b.type != "creditNote"),
    # Each operator on enums and strings.
    ("implicit-eq-enum", {"type": "creditNote"}, lambda b: b.type == "creditNote"),
    ("neq-enum", {"type": {"$neq": "invoice"}}, lambda b: b.type != "invoice"),
    ("neq-matches-missing", {"sendingFormat": {"$neq": "paper"}}, lambda b: b.sending != "paper"),
    ("in-enum", {"sendingFormat": {"$in": ["email", "eInvoicing"]}},
     lambda b: b.sending in ("email", "eInvoicing")),
    ("nin-matches-missing", {"sendingFormat": {"$nin": ["email"]}}, lambda b: b.sending != "email"),
    ("empty-in-list", {"state": {"$in": []}}, lambda b: False),
    ("all-nin-empty-list", {"state": {"$nin": []}}, lambda b: True),
    ("nested-name-with-space", {"customer.name": "ACME Corp"}, lambda b: b.customer_name == "ACME Corp"),
    ("nested-eq-missing-excluded", {"customer.segment": "int"}, lambda b: b.segment == "int"),
    ("nested-neq-missing-included", {"customer.segment": {"$neq": "int"}}, lambda b: b.segment != "int"),
    ("nested-in", {"billingAccount.id": {"$in": ["BA-1", "BA-3"]}},
     lambda b: b.account_id in ("BA-1", "BA-3")),
    ("string-range-prefix", {"billingAccount.name": {"$gte": "ACME", "$lt": "ACMF"}},
     lambda b: b.account_name is not None and "ACME" <= b.account_name < "ACMF"),
    ("string-neq-missing-object", {"billingAccount.name": {"$neq": "ACME Main"}},
     lambda b: b.account_name != "ACME Main"),
    ("string-gt", {"number": {"$gt": "F-2024-0025"}}, lambda b: b.number > "F-2024-0025"),
    ("id-in-with-unknown", {"id": {"$in": ["B01", "B30", "nope"]}}, lambda b: b.id in ("B01", "B30")),
    ("string-lte", {"customer.id": {"$lte": "1002"}}, lambda b: b.customer_id <= "1002"),
    # Decimals, operands as int, float, str and Decimal.
    ("decimal-gt-int", {"amounts.due": {"$gt": 0}}, lambda b: b.due is not None and b.due > 0),
    ("decimal-gte-str", {"amounts.due": {"$gte": "119.00"}},
     lambda b: b.due is not None and b.due >= D("119")),
    ("decimal-lt-negative", {"amounts.due": {"$lt": 0}}, lambda b: b.due is not None and b.due < 0),
    ("decimal-lte-float", {"amounts.due": {"$lte": 0.01}},
     lambda b: b.due is not None and b.due <= D("0.01")),
    ("decimal-eq-zero-any-scale", {"amounts.due": {"$eq": 0}}, lambda b: b.due == 0),
    ("decimal-implicit-eq", {"amounts.totalIncludingTax": "119"}, lambda b: b.incl == D("119")),
    ("decimal-two-operators", {"amounts.due": {"$gt": 1, "$lte": 1000}},
     lambda b: b.due is not None and 1 < b.due <= 1000),
    ("decimal-gte-decimal", {"amounts.totalIncludingTax": {"$gte": D("100.005")}},
     lambda b: b.incl >= D("100.005")),
    ("decimal-in-mixed", {"amounts.totalTax": {"$in": [0, "19.00", 1500.0]}},
     lambda b: b.tax in (D(0), D(19), D(1500))),
    ("decimal-negative-range", {"amounts.totalExcludingTax": {"$gt": "-50", "$lt": "10"}},
     lambda b: D(-50) < b.excl < D(10)),
    ("decimal-cents", {"amounts.totalTax": {"$gt": "2.34", "$lt": "2.36"}}, lambda b: b.tax == D("2.35")),
    ("not-operator-matches-missing", {"amounts.due": {"$not": {"$gt": 0}}},
     lambda b: not (b.due is not None and b.due > 0)),
    ("not-value", {"amounts.due": {"$not": 0}}, lambda b: b.due != 0),
    # Dates and datetimes.
    ("date-gte", {"billDate": {"$gte": "2024-03-01"}}, lambda b: b.bill_date >= date(2024, 3, 1)),
    ("date-february", {"billDate": {"$gte": "2024-02-01", "$lt": "2024-03-01"}},
     lambda b: b.bill_date.month == 2 and b.bill_date.year == 2024),
    ("date-lt-missing-excluded", {"dueDate": {"$lt": "2024-03-15"}},
     lambda b: b.due_date is not None and b.due_date < date(2024, 3, 15)),
    ("date-nin-missing-included", {"dueDate": {"$nin": ["2024-03-02"]}},
     lambda b: b.due_date != date(2024, 3, 2)),
    ("date-eq", {"dueDate": "2024-03-15"}, lambda b: b.due_date == date(2024, 3, 15)),
    ("datetime-without-millis", {"createdAt": {"$gte": "2024-02-01T00:00:00Z"}},
     lambda b: b.created >= _utc("2024-02-01T00:00:00")),
    ("datetime-lt-millis-boundary", {"createdAt": {"$lt": "2024-02-03T23:59:59.999Z"}},
     lambda b: b.created < _utc("2024-02-03T23:59:59.999")),
    ("datetime-lte-millis-boundary", {"createdAt": {"$lte": "2024-02-03T23:59:59.999Z"}},
     lambda b: b.created <= _utc("2024-02-03T23:59:59.999")),
    ("datetime-eq", {"createdAt": {"$eq": "2024-01-10T10:15:30.120Z"}}, lambda b: b.id == "B02"),
    ("datetime-offset", {"createdAt": {"$gte": "2024-02-01T13:00:00.001+01:00"}},
     lambda b: b.created >= _utc("2024-02-01T12:00:00.001")),
    ("datetime-date-only", {"updatedAt": {"$gte": "2024-04-01"}},
     lambda b: b.updated >= _utc("2024-04-01T00:00:00")),
    ("datetime-in", {"createdAt": {"$in": ["2024-04-01T08:00:00.000Z", "2024-04-03T08:00:00Z"]}},
     lambda b: b.id in ("B17", "B18")),
    # Logic.
    ("top-not", {"$not": {"type": "invoice"}}, lambda b: b.type != "invoice"),
    ("top-not-of-or", {"$not": {"$or": [{"currency.id": "EUR"}, {"state": "cancelled"}]}},
     lambda b: not (b.currency == "EUR" or b.state == "cancelled")),
    ("double-not", {"$not": {"$not": {"type": "invoice"}}}, lambda b: b.type == "invoice"),
    ("implicit-and-three", {"type": "invoice", "state": "open", "currency.id": "EUR"},
     lambda b: b.type == "invoice" and b.state == "open" and b.currency == "EUR"),
    ("explicit-and-of-implicit",
     {"$and": [{"type": "invoice", "state": "open"}, {"amounts.due": {"$gt": 100}}]},
     lambda b: b.type == "invoice" and b.state == "open" and b.due is not None and b.due > 100),
    ("three-levels",
     {"$or": [
         {"$and": [{"type": "invoice"}, {"$or": [{"currency.id": "GBP"}, {"amounts.due": {"$gt": 5000}}]}]},
         {"$and": [{"type": "creditNote"}, {"state": {"$neq": "cancelled"}}]},
     ]},
     lambda b: (b.type == "invoice" and (b.currency == "GBP" or (b.due is not None and b.due > 5000)))
     or (b.type == "creditNote" and b.state != "cancelled")),
    ("missing-format-via-nin-all",
     {"$and": [
         {"$or": [{"sendingFormat": "paper"}, {"sendingFormat": {"$nin": ["paper", "email", "eInvoicing"]}}]},
         {"$not": {"customer.id": "9999"}},
     ]},
     lambda b: b.sending in ("paper", None) and b.customer_id != "9999"),
    ("or-of-in-and-nested-eq",
     {"$or": [{"customer.name": {"$in": ["ACME Corp", "acme corp"]}}, {"billingAccount.id": "BA-5"}]},
     lambda b: b.customer_name in ("ACME Corp", "acme corp") or b.account_id == "BA-5"),
    ("missing-via-not-gte", {"$or": [{"dueDate": {"$not": {"$gte": "0001-01-01"}}}]},
     lambda b: b.due_date is None),
    ("not-in", {"state": {"$not": {"$in": ["open", "closed"]}}}, lambda b: b.state == "cancelled"),
    ("not-neq-excludes-missing", {"customer.segment": {"$not": {"$neq": "int"}}},
     lambda b: b.segment == "int"),
    ("mixed-three-fields",
     {
         "currency.id": {"$neq": "EUR"},
         "amounts.due": {"$gt": "0.00"},
         "sendingFormat": {"$in": ["paper", "eInvoicing"]},
     },
     lambda b: b.currency != "EUR" and b.due is not None and b.due > 0
     and b.sending in ("paper", "eInvoicing")),
    ("and-with-not-or",
     {"$and": [
         {"billDate": {"$lte": "2024-01-31"}},
         {"$not": {"$or": [{"state": "cancelled"}, {"customer.segment": {"$in": ["smb"]}}]}},
     ]},
     lambda b: b.bill_date <= date(2024, 1, 31) and b.state != "cancelled" and b.segment != "smb"),
    ("all-empty-document", {}, lambda b: True),
    ("all-or-of-every-type", {"$or": [{"type": "invoice"}, {"type": "creditNote"}]}, lambda b: True),
    ("empty-credit-note-with-positive-due", {"$and": [{"type": "creditNote"}, {"amounts.due": {"$gt": 0}}]},
     lambda b: b.type == "creditNote" and b.due is not None and b.due > 0),
    ("empty-unknown-currency", {"currency.id": "USD", "type": "creditNote"}, lambda b: b.currency == "USD"),
    ("empty-case-sensitive", {"customer.name": "ACME CORP"}, lambda b: b.customer_name == "ACME CORP"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("query", "predicate"), [c[1:] for c in SEARCH_CASES], ids=[c[0] for c in SEARCH_CASES]
)
def test_search(query: Any, predicate: Callable[[Row], bool]) -> None:
    assert _search(query) == _expected(predicate)


def test_case_names_match_results() -> None:
    for name, _query, predicate in SEARCH_CASES:
        expected = _expected(predicate)
        if name.startswith("empty"):
            assert expected == set(), name
        elif name.startswith("all"):
            assert expected == ALL_IDS, name
        else:  # a case selecting nothing or everything proves little
            assert expected not in (set(), ALL_IDS), name


@pytest.mark.parametrize(
    "query", [c[1] for c in SEARCH_CASES if c[1]], ids=[c[0] for c in SEARCH_CASES if c[1]]
)
def test_constraints_and_negation_are_consistent_with_evaluate(query: Any) -> None:
    node = parse_search(query, BILL_FIELDS)
    constraints = equality_constraints(node)
    fields = referenced_fields(node)
    assert set(constraints) <= fields <= set(BILL_FIELDS)
    for record in RECORDS:
        matched = evaluate(node, record)
        assert evaluate(Not(node), record) is not matched
        if matched:  # soundness: a matching record satisfies every equality constraint
            for field, allowed in constraints.items():
                current: Any = record
                for part in field.split("."):
                    current = current[part]
                assert BILL_FIELDS[field].coerce(current) in allowed, (field, record["id"])


# --------------------------------------------------------------------------------------------
# Bad queries
# --------------------------------------------------------------------------------------------


def _nested(levels: int, innermost: dict[str, Any] | None = None) -> dict[str, Any]:
    """`levels` query objects, each the only item of its parent's $and."""
    doc = innermost or {"type": "invoice"}
    for _ in range(levels - 1):
        doc = {"$and": [doc]}
    return doc


BAD_QUERIES: list[tuple[str, Any, str]] = [
    ("list-document", [{"type": "invoice"}], "must be a JSON object, got list"),
    ("string-document", "type", "must be a JSON object, got 'type'"),
    ("null-document", None, "must be a JSON object, got null"),
    ("unknown-field", {"colour": "red"}, "unknown field 'colour'"),
    ("misspelt-field", {"custmer.name": "x"}, "did you mean 'customer.name'?"),
    ("nested-object-syntax", {"customer": {"name": "ACME Corp"}}, "unknown field 'customer'"),
    ("unknown-operator", {"type": {"$regex": "inv"}}, "unknown operator '$regex' at type"),
    ("unknown-operator-located", {"$and": [{"state": "open"}, {"type": {"$regex": "x"}}]},
     "unknown operator '$regex' at $and[1].type"),
    ("unknown-logical", {"$nor": [{"type": "invoice"}]}, "unknown operator '$nor'"),
    ("non-operator-key", {"amounts.due": {"$gt": 1, "max": 2}}, "unknown operator 'max' at amounts.due"),
    ("operator-inside-field-not", {"amounts.due": {"$not": {"$foo": 1}}},
     "unknown operator '$foo' at amounts.due.$not"),
    ("ordering-on-enum", {"type": {"$gt": "a"}}, "'$gt' is not allowed on enum field 'type'"),
    ("ordering-on-enum-in-not", {"state": {"$not": {"$lte": "open"}}},
     "'$lte' is not allowed on enum field 'state' at state.$not"),
    ("list-for-gt", {"customer.name": {"$gt": ["a"]}}, "'$gt' on 'customer.name' needs a string, got list"),
    ("object-for-eq", {"customer.name": {"$eq": {"a": 1}}},
     "'$eq' on 'customer.name' needs a string, got object"),
    ("number-for-string", {"customer.id": 9999}, "'customer.id' needs a string, got number 9999"),
    ("scalar-for-in", {"type": {"$in": "invoice"}}, "'$in' on 'type' needs a list of values, got 'invoice'"),
    ("unknown-enum-value", {"type": "bill"}, "'type' needs one of 'invoice', 'creditNote', got 'bill'"),
    ("unknown-enum-in-item", {"$or": [{"type": {"$in": ["invoice", "bill"]}}]},
     "'$in' on 'type' item 1 needs one of 'invoice', 'creditNote', got 'bill' at $or[0].type"),
    ("enum-wrong-case", {"sendingFormat": "Paper"}, "got 'Paper'"),
    ("empty-and", {"$and": []}, "'$and' needs at least one query object, got an empty list"),
    ("object-for-or", {"$or": {"type": "invoice"}}, "'$or' needs a list of query objects, got object"),
    ("scalar-in-or", {"$or": [{"type": "invoice"}, "x"]}, "must be a JSON object, got 'x' at $or[1]"),
    ("list-for-top-not", {"$not": [{"type": "invoice"}]}, "must be a JSON object, got list at $not"),
    ("operator-as-top-not-operand", {"$not": {"$gt": 5}}, "unknown operator '$gt' at $not"),
    ("empty-object-in-and", {"$and": [{}]}, "empty query object at $and[0]"),
    ("empty-operator-object", {"type": {}}, "empty operator object on 'type'"),
    ("list-as-value", {"type": ["invoice"]}, 'use {"$in": [...]}'),
    ("null-value", {"dueDate": None}, "'dueDate' needs a date (YYYY-MM-DD), got null"),
    ("boolean-for-decimal", {"amounts.due": {"$gt": True}},
     "'$gt' on 'amounts.due' needs a decimal number, got boolean"),
    ("text-for-decimal", {"amounts.due": "ten"}, "'amounts.due' needs a decimal number, got 'ten'"),
    ("nan-for-decimal", {"amounts.due": {"$lt": "NaN"}}, "needs a decimal number, got 'NaN'"),
    ("infinite-float", {"amounts.due": {"$lt": float("inf")}}, "needs a decimal number, got number inf"),
    ("impossible-date", {"billDate": "2024-02-30"}, "'billDate' needs a date (YYYY-MM-DD), got '2024-02-30'"),
    ("datetime-for-date", {"billDate": {"$gte": "2024-02-01T00:00:00Z"}}, "needs a date (YYYY-MM-DD)"),
    ("bad-datetime", {"createdAt": {"$gt": "yesterday"}}, "'$gt' on 'createdAt' needs an ISO 8601 date-time"),
    ("too-deep", _nested(MAX_DEPTH + 1), f"query nested deeper than {MAX_DEPTH} levels"),
    ("too-deep-field-not", _nested(MAX_DEPTH - 1, {"state": {"$not": {"$not": "open"}}}),
     f"query nested deeper than {MAX_DEPTH} levels at "),
    ("too-many-nodes", {"$or": [{"id": str(i)} for i in range(MAX_NODES)]},
     f"more than {MAX_NODES} conditions"),
    ("in-too-long", {"id": {"$in": [str(i) for i in range(MAX_IN_VALUES + 1)]}},
     f"has {MAX_IN_VALUES + 1} values; at most {MAX_IN_VALUES}"),
]  # fmt: skip


@pytest.mark.parametrize(("query", "fragment"), [c[1:] for c in BAD_QUERIES], ids=[c[0] for c in BAD_QUERIES])
def test_bad_query(query: Any, fragment: str) -> None:
    with pytest.raises(MalformedInput) as caught:
        parse_search(query, BILL_FIELDS)
    assert fragment in str(caught.value)


def test_limits_are_inclusive() -> None:
    parse_search(_nested(MAX_DEPTH), BILL_FIELDS)
    parse_search({"$or": [{"id": str(i)} for i in range(MAX_NODES - 1)]}, BILL_FIELDS)
    parse_search({"id": {"$in": [str(i) for i in range(MAX_IN_VALUES)]}}, BILL_FIELDS)


def test_hostile_depth_is_refused_without_recursing() -> None:
    doc: Any = {"type": "invoice"}
    for _ in range(100_000):
        doc = {"$not": doc}
    with pytest.raises(MalformedInput, match="nested deeper"):
        parse_search(doc, BILL_FIELDS)


def test_unknown_field_lists_fields_of_a_small_schema() -> None:
    with pytest.raises(MalformedInput, match=r"known fields: id, name, customer\.id"):
        parse_search({"zzz": "1"}, BILLING_ACCOUNT_FIELDS)


# --------------------------------------------------------------------------------------------
# Tree shape and coercion
# --------------------------------------------------------------------------------------------

TYPE = BILL_FIELDS["type"]


def test_tree_shapes() -> None:
    assert parse_search({"type": "invoice"}, BILL_FIELDS) == Compare("type", Op.EQ, "invoice", TYPE)
    assert parse_search({"amounts.due": {"$gt": 1, "$lte": "10.50"}}, BILL_FIELDS) == And(
        (Compare("amounts.due", Op.GT, D(1), DECIMAL), Compare("amounts.due", Op.LTE, D("10.50"), DECIMAL))
    )
    assert parse_search({"type": {"$not": "invoice"}}, BILL_FIELDS) == Not(
        Compare("type", Op.EQ, "invoice", TYPE)
    )
    assert parse_search({"$not": {"type": "invoice"}}, BILL_FIELDS) == Not(
        Compare("type", Op.EQ, "invoice", TYPE)
    )
    assert parse_search({"$or": [{"id": "1"}], "type": {"$nin": ["invoice", "invoice"]}}, BILL_FIELDS) == And(
        (Or((Compare("id", Op.EQ, "1", STRING),)), Membership("type", True, ("invoice",), TYPE))
    )
    assert parse_search({}, BILL_FIELDS) == And(())


@pytest.mark.parametrize(
    ("field_type", "raw", "expected"),
    [
        (DECIMAL, 0.1, D("0.1")),
        (DECIMAL, 10, D(10)),
        (DECIMAL, "-3.50", D("-3.50")),
        (DECIMAL, D("1.005"), D("1.005")),
        (DATE, "2024-02-29", date(2024, 2, 29)),
        (DATE, date(2024, 2, 29), date(2024, 2, 29)),
        (DATETIME, "2018-06-20T06:43:32.092Z", datetime(2018, 6, 20, 6, 43, 32, 92000, UTC)),
        (DATETIME, "2018-06-20T08:43:32.092+02:00", datetime(2018, 6, 20, 6, 43, 32, 92000, UTC)),
        (DATETIME, "2018-06-20T06:43:32", datetime(2018, 6, 20, 6, 43, 32, tzinfo=UTC)),
        (DATETIME, datetime(2018, 6, 20, 6, 43, 32), datetime(2018, 6, 20, 6, 43, 32, tzinfo=UTC)),
        (STRING, "ACME Corp", "ACME Corp"),
    ],
)
def test_coercion(field_type: FieldType, raw: Any, expected: Any) -> None:
    assert field_type.coerce(raw) == expected


def test_datetime_values_come_out_in_utc() -> None:
    value = DATETIME.coerce("2018-06-20T08:43:32+02:00")
    assert isinstance(value, datetime)
    assert value.utcoffset() == timedelta(0)


def test_enum_type_needs_values() -> None:
    with pytest.raises(ValueError, match="enums"):
        FieldType(Kind.ENUM)
    with pytest.raises(ValueError, match="enums"):
        FieldType(Kind.STRING, ("a",))


def test_corrupt_record_value_is_a_server_error_not_a_bad_query() -> None:
    node = parse_search({"amounts.due": {"$gt": 0}}, BILL_FIELDS)
    with pytest.raises(ValueError, match=r"record field 'amounts\.due' needs a decimal number"):
        evaluate(node, {"amounts": {"due": "lots"}})


def test_non_object_on_the_path_is_missing() -> None:
    node = parse_search({"customer.name": {"$neq": "x"}}, BILL_FIELDS)
    assert evaluate(node, {"customer": "ACME Corp"})
    assert not evaluate(parse_search({"customer.name": "x"}, BILL_FIELDS), {"customer": "x"})


def test_referenced_fields() -> None:
    node = parse_search(
        {"$or": [{"type": "invoice"}, {"$not": {"customer.name": "x"}}], "amounts.due": {"$in": [1]}},
        BILL_FIELDS,
    )
    assert referenced_fields(node) == {"type", "customer.name", "amounts.due"}
    assert referenced_fields(And(())) == set()


# --------------------------------------------------------------------------------------------
# equality_constraints
# --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({"type": "invoice"}, {"type": {"invoice"}}),
        (
            {"type": "invoice", "state": {"$in": ["open", "closed"]}, "amounts.due": {"$gt": 0}},
            {"type": {"invoice"}, "state": {"open", "closed"}},
        ),
        (
            {"$and": [{"type": {"$in": ["invoice", "creditNote"]}}, {"type": "invoice"}]},
            {"type": {"invoice"}},
        ),
        ({"type": "invoice", "$and": [{"type": "creditNote"}]}, {"type": set()}),
        ({"$and": [{"$or": [{"state": "open"}]}, {"currency.id": "EUR"}]}, {"currency.id": {"EUR"}}),
        ({"$and": [{"$and": [{"customer.name": "ACME Corp"}]}]}, {"customer.name": {"ACME Corp"}}),
        ({"amounts.due": 0}, {"amounts.due": {D(0)}}),
        ({"billDate": {"$eq": "2024-01-05", "$gte": "2024-01-01"}}, {"billDate": {date(2024, 1, 5)}}),
        ({"type": {"$eq": "invoice", "$neq": "creditNote"}}, {"type": {"invoice"}}),
        ({"$or": [{"type": "invoice"}, {"type": "creditNote"}]}, {}),
        ({"$or": [{"type": "invoice"}]}, {}),
        ({"$not": {"type": "invoice"}}, {}),
        ({"type": {"$not": {"$neq": "invoice"}}}, {}),
        ({"type": {"$nin": ["invoice"]}}, {}),
        ({"type": {"$neq": "invoice"}}, {}),
        ({}, {}),
    ],
)
def test_equality_constraints(query: Any, expected: dict[str, set[Any]]) -> None:
    assert equality_constraints(parse_search(query, BILL_FIELDS)) == expected


# --------------------------------------------------------------------------------------------
# parse_filters
# --------------------------------------------------------------------------------------------

RESERVED = ("offset", "limit", "sort")


def _filter(params: dict[str, list[str]]) -> set[str]:
    node = parse_filters(params, BILL_FIELDS, RESERVED)
    assert node is not None
    return {record["id"] for record in RECORDS if evaluate(node, record)}


def test_filters_single_value_is_an_equality() -> None:
    params = {"type": ["invoice"], "offset": ["10"], "limit": ["20"], "sort": ["-updatedAt"]}
    assert parse_filters(params, BILL_FIELDS, RESERVED) == Compare("type", Op.EQ, "invoice", TYPE)


def test_filters_reference_examples() -> None:
    assert _filter({"type": ["invoice"]}) == _expected(lambda b: b.type == "invoice")
    assert _filter({"customer.name": ["ACME Corp"]}) == _expected(lambda b: b.customer_name == "ACME Corp")
    assert _filter({"customer.name": ["ACME Corp"], "type": ["creditNote"]}) == _expected(
        lambda b: b.customer_name == "ACME Corp" and b.type == "creditNote"
    )


def test_filters_repeated_key_means_any_of() -> None:
    node = parse_filters({"currency.id": ["GBP", "JPY", "GBP"]}, BILL_FIELDS, RESERVED)
    assert node == Membership("currency.id", False, ("GBP", "JPY"), STRING)
    assert _filter({"currency.id": ["GBP", "JPY"], "state": ["open"]}) == _expected(
        lambda b: b.currency in ("GBP", "JPY") and b.state == "open"
    )


def test_filters_coerce_to_field_types() -> None:
    assert _filter({"amounts.due": ["0"]}) == _expected(lambda b: b.due == 0)
    assert _filter({"billDate": ["2024-03-15"]}) == _expected(lambda b: b.bill_date == date(2024, 3, 15))
    assert _filter({"createdAt": ["2024-01-10T10:15:30.12Z"]}) == {"B02"}
    assert parse_filters({"type": "invoice"}, BILL_FIELDS, RESERVED) == Compare(
        "type", Op.EQ, "invoice", TYPE
    )


def test_filters_none_when_only_reserved() -> None:
    assert parse_filters({}, BILL_FIELDS, RESERVED) is None
    assert parse_filters({"limit": ["5"]}, BILL_FIELDS, RESERVED) is None


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"colour": ["red"]}, "unknown filter 'colour'"),
        ({"custmer.name": ["x"]}, "did you mean 'customer.name'?"),
        ({"type": ["bill"]}, "filter 'type' needs one of 'invoice', 'creditNote', got 'bill'"),
        ({"billDate": ["01/02/2024"]}, "filter 'billDate' needs a date (YYYY-MM-DD), got '01/02/2024'"),
        ({"amounts.due": ["1,5"]}, "filter 'amounts.due' needs a decimal number"),
        ({"customer.name": [""]}, "filter 'customer.name' has an empty value"),
        ({"id": [str(i) for i in range(MAX_IN_VALUES + 1)]}, f"at most {MAX_IN_VALUES}"),
    ],
)
def test_bad_filters(params: dict[str, list[str]], fragment: str) -> None:
    with pytest.raises(MalformedInput) as caught:
        parse_filters(params, BILL_FIELDS, RESERVED)
    assert fragment in str(caught.value)


# --------------------------------------------------------------------------------------------
# parse_sort and sort_records
# --------------------------------------------------------------------------------------------

DEFAULT_SORT = (SortKey("updatedAt", True, DATETIME),)


def test_parse_sort() -> None:
    assert parse_sort("-updatedAt", BILL_FIELDS, ()) == DEFAULT_SORT
    assert parse_sort(" type , -billDate,number", BILL_FIELDS, DEFAULT_SORT) == (
        SortKey("type", False, TYPE),
        SortKey("billDate", True, DATE),
        SortKey("number", False, STRING),
    )
    for blank in (None, "", "  "):
        assert parse_sort(blank, BILL_FIELDS, DEFAULT_SORT) == DEFAULT_SORT


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("colour", "cannot sort on unknown field 'colour'"),
        ("-updatedat", "did you mean 'updatedAt'?"),
        ("billDate,-billDate", "'sort' names field 'billDate' more than once"),
        ("type,,number", "empty field name at position 2"),
        ("-", "empty field name at position 1"),
        ("--type", "unknown field '-type'"),
    ],
)
def test_bad_sort(text: str, fragment: str) -> None:
    with pytest.raises(MalformedInput) as caught:
        parse_sort(text, BILL_FIELDS, DEFAULT_SORT)
    assert fragment in str(caught.value)


def _ids(records: list[dict[str, Any]]) -> list[str]:
    return [record["id"] for record in records]


def test_sort_records_multi_key() -> None:
    keys = parse_sort("type,-billDate,number", BILL_FIELDS, ())
    expected = sorted(ROWS, key=lambda b: (b.type, -b.bill_date.toordinal(), b.number))
    assert _ids(sort_records(RECORDS, keys)) == [row.id for row in expected]


def test_sort_records_numeric_and_missing_last_both_ways() -> None:
    present = [row for row in ROWS if row.due is not None]
    missing = [row.id for row in ROWS if row.due is None]
    ascending = sorted(present, key=lambda b: (b.due, b.id))
    descending = sorted(present, key=lambda b: (-(b.due or 0), b.id))
    assert (
        _ids(sort_records(RECORDS, parse_sort("amounts.due,id", BILL_FIELDS, ())))
        == [row.id for row in ascending] + missing
    )
    assert (
        _ids(sort_records(RECORDS, parse_sort("-amounts.due,id", BILL_FIELDS, ())))
        == [row.id for row in descending] + missing
    )


def test_sort_records_is_stable_and_keeps_input() -> None:
    records: list[dict[str, Any]] = [
        {"id": "a", "dueDate": None},
        {"id": "b", "dueDate": "2024-01-02"},
        {"id": "c"},
    ]
    keys = parse_sort("-dueDate", BILL_FIELDS, ())
    assert _ids(sort_records(records, keys)) == ["b", "a", "c"]
    assert _ids(sort_records(records, ())) == ["a", "b", "c"]
    assert _ids(records) == ["a", "b", "c"]


def test_billing_account_schema() -> None:
    accounts = [
        {"id": "BA-1", "name": "ACME Main", "country": {"id": "FR"}, "createdAt": "2018-06-20T06:43:32.092Z"},
        {"id": "BA-2", "name": "ACME Paris", "country": {"id": "RO"}, "createdAt": "2019-01-01T00:00:00Z"},
    ]
    node = parse_filters({"country.id": ["RO"]}, BILLING_ACCOUNT_FIELDS, RESERVED)
    assert node is not None
    assert [evaluate(node, account) for account in accounts] == [False, True]
    node = parse_search({"createdAt": {"$lt": "2019-01-01T00:00:00.000Z"}}, BILLING_ACCOUNT_FIELDS)
    assert [evaluate(node, account) for account in accounts] == [True, False]
    with pytest.raises(MalformedInput, match="unknown field 'type'"):
        parse_search({"type": "invoice"}, BILLING_ACCOUNT_FIELDS)
