"""The B2B bill index: a projection of every bill (an issued invoice, `billing.wire.b2b_bills`)
and counters of bills per field value, both written in the same transaction as the invoice.

Items:

| item         | PK                     | SK                        | notes                                  |
|--------------|------------------------|---------------------------|----------------------------------------|
| bill         | `T#<t>#bill`           | `<invoice id>` (20 digits)| `view`: the bill's JSON (a string);    |
|              |                        |                           | GSI1..GSI10 below                      |
| bill counter | `T#<t>#bill_count`     | `<level>#<field>#<value>` | `n`: how many bills have that value;   |
|              |                        |                           | level `*` (tenant) or `c<customer id>` |

Index slots of a bill item (the table's generic sparse GSIs; bills are their own kind, so the
documents' slots are untouched): for field i of INDEXED_FIELDS (type, state, sendingFormat,
currency.id, customer.id) and ordering j of ORDERINGS (createdAt, updatedAt), slot 5*j + i + 1:

    GSI<n>PK = T#<t>#bill#<field>=<value>@<ordering>      GSI<n>SK = <ordering's timestamp>#<id>

so each partition is one field value's bills in createdAt (GSI1-5) or updatedAt (GSI6-10) order.
All bills are the merge of the two `type` partitions. Counters: per tenant for type, state,
sendingFormat, currency.id and customer.id (`*#type#invoice`), per customer for the first four
(`c42#state#open`). Counters are never read to decide what a bill is, only to size and total.

Access patterns (cost in items read):

| pattern                                          | operation                                    | cost                |
|--------------------------------------------------|----------------------------------------------|---------------------|
| one bill                                         | GetItem bill                                 | O(1)                |
| page of bills in createdAt/updatedAt order,      | Query the pinned field's partitions (one per | O(offset + limit)   |
|   filtered by one indexed field (or the scope)   | value), merged; total from counters          | per partition       |
| the same plus other filters / a second field     | Query the narrowest pinned field, filter in  | O(candidates),      |
|                                                  | memory, count what matches                   | at most B2B_MAX_SCAN|
| sort on any other field                          | read the narrowest stream, sort in memory    | O(candidates), same |
| snapshot grouped by a counted field, filtered at | Query counters `<level>#<field>#`            | O(values x levels)  |
|   most by customer.id (and the same field)       |                                              |                     |
| any other snapshot                               | read the narrowest stream, count in memory   | O(candidates), same |

Writes: `bill_operations(tenant, kind, before, after)` returns the items to add to the invoice
write's TransactWriteItems (`billing.store.documents` adds them to every create, modify and
change of state; payments that change total_due or close an invoice must add them too, like the
account totals): a Put of the bill (or a Delete), and `ADD n ±1` on each counter whose value
changed. Everything commits or nothing does, so the index and the counters always agree with
the invoices.
"""

from __future__ import annotations

import heapq
import json
import math
from collections import Counter
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

from billing.b2b_settings import b2b_settings
from billing.domain.b2b_bills import (
    ALL_FIELD,
    ALL_VALUES,
    COUNTED_FIELDS,
    CUSTOMER,
    INDEXED_FIELDS,
    ORDERINGS,
    Pins,
    pins,
    stream_ordering,
)
from billing.domain.b2b_clients import Scope
from billing.domain.b2b_query import Node, SortKey, evaluate, sort_records
from billing.domain.b2b_schema import BILL_FIELDS
from billing.domain.documents import Document, DocumentKind
from billing.domain.errors import Conflict, MalformedInput, NotFound
from billing.store import keys
from billing.store.aws import client as aws_client
from billing.store.table import ConditionFailed, UsesTable, from_item
from billing.wire.b2b_bills import bill, is_bill

BILL_KIND: Final = "bill"
COUNTER_KIND: Final = "bill_count"
TENANT_LEVEL: Final = "*"
MAX_PAGE: Final = 1000
MAX_COUNTER_KEYS: Final = 1000
"""Counter reads a request may make to total a query; beyond it the total is counted by reading."""
_MAX_VALUE_LENGTH: Final = 64

Operation = dict[str, Any]
View = dict[str, Any]

DEFAULT_SORT: Final = (SortKey("createdAt", False, BILL_FIELDS["createdAt"]),)
DEFAULT_ORDER: Final = ("createdAt", False)
ALL: Final = "*all"
"""Key of the all-bills estimate."""


def slot(field: str, ordering: str) -> int:
    return ORDERINGS.index(ordering) * len(INDEXED_FIELDS) + INDEXED_FIELDS.index(field) + 1


def index_pk(tenant_id: int, field: str, value: str, ordering: str) -> str:
    return f"{keys.tenant_pk(tenant_id, BILL_KIND)}#{field}={value}@{ordering}"


def value_of(view: Mapping[str, Any], field: str) -> Any:
    current: Any = view
    for part in field.split("."):
        current = current.get(part) if isinstance(current, Mapping) else None
    return current


def customer_of(view: Mapping[str, Any]) -> int:
    return int(view["customer"]["id"])


def bill_item(tenant_id: int, view: Mapping[str, Any]) -> dict[str, Any]:
    bill_id = int(view["id"])
    item: dict[str, Any] = {
        "PK": keys.tenant_pk(tenant_id, BILL_KIND),
        "SK": keys.record_sk(bill_id),
        "view": json.dumps(view, ensure_ascii=False, separators=(",", ":")),
    }
    for ordering in ORDERINGS:
        for field in INDEXED_FIELDS:
            n = slot(field, ordering)
            item[f"GSI{n}PK"] = index_pk(tenant_id, field, str(value_of(view, field)), ordering)
            item[f"GSI{n}SK"] = f"{view[ordering]}#{keys.record_sk(bill_id)}"
    return item


def counter_keys(view: Mapping[str, Any]) -> set[str]:
    """The counters a bill counts in (see the module docstring)."""
    customer = view["customer"]["id"]
    found = {f"{TENANT_LEVEL}#{CUSTOMER}#{customer}"}
    for field in COUNTED_FIELDS:
        value = value_of(view, field)
        found.add(f"{TENANT_LEVEL}#{field}#{value}")
        found.add(f"c{customer}#{field}#{value}")
    return found


def _counter_key(tenant_id: int, sk: str) -> dict[str, str]:
    return {"PK": keys.tenant_pk(tenant_id, COUNTER_KIND), "SK": sk}


def bill_operations(
    tenant_id: int, kind: DocumentKind, before: Document | None, after: Document | None
) -> list[Operation]:
    """What a write of a document from `before` to `after` (None: absent) adds to its transaction
    to keep the bill index and counters right (nothing for documents that are not bills)."""
    old = bill(before) if before is not None and is_bill(kind, before) else None
    new = bill(after) if after is not None and is_bill(kind, after) else None
    operations: list[Operation] = []
    if new is not None:
        operations.append({"Put": {"Item": bill_item(tenant_id, new)}})
    elif old is not None:
        operations.append(
            {
                "Delete": {
                    "Key": {"PK": keys.tenant_pk(tenant_id, BILL_KIND), "SK": keys.record_sk(int(old["id"]))}
                }
            }
        )
    old_keys = counter_keys(old) if old is not None else set()
    new_keys = counter_keys(new) if new is not None else set()
    for sk, delta in [
        *((k, 1) for k in sorted(new_keys - old_keys)),
        *((k, -1) for k in sorted(old_keys - new_keys)),
    ]:
        operations.append(
            {
                "Update": {
                    "Key": _counter_key(tenant_id, sk),
                    "UpdateExpression": "ADD n :delta",
                    "ExpressionAttributeValues": {":delta": delta},
                }
            }
        )
    return operations


BILL_FLAGS: Final = frozenset({"flag_sent_by_email"})
"""Document flags a bill shows (sendingFormat), which writers outside DocumentService set."""
_FLAG_ATTEMPTS: Final = 8


def set_invoice_flag(tenant_id: int, document_id: int, flag: str) -> bool | None:
    """Set a BILL_FLAGS flag on an invoice and its bill in one transaction, bumping the invoice's
    `rev` (billing.store.document_marks.set_flag comes here for these flags). False when it was
    already set (nothing written), None when there is no such invoice."""
    from billing.store.documents import DOCUMENTS
    from billing.store.series import backoff

    records = DOCUMENTS[DocumentKind.INVOICE]
    for attempt in range(_FLAG_ATTEMPTS):
        item = records.get_item(tenant_id, document_id)
        if item is None:
            return None
        before = records.from_item(item)
        if getattr(before, flag):
            return False
        rev = int(item.get("rev", 0))
        after = before.model_copy(update={flag: True})
        operations: list[Operation] = [
            {
                "Update": {
                    "Key": {
                        "PK": keys.tenant_pk(tenant_id, DocumentKind.INVOICE.value),
                        "SK": keys.record_sk(document_id),
                    },
                    "UpdateExpression": "SET #flag = :set, #rev = #rev + :one",
                    "ConditionExpression": "#rev = :rev",
                    "ExpressionAttributeNames": {"#flag": flag, "#rev": "rev"},
                    "ExpressionAttributeValues": {":set": True, ":one": 1, ":rev": rev},
                }
            },
            *bill_operations(tenant_id, DocumentKind.INVOICE, before, after),
        ]
        try:
            records.table.transact(operations)
            return True
        except ConditionFailed:
            backoff(attempt)
    raise Conflict(f"invoice {document_id} was changed by other requests throughout; {flag} not set")


# -- reading ------------------------------------------------------------------------------------


class _Budget:
    """Counts the bills a request reads; past B2B_MAX_SCAN the request is refused (400)."""

    def __init__(self, limit: int, advice: str) -> None:
        self.limit = limit
        self.advice = advice
        self.read = 0

    def check(self, planned: int) -> None:
        if planned > self.limit:
            raise self.exceeded(planned)

    def spend(self) -> None:
        self.read += 1
        if self.read > self.limit:
            raise self.exceeded(None)

    def exceeded(self, planned: int | None) -> MalformedInput:
        amount = f"{planned} bills, more" if planned is not None else "more bills"
        return MalformedInput(
            f"this request would read {amount} than the {self.limit} one request may read; {self.advice}"
        )


LISTING_ADVICE: Final = (
    "narrow it with a filter on type, state, sendingFormat, currency.id or customer.id (a value or "
    "$in); a query that filters only on one of these (and customer.id), sorted by createdAt or "
    "updatedAt, is never limited"
)
SNAPSHOT_ADVICE: Final = (
    "narrow it with a filter on type, state, sendingFormat, currency.id or customer.id (a value or "
    "$in); snapshots filtered only on customer.id (or on the grouped field) are never limited"
)


@dataclass(frozen=True)
class Stream:
    """The bills of some index partitions (`field` in `values`), merged in one order."""

    field: str
    values: tuple[str, ...]
    sizes: tuple[int, ...]
    """How many bills each partition holds, from the counters."""

    @property
    def estimate(self) -> int:
        return sum(self.sizes)


class _Demand:
    """How far a merged read has got, so each partition reads about its share of a page instead
    of a whole page each (`need` None: everything is read, in pages of MAX_PAGE)."""

    def __init__(self, need: int | None, stream: Stream) -> None:
        self.need = need
        self.stream = stream
        self.consumed = 0

    def first_page(self, size: int) -> int:
        if self.need is None:
            return MAX_PAGE
        if len(self.stream.values) == 1 or self.stream.estimate == 0:
            return min(self.need, MAX_PAGE)
        share = math.ceil(self.need * size / self.stream.estimate * 1.25) + 5
        return max(1, min(self.need, share, MAX_PAGE))

    def next_page(self, previous: int) -> int:
        if self.need is None:
            return MAX_PAGE
        return max(1, min(MAX_PAGE, max(self.need - self.consumed + 5, previous * 2)))


class Bills(UsesTable):
    @property
    def _ddb(self) -> Any:
        return aws_client("dynamodb")

    # -- one bill ----------------------------------------------------------------------------

    def get(self, tenant_id: int, scope: Scope, bill_id: int) -> View:
        """One bill; outside the caller's scope it does not exist (404), as in another tenant."""
        item = self.table.get(keys.tenant_pk(tenant_id, BILL_KIND), keys.record_sk(bill_id))
        view: View | None = json.loads(item["view"]) if item is not None else None
        if view is None or not scope.allows(customer_of(view)):
            raise NotFound(f"bill {bill_id} not found")
        return view

    # -- collections ---------------------------------------------------------------------------

    def select(
        self,
        tenant_id: int,
        scope: Scope,
        node: Node | None,
        sort: tuple[SortKey, ...],
        offset: int,
        limit: int,
    ) -> tuple[list[View], int]:
        """(the window of matching bills in sort order, how many match); see the module docstring
        for what each query shape costs."""
        pinned = scoped(pins(node), scope)
        if pinned.impossible or not _possible(pinned):
            return [], 0
        sizes = self._sizes(tenant_id, pinned)
        stream = _narrowest(pinned, sizes)
        total = self._counted_total(tenant_id, pinned, sizes)
        max_scan = b2b_settings().max_scan
        order = stream_ordering(sort)
        sort_keys = sort or DEFAULT_SORT
        need = offset + limit
        if order is not None and total is not None:
            if offset >= total:
                return [], total
            # the page comes off the stream: about one page per partition (+1 to see the next
            # tie); what the query filters out in memory on top of that counts against the bound
            budget = _Budget(max_scan + len(stream.values) * (need + 1), LISTING_ADVICE)
            matches = self._matches(tenant_id, stream, node, scope, order, budget, need=need + 1)
            prefix = _complete_prefix(matches, order[0], need)
            return _ordered(prefix, sort_keys)[offset:need], total
        # the total (or the order) needs every candidate: bounded by B2B_MAX_SCAN
        budget = _Budget(max_scan, LISTING_ADVICE)
        budget.check(stream.estimate)
        found = list(self._matches(tenant_id, stream, node, scope, order or DEFAULT_ORDER, budget))
        return _ordered(found, sort_keys)[offset:need], len(found)

    def snapshot(self, tenant_id: int, scope: Scope, node: Node | None, group: str) -> dict[str, int]:
        """Bills per value of `group` among those the query and the scope select (zero counts
        left out)."""
        pinned = scoped(pins(node), scope)
        if pinned.impossible or not _possible(pinned):
            return {}
        if pinned.exact and not pinned.others(CUSTOMER, group):
            counted = self._counted_snapshot(tenant_id, pinned, group)
            if counted is not None:
                return counted
        stream = _narrowest(pinned, self._sizes(tenant_id, pinned))
        budget = _Budget(b2b_settings().max_scan, SNAPSHOT_ADVICE)
        budget.check(stream.estimate)
        counts: Counter[str] = Counter()
        for view in self._matches(tenant_id, stream, node, scope, DEFAULT_ORDER, budget):
            value = value_of(view, group)
            if value is not None:
                counts[str(value)] += 1
        return dict(counts)

    # -- plans --------------------------------------------------------------------------------

    def _sizes(self, tenant_id: int, pinned: Pins) -> dict[str, dict[str, int]]:
        """Bills in each index partition the query could use (its pinned fields' values, and
        ALL: the partitions of all bills), from the tenant's counters."""
        wanted = {ALL: dict.fromkeys(ALL_VALUES, 0)}
        wanted.update({field: dict.fromkeys(sorted(values), 0) for field, values in pinned.values.items()})
        counts = self.counters(
            tenant_id,
            {f"{TENANT_LEVEL}#{ALL_FIELD if f == ALL else f}#{v}" for f, vs in wanted.items() for v in vs},
        )
        for field, values in wanted.items():
            for value in values:
                values[value] = counts.get(
                    f"{TENANT_LEVEL}#{ALL_FIELD if field == ALL else field}#{value}", 0
                )
        return wanted

    def _counted_total(
        self, tenant_id: int, pinned: Pins, sizes: Mapping[str, Mapping[str, int]]
    ) -> int | None:
        """The number of matching bills when counters hold it (see billing.domain.b2b_bills)."""
        if not pinned.exact:
            return None
        others = pinned.others(CUSTOMER)
        customers = pinned.values.get(CUSTOMER)
        if not others:
            return sum(sizes[CUSTOMER if customers is not None else ALL].values())
        if len(others) > 1:
            return None
        (field,) = others
        if customers is None:
            return sum(sizes[field].values())
        wanted = [f"c{c}#{field}#{v}" for c in customers for v in pinned.values[field]]
        if len(wanted) > MAX_COUNTER_KEYS:
            return None
        return sum(self.counters(tenant_id, wanted).values())

    def _counted_snapshot(self, tenant_id: int, pinned: Pins, group: str) -> dict[str, int] | None:
        customers = pinned.values.get(CUSTOMER)
        counts: Counter[str] = Counter()
        if group == CUSTOMER:
            if customers is None:
                counts.update(self._counter_prefix(tenant_id, f"{TENANT_LEVEL}#{CUSTOMER}#"))
            else:
                prefix = f"{TENANT_LEVEL}#{CUSTOMER}#"
                found = self.counters(tenant_id, [prefix + c for c in customers])
                counts.update({sk.removeprefix(prefix): n for sk, n in found.items()})
        elif customers is None:
            counts.update(self._counter_prefix(tenant_id, f"{TENANT_LEVEL}#{group}#"))
        else:
            if len(customers) > MAX_COUNTER_KEYS // 10:
                return None
            for customer in sorted(customers):
                counts.update(self._counter_prefix(tenant_id, f"c{customer}#{group}#"))
        allowed = pinned.values.get(group)
        return {key: n for key, n in counts.items() if n > 0 and (allowed is None or key in allowed)}

    def _matches(
        self,
        tenant_id: int,
        stream: Stream,
        node: Node | None,
        scope: Scope,
        order: tuple[str, bool],
        budget: _Budget,
        *,
        need: int | None = None,
    ) -> Iterator[View]:
        """The stream's bills in `order` that match the query and the scope; about `need` of them
        are wanted (None: all)."""
        ordering, descending = order
        demand = _Demand(need, stream)
        partitions = [
            self._partition(tenant_id, stream.field, value, ordering, descending, budget, demand, size)
            for value, size in zip(stream.values, stream.sizes, strict=True)
            if size > 0
        ]
        merged: Iterable[View] = (
            partitions[0]
            if len(partitions) == 1
            else heapq.merge(*partitions, key=lambda v: (v[ordering], int(v["id"])), reverse=descending)
        )
        for view in merged:
            demand.consumed += 1
            if (node is None or evaluate(node, view)) and scope.allows(customer_of(view)):
                yield view

    def _partition(
        self,
        tenant_id: int,
        field: str,
        value: str,
        ordering: str,
        descending: bool,
        budget: _Budget,
        demand: _Demand,
        size: int,
    ) -> Iterator[View]:
        """One index partition of about `size` bills, read lazily as `demand` says."""
        index = f"GSI{slot(field, ordering)}"
        kwargs: dict[str, Any] = {
            "TableName": self.table.name,
            "IndexName": index,
            "KeyConditionExpression": "#pk = :pk",
            "ExpressionAttributeNames": {"#pk": f"{index}PK", "#view": "view"},
            "ExpressionAttributeValues": {":pk": {"S": index_pk(tenant_id, field, value, ordering)}},
            "ProjectionExpression": "#view",
            "ScanIndexForward": not descending,
            "Limit": demand.first_page(size),
        }
        while True:
            response = self._ddb.query(**kwargs)
            for raw in response.get("Items", []):
                budget.spend()
                yield json.loads(raw["view"]["S"])
            last = response.get("LastEvaluatedKey")
            if not last:
                return
            kwargs["ExclusiveStartKey"] = last
            kwargs["Limit"] = demand.next_page(kwargs["Limit"])

    # -- counters -------------------------------------------------------------------------------

    def counters(self, tenant_id: int, sks: Iterable[str]) -> dict[str, int]:
        """The counters named (missing ones are 0 and left out)."""
        from billing.store.billing_accounts import BATCH_KEYS, _batch_get

        wanted = sorted(set(sks))
        partition = keys.tenant_pk(tenant_id, COUNTER_KIND)
        found: dict[str, int] = {}
        for start in range(0, len(wanted), BATCH_KEYS):
            batch = [{"PK": {"S": partition}, "SK": {"S": sk}} for sk in wanted[start : start + BATCH_KEYS]]
            for item in _batch_get(self.table.name, batch):
                found[item["SK"]] = int(item.get("n", 0))
        return found

    def _counter_prefix(self, tenant_id: int, prefix: str) -> dict[str, int]:
        """Counters whose key starts with `prefix`, by the rest of their key."""
        values = {":pk": {"S": keys.tenant_pk(tenant_id, COUNTER_KIND)}}
        if prefix:
            values[":prefix"] = {"S": prefix}
        kwargs: dict[str, Any] = {
            "TableName": self.table.name,
            "KeyConditionExpression": "PK = :pk" + (" AND begins_with(SK, :prefix)" if prefix else ""),
            "ExpressionAttributeValues": values,
        }
        found: dict[str, int] = {}
        while True:
            response = self._ddb.query(**kwargs)
            for raw in response.get("Items", []):
                item = from_item(raw)
                found[str(item["SK"]).removeprefix(prefix)] = int(item.get("n", 0))
            if "LastEvaluatedKey" not in response:
                return found
            kwargs["ExclusiveStartKey"] = response["LastEvaluatedKey"]

    # -- maintenance ---------------------------------------------------------------------------

    def rebuild(self, tenant_id: int, documents: Iterable[Document]) -> int:
        """Rewrite the tenant's bill index and counters from its invoices (for a table that held
        invoices before the index existed, and for benchmarks). Run it while the tenant is quiet:
        counters are set, not added to. Returns the number of bills."""
        counts: Counter[str] = Counter()
        writes: list[dict[str, Any]] = []
        bills = 0
        for document in documents:
            if not is_bill(DocumentKind.INVOICE, document):
                continue
            view = bill(document)
            counts.update(counter_keys(view))
            writes.append(bill_item(tenant_id, view))
            bills += 1
        for old in self._counter_prefix(tenant_id, ""):
            counts.setdefault(old, 0)
        writes.extend({**_counter_key(tenant_id, sk), "n": n} for sk, n in counts.items())
        _batch_write(self.table.name, writes)
        return bills


def scoped(pinned: Pins, scope: Scope) -> Pins:
    """The query's pins and the caller's scope (a list scope pins customer.id)."""
    if scope.all:
        return pinned
    return pinned.narrowed(CUSTOMER, (str(i) for i in scope.billing_account_ids))


def _possible(pinned: Pins) -> bool:
    """Whether every pinned value could be a stored one (bounded keys, no separator)."""
    return all(len(v) <= _MAX_VALUE_LENGTH and "#" not in v for vs in pinned.values.values() for v in vs)


def _narrowest(pinned: Pins, sizes: Mapping[str, Mapping[str, int]]) -> Stream:
    """The pinned field whose partitions hold the fewest bills (all bills when nothing is pinned;
    on a tie, the later field of INDEXED_FIELDS, customer.id last)."""
    best = Stream(ALL_FIELD, ALL_VALUES, tuple(sizes[ALL][v] for v in ALL_VALUES))
    for field in INDEXED_FIELDS:
        if field in pinned.values:
            values = tuple(sizes[field])
            candidate = Stream(field, values, tuple(sizes[field][v] for v in values))
            if candidate.estimate <= best.estimate:
                best = candidate
    return best


def _complete_prefix(matches: Iterator[View], ordering: str, need: int) -> list[View]:
    """The first `need` matches, plus any that tie with the last one on `ordering` (the final
    sort orders ties by the other sort keys and id)."""
    prefix: list[View] = []
    for view in matches:
        if len(prefix) >= need and view[ordering] != prefix[-1][ordering]:
            break
        prefix.append(view)
    return prefix


def _ordered(views: Sequence[View], sort: tuple[SortKey, ...]) -> list[View]:
    """`views` in `sort` order; ties by id, ascending."""
    by_id = sorted(views, key=lambda v: int(v["id"]))
    return sort_records(by_id, sort)


def _batch_write(table_name: str, items: Sequence[Mapping[str, Any]]) -> None:
    from billing.store.table import serialize

    ddb = aws_client("dynamodb")
    for start in range(0, len(items), 25):
        pending: dict[str, Any] = {
            table_name: [{"PutRequest": {"Item": serialize(item)}} for item in items[start : start + 25]]
        }
        while pending:
            pending = ddb.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}


bills = Bills()
