"""B2B collections (bills, billing accounts): `offset`, `limit`, `sort` and URL filters in,
`X-Total-Count` / `X-Result-Count` out.

- `offset`: index of the first item, from 0 (default 0).
- `limit`: at most that many items, 1 to MAX_LIMIT (default DEFAULT_LIMIT). Out of range is a
  400, not silently clamped, so a client asking for 500 learns it gets 100.
- `sort`: comma-separated fields, '-' for descending (`billing.domain.b2b_query.parse_sort`).
- every other parameter filters on a schema field, nested ones by dotted path
  (`customer.name=ACME Corp`); a repeated parameter matches any of its values
  (`billing.domain.b2b_query.parse_filters`). Unknown fields and ill-typed values are a 400
  that says which.

`X-Total-Count` is the number of items matching the filters, `X-Result-Count` the number
returned. Resources are dicts in their JSON shape; `select` filters, sorts and windows them
in memory (billing accounts in this first version; bills are to use index-backed filters and
call `collection_response` with their own page and total).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from aws_lambda_powertools.event_handler import Response

from billing.domain.b2b_query import Node, SortKey, evaluate, parse_filters, parse_sort, sort_records
from billing.domain.b2b_schema import FieldType
from billing.domain.errors import MalformedInput
from billing.http.json_api import JsonApi

DEFAULT_OFFSET = 0
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
RESERVED = frozenset({"offset", "limit", "sort"})


@dataclass(frozen=True)
class CollectionQuery:
    filter: Node | None
    sort: tuple[SortKey, ...]
    offset: int
    limit: int


def collection_query(
    api: JsonApi[Any], fields: Mapping[str, FieldType], default_sort: tuple[SortKey, ...] = ()
) -> CollectionQuery:
    params = api.query_params()
    node = parse_filters(params, fields, RESERVED)
    sort = parse_sort(_single(params, "sort"), fields, default_sort)
    offset, limit = window(params)
    return CollectionQuery(filter=node, sort=sort, offset=offset, limit=limit)


def window(params: Mapping[str, list[str]]) -> tuple[int, int]:
    """(`offset`, `limit`) of a request, with the defaults and bounds above (snapshots too)."""
    return (
        _whole_number(params, "offset", DEFAULT_OFFSET, minimum=0, maximum=None),
        _whole_number(params, "limit", DEFAULT_LIMIT, minimum=1, maximum=MAX_LIMIT),
    )


def single_param(params: Mapping[str, list[str]], name: str) -> str | None:
    """A parameter that may be given once (400 when repeated), or None."""
    return _single(params, name)


def select(resources: Iterable[dict[str, Any]], query: CollectionQuery) -> tuple[list[dict[str, Any]], int]:
    """(the requested window of the matching resources in sort order, how many matched)."""
    node = query.filter
    matching = [r for r in resources if node is None or evaluate(node, r)]
    if query.sort:
        matching = sort_records(matching, query.sort)
    return matching[query.offset : query.offset + query.limit], len(matching)


def collection_response(api: JsonApi[Any], items: list[dict[str, Any]], total: int) -> Response[Any]:
    return api.respond(items, headers={"X-Total-Count": str(total), "X-Result-Count": str(len(items))})


def _single(params: Mapping[str, list[str]], name: str) -> str | None:
    values = params.get(name)
    if not values:
        return None
    if len(values) > 1:
        raise MalformedInput(f"'{name}' is given {len(values)} times; give it once")
    return values[0]


def _whole_number(
    params: Mapping[str, list[str]], name: str, default: int, *, minimum: int, maximum: int | None
) -> int:
    text = _single(params, name)
    if text is None:
        return default
    bound = f"from {minimum} to {maximum}" if maximum is not None else f"of at least {minimum}"
    if not text.isascii() or not text.isdigit() or len(text) > 9:
        raise MalformedInput(f"'{name}' must be a whole number {bound}, got {text[:20]!r}")
    value = int(text)
    if value < minimum or (maximum is not None and value > maximum):
        raise MalformedInput(f"'{name}' must be a whole number {bound}, got {value}")
    return value
