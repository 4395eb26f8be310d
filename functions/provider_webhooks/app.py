"""Payment providers' webhooks: `POST /webhooks/payments/{provider}/{tenant_id}`, public (no API
key: the provider proves itself with its signature). Verified payments go on the
PaymentEventsQueue and are answered 200 at once; the payment processor registers them.
`billing.payments.inbound` and `billing.payments.providers` have the rules; docs/payment-providers.md."""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from billing.http.json_api import JsonApi
from billing.payments import inbound
from billing.payments.providers import PayloadTooLarge

logger = Logger()
api: JsonApi[None] = JsonApi(headers={"Cache-Control": "no-store"})


@api.route("/webhooks/payments/<provider>/<tenant_id>", "POST")
def receive(provider: str, tenant_id: str) -> Response[Any]:
    event = api.event
    try:
        answer = inbound.receive(
            provider,
            tenant_id,
            dict(event.headers or {}),
            event.body,
            base64_encoded=bool(event.is_base64_encoded),
        )
    except PayloadTooLarge as error:
        return api.respond(
            {"error": "payload_too_large", "error_description": "; ".join(error.messages)},
            HTTPStatus.REQUEST_ENTITY_TOO_LARGE,
        )
    return api.respond(answer)


@logger.inject_lambda_context
def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handler(event, context)
