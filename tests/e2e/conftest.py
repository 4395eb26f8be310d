"""The real local runtime (`python -m local`, what `make run` starts) in a subprocess, over HTTP."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from local.runtime import free_port
from local.template import ROOT

START_TIMEOUT_S = 30


@dataclass
class RunningRuntime:
    process: subprocess.Popen[str]
    port: int
    state_dir: Path
    demo: dict[str, Any]

    @property
    def base_url(self) -> str:
        return self.demo["base_url"]

    @property
    def api_key(self) -> str:
        return str(self.demo["api_key"])


def start_runtime(state_dir: Path) -> RunningRuntime:
    port = free_port()
    env = {
        **os.environ,
        "PORT": str(port),
        "FACTURA_STATE_DIR": str(state_dir),
        "PYTHONPATH": f"{ROOT / 'layers' / 'core'}{os.pathsep}{ROOT}",
        "QUIET": "1",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "local"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    demo_file = state_dir / "demo.json"
    deadline = time.monotonic() + START_TIMEOUT_S
    while not demo_file.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            process.kill()
            output = process.stdout.read() if process.stdout else ""
            raise RuntimeError(f"local runtime did not start within {START_TIMEOUT_S}s:\n{output}")
        time.sleep(0.1)
    return RunningRuntime(process, port, state_dir, json.loads(demo_file.read_text()))


def create_tenant(runtime: RunningRuntime, name: str) -> dict[str, Any]:
    """A tenant of its own, made with the operator CLI (so tests don't share the demo tenant's
    endpoints, deliveries and counters): {tenant_id, user_id, api_key}."""
    result = subprocess.run(
        [
            *(sys.executable, "-m", "billing.admin", "--local", str(runtime.state_dir / "demo.json")),
            *("tenant", "create", "--name", name, "--country-id", "642"),
        ],
        capture_output=True,
        text=True,
        check=True,
        timeout=30,
        cwd=ROOT,
        env={**os.environ, "PYTHONPATH": f"{ROOT / 'layers' / 'core'}{os.pathsep}{ROOT}"},
    )
    return dict(json.loads(result.stdout))


def stop_runtime(runtime: RunningRuntime) -> int:
    runtime.process.send_signal(signal.SIGINT)
    try:
        return runtime.process.wait(timeout=15)
    except subprocess.TimeoutExpired:
        runtime.process.kill()
        raise


@pytest.fixture(scope="session")
def runtime(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningRuntime]:
    running = start_runtime(tmp_path_factory.mktemp("runtime"))
    yield running
    stop_runtime(running)
