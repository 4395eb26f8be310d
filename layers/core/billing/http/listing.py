"""Listing and field search for v1 collections, paginated by opaque cursor.

The reference lists whole collections; we return pages of at most `per_page` records (default
100, at most 500) and, when more exist, a `Link: <…&cursor=…>; rel="next"` header and an
`X-Next-Cursor` header. A client that ignores them sees the first page, as before."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any
from urllib.parse import urlencode

from aws_lambda_powertools.event_handler import Response

from billing.domain.errors import ValidationFailed
from billing.domain.search import FieldKind, search_prefix
from billing.http.api import Api
from billing.store.records import Records
from billing.wire.codec import Format

DEFAULT_PER_PAGE = 100
MAX_PER_PAGE = 500


def page_size(api: Api) -> int:
    raw = api.query("per_page")
    if raw is None:
        return DEFAULT_PER_PAGE
    if not raw.isdigit() or not 1 <= int(raw) <= MAX_PER_PAGE:
        raise ValidationFailed(f"per_page must be a whole number from 1 to {MAX_PER_PAGE}")
    return int(raw)


def page_headers(api: Api, cursor: str | None) -> dict[str, str] | None:
    """The `Link: <…>; rel="next"` and `X-Next-Cursor` headers of a page (None on the last one)."""
    if cursor is None:
        return None
    params = {
        k: v for k, v in (api.event.query_string_parameters or {}).items() if k not in ("cursor", "api_key")
    }
    next_url = f"{api.base_url()}{api.event.path}?{urlencode({**params, 'cursor': cursor})}"
    return {"Link": f'<{next_url}>; rel="next"', "X-Next-Cursor": cursor}


def _page_response(api: Api, fmt: Format, root: str, items: list[Any], cursor: str | None) -> Response[Any]:
    return api.respond(fmt, root, items, headers=page_headers(api, cursor))


def list_response(
    api: Api, fmt: Format, root: str, repo: Records[Any], view: Callable[[Any], Any]
) -> Response[Any]:
    records, cursor = repo.page(api.principal.tenant_id, limit=page_size(api), cursor=api.query("cursor"))
    return _page_response(api, fmt, root, [view(r) for r in records], cursor)


def search_response(
    api: Api,
    fmt: Format,
    root: str,
    repo: Records[Any],
    fields: Mapping[str, FieldKind],
    view: Callable[[Any], Any],
) -> Response[Any]:
    """`search.xml?field=…&value=…` on one of `fields` (each must be a search slot of `repo`)."""
    field = api.query("field")
    if field is None or field not in fields:
        raise ValidationFailed(f"field must be one of: {', '.join(fields)}")
    prefix = search_prefix(fields[field], api.query("value"), field)
    records, cursor = repo.search(
        api.principal.tenant_id, field, prefix, limit=page_size(api), cursor=api.query("cursor")
    )
    return _page_response(api, fmt, root, [view(r) for r in records], cursor)
