"""`make run` as a user meets it: a real process, real sockets, real HTTP clients."""

from __future__ import annotations

import socket
import subprocess
import time
import xml.etree.ElementTree as ET
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import RunningRuntime, start_runtime, stop_runtime

pytestmark = pytest.mark.e2e


def test_account_with_curl(runtime: RunningRuntime) -> None:
    """The README's first command, verbatim but for key and port."""
    result = subprocess.run(
        ["curl", "-s", "-i", "-u", f"{runtime.api_key}:", f"{runtime.base_url}/api/v1/account.xml"],
        capture_output=True,
        check=True,
        timeout=10,
    )
    head, _, body = result.stdout.partition(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 200")
    assert ET.fromstring(body).findtext("id") == str(runtime.demo["tenant_id"])


def test_without_key_401_and_delete_405(runtime: RunningRuntime) -> None:
    with httpx.Client(base_url=runtime.base_url) as http:
        unauthorized = http.get("/api/v1/account.xml")
        assert unauthorized.status_code == 401
        assert ET.fromstring(unauthorized.content).tag == "errors"
        not_allowed = http.delete("/api/v1/account.xml", auth=(runtime.api_key, "x"))
        assert not_allowed.status_code == 405


def test_hostile_xml_over_http(runtime: RunningRuntime) -> None:
    payload = '<?xml version="1.0"?><!DOCTYPE a [<!ENTITY x SYSTEM "file:///etc/passwd">]><branch_office><name>&x;</name></branch_office>'
    with httpx.Client(base_url=runtime.base_url, auth=(runtime.api_key, "x")) as http:
        response = http.post(
            "/api/v1/branch_offices.xml", content=payload, headers={"Content-Type": "application/xml"}
        )
        assert response.status_code == 400
        assert len(ET.fromstring(http.get("/api/v1/branch_offices.xml").content)) == 0


def test_demo_file_has_what_clients_need(runtime: RunningRuntime) -> None:
    for key in ("base_url", "tenant_id", "api_key", "aws_endpoint_url"):
        assert runtime.demo[key]


def test_operator_cli_creates_a_working_tenant(runtime: RunningRuntime) -> None:
    import json
    import os
    import sys

    from local.template import ROOT

    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "billing.admin",
            "--local",
            str(runtime.state_dir / "demo.json"),
            "tenant",
            "create",
            "--name",
            "ACME",
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'core'}{os.pathsep}{ROOT}"},
    )
    created = json.loads(result.stdout)
    account = httpx.get(f"{runtime.base_url}/api/v1/account.json", auth=(created["api_key"], "x"))
    assert account.status_code == 200
    assert account.json()["name"] == "ACME" and account.json()["id"] == created["tenant_id"]


def test_ctrl_c_stops_cleanly(tmp_path: Path) -> None:
    """A second runtime: starts within the budget, answers, and on SIGINT exits 0 and frees its port."""
    started = time.monotonic()
    running = start_runtime(tmp_path)
    assert time.monotonic() - started < 30
    response = httpx.get(f"{running.base_url}/api/v1/account.xml", auth=(running.api_key, "x"))
    assert response.status_code == 200
    assert stop_runtime(running) == 0
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", running.port))  # would raise if anything still listened
