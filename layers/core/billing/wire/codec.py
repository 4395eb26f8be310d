"""The one entry point handlers use for the wire: which format a URL asks for, how to read a
request body whatever its encoding, and how to write records and error lists."""

from __future__ import annotations

import codecs
import re
from enum import StrEnum
from typing import Any

from billing.domain.errors import MalformedInput, NotAcceptable
from billing.wire.form import parse_multipart, parse_urlencoded
from billing.wire.jsonio import parse_json, render_json
from billing.wire.xml import XmlArray, check_body_size, parse_xml, render_xml


class Format(StrEnum):
    XML = "xml"
    JSON = "json"
    PDF = "pdf"

    @property
    def content_type(self) -> str:
        return _CONTENT_TYPES[self]


_CONTENT_TYPES = {
    Format.XML: "application/xml; charset=utf-8",
    Format.JSON: "application/json; charset=utf-8",
    Format.PDF: "application/pdf",
}
_FORMAT_NAMES = ", ".join(f".{fmt.value}" for fmt in Format)
_INDEX = re.compile(r"[0-9]+", re.ASCII)


def split_format(ref: str) -> tuple[str, Format | None]:
    """`12.xml` -> ("12", XML); `12` -> ("12", None). Only the last dot counts; the suffix is
    case-insensitive; an unknown (or empty) suffix is NotAcceptable."""
    stem, dot, suffix = ref.rpartition(".")
    if not dot:
        return ref, None
    try:
        return stem, Format(suffix.lower())
    except ValueError:
        raise NotAcceptable(f"unknown format {suffix!r}; available formats: {_FORMAT_NAMES}") from None


def decode_body(content_type: str | None, body: bytes) -> dict[str, Any]:
    """Read a request body into form-shaped params: `<client><name>x</name></client>`,
    `{"client": {"name": "x"}}` and `client[name]=x` all give {"client": {"name": "x"}}.

    The Content-Type decides, except that a missing, urlencoded or text/plain one is sniffed:
    `curl -d '<?xml …'` without -H sends XML labelled as a form, so a body starting with "<" is
    read as XML and one starting with "{" as JSON. Other media types are refused.
    """
    check_body_size(body)
    start = body.removeprefix(codecs.BOM_UTF8).lstrip()[:1]
    if not start:
        return {}
    media = (content_type or "").partition(";")[0].strip().lower()
    if media in ("application/xml", "text/xml") or media.endswith("+xml"):
        return _xml_params(body)
    if media == "application/json" or media.endswith("+json"):
        return _json_params(body)
    if media == "multipart/form-data":
        return parse_multipart(body, content_type or "")
    if media in ("", "application/x-www-form-urlencoded", "text/plain"):
        if start == b"<":
            return _xml_params(body)
        if start == b"{":
            return _json_params(body)
        return parse_urlencoded(body)
    raise MalformedInput(
        f"unsupported Content-Type {media!r}; send application/xml, application/json, "
        "application/x-www-form-urlencoded or multipart/form-data"
    )


def as_list(value: Any, *, field: str = "collection") -> list[Any]:
    """Normalize a collection parameter from any wire form to a list.

    Accepts a list (JSON, `type="array"`), a dict keyed by indexes (`positions[1][…]` from a form;
    ordered by index), a Rails `from_xml` wrapper (`{"document_position": {…}}` or `[…]`), and
    None/"" (empty). `field` names the parameter in the error message.
    """
    if value is None or value == "":
        return []
    if isinstance(value, list):
        return list(value)
    if isinstance(value, dict):
        if all(isinstance(key, str) and _INDEX.fullmatch(key) for key in value):
            return [value[key] for key in sorted(value, key=int)]
        if len(value) == 1:
            (inner,) = value.values()
            if isinstance(inner, dict):
                return [inner]
            if isinstance(inner, list):
                return list(inner)
    raise MalformedInput(f"{field} must be a list")


def render(fmt: Format, root: str, value: Any) -> tuple[bytes, str]:
    """(body, content type) of a record or list. JSON is not wrapped in `root`. PDF is not a
    rendering of data: a handler that has a PDF serves it itself, the rest answer 406."""
    if fmt is Format.XML:
        return render_xml(root, value), fmt.content_type
    if fmt is Format.JSON:
        return render_json(value), fmt.content_type
    raise NotAcceptable(f"{root} is not available as .{fmt.value}; use .xml or .json")


def render_errors(fmt: Format | None, messages: list[str]) -> tuple[bytes, str]:
    """`<errors><error>…</error></errors>` as in the reference (also for PDF and unknown format
    requests), or `{"errors": […]}` for JSON."""
    if fmt is Format.JSON:
        return render_json({"errors": messages}), Format.JSON.content_type
    return render_xml("errors", XmlArray(messages, "error", typed=False)), Format.XML.content_type


def _xml_params(body: bytes) -> dict[str, Any]:
    root, value = parse_xml(body)
    return {root: value}


def _json_params(body: bytes) -> dict[str, Any]:
    value = parse_json(body)
    if not isinstance(value, dict):
        raise MalformedInput('a JSON body must be an object, e.g. {"client": {"name": "…"}}')
    return value
