"""A thin layer over Powertools' REST resolver with the conventions every v1 function shares:

- routes are declared with the paths of template.yaml (`{fmt}` expands to the .xml and .json
  literal paths; `<ref>` is a whole path segment such as "12.xml", split by `parse_ref`);
- a path that exists with another verb answers 405, not 404;
- the caller is authenticated before any route runs (unless the Api is public);
- every error, whatever raised it, leaves in the caller's format (XML unless the path says .json).
"""

from __future__ import annotations

import base64
import re
from collections.abc import Callable
from http import HTTPStatus
from typing import Any, TypeVar

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware
from pydantic import BaseModel, ValidationError

from billing.domain.errors import BillingError, MalformedInput, MethodNotAllowed, NotFound, ValidationFailed
from billing.http.auth import Principal, authenticate
from billing.http.errors import status_for, validation_messages
from billing.wire.codec import Format, decode_body, render, render_errors, split_format

logger = Logger()

WIRE_FORMATS = (Format.XML, Format.JSON)
_PARAM = re.compile(r"<\w+>")
P = TypeVar("P", bound=BaseModel)


class Api:
    def __init__(self, *, public: bool = False) -> None:
        self.resolver = APIGatewayRestResolver()
        self.public = public
        self.paths: dict[str, set[str]] = {}
        self._patterns: list[tuple[re.Pattern[str], str]] = []
        self.resolver.exception_handler(Exception)(self._on_error)
        self.resolver.not_found(self._on_not_found)
        if not public:
            self.resolver.use(middlewares=[self._authenticate])

    # -- declaring routes -----------------------------------------------------------------

    def route(self, rule: str, *methods: str) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
        """Register `rule` for `methods`. A rule ending in `.{fmt}` is registered once per wire
        format, and the handler receives `fmt` as a keyword argument."""

        def register(func: Callable[..., Any]) -> Callable[..., Any]:
            if "{fmt}" in rule:
                for fmt in WIRE_FORMATS:
                    self._add(rule.replace("{fmt}", fmt.value), methods, _bind_format(func, fmt))
            else:
                self._add(rule, methods, func)
            return func

        return register

    def _add(self, path: str, methods: tuple[str, ...], func: Callable[..., Any]) -> None:
        self.resolver.route(path, method=list(methods))(func)
        if path not in self.paths:
            literal_parts = _PARAM.split(path)
            self._patterns.append((re.compile("^" + "[^/]+".join(map(re.escape, literal_parts)) + "$"), path))
        self.paths.setdefault(path, set()).update(m.upper() for m in methods)

    # -- request helpers --------------------------------------------------------------------

    @property
    def event(self) -> Any:
        return self.resolver.current_event

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
        try:
            return model.model_validate(self.payload(root))
        except ValidationError as error:
            raise ValidationFailed(*validation_messages(error, root)) from None

    def query(self, name: str) -> str | None:
        return self.event.get_query_string_value(name)

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

    # -- plumbing ---------------------------------------------------------------------------

    def _authenticate(self, app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
        app.append_context(principal=authenticate(app.current_event))
        return next_middleware(app)

    def _request_format(self) -> Format | None:
        last = self.event.path.rsplit("/", 1)[-1]
        try:
            return split_format(last)[1]
        except BillingError:
            return None

    def _error_response(
        self, status: int, messages: list[str], headers: dict[str, str] | None = None
    ) -> Response[Any]:
        body, content_type = render_errors(self._request_format(), messages)
        return Response(status_code=status, content_type=content_type, body=body.decode(), headers=headers)

    def _on_error(self, error: Exception) -> Response[Any]:
        if isinstance(error, BillingError):
            status = status_for(error)
            if status >= 500:
                logger.exception("unmapped billing error")
            headers = (
                {"WWW-Authenticate": 'Basic realm="factura"'} if status == HTTPStatus.UNAUTHORIZED else None
            )
            return self._error_response(status, error.messages, headers)
        logger.exception("unhandled error")
        return self._error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR, ["internal error; the failure was logged"]
        )

    def _on_not_found(self, _: Exception) -> Response[Any]:
        path = self.event.path
        for pattern, rule in self._patterns:
            if pattern.match(path):
                allowed = ", ".join(sorted(self.paths[rule]))
                error = MethodNotAllowed(
                    f"{self.event.http_method} is not allowed on {path}; allowed: {allowed}"
                )
                return self._error_response(HTTPStatus.METHOD_NOT_ALLOWED, error.messages, {"Allow": allowed})
        return self._error_response(HTTPStatus.NOT_FOUND, NotFound(f"no resource at {path}").messages)

    def handler(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        return self.resolver.resolve(event, context)


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
