"""DynamoDB on moto, with DynamoDB's guarantees and cost model where moto's differ.

moto is a faithful API but not a faithful engine, in three ways that matter to Factura:

1. Writes are not atomic across threads: a conditional put checks, then writes, so two threads
   can both pass `attribute_not_exists`. DynamoDB makes every single-item write atomic.
   -> every write (put, update, delete, transaction) and every read runs under one lock, so
   no reader sees a transaction half applied.
2. TransactWriteItems deep-copies the whole table before each transaction (to roll back), so a
   transaction costs O(table) time and memory, and a rollback restores a stale copy of the
   table, silently undoing writes other threads made meanwhile.
   -> a transaction backs up and restores only the items it touches.
3. Query reads every item of the table, for the base table and for GSIs alike, so a page costs
   O(table). DynamoDB reads O(log n + page).
   -> sorted indexes per partition and per GSI partition, built on first query and kept up to
   date by every write, hand moto only the candidates of the requested key range and page.

With these, the local runtime and the benchmarks measure our access patterns, not moto's.
`install()` patches moto once per process; it is idempotent."""

from __future__ import annotations

import bisect
import copy
import threading
from collections.abc import Callable, Iterable
from typing import Any

_WRITE_LOCK = threading.RLock()
_local = threading.local()
_installed = False

# An index entry is a tuple of sort values, then the moto key objects of the item:
#   base table: (range sort value, hash key, range key)
#   GSI:        (GSI range sort value, table hash sort value, table range sort value, hash key, range key)
_Entry = tuple[Any, ...]
_MAX_CODEPOINT = "\U0010ffff"


def _cast(value: Any) -> Any:
    """The comparable value of a moto DynamoType (Decimal for N, str for S, bytes for B)."""
    return None if value is None else value.cast_value


class _TableIndex:
    """Sorted keys of one table: per base-table partition, and per GSI partition."""

    def __init__(self, table: Any) -> None:
        self.table = table
        self.gsi_schemas: dict[str, tuple[str, str | None]] = {}
        for index in table.global_indexes:
            hash_attr = next(k["AttributeName"] for k in index.schema if k["KeyType"] == "HASH")
            range_attr = next((k["AttributeName"] for k in index.schema if k["KeyType"] == "RANGE"), None)
            self.gsi_schemas[index.name] = (hash_attr, range_attr)
        self.base: dict[Any, list[_Entry]] = {}
        self.gsi: dict[str, dict[Any, list[_Entry]]] = {name: {} for name in self.gsi_schemas}
        for item in table.all_items():
            self.add(item)

    def entries_of(self, item: Any) -> list[tuple[dict[Any, list[_Entry]], Any, _Entry]]:
        """Where `item` sits: (partition map, partition key, entry) for the base table and each GSI."""
        where: list[tuple[dict[Any, list[_Entry]], Any, _Entry]] = [
            (self.base, item.hash_key, (_cast(item.range_key), item.hash_key, item.range_key))
        ]
        for name, (hash_attr, range_attr) in self.gsi_schemas.items():
            gsi_hash = item.attrs.get(hash_attr)
            gsi_range = item.attrs.get(range_attr) if range_attr else None
            if gsi_hash is None or (range_attr and gsi_range is None):
                continue  # sparse: not in this index
            entry = (
                _cast(gsi_range),
                _cast(item.hash_key),
                _cast(item.range_key),
                item.hash_key,
                item.range_key,
            )
            where.append((self.gsi[name], gsi_hash, entry))
        return where

    def add(self, item: Any) -> None:
        for partitions, key, entry in self.entries_of(item):
            entries = partitions.setdefault(key, [])
            position = bisect.bisect_left(entries, entry[:-2], key=lambda e: e[:-2])
            if position < len(entries) and entries[position][:-2] == entry[:-2]:
                entries[position] = entry
            else:
                entries.insert(position, entry)

    def remove(self, located: Iterable[tuple[dict[Any, list[_Entry]], Any, _Entry]]) -> None:
        for partitions, key, entry in located:
            entries = partitions.get(key)
            if not entries:
                continue
            position = bisect.bisect_left(entries, entry[:-2], key=lambda e: e[:-2])
            if position < len(entries) and entries[position][:-2] == entry[:-2]:
                del entries[position]
            if not entries:
                del partitions[key]


def _index_of(table: Any) -> _TableIndex | None:
    return table.__dict__.get("_factura_index")


def _ensure_index(table: Any) -> _TableIndex:
    index = _index_of(table)
    if index is None:
        index = _TableIndex(table)
        table.__dict__["_factura_index"] = index
    return index


def _key_range(entries: list[_Entry], comparison: str | None, values: list[Any]) -> tuple[int, int]:
    """[lo, hi) of the entries whose range sort value (their first element) meets the key condition."""

    def left(v: Any) -> int:
        return bisect.bisect_left(entries, v, key=lambda e: e[0])

    def right(v: Any) -> int:
        return bisect.bisect_right(entries, v, key=lambda e: e[0])

    op = (comparison or "").upper()
    casts = [_cast(v) for v in values]
    if not op:
        return 0, len(entries)
    if op in ("=", "EQ"):
        return left(casts[0]), right(casts[0])
    if op in ("<", "LT"):
        return 0, left(casts[0])
    if op in ("<=", "LE"):
        return 0, right(casts[0])
    if op in (">", "GT"):
        return right(casts[0]), len(entries)
    if op in (">=", "GE"):
        return left(casts[0]), len(entries)
    if op == "BETWEEN":
        return left(casts[0]), right(casts[1])
    if op == "BEGINS_WITH":
        prefix = casts[0]
        upper = prefix + _MAX_CODEPOINT if isinstance(prefix, str) else prefix + b"\xff"
        return left(prefix), left(upper)
    raise ValueError(f"unsupported key condition {comparison!r}")


def _candidates(
    table: Any,
    hash_value: Any,
    comparison: str | None,
    values: list[Any],
    index_name: str | None,
    exclusive_start_key: dict[str, Any] | None,
    forward: bool,
    take: int | None,
) -> list[Any]:
    from moto.dynamodb.models.dynamo_type import DynamoType

    index = _ensure_index(table)
    if index_name:
        entries = index.gsi[index_name].get(hash_value, [])
        sort_width = 3
    else:
        entries = index.base.get(hash_value, [])
        sort_width = 1
    lo, hi = _key_range(entries, comparison, values)
    if exclusive_start_key:
        table_hash = _cast(DynamoType(exclusive_start_key[table.hash_key_attr]))
        table_range = (
            _cast(DynamoType(exclusive_start_key[table.range_key_attr])) if table.range_key_attr else None
        )
        if index_name:
            range_attr = index.gsi_schemas[index_name][1]
            gsi_range = _cast(DynamoType(exclusive_start_key[range_attr])) if range_attr else None
            start: tuple[Any, ...] = (gsi_range, table_hash, table_range)
        else:
            start = (table_range,)
        if forward:
            lo = max(lo, bisect.bisect_right(entries, start, key=lambda e: e[:sort_width]))
        else:
            hi = min(hi, bisect.bisect_left(entries, start, key=lambda e: e[:sort_width]))
    chosen = entries[lo:hi]
    if take is not None:
        chosen = chosen[:take] if forward else chosen[-take:]
    items = []
    for entry in chosen:
        item = table.get_item(entry[-2], entry[-1])
        if item is not None:
            items.append(item)
    return items


def _patch_query(backend_cls: Any, table_cls: Any) -> None:
    original_all_items = table_cls.all_items
    original_query = backend_cls.query

    def all_items(self: Any) -> list[Any]:
        scoped = getattr(_local, "candidates", None)
        if scoped is not None and scoped[0] is self:
            return list(scoped[1])
        return original_all_items(self)

    def query(self: Any, table_name: str, hash_key_dict: Any, range_comparison: Any, range_value_dicts: Any,
              limit: Any, exclusive_start_key: Any, scan_index_forward: bool, projection_expressions: Any,
              index_name: Any = None, consistent_read: bool = False, expr_names: Any = None,
              expr_values: Any = None, filter_expression: Any = None, hash_key_conditions: Any = None,
              range_key_conditions: Any = None, **filter_kwargs: Any) -> Any:  # fmt: skip
        from moto.dynamodb.models.dynamo_type import DynamoType

        call = lambda: original_query(  # noqa: E731 - the same call on every path
            self, table_name, hash_key_dict, range_comparison, range_value_dicts, limit, exclusive_start_key,
            scan_index_forward, projection_expressions, index_name, consistent_read, expr_names, expr_values,
            filter_expression, hash_key_conditions, range_key_conditions, **filter_kwargs,
        )  # fmt: skip
        simple = (
            hash_key_dict is not None
            and len(hash_key_conditions or []) <= 1
            and len(range_key_conditions or []) <= 1
        )
        if not simple:
            return call()
        table = self.get_table(table_name)
        filtered = filter_expression is not None or bool(filter_kwargs)
        with _WRITE_LOCK:  # a consistent snapshot of the candidates
            candidates = _candidates(
                table,
                DynamoType(hash_key_dict),
                range_comparison,
                [DynamoType(v) for v in range_value_dicts],
                index_name,
                exclusive_start_key,
                scan_index_forward,
                None if filtered or not limit else int(limit) + 1,
            )
        _local.candidates = (table, candidates)
        try:
            return call()
        finally:
            _local.candidates = None

    table_cls.all_items = all_items
    backend_cls.query = query


def _patch_writes(backend_cls: Any, table_cls: Any) -> None:
    def locked(method: Callable[..., Any]) -> Callable[..., Any]:
        def run(*args: Any, **kwargs: Any) -> Any:
            with _WRITE_LOCK:
                return method(*args, **kwargs)

        return run

    original_table_put = table_cls.put_item
    original_table_delete = table_cls.delete_item
    original_update = backend_cls.update_item

    def table_put(self: Any, item_attrs: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        index = _index_of(self)
        if index is None:
            return original_table_put(self, item_attrs, *args, **kwargs)
        from moto.dynamodb.models.dynamo_type import DynamoType

        hash_value = DynamoType(item_attrs[self.hash_key_attr])
        range_value = DynamoType(item_attrs[self.range_key_attr]) if self.range_key_attr else None
        old = self.get_item(hash_value, range_value)
        old_place = index.entries_of(old) if old is not None else []
        item = original_table_put(self, item_attrs, *args, **kwargs)
        index.remove(old_place)
        index.add(item)
        return item

    def table_delete(self: Any, hash_key: Any, range_key: Any) -> Any:
        item = original_table_delete(self, hash_key, range_key)
        index = _index_of(self)
        if index is not None and item is not None:
            index.remove(index.entries_of(item))
        return item

    def update_item(self: Any, table_name: str, key: dict[str, Any], *args: Any, **kwargs: Any) -> Any:
        table = self.get_table(table_name)
        index = _index_of(table)
        if index is None:
            return original_update(self, table_name, key, *args, **kwargs)
        hash_value, range_value = self.get_keys_value(table, key)
        old = table.get_item(hash_value, range_value)
        old_place = index.entries_of(old) if old is not None else []
        result = original_update(self, table_name, key, *args, **kwargs)
        index.remove(old_place)
        current = table.get_item(hash_value, range_value)
        if current is not None:
            index.add(current)
        return result

    table_cls.put_item = table_put
    table_cls.delete_item = table_delete
    backend_cls.update_item = locked(update_item)
    backend_cls.put_item = locked(backend_cls.put_item)
    backend_cls.delete_item = locked(backend_cls.delete_item)
    backend_cls.transact_write_items = locked(_transact_write_items)
    # Reads take the lock too: a reader must never see a transaction half applied or half
    # rolled back (DynamoDB reads are read-committed).
    # (BatchGetItem reaches get_item for each key.)
    backend_cls.get_item = locked(backend_cls.get_item)
    backend_cls.scan = locked(backend_cls.scan)


def _transact_write_items(self: Any, transact_items: list[dict[str, Any]]) -> None:
    """moto's TransactWriteItems, backing up only the touched items instead of whole tables."""
    from moto.dynamodb.exceptions import (
        ConditionalCheckFailed,
        MockValidationException,
        MultipleTransactionsException,
        TooManyTransactionsException,
        TransactionCanceledException,
        TransactWriteSingleOpException,
    )
    from moto.dynamodb.models.dynamo_type import DynamoType

    if len(transact_items) > 100:
        raise TooManyTransactionsException()
    seen: set[tuple[str, str]] = set()
    backups: list[tuple[Any, Any, Any, Any]] = []  # (table, hash, range, original item or None)

    def key_of(table: Any, op_type: str, op: dict[str, Any]) -> dict[str, Any]:
        if op_type != "Put":
            return dict(op["Key"])
        attrs = op["Item"]
        key = {table.hash_key_attr: attrs[table.hash_key_attr]}
        if table.range_key_attr is not None:
            key[table.range_key_attr] = attrs[table.range_key_attr]
        return key

    def rollback() -> None:
        for table, hash_value, range_value, original in reversed(backups):
            if original is None:
                table.delete_item(hash_value, range_value)
            else:
                table.put_item(original.to_json()["Attributes"], overwrite=True)

    errors: list[tuple[str | None, str | None, dict[str, Any] | None]] = []
    for entry in transact_items:
        if len(entry) > 1:
            raise TransactWriteSingleOpException
        original_attributes: dict[str, Any] | None = None
        try:
            op_type, op = next(iter(entry.items()))
            if op_type not in {"ConditionCheck", "Put", "Delete", "Update"}:
                raise ValueError("Unsupported transaction operation")
            table_name = op["TableName"]
            table = self.get_table(table_name)
            key = key_of(table, op_type, op)
            marker = (str(table_name), str(dict(sorted(key.items()))))
            if marker in seen:
                raise MultipleTransactionsException()
            seen.add(marker)
            hash_value = DynamoType(key[table.hash_key_attr])
            range_value = DynamoType(key[table.range_key_attr]) if table.range_key_attr else None
            current = table.get_item(hash_value, range_value)
            condition = op.get("ConditionExpression")
            names = op.get("ExpressionAttributeNames")
            values = op.get("ExpressionAttributeValues")
            if condition is not None:
                from moto.dynamodb.comparisons import get_filter_expression

                if not get_filter_expression(condition, names, values).expr(current):
                    if op.get("ReturnValuesOnConditionCheckFailure") == "ALL_OLD" and current:
                        original_attributes = current.to_json()["Attributes"]
                    raise ConditionalCheckFailed(item=original_attributes)
            if op_type != "ConditionCheck":
                backups.append((table, hash_value, range_value, copy.deepcopy(current)))
            if op_type == "Put":
                self.put_item(table_name, op["Item"], condition_expression=condition,
                              expression_attribute_names=names, expression_attribute_values=values)  # fmt: skip
            elif op_type == "Delete":
                self.delete_item(table_name, key, condition_expression=condition,
                                 expression_attribute_names=names, expression_attribute_values=values)  # fmt: skip
            elif op_type == "Update":
                self.update_item(table_name, key, update_expression=op["UpdateExpression"],
                                 condition_expression=condition, expression_attribute_names=names,
                                 expression_attribute_values=values)  # fmt: skip
            errors.append((None, None, None))
        except (MultipleTransactionsException, MockValidationException):
            rollback()
            raise
        except ConditionalCheckFailed as exc:
            errors.append(("ConditionalCheckFailed", str(exc.message), original_attributes))
        except Exception as exc:
            errors.append((type(exc).__name__, str(exc), original_attributes))
    if any(code is not None for code, _, _ in errors):
        rollback()
        raise TransactionCanceledException(errors)


def install() -> None:
    global _installed
    if _installed:
        return
    from moto.dynamodb.models import DynamoDBBackend
    from moto.dynamodb.models.table import Table

    _patch_writes(DynamoDBBackend, Table)
    _patch_query(DynamoDBBackend, Table)
    _installed = True
