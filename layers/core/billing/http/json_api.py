"""The resolver of the JSON-only APIs (the B2B Billing API and its token endpoint): the routing,
405 handling and error -> status mapping of `billing.http.resolver`, with JSON bodies.

Errors leave as `{"error": <code>, "error_description": <text>}` (the shape of RFC 6749 §5.2,
used for every error of these APIs so clients parse one shape). The code is the error's own
`code` (the OAuth errors of `billing.domain.b2b_credentials`) or follows from the status
(`not_found`, `method_not_allowed`, …). A 401 challenges with Basic for `invalid_client`
(the token endpoint authenticates clients with HTTP Basic) and with Bearer otherwise (RFC 6750).
"""

from __future__ import annotations

import base64
import json
from collections.abc import Callable, Mapping
from http import HTTPStatus
from typing import Any, Generic, TypeVar

from aws_lambda_powertools.event_handler import Response

from billing.domain.errors import BillingError, TooManyRequests
from billing.http.resolver import Resolver

CONTENT_TYPE = "application/json; charset=UTF-8"

_CODE_BY_STATUS = {
    HTTPStatus.BAD_REQUEST: "invalid_request",
    HTTPStatus.UNAUTHORIZED: "unauthorized",
    HTTPStatus.FORBIDDEN: "forbidden",
    HTTPStatus.NOT_FOUND: "not_found",
    HTTPStatus.METHOD_NOT_ALLOWED: "method_not_allowed",
    HTTPStatus.NOT_ACCEPTABLE: "not_acceptable",
    HTTPStatus.UNPROCESSABLE_ENTITY: "unprocessable_entity",
    HTTPStatus.TOO_MANY_REQUESTS: "too_many_requests",
}

C = TypeVar("C")


def error_code(error: BillingError, status: int) -> str:
    code = getattr(error, "code", None)
    return code if isinstance(code, str) else _CODE_BY_STATUS.get(HTTPStatus(status), "server_error")


class JsonApi(Resolver, Generic[C]):
    """`authenticate(event) -> C` runs before every route (its result is `api.caller`); without
    it the API is public and routes authenticate themselves. `headers` go on every response,
    errors included (the token endpoint's `Cache-Control: no-store`)."""

    def __init__(
        self,
        *,
        authenticate: Callable[[Any], C] | None = None,
        realm: str = "factura-b2b",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__()
        self.realm = realm
        self.default_headers = dict(headers or {})
        if authenticate is not None:
            self.authenticate_with(authenticate, "caller")

    # -- request helpers --------------------------------------------------------------------

    @property
    def caller(self) -> C:
        value: C = self.context_value("caller")
        return value

    def header(self, name: str) -> str | None:
        return self.event.headers.get(name.lower())

    def query_params(self) -> dict[str, list[str]]:
        """Every query parameter with all its values, in the order sent."""
        multi = self.event.multi_value_query_string_parameters
        if multi:
            return {name: list(values) for name, values in multi.items()}
        return {name: [value] for name, value in (self.event.query_string_parameters or {}).items()}

    def raw_body(self) -> bytes:
        raw = self.event.body or ""
        return base64.b64decode(raw) if self.event.is_base64_encoded else raw.encode()

    # -- responses ------------------------------------------------------------------------

    def respond(
        self, value: Any, status: int = HTTPStatus.OK, headers: Mapping[str, str] | None = None
    ) -> Response[Any]:
        body = json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        return Response(
            status_code=status,
            content_type=CONTENT_TYPE,
            body=body,
            headers={**self.default_headers, **(headers or {})},
        )

    # -- errors -----------------------------------------------------------------------------

    def _error_response(
        self, status: int, error: BillingError, headers: dict[str, str] | None = None
    ) -> Response[Any]:
        if isinstance(error, TooManyRequests):
            headers = {**(headers or {}), "Retry-After": str(error.retry_after)}
        return self.respond(
            {"error": error_code(error, status), "error_description": "; ".join(error.messages)},
            status,
            headers,
        )

    def _challenge(self, error: BillingError) -> str:
        code = error_code(error, HTTPStatus.UNAUTHORIZED)
        if code == "invalid_client":
            return f'Basic realm="{self.realm}"'
        if code == "invalid_token":
            description = "; ".join(error.messages).replace("\\", "").replace('"', "'")
            return f'Bearer realm="{self.realm}", error="invalid_token", error_description="{description}"'
        return f'Bearer realm="{self.realm}"'
