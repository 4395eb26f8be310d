"""Invoicing API v1: numbering series (§7.6: invoice, proforma invoice, notice and receipt
series) and delegates (§7.1.5)."""

from __future__ import annotations

from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from billing.domain.delegates import Delegate, DelegateCreate, DelegateUpdate
from billing.domain.series import SERIES_KINDS, SeriesCreate, SeriesUpdate
from billing.http.api import Api, parse_ref
from billing.http.listing import list_response
from billing.store.delegates import delegates
from billing.store.series import SERIES, SeriesStore
from billing.wire.codec import Format
from billing.wire.views import series as views

api = Api()


def _series_routes(kind: str, store: SeriesStore) -> None:
    base = f"/api/v1/{kind}"

    @api.route(f"{base}.{{fmt}}", "GET")
    def list_series(fmt: Format) -> Response[Any]:
        return list_response(api, fmt, kind, store.records, views.series)

    @api.route(f"{base}.{{fmt}}", "POST")
    def create_series(fmt: Format) -> Response[Any]:
        record = store.create(api.principal.tenant_id, api.parse(kind, SeriesCreate), kind)
        return api.created(fmt, kind, views.series(record), f"{base}/{record.id}")

    @api.route(f"{base}/<ref>", "GET")
    def get_series(ref: str) -> Response[Any]:
        series_id, fmt = parse_ref(ref)
        return api.respond(fmt, kind, views.series(store.get(api.principal.tenant_id, series_id)))

    @api.route(f"{base}/<ref>", "PUT")
    def update_series(ref: str) -> Response[Any]:
        series_id, fmt = parse_ref(ref)
        changes = api.parse(kind, SeriesUpdate).changes()
        return api.respond(
            fmt, kind, views.series(store.update(api.principal.tenant_id, series_id, changes, kind))
        )

    @api.route(f"{base}/<ref>", "DELETE")
    def delete_series(ref: str) -> Response[Any]:
        series_id, fmt = parse_ref(ref)
        return api.respond(fmt, kind, views.series(store.delete(api.principal.tenant_id, series_id)))


for _kind in SERIES_KINDS:
    _series_routes(_kind, SERIES[_kind])


@api.route("/api/v1/delegates.{fmt}", "GET")
def list_delegates(fmt: Format) -> Response[Any]:
    return list_response(api, fmt, "delegates", delegates, views.delegate)


@api.route("/api/v1/delegates.{fmt}", "POST")
def create_delegate(fmt: Format) -> Response[Any]:
    fields = api.parse("delegate", DelegateCreate).changes()
    record = delegates.insert(api.principal.tenant_id, lambda new_id: Delegate(id=new_id, **fields))
    return api.created(fmt, "delegate", views.delegate(record), f"/api/v1/delegates/{record.id}")


@api.route("/api/v1/delegates/<ref>", "GET")
def get_delegate(ref: str) -> Response[Any]:
    delegate_id, fmt = parse_ref(ref)
    return api.respond(fmt, "delegate", views.delegate(delegates.get(api.principal.tenant_id, delegate_id)))


@api.route("/api/v1/delegates/<ref>", "PUT")
def update_delegate(ref: str) -> Response[Any]:
    delegate_id, fmt = parse_ref(ref)
    changes = api.parse("delegate", DelegateUpdate).changes()
    record = delegates.update(api.principal.tenant_id, delegate_id, changes)
    return api.respond(fmt, "delegate", views.delegate(record))


@api.route("/api/v1/delegates/<ref>", "DELETE")
def delete_delegate(ref: str) -> Response[Any]:
    delegate_id, fmt = parse_ref(ref)
    tenant = api.principal.tenant_id
    record = delegates.get(tenant, delegate_id)
    delegates.delete(tenant, delegate_id)
    return api.respond(fmt, "delegate", views.delegate(record))


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handler(event, context)
