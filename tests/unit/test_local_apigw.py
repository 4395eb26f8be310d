"""API Gateway emulation: routing precedence, the proxy event's shape, binary bodies both ways."""

from __future__ import annotations

import base64
from typing import Any

import pytest

from local.apigw import MAX_PAYLOAD_BYTES, HttpRequest, LocalApiGateway
from local.template import ApiRoute


class _Recorder:
    """Stands in for Functions: records the event, answers what it is told."""

    def __init__(self, answer: dict[str, Any] | None = None) -> None:
        self.events: list[dict[str, Any]] = []
        self.answer = answer or {"statusCode": 200, "body": "ok"}

    def resolve(self, name: str) -> _Recorder:
        self.name = name
        return self

    def invoke(self, event: dict[str, Any]) -> dict[str, Any]:
        self.events.append(event)
        return self.answer


ROUTES = [
    ApiRoute("Things", "/api/v1/things.xml", "ANY"),
    ApiRoute("Things", "/api/v1/things/{ref}", "ANY"),
    ApiRoute("Search", "/api/v1/things/search.xml", "GET"),
    ApiRoute("Actions", "/api/v1/things/{ref}/mark_open.xml", "PUT"),
    ApiRoute("Proxy", "/files/{path+}", "GET"),
]


def gateway(answer: dict[str, Any] | None = None) -> tuple[LocalApiGateway, _Recorder]:
    recorder = _Recorder(answer)
    return LocalApiGateway(
        ROUTES, recorder, stage="local", binary_media_types=["application/pdf", "multipart/form-data"]
    ), recorder  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("method", "path", "function", "params"),
    [
        ("GET", "/api/v1/things.xml", "Things", {}),
        ("DELETE", "/api/v1/things.xml", "Things", {}),
        ("GET", "/api/v1/things/12.xml", "Things", {"ref": "12.xml"}),
        ("GET", "/api/v1/things/search.xml", "Search", {}),  # literal beats {ref}
        ("POST", "/api/v1/things/search.xml", None, None),  # literal path, verb not declared
        ("PUT", "/api/v1/things/12/mark_open.xml", "Actions", {"ref": "12"}),
        ("GET", "/files/a/b/c.pdf", "Proxy", {"path": "a/b/c.pdf"}),
        ("GET", "/api/v1/nothing.xml", None, None),
        ("GET", "/api/v1/things/12.xml/extra", None, None),
    ],
)
def test_matching(method: str, path: str, function: str | None, params: dict | None) -> None:
    gw, _ = gateway()
    found = gw.match(method, path)
    if function is None:
        assert found is None
    else:
        assert found is not None
        route, path_params = found
        assert (route.function, path_params) == (function, params)


def test_duplicate_route_in_template_is_refused() -> None:
    with pytest.raises(ValueError, match="declared twice"):
        LocalApiGateway([ROUTES[0], ROUTES[0]], _Recorder(), stage="local")  # type: ignore[arg-type]


def test_unmatched_route_is_gateway_403() -> None:
    gw, recorder = gateway()
    response = gw.dispatch(HttpRequest("GET", "/nope"))
    assert response.status == 403 and response.json() == {"message": "Missing Authentication Token"}
    assert recorder.events == []


def test_proxy_event_shape_multi_values_and_context() -> None:
    gw, recorder = gateway()
    gw.dispatch(
        HttpRequest(
            "GET",
            "/api/v1/things/12.xml",
            query_string="a=1&a=2&b=x%20y&empty=",
            headers=[("Host", "h:3000"), ("Accept", "a"), ("Accept", "b")],
            source_ip="10.1.2.3",
        )
    )
    (event,) = recorder.events
    assert event["resource"] == "/api/v1/things/{ref}" and event["path"] == "/api/v1/things/12.xml"
    assert event["httpMethod"] == "GET"
    assert event["pathParameters"] == {"ref": "12.xml"}
    assert event["queryStringParameters"] == {"a": "2", "b": "x y", "empty": ""}
    assert event["multiValueQueryStringParameters"] == {"a": ["1", "2"], "b": ["x y"], "empty": [""]}
    assert event["headers"]["Accept"] == "b" and event["multiValueHeaders"]["Accept"] == ["a", "b"]
    assert event["headers"]["X-Forwarded-Proto"] == "http"
    context = event["requestContext"]
    assert context["stage"] == "local" and context["path"] == "/local/api/v1/things/12.xml"
    assert context["identity"]["sourceIp"] == "10.1.2.3" and context["domainName"] == "h:3000"
    assert context["resourcePath"] == "/api/v1/things/{ref}" and context["requestId"]
    assert event["body"] is None and event["isBase64Encoded"] is False


def test_text_body_passes_as_text_binary_as_base64() -> None:
    gw, recorder = gateway()
    gw.dispatch(
        HttpRequest(
            "POST",
            "/api/v1/things.xml",
            headers=[("Content-Type", "application/xml")],
            body="<a>ș</a>".encode(),
        )
    )
    gw.dispatch(
        HttpRequest(
            "POST", "/api/v1/things.xml", headers=[("Content-Type", "application/pdf")], body=b"%PDF\x00\xff"
        )
    )
    gw.dispatch(
        HttpRequest("POST", "/api/v1/things.xml", headers=[("Content-Type", "text/plain")], body=b"\xff\xfe")
    )
    text, pdf, undecodable = recorder.events
    assert (text["body"], text["isBase64Encoded"]) == ("<a>ș</a>", False)
    assert pdf["isBase64Encoded"] and base64.b64decode(pdf["body"]) == b"%PDF\x00\xff"
    assert undecodable["isBase64Encoded"] and base64.b64decode(undecodable["body"]) == b"\xff\xfe"


def test_base64_response_is_decoded_and_headers_kept() -> None:
    gw, _ = gateway(
        {
            "statusCode": 201,
            "headers": {"Content-Type": "application/pdf"},
            "multiValueHeaders": {"Set-Cookie": ["a=1", "b=2"]},
            "body": base64.b64encode(b"%PDF-1.7\x00").decode(),
            "isBase64Encoded": True,
        }
    )
    response = gw.dispatch(HttpRequest("GET", "/api/v1/things/1.pdf"))
    assert response.status == 201 and response.body == b"%PDF-1.7\x00"
    assert response.header("content-type") == "application/pdf"
    assert [v for k, v in response.headers if k == "Set-Cookie"] == ["a=1", "b=2"]


@pytest.mark.parametrize("answer", [{"body": "no status"}, "not a dict"])
def test_malformed_function_result_is_502(answer: Any) -> None:
    gw, _ = gateway(answer)
    assert gw.dispatch(HttpRequest("GET", "/api/v1/things.xml")).status == 502


def test_oversized_request_is_413() -> None:
    gw, recorder = gateway()
    response = gw.dispatch(HttpRequest("POST", "/api/v1/things.xml", body=b"x" * (MAX_PAYLOAD_BYTES + 1)))
    assert response.status == 413 and recorder.events == []
