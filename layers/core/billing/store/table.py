"""Low-level access to the one DynamoDB table: item (de)serialization, conditional writes,
transactions and cursor-paginated queries. Repositories build on this; nothing else talks to
DynamoDB."""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from enum import Enum
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

from billing.config import settings
from billing.domain.errors import MalformedInput
from billing.store.aws import client

_serializer = TypeSerializer()
_deserializer = TypeDeserializer()


class ConditionFailed(Exception):
    """A conditional write or one condition of a transaction did not hold.
    `reasons` holds the per-item cancellation codes of a failed transaction."""

    def __init__(self, reasons: Sequence[str] = ()) -> None:
        super().__init__(", ".join(reasons) or "condition failed")
        self.reasons = list(reasons)


def _plain(value: Any) -> Any:
    """Turn model values into what DynamoDB stores: ISO strings for dates, numbers as Decimal."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, float):
        raise TypeError("floats are not stored; use Decimal")
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items() if v is not None}
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def serialize(item: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _serializer.serialize(_plain(v)) for k, v in item.items() if v is not None}


def deserialize(raw: Mapping[str, Any]) -> dict[str, Any]:
    return {k: _deserializer.deserialize(v) for k, v in raw.items()}


def _number_to_python(value: Any) -> Any:
    """DynamoDB numbers come back as Decimal; integral ones that were ints become ints again."""
    if isinstance(value, Decimal) and value == value.to_integral_value() and value.as_tuple().exponent == 0:
        return int(value)
    return value


@dataclass(frozen=True)
class Page:
    items: list[dict[str, Any]]
    cursor: str | None


def encode_cursor(key: Mapping[str, Any]) -> str:
    plain = {k: next(iter(v.values())) for k, v in key.items()}
    return base64.urlsafe_b64encode(json.dumps(plain, separators=(",", ":")).encode()).decode().rstrip("=")


def decode_cursor(cursor: str, partition_attr: str, partition_value: str) -> dict[str, Any]:
    """Decode a cursor and check it belongs to the partition being read, so a crafted cursor can
    neither cross tenants nor jump to another listing."""
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        plain = json.loads(base64.urlsafe_b64decode(padded.encode()))
    except (binascii.Error, ValueError, UnicodeDecodeError) as exc:
        raise MalformedInput("cursor is not valid") from exc
    if not isinstance(plain, dict) or plain.get(partition_attr) != partition_value:
        raise MalformedInput("cursor is not valid for this listing")
    if not all(isinstance(k, str) and isinstance(v, str) for k, v in plain.items()):
        raise MalformedInput("cursor is not valid")
    return {k: {"S": v} for k, v in plain.items()}


class Table:
    """The billing table. Methods speak plain dicts; keys are built by billing.store.keys."""

    def __init__(self, name: str | None = None) -> None:
        self.name = name or settings().table_name

    @property
    def _ddb(self) -> Any:
        return client("dynamodb")

    def get(self, pk: str, sk: str, *, consistent: bool = False) -> dict[str, Any] | None:
        raw = self._ddb.get_item(
            TableName=self.name, Key={"PK": {"S": pk}, "SK": {"S": sk}}, ConsistentRead=consistent
        ).get("Item")
        return from_item(raw) if raw else None

    def put(
        self,
        item: Mapping[str, Any],
        *,
        condition: str | None = None,
        values: Mapping[str, Any] | None = None,
    ) -> None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Item": serialize(item)}
        if condition:
            kwargs["ConditionExpression"] = condition
        if values:
            kwargs["ExpressionAttributeValues"] = serialize(values)
        try:
            self._ddb.put_item(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConditionFailed() from exc
            raise

    def delete(self, pk: str, sk: str, *, condition: str | None = "attribute_exists(PK)") -> None:
        kwargs: dict[str, Any] = {"TableName": self.name, "Key": {"PK": {"S": pk}, "SK": {"S": sk}}}
        if condition:
            kwargs["ConditionExpression"] = condition
        try:
            self._ddb.delete_item(**kwargs)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "ConditionalCheckFailedException":
                raise ConditionFailed() from exc
            raise

    def transact(self, operations: Sequence[Mapping[str, Any]]) -> None:
        """Run TransactWriteItems. Operations use the boto3 shape with plain-python Items/values
        (serialized here) and no TableName (filled in)."""
        wire = [self._transact_op(op) for op in operations]
        try:
            self._ddb.transact_write_items(TransactItems=wire)
        except ClientError as exc:
            if exc.response["Error"]["Code"] == "TransactionCanceledException":
                reasons = [r.get("Code", "None") for r in exc.response.get("CancellationReasons", [])]
                raise ConditionFailed(reasons) from exc
            raise

    def _transact_op(self, op: Mapping[str, Any]) -> dict[str, Any]:
        ((kind, body),) = op.items()
        wire = dict(body, TableName=self.name)
        if "Item" in wire:
            wire["Item"] = serialize(wire["Item"])
        if "Key" in wire:
            wire["Key"] = serialize(wire["Key"])
        if "ExpressionAttributeValues" in wire:
            wire["ExpressionAttributeValues"] = serialize(wire["ExpressionAttributeValues"])
        return {kind: wire}

    def query_page(
        self,
        partition_value: str,
        *,
        index: str | None = None,
        sort_prefix: str | None = None,
        limit: int = 100,
        cursor: str | None = None,
        forward: bool = True,
    ) -> Page:
        """One page of one partition (of the table or of a GSI), optionally narrowed to sort keys
        starting with `sort_prefix`. Cost is O(limit), whatever the partition's size."""
        pk_attr = f"{index}PK" if index else "PK"
        sk_attr = f"{index}SK" if index else "SK"
        condition = "#pk = :pk"
        names = {"#pk": pk_attr}
        values: dict[str, Any] = {":pk": {"S": partition_value}}
        if sort_prefix:
            condition += " AND begins_with(#sk, :prefix)"
            names["#sk"] = sk_attr
            values[":prefix"] = {"S": sort_prefix}
        kwargs: dict[str, Any] = {
            "TableName": self.name,
            "KeyConditionExpression": condition,
            "ExpressionAttributeNames": names,
            "ExpressionAttributeValues": values,
            "Limit": limit,
            "ScanIndexForward": forward,
        }
        if index:
            kwargs["IndexName"] = index
        if cursor:
            kwargs["ExclusiveStartKey"] = decode_cursor(cursor, pk_attr, partition_value)
        response = self._ddb.query(**kwargs)
        items = [from_item(raw) for raw in response.get("Items", [])]
        last = response.get("LastEvaluatedKey")
        return Page(items=items, cursor=encode_cursor(last) if last and len(items) == limit else None)


class UsesTable:
    """Base of the repositories: the table is found on first use (settings are read when a
    request runs, not at import), or given explicitly (tests point a repository at another table)."""

    def __init__(self, table: Table | None = None) -> None:
        self._table = table

    @property
    def table(self) -> Table:
        if self._table is None:
            self._table = Table()
        return self._table


def from_item(raw: Mapping[str, Any]) -> dict[str, Any]:
    def convert(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: convert(v) for k, v in value.items()}
        if isinstance(value, list):
            return [convert(v) for v in value]
        if isinstance(value, set):
            return {convert(v) for v in value}
        return _number_to_python(value)

    return {k: convert(v) for k, v in deserialize(raw).items()}
