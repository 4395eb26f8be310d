"""Hooks into moto so the in-process functions take part in AWS-side flows:
Step Functions Lambda tasks call our handlers, and SES keeps every message in an outbox.

Each hook patches moto once; what it routes to is registered here, so a test can add the
functions of its own template next to the real ones."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from local.functions import Functions, LocalFunction

_function_sets: list[Functions] = []
_outboxes: list[Path] = []
_patched: set[str] = set()


def configure_moto() -> None:
    """Run state machines for real and Lambda without Docker (DESIGN.md, local runtime), and give
    DynamoDB its real atomicity and query costs (local/dynamodb_fidelity.py)."""
    from moto.core.models import default_user_config

    from local import dynamodb_fidelity

    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
    default_user_config.setdefault("lambda", {})["use_docker"] = False
    dynamodb_fidelity.install()


def _resolve(name_or_arn: str) -> LocalFunction:
    for functions in reversed(_function_sets):
        try:
            return functions.resolve(name_or_arn)
        except LookupError:
            continue
    raise LookupError(f"no local function {name_or_arn!r}")


def install_lambda_bridge(functions: Functions) -> None:
    """moto's Docker-free Lambda backend echoes its input; make it call our handlers instead."""
    _function_sets.append(functions)
    if "lambda" in _patched:
        return
    from moto.awslambda_simple.models import LambdaSimpleBackend

    def invoke(
        self: Any,
        function_name: str,
        qualifier: Any,
        body: Any,
        headers: Any,
        response_headers: dict[str, str],
    ) -> bytes:
        event = json.loads(body) if body else {}
        try:
            result = _resolve(function_name).invoke(event)
        except Exception as exc:  # surfaced to Step Functions as a task failure it can Retry/Catch
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
        return json.dumps(result, default=str).encode()

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]
    _patched.add("lambda")


def install_ses_outbox(outbox: Path) -> None:
    """Write each e-mail moto's SES accepts to `outbox` as an .eml file."""
    outbox.mkdir(parents=True, exist_ok=True)
    _outboxes.append(outbox)
    if "ses" in _patched:
        return
    from moto.ses.models import SESBackend

    original = SESBackend.send_raw_email

    def send_raw_email(self: Any, source: Any, destinations: Any, raw_data: str) -> Any:
        message = original(self, source, destinations, raw_data)
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        (_outboxes[-1] / name).write_text(raw_data)
        return message

    SESBackend.send_raw_email = send_raw_email  # type: ignore[method-assign]
    _patched.add("ses")
