"""Hooks into moto so the in-process functions take part in AWS-side flows:
Step Functions Lambda tasks call our handlers, and SES keeps every message in an outbox."""

from __future__ import annotations

import json
import time
import uuid
from pathlib import Path
from typing import Any

from local.functions import Functions


def configure_moto() -> None:
    """Run state machines for real and Lambda without Docker (DESIGN.md, local runtime)."""
    from moto.core.models import default_user_config

    default_user_config.setdefault("stepfunctions", {})["execute_state_machine"] = True
    default_user_config.setdefault("lambda", {})["use_docker"] = False


def install_lambda_bridge(functions: Functions) -> None:
    """moto's Docker-free Lambda backend echoes its input; make it call our handler instead."""
    from moto.awslambda_simple.models import LambdaSimpleBackend

    def invoke(
        self: Any,
        function_name: str,
        qualifier: Any,
        body: Any,
        headers: Any,
        response_headers: dict[str, str],
    ) -> bytes:
        function = functions.resolve(function_name)
        event = json.loads(body) if body else {}
        try:
            result = function.invoke(event)
        except Exception as exc:  # surfaced to Step Functions as a task failure it can Retry/Catch
            response_headers["x-amz-function-error"] = "Unhandled"
            return json.dumps({"errorType": type(exc).__name__, "errorMessage": str(exc)}).encode()
        return json.dumps(result, default=str).encode()

    LambdaSimpleBackend.invoke = invoke  # type: ignore[method-assign]


def install_ses_outbox(outbox: Path) -> None:
    """Write each e-mail moto's SES accepts to `outbox` as an .eml file."""
    from moto.ses.models import SESBackend

    outbox.mkdir(parents=True, exist_ok=True)
    original = SESBackend.send_raw_email

    def send_raw_email(self: Any, source: Any, destinations: Any, raw_data: str) -> Any:
        message = original(self, source, destinations, raw_data)
        name = f"{time.strftime('%Y%m%dT%H%M%S')}-{uuid.uuid4().hex[:8]}.eml"
        (outbox / name).write_text(raw_data)
        return message

    SESBackend.send_raw_email = send_raw_email  # type: ignore[method-assign]
