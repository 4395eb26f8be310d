"""API Gateway (REST, Lambda proxy integration) emulation, driven by the template's `Api` events.

`LocalApiGateway.dispatch` turns a plain HTTP request into the proxy event API Gateway would
send, calls the function in-process and turns its result back into an HTTP response. It is used
both behind the local HTTP server and directly by the in-process test client."""

from __future__ import annotations

import base64
import fnmatch
import json
import time
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

from local.functions import Functions
from local.template import ACCOUNT_ID, ApiRoute

MAX_PAYLOAD_BYTES = 10 * 1024 * 1024  # API Gateway's request limit


@dataclass
class HttpRequest:
    method: str
    path: str
    query_string: str = ""
    headers: list[tuple[str, str]] = field(default_factory=list)
    body: bytes = b""
    source_ip: str = "127.0.0.1"


@dataclass
class HttpResponse:
    status: int
    headers: list[tuple[str, str]]
    body: bytes

    def header(self, name: str) -> str | None:
        for key, value in self.headers:
            if key.lower() == name.lower():
                return value
        return None

    @property
    def text(self) -> str:
        return self.body.decode()

    def json(self) -> Any:
        return json.loads(self.body)


def _gateway_error(status: int, message: str) -> HttpResponse:
    body = json.dumps({"message": message}).encode()
    return HttpResponse(
        status, [("Content-Type", "application/json"), ("x-amzn-ErrorType", "GatewayError")], body
    )


class _Resource:
    """A node of the API's resource tree (one path segment)."""

    def __init__(self) -> None:
        self.literal: dict[str, _Resource] = {}
        self.param: tuple[str, _Resource] | None = None
        self.greedy: tuple[str, _Resource] | None = None
        self.methods: dict[str, ApiRoute] = {}


class LocalApiGateway:
    def __init__(
        self,
        routes: Iterable[ApiRoute],
        functions: Functions,
        *,
        stage: str,
        binary_media_types: Sequence[str] = (),
    ):
        self.functions = functions
        self.stage = stage
        self.binary_media_types = list(binary_media_types)
        self.root = _Resource()
        for route in routes:
            self._add(route)

    def _add(self, route: ApiRoute) -> None:
        node = self.root
        for segment in [s for s in route.path.split("/") if s]:
            if segment.startswith("{") and segment.endswith("+}"):
                node.greedy = node.greedy or (segment[1:-2], _Resource())
                node = node.greedy[1]
            elif segment.startswith("{") and segment.endswith("}"):
                node.param = node.param or (segment[1:-1], _Resource())
                node = node.param[1]
            else:
                node = node.literal.setdefault(segment, _Resource())
        if route.method in node.methods:
            raise ValueError(f"{route.method} {route.path} is declared twice in template.yaml")
        node.methods[route.method] = route

    def match(self, method: str, path: str) -> tuple[ApiRoute, dict[str, str]] | None:
        segments = [unquote(s) for s in path.split("/") if s]
        found = self._match(self.root, segments, {})
        if found is None:
            return None
        node, params = found
        route = node.methods.get(method) or node.methods.get("ANY")
        return (route, params) if route else None

    def _match(
        self, node: _Resource, segments: list[str], params: dict[str, str]
    ) -> tuple[_Resource, dict[str, str]] | None:
        if not segments:
            return node, params
        head, rest = segments[0], segments[1:]
        if head in node.literal:
            found = self._match(node.literal[head], rest, params)
            if found:
                return found
        if node.param:
            name, child = node.param
            found = self._match(child, rest, {**params, name: head})
            if found:
                return found
        if node.greedy:
            name, child = node.greedy
            return child, {**params, name: "/".join(segments)}
        return None

    # -- request -> event -> response ---------------------------------------------------------

    def dispatch(self, request: HttpRequest) -> HttpResponse:
        if len(request.body) > MAX_PAYLOAD_BYTES:
            return _gateway_error(413, "Request Too Long")
        matched = self.match(request.method.upper(), request.path)
        if matched is None:
            return _gateway_error(403, "Missing Authentication Token")
        route, path_params = matched
        event = self.build_event(request, route, path_params)
        try:
            result = self.functions.resolve(route.function).invoke(event)
        except Exception:  # the function crashed: API Gateway answers 502
            import traceback

            traceback.print_exc()
            return _gateway_error(502, "Internal server error")
        return self.build_response(result, binary=self.accepts_binary(request))

    def accepts_binary(self, request: HttpRequest) -> bool:
        """API Gateway turns a base64 (isBase64Encoded) Lambda body back into bytes only when the
        FIRST media type of the request's Accept header matches a binary media type; otherwise
        the client receives the base64 text (curl's "*/*" does not match "application/pdf").
        Without an Accept header the body is decoded."""
        accept = next((v for k, v in request.headers if k.lower() == "accept"), "")
        if not accept.strip():
            return True
        first = accept.split(",", 1)[0].split(";", 1)[0].strip().lower()
        return any(fnmatch.fnmatch(first, pattern.lower()) for pattern in self.binary_media_types)

    def _is_binary(self, content_type: str) -> bool:
        media_type = content_type.split(";", 1)[0].strip().lower()
        return bool(media_type) and any(
            fnmatch.fnmatch(media_type, pattern.lower()) for pattern in self.binary_media_types
        )

    def build_event(
        self, request: HttpRequest, route: ApiRoute, path_params: dict[str, str]
    ) -> dict[str, Any]:
        headers: dict[str, str] = {}
        multi_headers: dict[str, list[str]] = {}
        forwarded = [("X-Forwarded-For", request.source_ip), ("X-Forwarded-Proto", "http")]
        for key, value in [*request.headers, *forwarded]:
            headers[key] = value
            multi_headers.setdefault(key, []).append(value)
        query_pairs = parse_qsl(request.query_string, keep_blank_values=True)
        query: dict[str, str] = {}
        multi_query: dict[str, list[str]] = {}
        for key, value in query_pairs:
            query[key] = value
            multi_query.setdefault(key, []).append(value)
        content_type = next((v for k, v in request.headers if k.lower() == "content-type"), "")
        body: str | None
        encoded = False
        if not request.body:
            body = None
        elif self._is_binary(content_type):
            body, encoded = base64.b64encode(request.body).decode(), True
        else:
            try:
                body = request.body.decode("utf-8")
            except UnicodeDecodeError:
                body, encoded = base64.b64encode(request.body).decode(), True
        host = next((v for k, v in request.headers if k.lower() == "host"), "127.0.0.1")
        user_agent = next((v for k, v in request.headers if k.lower() == "user-agent"), "")
        now = time.time()
        return {
            "resource": route.path,
            "path": request.path,
            "httpMethod": request.method.upper(),
            "headers": headers or None,
            "multiValueHeaders": multi_headers or None,
            "queryStringParameters": query or None,
            "multiValueQueryStringParameters": multi_query or None,
            "pathParameters": path_params or None,
            "stageVariables": None,
            "requestContext": {
                "accountId": ACCOUNT_ID,
                "apiId": "local",
                "domainName": host,
                "httpMethod": request.method.upper(),
                "identity": {"sourceIp": request.source_ip, "userAgent": user_agent},
                "path": f"/{self.stage}{request.path}",
                "protocol": "HTTP/1.1",
                "requestId": str(uuid.uuid4()),
                "requestTime": time.strftime("%d/%b/%Y:%H:%M:%S +0000", time.gmtime(now)),
                "requestTimeEpoch": int(now * 1000),
                "resourceId": "local",
                "resourcePath": route.path,
                "stage": self.stage,
            },
            "body": body,
            "isBase64Encoded": encoded,
        }

    @staticmethod
    def build_response(result: Any, *, binary: bool = True) -> HttpResponse:
        if not isinstance(result, dict) or "statusCode" not in result:
            return _gateway_error(502, "Internal server error")
        headers: list[tuple[str, str]] = []
        multi = result.get("multiValueHeaders") or {}
        for key, values in multi.items():
            headers.extend((key, str(v)) for v in values)
        for key, value in (result.get("headers") or {}).items():
            if key not in multi:
                headers.append((key, str(value)))
        raw = result.get("body") or ""
        body = base64.b64decode(raw) if result.get("isBase64Encoded") and binary else str(raw).encode()
        return HttpResponse(int(result["statusCode"]), headers, body)
