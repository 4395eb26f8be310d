"""The B2B Billing API query language: URL filters, `sort`, and JSON search documents.

Parsing turns untrusted input into a typed tree whose values are already coerced to their
field's type (see `b2b_schema`), or raises MalformedInput saying what is wrong and where.
`evaluate` and `sort_records` work on resource dicts in their JSON shape (nested objects);
the store layer uses `referenced_fields` and `equality_constraints` to choose an index.

Semantics where the reference is silent:
- A field missing from a record (or null) never matches $eq, $gt, $gte, $lt, $lte or $in, and
  always matches $neq and $nin. $not is plain negation, so `{f: {"$not": v}}` matches it too and
  is always the same as `{f: {"$neq": v}}`.
- `null` is not a query value: there is no way to ask for "missing" other than by negation.
- Strings compare exactly (case-sensitive); their order is code-point order.
- Enum fields accept $eq, $neq, $in, $nin (and $not of those): their spelling has no meaning
  as an order, so $gt/$gte/$lt/$lte on them is refused rather than answered arbitrarily.
- $in/$nin with an empty list are accepted: they match nothing / everything.
- Extension: `$not` may also wrap a whole expression object, `{"$not": {"type": "invoice"}}`.
- The empty document `{}` matches every record (like listing the collection); an empty object
  inside $and/$or/$not, or as a field's operator object, is refused as a likely mistake.
- Limits against hostile queries: MAX_DEPTH nested query objects, MAX_NODES tree nodes,
  MAX_IN_VALUES values per $in/$nin (and per repeated URL filter).
"""

from __future__ import annotations

import difflib
import operator
from collections.abc import Callable, Collection, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, TypeVar

from billing.domain.b2b_schema import FieldType, Scalar, describe_value
from billing.domain.errors import MalformedInput

MAX_DEPTH = 8
MAX_NODES = 200
MAX_IN_VALUES = 100


class Op(StrEnum):
    EQ = "eq"
    NEQ = "neq"
    GT = "gt"
    GTE = "gte"
    LT = "lt"
    LTE = "lte"


@dataclass(frozen=True, slots=True)
class And:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Or:
    items: tuple[Node, ...]


@dataclass(frozen=True, slots=True)
class Not:
    item: Node


@dataclass(frozen=True, slots=True)
class Compare:
    """`record[field] <op> value`; the field type travels along so records can be coerced."""

    field: str
    op: Op
    value: Scalar
    field_type: FieldType


@dataclass(frozen=True, slots=True)
class Membership:
    """$in (negated=False) or $nin (negated=True); `values` are coerced and de-duplicated."""

    field: str
    negated: bool
    values: tuple[Scalar, ...]
    field_type: FieldType


Node = And | Or | Not | Compare | Membership


@dataclass(frozen=True, slots=True)
class SortKey:
    field: str
    descending: bool
    field_type: FieldType


_COMPARISONS = {"$eq": Op.EQ, "$neq": Op.NEQ, "$gt": Op.GT, "$gte": Op.GTE, "$lt": Op.LT, "$lte": Op.LTE}
_MEMBERSHIPS = {"$in": False, "$nin": True}
_FIELD_OPERATORS = ", ".join([*_COMPARISONS, *_MEMBERSHIPS, "$not"])

_OPERATOR_FUNCTIONS: Mapping[Op, Callable[[Any, Any], bool]] = {
    Op.EQ: operator.eq,
    Op.NEQ: operator.ne,
    Op.GT: operator.gt,
    Op.GTE: operator.ge,
    Op.LT: operator.lt,
    Op.LTE: operator.le,
}


_N = TypeVar("_N", bound=Node)


def parse_search(doc: Any, fields: Mapping[str, FieldType]) -> Node:
    """Parse a JSON search document (already decoded) against a resource's field schema."""
    if isinstance(doc, Mapping) and not doc:
        return And(())
    return _SearchParser(fields).document(doc, "", 1)


class _SearchParser:
    """One parse: carries the schema and the node budget.

    `path` is where we are in the document, for messages ("$and[1].type"); `depth` counts the
    query objects entered so far. Depth is checked before descending, so a hostile document
    cannot exhaust the interpreter's stack.
    """

    def __init__(self, fields: Mapping[str, FieldType]) -> None:
        self.fields = fields
        self.nodes = 0

    def document(self, doc: Any, path: str, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise MalformedInput(f"query nested deeper than {MAX_DEPTH} levels{_at(path)}")
        if not isinstance(doc, Mapping):
            raise MalformedInput(f"a query must be a JSON object, got {describe_value(doc)}{_at(path)}")
        if not doc:
            raise MalformedInput(f"empty query object{_at(path)}")
        return self._all([self.clause(key, value, path, depth) for key, value in doc.items()])

    def clause(self, key: Any, value: Any, path: str, depth: int) -> Node:
        where = _join(path, str(key))
        if key in ("$and", "$or"):
            if not isinstance(value, list | tuple):
                raise MalformedInput(
                    f"'{key}' needs a list of query objects, got {describe_value(value)}{_at(path)}"
                )
            if not value:
                raise MalformedInput(f"'{key}' needs at least one query object, got an empty list{_at(path)}")
            items = tuple(self.document(item, f"{where}[{i}]", depth + 1) for i, item in enumerate(value))
            return self._new(And(items) if key == "$and" else Or(items))
        if key == "$not":
            return self._new(Not(self.document(value, where, depth + 1)))
        if isinstance(key, str) and key.startswith("$"):
            raise MalformedInput(
                f"unknown operator '{key}'{_at(path)}; expected a field name or one of $and, $or, $not"
            )
        field_type = self.fields.get(key)
        if field_type is None:
            raise MalformedInput(f"unknown field '{key}'{_at(path)}{_suggest(str(key), self.fields)}")
        return self.condition(key, field_type, value, where, depth)

    def condition(self, field: str, field_type: FieldType, value: Any, where: str, depth: int) -> Node:
        """`value` is what follows `field:` — a bare value (implicit $eq) or an operator object."""
        if isinstance(value, list | tuple):
            raise MalformedInput(
                f"'{field}' needs a single value, got a list{_at(where, field)}; "
                'use {"$in": [...]} to match any of several values'
            )
        if not isinstance(value, Mapping):
            coerced = self._coerce(field_type, value, f"'{field}'", where, field)
            return self._new(Compare(field, Op.EQ, coerced, field_type))
        if not value:
            raise MalformedInput(f"empty operator object on '{field}'{_at(where, field)}")
        return self._all(
            [self.operator(field, field_type, op, operand, where, depth) for op, operand in value.items()]
        )

    def operator(
        self, field: str, field_type: FieldType, op: Any, operand: Any, where: str, depth: int
    ) -> Node:
        if op == "$not":
            inner = f"{where}.$not"
            if depth + 1 > MAX_DEPTH:
                raise MalformedInput(f"query nested deeper than {MAX_DEPTH} levels at {inner}")
            return self._new(Not(self.condition(field, field_type, operand, inner, depth + 1)))
        if op in _COMPARISONS:
            compare = _COMPARISONS[op]
            if compare not in (Op.EQ, Op.NEQ) and not field_type.ordered:
                raise MalformedInput(
                    f"'{op}' is not allowed on enum field '{field}'{_at(where, field)}; "
                    "use $eq, $neq, $in or $nin"
                )
            coerced = self._coerce(field_type, operand, f"'{op}' on '{field}'", where, field)
            return self._new(Compare(field, compare, coerced, field_type))
        if op in _MEMBERSHIPS:
            if not isinstance(operand, list | tuple):
                raise MalformedInput(
                    f"'{op}' on '{field}' needs a list of values, got {describe_value(operand)}"
                    f"{_at(where, field)}"
                )
            if len(operand) > MAX_IN_VALUES:
                raise MalformedInput(
                    f"'{op}' on '{field}' has {len(operand)} values; at most {MAX_IN_VALUES} are allowed"
                    f"{_at(where, field)}"
                )
            values = tuple(
                dict.fromkeys(
                    self._coerce(field_type, item, f"'{op}' on '{field}' item {i}", where, field)
                    for i, item in enumerate(operand)
                )
            )
            return self._new(Membership(field, _MEMBERSHIPS[op], values, field_type))
        raise MalformedInput(f"unknown operator '{op}' at {where}; expected one of {_FIELD_OPERATORS}")

    def _coerce(self, field_type: FieldType, raw: Any, subject: str, where: str, field: str) -> Scalar:
        try:
            return field_type.coerce(raw)
        except ValueError as error:
            raise MalformedInput(f"{subject} {error}{_at(where, field)}") from None

    def _all(self, parts: list[Node]) -> Node:
        """Several keys in one object, or several operators on one field, are an implicit AND."""
        return parts[0] if len(parts) == 1 else self._new(And(tuple(parts)))

    def _new(self, node: _N) -> _N:
        self.nodes += 1
        if self.nodes > MAX_NODES:
            raise MalformedInput(f"query has more than {MAX_NODES} conditions")
        return node


def _join(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _at(where: str, field: str | None = None) -> str:
    """Location suffix; left out at top level and where the message already names the field."""
    return "" if not where or where == field else f" at {where}"


def _suggest(name: str, fields: Mapping[str, FieldType]) -> str:
    close = difflib.get_close_matches(name, list(fields), n=1)
    if close:
        return f"; did you mean '{close[0]}'?"
    if len(fields) <= 10:
        return "; known fields: " + ", ".join(fields)
    return ""


def parse_filters(
    params: Mapping[str, Sequence[str]], fields: Mapping[str, FieldType], reserved: Collection[str]
) -> Node | None:
    """URL filters (`?type=invoice&customer.name=ACME Corp`) as one AND, or None if there are none.

    Every parameter not in `reserved` (offset, limit, sort, …) must name a field. A repeated
    parameter means "any of" its values. Empty values are refused: `?type=` is more likely a
    client bug than a search for an empty string.
    """
    parts: list[Node] = []
    for name, raw in params.items():
        if name in reserved:
            continue
        field_type = fields.get(name)
        if field_type is None:
            raise MalformedInput(f"unknown filter '{name}'{_suggest(name, fields)}")
        texts = [raw] if isinstance(raw, str) else list(raw)
        if len(texts) > MAX_IN_VALUES:
            raise MalformedInput(f"filter '{name}' is repeated {len(texts)} times; at most {MAX_IN_VALUES}")
        values = tuple(dict.fromkeys(_coerce_filter(name, field_type, text) for text in texts))
        if len(values) == 1:
            parts.append(Compare(name, Op.EQ, values[0], field_type))
        else:
            parts.append(Membership(name, False, values, field_type))
    if not parts:
        return None
    return parts[0] if len(parts) == 1 else And(tuple(parts))


def _coerce_filter(name: str, field_type: FieldType, text: str) -> Scalar:
    if text == "":
        raise MalformedInput(f"filter '{name}' has an empty value")
    try:
        return field_type.coerce(text)
    except ValueError as error:
        raise MalformedInput(f"filter '{name}' {error}") from None


def parse_sort(
    text: str | None, fields: Mapping[str, FieldType], default: tuple[SortKey, ...]
) -> tuple[SortKey, ...]:
    """`sort=-updatedAt,number`: comma-separated fields, '-' for descending; absent/blank -> default."""
    if text is None or not text.strip():
        return default
    keys: list[SortKey] = []
    for position, item in enumerate(text.split(","), start=1):
        item = item.strip()
        name = item.removeprefix("-")
        if not name:
            raise MalformedInput(f"'sort' has an empty field name at position {position}")
        field_type = fields.get(name)
        if field_type is None:
            raise MalformedInput(f"cannot sort on unknown field '{name}'{_suggest(name, fields)}")
        if any(key.field == name for key in keys):
            raise MalformedInput(f"'sort' names field '{name}' more than once")
        keys.append(SortKey(name, item.startswith("-"), field_type))
    return tuple(keys)


def evaluate(node: Node, record: Mapping[str, Any]) -> bool:
    """Whether `record` (a resource dict in its JSON shape) matches; missing values per module doc.

    A record value that does not fit its field type is a bug in our data, not in the query: it
    raises ValueError (a 500), never MalformedInput.
    """
    match node:
        case And(items):
            return all(evaluate(item, record) for item in items)
        case Or(items):
            return any(evaluate(item, record) for item in items)
        case Not(item):
            return not evaluate(item, record)
        case Compare(field, op, value, field_type):
            actual = _value(record, field, field_type)
            if actual is None:
                return op is Op.NEQ
            return _OPERATOR_FUNCTIONS[op](actual, value)
        case Membership(field, negated, values, field_type):
            return (_value(record, field, field_type) in values) != negated


_R = TypeVar("_R", bound=Mapping[str, Any])


def sort_records(records: Iterable[_R], keys: Sequence[SortKey]) -> list[_R]:
    """Records in `keys` order; records missing a key's value come after the others either way."""
    ordered = list(records)
    for key in reversed(keys):  # stable sorts, least significant key first
        decorated: list[tuple[Any, _R]] = [
            (_value(record, key.field, key.field_type), record) for record in ordered
        ]
        present = [pair for pair in decorated if pair[0] is not None]
        present.sort(key=lambda pair: pair[0], reverse=key.descending)
        ordered = [record for _, record in present] + [record for value, record in decorated if value is None]
    return ordered


def _value(record: Mapping[str, Any], field: str, field_type: FieldType) -> Scalar | None:
    current: Any = record
    for part in field.split("."):
        if not isinstance(current, Mapping):
            return None
        current = current.get(part)
    if current is None:
        return None
    try:
        return field_type.coerce(current)
    except ValueError as error:
        raise ValueError(f"record field '{field}' {error}") from None


def referenced_fields(node: Node) -> set[str]:
    match node:
        case And(items) | Or(items):
            return set().union(*(referenced_fields(item) for item in items))
        case Not(item):
            return referenced_fields(item)
        case Compare(field) | Membership(field):
            return {field}


def equality_constraints(node: Node) -> dict[str, set[Scalar]]:
    """For each field the query pins to a finite set of values ($eq or $in), that set.

    Sound, not complete: every matching record has, for each returned field, a value in the
    returned set (an empty set means nothing can match). Only the top-level conjunction is
    looked through, including ANDs nested directly in it; ORs and NOTs contribute nothing.
    """
    constraints: dict[str, set[Scalar]] = {}
    for term in _conjuncts(node):
        if isinstance(term, Compare) and term.op is Op.EQ:
            allowed = {term.value}
        elif isinstance(term, Membership) and not term.negated:
            allowed = set(term.values)
        else:
            continue
        constraints[term.field] = constraints.get(term.field, allowed) & allowed
    return constraints


def _conjuncts(node: Node) -> Iterator[Node]:
    if isinstance(node, And):
        for item in node.items:
            yield from _conjuncts(item)
    else:
        yield node
