"""B2B Billing API: the OAuth 2.0 token endpoint, client credentials grant (RFC 6749 §4.4).

    POST /oauth/v3/token
    Authorization: Basic base64(client_id:client_secret)
    Content-Type: application/x-www-form-urlencoded

    grant_type=client_credentials

-> 200 {"token_type": "Bearer", "access_token": "…", "expires_in": 3600}. Errors (RFC 6749 §5.2)
are `{"error": …, "error_description": …}`: 400 invalid_request (malformed or repeated
parameters, a body that is not a form, credentials in the body), 401 invalid_client (with
`WWW-Authenticate: Basic`), 400 unsupported_grant_type. Every answer carries
`Cache-Control: no-store` and `Pragma: no-cache` (§5.1). A `scope` parameter is accepted and
ignored: the token always gets the client's configured scope.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

from aws_lambda_powertools.event_handler import Response
from aws_lambda_powertools.utilities.typing import LambdaContext
from billing.domain.b2b_credentials import InvalidRequest, UnsupportedGrantType
from billing.http.b2b_auth import client_credentials
from billing.http.json_api import JsonApi
from billing.store.b2b_clients import b2b_clients

api: JsonApi[None] = JsonApi(headers={"Cache-Control": "no-store", "Pragma": "no-cache"})

GRANT_TYPE = "client_credentials"
MAX_BODY_BYTES = 4096
FORM = "application/x-www-form-urlencoded"


def token_parameters() -> dict[str, str]:
    """The form parameters of the token request; each may appear once (RFC 6749 §3.2)."""
    media = (api.header("content-type") or FORM).partition(";")[0].strip().lower()
    if media != FORM:
        raise InvalidRequest(f"the token request must be sent as {FORM}, not {media}")
    body = api.raw_body()
    if len(body) > MAX_BODY_BYTES:
        raise InvalidRequest(f"the token request body is larger than {MAX_BODY_BYTES} bytes")
    try:
        pairs = parse_qsl(body.decode(), keep_blank_values=True, errors="strict")
    except (UnicodeDecodeError, ValueError):
        raise InvalidRequest("the token request body is not a valid form") from None
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise InvalidRequest(f"parameter '{name}' is repeated")
        params[name] = value
    return params


@api.route("/oauth/v3/token", "POST")
def issue_token() -> Response[Any]:
    params = token_parameters()
    grant_type = params.get("grant_type")
    if not grant_type:
        raise InvalidRequest("grant_type is required (grant_type=client_credentials)")
    if "client_secret" in params:
        raise InvalidRequest("send the client credentials with HTTP Basic only, not in the body")
    client_id, client_secret = client_credentials(api.event)
    if params.get("client_id", client_id) != client_id:
        raise InvalidRequest("client_id in the body differs from the HTTP Basic client_id")
    tenant_id, client = b2b_clients.authenticate(client_id, client_secret)
    if grant_type != GRANT_TYPE:
        raise UnsupportedGrantType(f"grant_type {grant_type[:40]!r} is not supported; use {GRANT_TYPE}")
    issued = b2b_clients.issue_token(tenant_id, client)
    return api.respond(
        {"token_type": "Bearer", "access_token": issued.access_token, "expires_in": issued.expires_in}
    )


def lambda_handler(event: dict[str, Any], context: LambdaContext) -> dict[str, Any]:
    return api.handler(event, context)
