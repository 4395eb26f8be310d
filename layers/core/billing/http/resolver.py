"""What every HTTP API of Factura shares, whatever its wire format: a Powertools REST resolver
with routes declared by the paths of template.yaml, 405 (not 404) for a path that exists with
another verb, and one exception handler that maps every failure through `billing.http.errors`.

Subclasses decide how an error looks on the wire (`_error_response`), how a 401 challenges
(`_challenge`), and how callers are authenticated (`authenticate_with`):
`billing.http.api.Api` is the v1 XML/JSON API, `billing.http.json_api.JsonApi` the B2B JSON APIs.
This module imports no codec, so a JSON-only function does not pay for the XML machinery.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable
from http import HTTPStatus
from typing import Any

from aws_lambda_powertools import Logger
from aws_lambda_powertools.event_handler import APIGatewayRestResolver, Response
from aws_lambda_powertools.event_handler.middlewares import NextMiddleware

from billing.domain.errors import BillingError, MethodNotAllowed, NotFound
from billing.http.errors import status_for

logger = Logger()

_PARAM = re.compile(r"<\w+>")

Handler = Callable[..., Any]


class Resolver:
    def __init__(self) -> None:
        self.resolver = APIGatewayRestResolver()
        self.paths: dict[str, set[str]] = {}
        self._patterns: list[tuple[re.Pattern[str], str]] = []
        self.resolver.exception_handler(Exception)(self._on_error)
        self.resolver.not_found(self._on_not_found)
        self.resolver.use(middlewares=[self._literal_paths_keep_their_verbs])

    # -- declaring routes -----------------------------------------------------------------

    def route(self, rule: str, *methods: str) -> Callable[[Handler], Handler]:
        """Register `rule` (a template.yaml path with `<name>` parameters) for `methods`."""

        def register(func: Handler) -> Handler:
            for path, bound in self._expand(rule, func):
                self._add(path, methods, bound)
            return func

        return register

    def _expand(self, rule: str, func: Handler) -> Iterable[tuple[str, Handler]]:
        """The literal paths a rule stands for, each with its handler (one by default)."""
        return [(rule, func)]

    def _add(self, path: str, methods: tuple[str, ...], func: Handler) -> None:
        self.resolver.route(path, method=list(methods))(func)
        if path not in self.paths:
            literal_parts = _PARAM.split(path)
            self._patterns.append((re.compile("^" + "[^/]+".join(map(re.escape, literal_parts)) + "$"), path))
        self.paths.setdefault(path, set()).update(m.upper() for m in methods)

    def authenticate_with(self, authenticate: Callable[[Any], Any], context_key: str) -> None:
        """Run `authenticate(event)` before every route; its result is kept in the request
        context under `context_key`. Whatever it raises is answered like any route error."""

        def middleware(app: APIGatewayRestResolver, next_middleware: NextMiddleware) -> Response[Any]:
            app.append_context(**{context_key: authenticate(app.current_event)})
            return next_middleware(app)

        self.resolver.use(middlewares=[middleware])

    # -- request helpers --------------------------------------------------------------------

    @property
    def event(self) -> Any:
        return self.resolver.current_event

    def context_value(self, key: str) -> Any:
        value = self.resolver.context.get(key)
        if value is None:
            raise RuntimeError(f"no '{key}' in the request context; is this route authenticated?")
        return value

    def query(self, name: str) -> str | None:
        return self.event.get_query_string_value(name)

    # -- errors -----------------------------------------------------------------------------

    def _error_response(
        self, status: int, error: BillingError, headers: dict[str, str] | None = None
    ) -> Response[Any]:
        raise NotImplementedError

    def _challenge(self, error: BillingError) -> str:
        """The WWW-Authenticate value sent with a 401."""
        raise NotImplementedError

    def _on_error(self, error: Exception) -> Response[Any]:
        if isinstance(error, BillingError):
            status = status_for(error)
            if status >= 500:
                logger.exception("unmapped billing error")
            headers = (
                {"WWW-Authenticate": self._challenge(error)} if status == HTTPStatus.UNAUTHORIZED else None
            )
            return self._error_response(status, error, headers)
        logger.exception("unhandled error")
        return self._error_response(
            HTTPStatus.INTERNAL_SERVER_ERROR, BillingError("internal error; the failure was logged")
        )

    def _method_not_allowed(self, rule: str) -> Response[Any]:
        allowed = ", ".join(sorted(self.paths[rule]))
        error = MethodNotAllowed(
            f"{self.event.http_method} is not allowed on {self.event.path}; allowed: {allowed}"
        )
        return self._error_response(HTTPStatus.METHOD_NOT_ALLOWED, error, {"Allow": allowed})

    def _literal_paths_keep_their_verbs(
        self, app: APIGatewayRestResolver, next_middleware: NextMiddleware
    ) -> Response[Any]:
        """A literal path (`/clients/search.xml`) answers 405 for a verb it does not serve, as
        API Gateway routes it: without this, Powertools would hand `PUT /clients/search.xml` to
        the `/clients/<ref>` route with ref "search.xml". Runs before authentication, like 405s
        from _on_not_found."""
        path = app.current_event.path
        if path in self.paths and app.current_event.http_method.upper() not in self.paths[path]:
            return self._method_not_allowed(path)
        return next_middleware(app)

    def _on_not_found(self, _: Exception) -> Response[Any]:
        path = self.event.path
        for pattern, rule in self._patterns:
            if pattern.match(path):
                return self._method_not_allowed(rule)
        return self._error_response(HTTPStatus.NOT_FOUND, NotFound(f"no resource at {path}"))

    def handler(self, event: dict[str, Any], context: Any) -> dict[str, Any]:
        return self.resolver.resolve(event, context)
