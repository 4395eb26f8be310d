"""Invoicing API v1: webhook endpoints (where callbacks go, §8's "Callback URL" and more event
types), their signing secrets, the delivery log and replays. Delivery itself is the callback
dispatcher's (this function never imports httpx)."""

from __future__ import annotations

import re
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from billing.domain.errors import NotFound, ValidationFailed
from billing.domain.webhooks import WebhookEndpointCreate, WebhookEndpointUpdate
from billing.http.api import Api, parse_ref
from billing.http.listing import list_response
from billing.payments import webhooks as service
from billing.store.webhooks import webhook_deliveries, webhook_endpoints
from billing.wire.codec import Format
from billing.wire.views import webhooks as views

api = Api()
_WEBHOOK_ID = re.compile(r"msg_[0-9a-z]{1,64}")


def _record_id(ref: str) -> int:
    """The id segment of a nested path (`/webhook_endpoints/<id>/rotate_secret.json`)."""
    if not ref.isdigit():
        raise NotFound(f"no record '{ref[:40]}'")
    return parse_ref(ref)[0]


# -- endpoints ---------------------------------------------------------------------------------


@api.route("/api/v1/webhook_endpoints.{fmt}", "GET")
def list_endpoints(fmt: Format) -> Response[Any]:
    return list_response(api, fmt, "webhook_endpoints", webhook_endpoints, views.endpoint)


@api.route("/api/v1/webhook_endpoints.{fmt}", "POST")
def create_endpoint(fmt: Format) -> Response[Any]:
    fields = api.parse("webhook_endpoint", WebhookEndpointCreate).changes()
    record, secret = service.create_endpoint(api.principal.tenant_id, fields)
    return api.created(
        fmt,
        "webhook_endpoint",
        views.endpoint(record, secret=secret),
        f"/api/v1/webhook_endpoints/{record.id}",
    )


@api.route("/api/v1/webhook_endpoints/<ref>", "GET")
def get_endpoint(ref: str) -> Response[Any]:
    endpoint_id, fmt = parse_ref(ref)
    return api.respond(
        fmt, "webhook_endpoint", views.endpoint(webhook_endpoints.get(api.principal.tenant_id, endpoint_id))
    )


@api.route("/api/v1/webhook_endpoints/<ref>", "PUT")
def update_endpoint(ref: str) -> Response[Any]:
    endpoint_id, fmt = parse_ref(ref)
    changes = api.parse("webhook_endpoint", WebhookEndpointUpdate).changes()
    record = service.update_endpoint(api.principal.tenant_id, endpoint_id, changes)
    return api.respond(fmt, "webhook_endpoint", views.endpoint(record))


@api.route("/api/v1/webhook_endpoints/<ref>", "DELETE")
def delete_endpoint(ref: str) -> Response[Any]:
    endpoint_id, fmt = parse_ref(ref)
    record = service.delete_endpoint(api.principal.tenant_id, endpoint_id)
    return api.respond(fmt, "webhook_endpoint", views.endpoint(record))


@api.route("/api/v1/webhook_endpoints/<ref>/rotate_secret.{fmt}", "POST")
def rotate_secret(ref: str, fmt: Format) -> Response[Any]:
    """`?overlap_seconds=N` (default 86400, at most 7 days): how long the replaced secret keeps
    signing beside the new one; 0 revokes it at once."""
    endpoint_id = _record_id(ref)
    raw = api.query("overlap_seconds")
    if raw is not None and not raw.isdigit():
        raise ValidationFailed("overlap_seconds must be a whole number of seconds")
    overlap = int(raw) if raw is not None else service.DEFAULT_OVERLAP_SECONDS
    record, secret = service.rotate_secret(api.principal.tenant_id, endpoint_id, overlap)
    return api.respond(fmt, "webhook_endpoint", views.endpoint(record, secret=secret))


# -- deliveries --------------------------------------------------------------------------------


@api.route("/api/v1/webhook_deliveries.{fmt}", "GET")
def list_deliveries(fmt: Format) -> Response[Any]:
    """Newest first; `?endpoint_id=…` and/or `?webhook_id=msg_…` narrow the list."""
    endpoint_id = api.query("endpoint_id")
    webhook_id = api.query("webhook_id")
    if endpoint_id is not None and (not endpoint_id.isdigit() or len(endpoint_id) > 19):
        raise ValidationFailed("endpoint_id must be a webhook endpoint id")
    if webhook_id is not None and not _WEBHOOK_ID.fullmatch(webhook_id.strip().lower()):
        raise ValidationFailed("webhook_id must look like msg_…")
    log = webhook_deliveries.where(
        endpoint_id=int(endpoint_id) if endpoint_id is not None else None,
        webhook_id=webhook_id.strip().lower() if webhook_id is not None else None,
    )
    return list_response(api, fmt, "webhook_deliveries", log, views.delivery)


@api.route("/api/v1/webhook_deliveries/<ref>/replay.{fmt}", "POST")
def replay_delivery(ref: str, fmt: Format) -> Response[Any]:
    delivery_id = _record_id(ref)
    message = service.replay_delivery(api.principal.tenant_id, delivery_id)
    return api.respond(fmt, "webhook_replay", views.replay(message, delivery_id), HTTPStatus.ACCEPTED)


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handler(event, context)
