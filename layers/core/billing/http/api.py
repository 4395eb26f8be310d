"""A thin layer over Powertools' REST resolver with the conventions every v1 function shares:

- routes are declared with the paths of template.yaml (`{fmt}` expands to the .xml and .json
  literal paths; `<ref>` is a whole path segment such as "12.xml", split by `parse_ref`);
- a path that exists with another verb answers 405, not 404;
- the caller is authenticated before any route runs (unless the Api is public);
- every error, whatever raised it, leaves in the caller's format (XML unless the path says .json).

Routing, 405 and the error -> status mapping are shared with the B2B JSON APIs
(`billing.http.resolver.Resolver`).
"""

from __future__ import annotations

import base64
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any, TypeVar

from aws_lambda_powertools.event_handler import Response
from pydantic import BaseModel, ValidationError

from billing.domain.errors import BillingError, MalformedInput, NotFound, ValidationFailed
from billing.http.auth import Principal, authenticate
from billing.http.errors import validation_messages
from billing.http.resolver import Handler, Resolver
from billing.wire.codec import Format, decode_body, render, render_errors, split_format

WIRE_FORMATS = (Format.XML, Format.JSON)
P = TypeVar("P", bound=BaseModel)


class Api(Resolver):
    def __init__(self, *, public: bool = False) -> None:
        super().__init__()
        self.public = public
        if not public:
            self.authenticate_with(lambda event: authenticate(event), "principal")

    # -- declaring routes -----------------------------------------------------------------

    def route(self, rule: str, *methods: str) -> Callable[[Handler], Handler]:
        """Register `rule` for `methods`. A rule ending in `.{fmt}` is registered once per wire
        format, and the handler receives `fmt` as a keyword argument."""
        return super().route(rule, *methods)

    def _expand(self, rule: str, func: Handler) -> Iterable[tuple[str, Handler]]:
        if "{fmt}" not in rule:
            return [(rule, func)]
        return [(rule.replace("{fmt}", fmt.value), _bind_format(func, fmt)) for fmt in WIRE_FORMATS]

    # -- request helpers --------------------------------------------------------------------

    @property
    def principal(self) -> Principal:
        principal = self.resolver.context.get("principal")
        if principal is None:
            raise RuntimeError("route of a public Api asked for the principal")
        return principal

    def body(self) -> dict[str, Any]:
        """The request body decoded from whatever wire format the caller used."""
        raw = self.event.body or ""
        data = base64.b64decode(raw) if self.event.is_base64_encoded else raw.encode()
        return decode_body(self.event.headers.get("content-type"), data)

    def payload(self, root: str) -> dict[str, Any]:
        """The model's fields from the body; the reference always wraps them in the model name
        (`<client>…</client>`, `client[name]=…`, `{"client": {…}}`)."""
        body = self.body()
        fields = body.get(root)
        if not isinstance(fields, dict):
            raise MalformedInput(
                f"the request must wrap the fields in '{root}' (<{root}>…</{root}> or {root}[field]=…)"
            )
        return fields

    def parse(self, root: str, model: type[P]) -> P:
        """The payload validated by `model`; field errors name the field as `root.field`."""
        return self.validate(root, model, self.payload(root))

    def validate(self, root: str, model: type[P], fields: dict[str, Any]) -> P:
        """`fields` (a payload the route adjusted first) validated as `parse` does."""
        try:
            return model.model_validate(fields)
        except ValidationError as error:
            raise ValidationFailed(*validation_messages(error, root)) from None

    def base_url(self) -> str:
        """Public base URL of this API as the caller reached it (for Location headers)."""
        headers = self.event.headers
        host = headers.get("host") or self.event.request_context.domain_name
        proto = headers.get("x-forwarded-proto", "https")
        stage = self.event.request_context.stage
        prefix = f"/{stage}" if host and host.endswith(".amazonaws.com") else ""
        return f"{proto}://{host}{prefix}"

    # -- responses ------------------------------------------------------------------------

    def respond(
        self,
        fmt: Format,
        root: str,
        value: Any,
        status: int = HTTPStatus.OK,
        headers: dict[str, str] | None = None,
    ) -> Response[Any]:
        body, content_type = render(fmt, root, value)
        return Response(status_code=status, content_type=content_type, body=body.decode(), headers=headers)

    def created(self, fmt: Format, root: str, value: Any, location_path: str) -> Response[Any]:
        return self.respond(
            fmt, root, value, HTTPStatus.CREATED, {"Location": self.base_url() + location_path}
        )

    # -- errors -----------------------------------------------------------------------------

    def _request_format(self) -> Format | None:
        last = self.event.path.rsplit("/", 1)[-1]
        try:
            return split_format(last)[1]
        except BillingError:
            return None

    def _error_response(
        self, status: int, error: BillingError, headers: dict[str, str] | None = None
    ) -> Response[Any]:
        body, content_type = render_errors(self._request_format(), error.messages)
        return Response(status_code=status, content_type=content_type, body=body.decode(), headers=headers)

    def _challenge(self, error: BillingError) -> str:
        return 'Basic realm="factura"'


def _bind_format(func: Callable[..., Any], fmt: Format) -> Callable[..., Any]:
    def bound(**kwargs: Any) -> Any:
        return func(fmt=fmt, **kwargs)

    bound.__name__ = f"{func.__name__}_{fmt.value}"
    return bound


def parse_ref(ref: str) -> tuple[int, Format]:
    """Split a record reference such as "12.xml" into (12, XML). No suffix means XML (the
    reference's default); an id that is not a positive integer cannot exist (404)."""
    text, fmt = split_format(ref)
    if not text.isdigit() or len(text) > 19 or int(text) == 0:
        raise NotFound(f"no record '{text}'")
    return int(text), fmt or Format.XML
