"""Rails-style nested form parameters, from urlencoded and multipart/form-data bodies.

`client[name]=X` -> {"client": {"name": "X"}}, `a[]=1&a[]=2` -> {"a": ["1", "2"]}. Indexed keys
as PHP's http_build_query writes them (`to[0]=…`, `document_positions[1][…]=…`) stay dicts with
string keys; `codec.as_list` turns them into lists where a list is expected. Leaves are str
(bytes for multipart file parts); a name sent without `=` gets "".
"""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import unquote_to_bytes

from billing.domain.errors import MalformedInput
from billing.wire.xml import check_body_size

MAX_PARAMS = 1000
MAX_DEPTH = 16

_NAME = re.compile(r"([^\[\]]+)((?:\[[^\[\]]*\])*)")
_SEGMENT = re.compile(r"\[([^\[\]]*)\]")
_BAD_ESCAPE = re.compile(rb"%(?![0-9A-Fa-f]{2})")


def parse_urlencoded(body: bytes | str) -> dict[str, Any]:
    """Parse an application/x-www-form-urlencoded body (or query string) into nested params."""
    raw = body.encode("utf-8") if isinstance(body, str) else body
    check_body_size(raw)
    params = _NestedParams()
    for pair in raw.split(b"&"):
        if not pair:
            continue
        name, _, value = pair.partition(b"=")
        params.add(_unquote(name), _unquote(value))
    return params.root


def parse_multipart(body: bytes, content_type: str) -> dict[str, Any]:
    """Parse a multipart/form-data body (`curl -F`, PHP curl with an array) into nested params.

    Text parts become str (decoded with the part's charset, UTF-8 by default), file parts keep
    their bytes. The stdlib email parser is imported here so urlencoded-only callers skip it.
    """
    from email.parser import BytesParser
    from email.policy import HTTP

    check_body_size(body)
    if "\r" in content_type or "\n" in content_type:
        raise MalformedInput("invalid multipart Content-Type header")
    head = f"Content-Type: {content_type}\r\n\r\n".encode("utf-8", "replace")
    message = BytesParser(policy=HTTP).parsebytes(head + body)
    if message.get_boundary() is None:
        raise MalformedInput("multipart Content-Type has no boundary")
    if message.defects or not message.is_multipart():
        raise MalformedInput("malformed multipart body: boundaries do not match the Content-Type")
    params = _NestedParams()
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if part.get_content_disposition() != "form-data" or not isinstance(name, str) or not name:
            raise MalformedInput("multipart part without a form-data name")
        payload = part.get_payload(decode=True)
        if not isinstance(payload, bytes):
            raise MalformedInput(f"multipart part {name!r} is not a plain value or file")
        if part.get_filename() is not None:
            params.add(name, payload)
            continue
        charset = part.get_content_charset() or "utf-8"
        try:
            params.add(name, payload.decode(charset))
        except (UnicodeDecodeError, LookupError) as exc:
            raise MalformedInput(f"multipart part {name!r} is not valid {charset} text") from exc
    return params.root


def _unquote(component: bytes) -> str:
    if _BAD_ESCAPE.search(component):
        raise MalformedInput(f"invalid %-encoding in form parameter {component[:50].decode('latin-1')!r}")
    try:
        return unquote_to_bytes(component.replace(b"+", b" ")).decode("utf-8")
    except UnicodeDecodeError as exc:
        raise MalformedInput("form parameters are not valid UTF-8") from exc


class _NestedParams:
    """Accumulates (name, value) pairs into Rails/Rack nested params."""

    def __init__(self) -> None:
        self.root: dict[str, Any] = {}
        self._count = 0

    def add(self, name: str, value: str | bytes) -> None:
        self._count += 1
        if self._count > MAX_PARAMS:
            raise MalformedInput(f"more than {MAX_PARAMS} form parameters")
        keys = _split_name(name)
        target: Any = self.root
        for i, key in enumerate(keys):
            last = i == len(keys) - 1
            if key == "":  # `[]`: target is a list
                if last:
                    target.append(value)
                    return
                target = _list_item(target, keys[i + 1 :])
                continue
            existing = target.get(key)
            if last:
                if isinstance(existing, dict | list):
                    raise _conflict(keys[: i + 1])
                target[key] = value  # a repeated scalar: last wins, as in Rails
                return
            wants_list = keys[i + 1] == ""
            if existing is None:
                existing = target[key] = [] if wants_list else {}
            elif not isinstance(existing, list if wants_list else dict):
                raise _conflict(keys[: i + 1])
            target = existing


def _split_name(name: str) -> list[str]:
    """`a[b][]` -> ["a", "b", ""]; "" stands for `[]`."""
    match = _NAME.fullmatch(name)
    if match is None:
        raise MalformedInput(f"malformed form parameter name {name!r}")
    keys = [match[1], *_SEGMENT.findall(match[2])]
    if len(keys) > MAX_DEPTH:
        raise MalformedInput(f"form parameter {name[:80]!r} is nested deeper than {MAX_DEPTH} levels")
    return keys


def _list_item(items: list[Any], rest: list[str]) -> Any:
    """The container `rest` continues in after a `[]`: a[][x]=1&a[][y]=2 fill one item, a second
    a[][x] starts the next one (as Rack does)."""
    if rest[0] != "" and items and isinstance(items[-1], dict) and not _has_path(items[-1], rest):
        return items[-1]
    child: Any = [] if rest[0] == "" else {}
    items.append(child)
    return child


def _has_path(node: dict[str, Any], path: list[str]) -> bool:
    """Whether `node` already holds a value at `path` (a path through `[]` never counts, as in Rack)."""
    current: Any = node
    for key in path:
        if key == "" or not isinstance(current, dict) or key not in current:
            return False
        current = current[key]
    return True


def _conflict(keys: list[str]) -> MalformedInput:
    path = keys[0] + "".join(f"[{key}]" for key in keys[1:])
    return MalformedInput(
        f"form parameter {path!r} is sent with conflicting shapes (a value, a list and nested keys)"
    )
