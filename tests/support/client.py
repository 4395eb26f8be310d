"""An API client for tests: builds requests the way real clients encode them (PHP's
http_build_query, curl -F multipart, XML, JSON) and sends them through the local API Gateway
in-process (no socket) or over HTTP."""

from __future__ import annotations

import base64
import json
import uuid
from collections.abc import Mapping
from typing import Any
from urllib.parse import quote, urlencode, urlsplit

from local.apigw import HttpRequest, HttpResponse, LocalApiGateway


def http_build_query(data: Mapping[str, Any], prefix: str = "") -> str:
    """PHP's http_build_query: nested arrays become `a[b][0]=…`, percent-encoded brackets."""
    pairs: list[str] = []
    for key, value in data.items():
        name = f"{prefix}[{key}]" if prefix else str(key)
        if isinstance(value, Mapping):
            pairs.append(http_build_query(value, name))
        elif isinstance(value, list | tuple):
            pairs.append(http_build_query({str(i): v for i, v in enumerate(value)}, name))
        elif value is not None:
            pairs.append(f"{quote(name, safe='')}={quote(str(value), safe='')}".replace("%20", "+"))
    return "&".join(p for p in pairs if p)


def multipart(fields: Mapping[str, str]) -> tuple[bytes, str]:
    """What `curl -F name=value` sends."""
    boundary = f"------------------------{uuid.uuid4().hex[:16]}"
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'
        for name, value in fields.items()
    ]
    body = "".join(parts) + f"--{boundary}--\r\n"
    return body.encode(), f"multipart/form-data; boundary={boundary}"


class ApiClient:
    def __init__(
        self, gateway: LocalApiGateway, api_key: str | None = None, host: str = "factura.test"
    ) -> None:
        self.gateway = gateway
        self.api_key = api_key
        self.host = host

    def request(
        self,
        method: str,
        url: str,
        *,
        body: bytes | str = b"",
        content_type: str | None = None,
        headers: Mapping[str, str] | None = None,
        key: str | None = None,
        auth: bool = True,
    ) -> HttpResponse:
        target = urlsplit(url)
        all_headers = [("Host", self.host), ("User-Agent", "factura-tests")]
        api_key = key if key is not None else self.api_key
        if auth and api_key:
            all_headers.append(
                ("Authorization", "Basic " + base64.b64encode(f"{api_key}:x".encode()).decode())
            )
        if content_type:
            all_headers.append(("Content-Type", content_type))
        all_headers.extend((headers or {}).items())
        raw = body.encode() if isinstance(body, str) else body
        return self.gateway.dispatch(
            HttpRequest(
                method=method, path=target.path, query_string=target.query, headers=all_headers, body=raw
            )
        )

    def get(self, url: str, **kwargs: Any) -> HttpResponse:
        return self.request("GET", url, **kwargs)

    def delete(self, url: str, **kwargs: Any) -> HttpResponse:
        return self.request("DELETE", url, **kwargs)

    def send_form(self, method: str, url: str, data: Mapping[str, Any], **kwargs: Any) -> HttpResponse:
        return self.request(
            method,
            url,
            body=http_build_query(data),
            content_type="application/x-www-form-urlencoded",
            **kwargs,
        )

    def send_multipart(self, method: str, url: str, fields: Mapping[str, str], **kwargs: Any) -> HttpResponse:
        body, content_type = multipart(fields)
        return self.request(method, url, body=body, content_type=content_type, **kwargs)

    def send_xml(self, method: str, url: str, xml: str, **kwargs: Any) -> HttpResponse:
        return self.request(method, url, body=xml, content_type="application/xml", **kwargs)

    def send_json(self, method: str, url: str, data: Any, **kwargs: Any) -> HttpResponse:
        return self.request(method, url, body=json.dumps(data), content_type="application/json", **kwargs)


def query(params: Mapping[str, str]) -> str:
    return urlencode(params)
