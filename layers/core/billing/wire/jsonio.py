"""JSON bodies: numbers with a fraction are read as Decimal (money is never float) and Decimals are
written as strings in the same Rails style as the XML ("12.0"), so both formats agree."""

from __future__ import annotations

import json
from collections.abc import Mapping
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from billing.domain.errors import MalformedInput
from billing.wire.xml import XmlArray, XmlAttributes, check_body_size, format_datetime, format_decimal

MAX_DEPTH = 32


def parse_json(body: bytes | str) -> Any:
    """Parse a JSON body; refuses oversize bodies, NaN/Infinity, and nesting deeper than MAX_DEPTH."""
    check_body_size(body)
    if isinstance(body, bytes):
        try:
            text = body.decode("utf-8-sig")
        except UnicodeDecodeError as exc:
            raise MalformedInput("JSON body is not valid UTF-8") from exc
    else:
        text = body.removeprefix("\ufeff")
    try:
        value = json.loads(text, parse_float=Decimal, parse_constant=_refuse_constant)
    except RecursionError as exc:
        raise MalformedInput(f"JSON body is nested deeper than {MAX_DEPTH} levels") from exc
    except ValueError as exc:
        raise MalformedInput(f"malformed JSON: {exc}") from exc
    _check_depth(value)
    return value


def render_json(value: Any) -> bytes:
    """Compact UTF-8 JSON. Raises TypeError for values the wire has no form for, floats included."""
    text = json.dumps(_plain(value), ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return text.encode("utf-8")


def _refuse_constant(name: str) -> Any:
    raise MalformedInput(f"JSON constant {name} is not allowed")


def _check_depth(value: Any) -> None:
    """Iterative, so checking a hostile document cannot itself overflow the stack."""
    stack: list[tuple[Any, int]] = [(value, 1)]
    while stack:
        node, depth = stack.pop()
        children = node.values() if isinstance(node, dict) else node if isinstance(node, list) else None
        if children is None:
            continue
        if depth > MAX_DEPTH:
            raise MalformedInput(f"JSON body is nested deeper than {MAX_DEPTH} levels")
        stack.extend((child, depth + 1) for child in children)


def _plain(value: Any) -> Any:
    """Convert to the types `json` writes natively, with the wire's formats for the rest."""
    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, str):
        return str(value)
    if isinstance(value, Decimal):
        return format_decimal(value)
    if isinstance(value, datetime):
        return format_datetime(value)
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, XmlArray):
        return [_plain(item) for item in value.items]
    if isinstance(value, XmlAttributes):
        return _plain(value.mapping)
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise TypeError("JSON object keys must be str")
        return {key: _plain(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_plain(item) for item in value]
    raise TypeError(f"cannot render {type(value).__name__} as JSON")
