"""Bills of the B2B Billing API: which query shapes the bill index can answer, and how.

Pure: no AWS. `billing.store.bills` keeps the index and the counters and runs the plans; this
module only reads queries (`billing.domain.b2b_query` trees).

The index serves the fields of INDEXED_FIELDS: a bill is findable, in createdAt or updatedAt
order, by the value of each of them. A query "pins" an indexed field when its top-level
conjunction restricts that field to a finite set of values: `{"type": "invoice"}`,
`{"currency.id": {"$in": ["GBP", "JPY"]}}`, or an `$or` whose every branch pins the same
field (`{"$or": [{"currency.id": "GBP"}, {"currency.id": "JPY"}]}`, the reference's example).
`billingAccount.id` is the same value as `customer.id` on every bill (a Factura client is one
customer with one billing account), so it pins `customer.id`.

A query is *exact* when it says nothing but its pins. Totals of exact queries that pin at most
one field besides `customer.id` are sums of counters (COUNTED_FIELDS, per tenant and per
customer); everything else is counted by reading the narrowest index stream, within a bound.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Final

from billing.domain.b2b_query import And, Compare, Membership, Node, Op, Or, SortKey
from billing.domain.b2b_schema import BILL_FIELDS, BILL_TYPES, Scalar
from billing.domain.errors import MalformedInput

INDEXED_FIELDS: Final = ("type", "state", "sendingFormat", "currency.id", "customer.id")
"""Fields with an index partition per value (see billing.store.bills), in slot order."""

ORDERINGS: Final = ("createdAt", "updatedAt")
"""Orders the index keeps each partition in."""

COUNTED_FIELDS: Final = ("type", "state", "sendingFormat", "currency.id")
"""Fields counted per value for the tenant and per customer (`customer.id` is counted per
tenant only: a customer's count is its bill total)."""

CUSTOMER: Final = "customer.id"
ALIASES: Final[Mapping[str, str]] = {"billingAccount.id": CUSTOMER}

ALL_FIELD: Final = "type"
"""The field whose values partition every bill: the stream of all bills is the merge of its
BILL_TYPES partitions."""
ALL_VALUES: Final = BILL_TYPES

SNAPSHOT_GROUPS: Final[Mapping[str, str]] = {
    "type": "type",
    "state": "state",
    "sendingFormat": "sendingFormat",
    "currency.id": "currency.id",
    "currency": "currency.id",
    "customer.id": CUSTOMER,
    "billingAccount.id": CUSTOMER,
}
"""`groupBy` values of GET /snapshots and the bill field each one counts."""


@dataclass(frozen=True)
class Pins:
    """What a query restricts indexed fields to. `values[f]` is the set of values field f may
    take (empty: nothing can match); `exact` says the query is nothing but these pins."""

    values: dict[str, frozenset[str]] = field(default_factory=dict)
    exact: bool = True

    @property
    def impossible(self) -> bool:
        return any(not allowed for allowed in self.values.values())

    def narrowed(self, name: str, allowed: Iterable[str]) -> Pins:
        """These pins and `name` in `allowed` (how a caller's scope joins a query)."""
        allowed = frozenset(allowed)
        values = dict(self.values)
        values[name] = values[name] & allowed if name in values else allowed
        return Pins(values, self.exact)

    def others(self, *besides: str) -> set[str]:
        return set(self.values) - set(besides)


def pins(node: Node | None) -> Pins:
    """The pins of a query's top-level conjunction (see the module docstring)."""
    if node is None:
        return Pins()
    values: dict[str, frozenset[str]] = {}
    exact = True
    for term in _conjuncts(node):
        pinned = _pin(term)
        if pinned is None:
            exact = False
            continue
        name, allowed = pinned
        if name not in INDEXED_FIELDS:
            exact = False
            continue
        values[name] = values[name] & allowed if name in values else allowed
    return Pins(values, exact)


def _conjuncts(node: Node) -> Iterable[Node]:
    if isinstance(node, And):
        for item in node.items:
            yield from _conjuncts(item)
    else:
        yield node


def _pin(node: Node) -> tuple[str, frozenset[str]] | None:
    """(field, allowed values) when `node` is exactly "field in values", else None."""
    if isinstance(node, Compare) and node.op is Op.EQ:
        return _field(node.field), frozenset({_text(node.value)})
    if isinstance(node, Membership) and not node.negated:
        return _field(node.field), frozenset(_text(v) for v in node.values)
    if isinstance(node, Or) and node.items:
        branches = [_pin(item) for item in node.items]
        names = {branch[0] for branch in branches if branch is not None}
        if None in branches or len(names) != 1:
            return None
        return names.pop(), frozenset().union(*(branch[1] for branch in branches if branch is not None))
    if isinstance(node, And) and node.items:
        parts = [_pin(item) for item in node.items]
        names = {part[0] for part in parts if part is not None}
        if None in parts or len(names) != 1:
            return None
        return names.pop(), frozenset.intersection(*(part[1] for part in parts if part is not None))
    return None


def _field(name: str) -> str:
    return ALIASES.get(name, name)


def _text(value: Scalar) -> str:
    """Indexed fields are strings and enums: their pinned values are their wire spelling."""
    return value if isinstance(value, str) else str(value)


def stream_ordering(sort: tuple[SortKey, ...]) -> tuple[str, bool] | None:
    """(ordering, descending) when the index can deliver bills in the requested order: no sort
    (createdAt ascending, the default) or a sort led by createdAt / updatedAt."""
    if not sort:
        return "createdAt", False
    if sort[0].field in ORDERINGS:
        return sort[0].field, sort[0].descending
    return None


# -- snapshots ---------------------------------------------------------------------------------


@dataclass(frozen=True)
class SnapshotSort:
    by_value: bool
    descending: bool


DEFAULT_SNAPSHOT_SORT: Final = SnapshotSort(by_value=True, descending=True)


def snapshot_group(text: str | None) -> str:
    """The bill field a `groupBy` counts; 400 naming the choices."""
    choices = ", ".join(SNAPSHOT_GROUPS)
    if text is None or not text.strip():
        raise MalformedInput(f"'groupBy' is required: one of {choices}")
    group = SNAPSHOT_GROUPS.get(text.strip())
    if group is None:
        raise MalformedInput(f"cannot group by '{text.strip()[:40]}'; groupBy one of {choices}")
    return group


def snapshot_sort(text: str | None) -> SnapshotSort:
    """`sort=key|-key|value|-value`; absent: by count, largest first (ties by key)."""
    if text is None or not text.strip():
        return DEFAULT_SNAPSHOT_SORT
    item = text.strip()
    name = item.removeprefix("-")
    if name not in ("key", "value"):
        raise MalformedInput(f"snapshots sort by 'key', '-key', 'value' or '-value', got {item[:40]!r}")
    return SnapshotSort(by_value=name == "value", descending=item.startswith("-"))


def order_snapshot(counts: Mapping[str, int], sort: SnapshotSort) -> list[tuple[str, int]]:
    """Non-zero counts in the requested order; equal counts are ordered by key, ascending."""
    present = [(key, count) for key, count in counts.items() if count > 0]
    present.sort(key=lambda pair: pair[0], reverse=sort.descending and not sort.by_value)
    if sort.by_value:
        present.sort(key=lambda pair: pair[1], reverse=sort.descending)
    return present


def _check_schema() -> None:
    missing = [name for name in (*INDEXED_FIELDS, *ORDERINGS, *ALIASES) if name not in BILL_FIELDS]
    if missing:
        raise RuntimeError(f"indexed bill fields missing from BILL_FIELDS: {missing}")


_check_schema()
