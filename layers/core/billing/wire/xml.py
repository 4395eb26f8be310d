"""Rails-compatible XML: parse like `Hash.from_xml`, render like `to_xml` (underscored tags).

Parsing treats every body as hostile. defusedxml refuses DTDs (so no entity declarations, no
billion laughs, no external entities); size is checked before parsing and depth and element count
while parsing, so an oversized document is refused before it is built. Comments and processing
instructions are ignored: they carry no data and expat never acts on them. Namespace URIs are
dropped (tags are matched by local name) and dashes in tags become underscores, as in Rails.

defusedxml is imported inside `parse_xml`: handlers that only render XML don't pay for it at
cold start.
"""

from __future__ import annotations

import codecs
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

from billing.domain.errors import MalformedInput

MAX_BODY_BYTES = 1024 * 1024
MAX_DEPTH = 32
MAX_ELEMENTS = 10_000

_META_ATTRIBUTES = frozenset({"type", "nil"})


# --------------------------------------------------------------------------------------- parsing


def parse_xml(body: bytes | str) -> tuple[str, Any]:
    """Parse a request body into (root tag, value) following Rails `Hash.from_xml`.

    Elements with children (or with attributes other than `type`/`nil`) become dicts, repeated
    siblings lists, `type="array"` a list of the children's values, `nil="true"` None. Leaves stay
    strings, exactly as sent; whitespace-only leaves become "". Text mixed with child elements is
    refused rather than silently dropped.
    """
    from defusedxml.common import DTDForbidden, EntitiesForbidden, ExternalReferenceForbidden
    from defusedxml.ElementTree import DefusedXMLParser, ParseError

    check_body_size(body)
    # hand-written bodies (`-d '\n<?xml …'`) may put whitespace before the declaration
    body = (
        body.removeprefix(codecs.BOM_UTF8).lstrip()
        if isinstance(body, bytes)
        else body.lstrip("\ufeff \t\r\n")
    )
    builder = _RailsBuilder()
    parser = DefusedXMLParser(target=builder, forbid_dtd=True, forbid_entities=True, forbid_external=True)
    try:
        parser.feed(body)
        parser.close()
    except (DTDForbidden, EntitiesForbidden) as exc:
        raise MalformedInput("XML DTDs and entity declarations are not allowed") from exc
    except ExternalReferenceForbidden as exc:
        raise MalformedInput("XML external entities are not allowed") from exc
    except ParseError as exc:
        raise MalformedInput(f"malformed XML: {exc}") from exc
    assert builder.root is not None, "expat reports a missing root element as a ParseError"
    return builder.root


def check_body_size(body: bytes | str) -> None:
    """Refuse bodies over MAX_BODY_BYTES (shared by every codec, so one limit applies everywhere)."""
    size = len(body) if isinstance(body, bytes) else len(body.encode("utf-8", "replace"))
    if size > MAX_BODY_BYTES:
        raise MalformedInput(f"request body is larger than {MAX_BODY_BYTES} bytes")


class _Frame:
    """An open element: what `_RailsBuilder` has seen of it so far."""

    __slots__ = ("attributes", "children", "tag", "text")

    def __init__(self, tag: str, attributes: dict[str, str]) -> None:
        self.tag = tag
        self.attributes = attributes
        self.children: list[tuple[str, Any]] = []
        self.text: list[str] = []

    def value(self) -> Any:
        if self.attributes.get("nil") == "true":
            return None
        text = "".join(self.text)
        if self.attributes.get("type") == "array":
            if text.strip():
                raise MalformedInput(f'XML element <{self.tag} type="array"> may only contain elements')
            return [value for _, value in self.children]
        extra = {k: v for k, v in self.attributes.items() if k not in _META_ATTRIBUTES}
        if not self.children and not extra:
            return text if text.strip() else ""
        if text.strip():
            raise MalformedInput(f"XML element <{self.tag}> mixes text with child elements or attributes")
        result: dict[str, Any] = dict(extra)
        repeated: set[str] = set()
        for tag, value in self.children:
            if tag in repeated:
                result[tag].append(value)
            elif tag in result:
                result[tag] = [result[tag], value]
                repeated.add(tag)
            else:
                result[tag] = value
        return result


class _RailsBuilder:
    """expat parser target that builds `Hash.from_xml` values directly, enforcing the limits as
    each element opens (an ElementTree would be built in full before it could be measured)."""

    def __init__(self) -> None:
        self._stack: list[_Frame] = []
        self._elements = 0
        self.root: tuple[str, Any] | None = None

    def start(self, tag: str, attrib: dict[str, str]) -> None:
        self._elements += 1
        if self._elements > MAX_ELEMENTS:
            raise MalformedInput(f"XML document has more than {MAX_ELEMENTS} elements")
        if len(self._stack) >= MAX_DEPTH:
            raise MalformedInput(f"XML document is nested deeper than {MAX_DEPTH} levels")
        self._stack.append(_Frame(_local_name(tag), {_local_name(k): v for k, v in attrib.items()}))

    def data(self, text: str) -> None:
        if self._stack:
            self._stack[-1].text.append(text)

    def end(self, tag: str) -> None:
        frame = self._stack.pop()
        value = frame.value()
        if self._stack:
            self._stack[-1].children.append((frame.tag, value))
        else:
            self.root = (frame.tag, value)


def _local_name(name: str) -> str:
    return name.rpartition("}")[2].replace("-", "_")


# ------------------------------------------------------------------------------------- rendering


@dataclass(frozen=True, slots=True)
class XmlArray:
    """A list whose children get an explicit tag (`<account_banks><bank>…`) instead of the
    singularized parent tag. `typed=False` drops `type="array"` for shapes the reference prints
    bare, such as `<errors><error>…</error></errors>`."""

    items: Sequence[Any]
    item_tag: str
    typed: bool = True


@dataclass(frozen=True, slots=True)
class XmlAttributes:
    """An empty element carrying its data as attributes: `<due currency="EUR" amount="100"/>`."""

    mapping: Mapping[str, Any]


def render_xml(root: str, value: Any) -> bytes:
    """Render `value` as Rails `to_xml` would, with underscores kept in tag names.

    Raises TypeError for values the wire has no form for, floats included: money is Decimal.
    """
    out = ['<?xml version="1.0" encoding="UTF-8"?>\n']
    _render_element(out, root, value, 0)
    return "".join(out).encode("utf-8")


def format_decimal(value: Decimal) -> str:
    """Rails BigDecimal#to_s: plain notation, at least one decimal digit, no trailing zeros after it
    (12 -> "12.0", 12.50 -> "12.5", 1E+2 -> "100.0")."""
    if not value.is_finite():
        raise TypeError(f"cannot render non-finite decimal {value}")
    text = format(value, "f")
    if "." in text:
        text = text.rstrip("0")
        if text.endswith("."):
            text += "0"
    else:
        text += ".0"
    return "0.0" if text == "-0.0" else text


def format_datetime(value: datetime) -> str:
    """ISO 8601 to the second; naive values are taken as UTC; UTC is written "Z"."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    if value.utcoffset() == timedelta(0):
        return value.replace(tzinfo=None).isoformat(timespec="seconds") + "Z"
    return value.isoformat(timespec="seconds")


def singularize(word: str) -> str:
    """Child tag for a list under `word`: the English rules Rails applies to API field names
    (clients -> client, currencies -> currency, addresses -> address, invoice_series unchanged)."""
    if word.endswith(("series", "species")):
        return word
    if word.endswith("ies") and len(word) > 3:
        return word[:-3] + "y"
    if word.endswith(("sses", "xes", "ches", "shes", "statuses", "aliases", "buses")):
        return word[:-2]
    if word.endswith("s") and not word.endswith("ss"):
        return word[:-1]
    return word


_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_.\-]*")
_ILLEGAL_XML_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\ud800-\udfff\ufffe\uffff]")
_TEXT_ESCAPES = str.maketrans({"&": "&amp;", "<": "&lt;", ">": "&gt;", "\r": "&#13;"})
_ATTRIBUTE_ESCAPES = str.maketrans(
    {"&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "\t": "&#9;", "\n": "&#10;", "\r": "&#13;"}
)


def _render_element(out: list[str], tag: str, value: Any, level: int) -> None:
    _check_name(tag)
    pad = "  " * level
    if value is None:
        out.append(f'{pad}<{tag} nil="true"/>\n')
    elif isinstance(value, XmlAttributes):
        attributes = "".join(
            f' {_check_name(name)}="{_escape(_attribute_text(item), _ATTRIBUTE_ESCAPES)}"'
            for name, item in value.mapping.items()
        )
        out.append(f"{pad}<{tag}{attributes}/>\n")
    elif isinstance(value, XmlArray):
        _render_array(out, tag, value.items, value.item_tag, value.typed, level)
    elif isinstance(value, Mapping):
        if not value:
            out.append(f"{pad}<{tag}></{tag}>\n")
            return
        out.append(f"{pad}<{tag}>\n")
        for name, item in value.items():
            _render_element(out, name, item, level + 1)
        out.append(f"{pad}</{tag}>\n")
    elif isinstance(value, list | tuple):
        _render_array(out, tag, value, singularize(tag), True, level)
    else:
        type_name, text = _scalar(value)
        typed = f' type="{type_name}"' if type_name else ""
        out.append(f"{pad}<{tag}{typed}>{_escape(text, _TEXT_ESCAPES)}</{tag}>\n")


def _render_array(
    out: list[str], tag: str, items: Sequence[Any], item_tag: str, typed: bool, level: int
) -> None:
    pad = "  " * level
    attribute = ' type="array"' if typed else ""
    if not items:
        out.append(f"{pad}<{tag}{attribute}/>\n")
        return
    out.append(f"{pad}<{tag}{attribute}>\n")
    for item in items:
        _render_element(out, item_tag, item, level + 1)
    out.append(f"{pad}</{tag}>\n")


def _scalar(value: Any) -> tuple[str | None, str]:
    """(Rails type attribute, text) for a leaf value."""
    if isinstance(value, bool):
        return "boolean", "true" if value else "false"
    if isinstance(value, int):
        return "integer", str(int(value))
    if isinstance(value, Decimal):
        return "decimal", format_decimal(value)
    if isinstance(value, datetime):
        return "datetime", format_datetime(value)
    if isinstance(value, date):
        return "date", value.isoformat()
    if isinstance(value, str):
        return None, str(value)
    raise TypeError(f"cannot render {type(value).__name__} as XML")


def _attribute_text(value: Any) -> str:
    return "" if value is None else _scalar(value)[1]


def _check_name(name: Any) -> str:
    """Tag and attribute names come from our own field names; anything else is a bug, not input."""
    if not isinstance(name, str) or not _NAME.fullmatch(name):
        raise ValueError(f"invalid XML name {name!r}")
    return name


def _escape(text: str, table: dict[int, str]) -> str:
    return _ILLEGAL_XML_CHARS.sub("", text).translate(table)
