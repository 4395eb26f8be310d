"""`make run`: the whole system in one process, no Docker, no AWS account.

moto serves AWS on loopback; the template's resources are created on it; an HTTP server routes
requests by the template's Api events to the in-process handlers; SQS event sources are polled;
Step Functions run in moto with their Lambda tasks bridged to our handlers; SES mail lands in
.local/outbox/. A demo tenant is seeded and its credentials written to .local/demo.json."""

from __future__ import annotations

import json
import logging
import os
import socket
import threading
from dataclasses import dataclass, field
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from local.apigw import HttpRequest, LocalApiGateway
from local.bridges import configure_moto, install_lambda_bridge, install_ses_outbox
from local.functions import Functions
from local.provision import Stack, provision
from local.sqs import SqsPoller, start_pollers
from local.template import REGION, ROOT, api_routes, resources_of_type

STATE_DIR = Path(os.environ.get("FACTURA_STATE_DIR") or ROOT / ".local")


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def fake_aws_environment() -> None:
    """Credentials moto accepts; nothing here can reach a real AWS account."""
    for key, value in {
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_SESSION_TOKEN": "testing",
        "AWS_DEFAULT_REGION": REGION,
        "AWS_REGION": REGION,
    }.items():
        os.environ[key] = value


def gateway_for(stack: Stack, functions: Functions) -> LocalApiGateway:
    apis = resources_of_type(stack.template, "AWS::Serverless::Api")
    binary_types = [t for api in apis.values() for t in api.get("Properties", {}).get("BinaryMediaTypes", [])]
    stage = str(stack.context.parameters.get("Stage", "local"))
    return LocalApiGateway(
        api_routes(stack.template), functions, stage=stage, binary_media_types=binary_types
    )


def seed_demo_tenant() -> dict[str, Any]:
    from billing.domain.b2b_clients import B2bClientCreate
    from billing.payments.providers import PROVIDERS
    from billing.store.accounts import Accounts
    from billing.store.b2b_clients import B2bClients
    from billing.store.provider_secrets import provider_secrets

    tenant = Accounts().create_tenant(
        {
            "name": "demo",
            "company_name": "Demo Consulting SRL",
            "company_uid": "RO12345678",
            "company_registration_id": "J40/1234/2020",
            "company_vat_id": "RO12345678",
            "company_address_1": "Strada Ștefan cel Mare 12",
            "company_city": "București",
            "company_country_id": 642,
            "company_zip": "010101",
            "company_email": "billing@demo.example",
            "account_banks": [
                {
                    "name": "Banca Transilvania",
                    "bic": "BTRLRO22",
                    "accounts": [{"iban": "RO49AAAA1B31007593840000", "currency": "RON"}],
                }
            ],
        },
        {"first_name": "Ana", "last_name": "Popescu", "email": "ana@demo.example"},
    )
    b2b = B2bClients().create(tenant.account.id, B2bClientCreate(name="demo ERP", scope="all"))
    # payment providers' webhook secrets (POST /webhooks/payments/<provider>/<tenant_id>)
    providers = {name: {"secret": provider_secrets.create(tenant.account.id, name)} for name in PROVIDERS}
    return {
        "tenant_id": tenant.account.id,
        "user_id": tenant.user.id,
        "api_key": tenant.api_key.plaintext,
        "b2b": {"client_id": b2b.client_id, "client_secret": b2b.client_secret, "api_key": b2b.api_key},
        "providers": providers,
    }


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    gateway: LocalApiGateway
    quiet = False

    def _serve(self) -> None:
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length) if length else b""
        target = urlsplit(self.path)
        request = HttpRequest(
            method=self.command,
            path=target.path,
            query_string=target.query,
            headers=list(self.headers.items()),
            body=body,
            source_ip=self.client_address[0],
        )
        response = self.gateway.dispatch(request)
        self.send_response(
            response.status,
            HTTPStatus(response.status).phrase if response.status in HTTPStatus._value2member_map_ else "",
        )
        for key, value in response.headers:
            if key.lower() not in ("content-length", "connection"):
                self.send_header(key, value)
        self.send_header("Content-Length", str(len(response.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(response.body)

    do_GET = do_POST = do_PUT = do_DELETE = do_PATCH = do_HEAD = do_OPTIONS = _serve

    def log_message(self, format: str, *args: Any) -> None:
        if not self.quiet:
            super().log_message(format, *args)


@dataclass
class LocalRuntime:
    port: int = 3000
    host: str = "127.0.0.1"
    quiet: bool = False
    state_dir: Path = STATE_DIR
    stop_event: threading.Event = field(default_factory=threading.Event)

    def start(self) -> dict[str, Any]:
        from moto.server import ThreadedMotoServer

        fake_aws_environment()
        # Webhook endpoints may point at a receiver on this machine (billing.payments.urls needs
        # this and STAGE=local); the template never sets it, so deployed functions refuse loopback.
        os.environ.setdefault("ALLOW_LOOPBACK_WEBHOOKS", "true")
        configure_moto()
        logging.getLogger("werkzeug").setLevel(logging.ERROR)  # moto's request log
        moto_port = free_port()
        self.moto = ThreadedMotoServer(ip_address="127.0.0.1", port=moto_port, verbose=False)
        self.moto.start()
        self.aws_endpoint_url = f"http://127.0.0.1:{moto_port}"
        os.environ["AWS_ENDPOINT_URL"] = self.aws_endpoint_url
        os.environ["MOTO_PORT"] = str(moto_port)  # where moto's Step Functions interpreter calls AWS

        self.stack = provision(endpoint_url=self.aws_endpoint_url)
        self.functions = Functions(self.stack)
        self.functions.install_environment()
        self.functions.load_all()
        install_lambda_bridge(self.functions)
        install_ses_outbox(self.state_dir / "outbox")

        demo = seed_demo_tenant()
        gateway = gateway_for(self.stack, self.functions)
        handler = type("Handler", (_Handler,), {"gateway": gateway, "quiet": self.quiet})
        self.http = ThreadingHTTPServer((self.host, self.port), handler)
        self.http.daemon_threads = True
        self.port = int(self.http.server_address[1])
        self.http_thread = threading.Thread(target=self.http.serve_forever, name="http", daemon=True)
        self.http_thread.start()
        self.pollers: list[SqsPoller] = start_pollers(
            self.stack, self.functions, self.stop_event, self.aws_endpoint_url
        )

        base_url = f"http://{self.host}:{self.port}"
        self.demo = {
            "base_url": base_url,
            "aws_endpoint_url": self.aws_endpoint_url,
            "region": REGION,
            "table_name": self.stack.ref("BillingTable"),
            "bucket_name": self.stack.ref("FilesBucket"),
            **demo,
        }
        self.state_dir.mkdir(parents=True, exist_ok=True)
        (self.state_dir / "demo.json").write_text(json.dumps(self.demo, indent=2) + "\n")
        return self.demo

    def stop(self) -> None:
        self.stop_event.set()
        self.http.shutdown()
        self.http.server_close()
        for poller in self.pollers:
            poller.join(timeout=5)
        self.moto.stop()
