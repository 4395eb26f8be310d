"""The template's functions, loaded in-process. Each handler module is imported under its own
name (every function's module is called `app.py`), with the environment the template gives it."""

from __future__ import annotations

import importlib.util
import os
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from types import ModuleType
from typing import Any

from local.provision import Stack
from local.template import ACCOUNT_ID, REGION, ROOT, FunctionSpec, function_specs

LAYER_PATH = ROOT / "layers" / "core"

# Variables that legitimately differ per function; applied only while that function's module is
# imported (Powertools reads them when Logger/Tracer/Metrics are created).
_PER_FUNCTION_VARIABLES = {"POWERTOOLS_SERVICE_NAME"}


@dataclass
class LambdaContext:
    function_name: str
    timeout_seconds: int
    memory_limit_in_mb: int = 512
    function_version: str = "$LATEST"
    aws_request_id: str = field(default_factory=lambda: str(uuid.uuid4()))
    log_group_name: str = "/aws/lambda/local"
    log_stream_name: str = "local"
    _deadline: float = field(default=0.0)

    def __post_init__(self) -> None:
        self._deadline = time.monotonic() + self.timeout_seconds
        self.invoked_function_arn = f"arn:aws:lambda:{REGION}:{ACCOUNT_ID}:function:{self.function_name}"

    def get_remaining_time_in_millis(self) -> int:
        return max(0, int((self._deadline - time.monotonic()) * 1000))


@dataclass
class LocalFunction:
    spec: FunctionSpec
    environment: dict[str, str]
    module: ModuleType | None = None

    @property
    def name(self) -> str:
        return self.spec.logical_id

    def load(self) -> None:
        module_file, _, attribute = self.spec.handler.rpartition(".")
        path = self.spec.code_uri / f"{module_file.replace('.', '/')}.py"
        module_name = f"factura_functions.{self.name}"
        spec = importlib.util.spec_from_file_location(module_name, path)
        if spec is None or spec.loader is None:
            raise ImportError(f"cannot load {path}")
        module = importlib.util.module_from_spec(spec)
        sys.modules[module_name] = module
        with _temporary_environment(
            {k: v for k, v in self.environment.items() if k in _PER_FUNCTION_VARIABLES}
        ):
            spec.loader.exec_module(module)
        if not callable(getattr(module, attribute, None)):
            raise ImportError(f"{path} has no handler {attribute}")
        self.module = module

    @property
    def handler(self) -> Callable[[Any, Any], Any]:
        if self.module is None:
            self.load()
        return getattr(self.module, self.spec.handler.rpartition(".")[2])  # type: ignore[no-any-return]

    def invoke(self, event: Any) -> Any:
        return self.handler(event, LambdaContext(self.name, self.spec.timeout))


class Functions:
    """All functions of the stack, by logical id (which is also their local function name)."""

    def __init__(self, stack: Stack) -> None:
        self.by_name: dict[str, LocalFunction] = {}
        shared: dict[str, str] = {}
        for spec in function_specs(stack.template):
            env = {k: str(v) for k, v in stack.context.resolve(spec.environment).items() if v is not None}
            for key, value in env.items():
                if key in _PER_FUNCTION_VARIABLES:
                    continue
                if shared.setdefault(key, value) != value:
                    raise RuntimeError(
                        f"{spec.logical_id} sets {key}={value!r} but another function sets {shared[key]!r}; "
                        "in-process functions share one environment, so keep shared settings in Globals"
                    )
            self.by_name[spec.logical_id] = LocalFunction(spec=spec, environment=env)
        self.shared_environment = shared

    def install_environment(self) -> None:
        """Export the shared variables and make the layer importable, as Lambda would."""
        os.environ.update(self.shared_environment)
        os.environ.setdefault("POWERTOOLS_TRACE_DISABLED", "true")
        os.environ.setdefault("POWERTOOLS_METRICS_DISABLED", "true")
        if str(LAYER_PATH) not in sys.path:
            sys.path.insert(0, str(LAYER_PATH))

    def load_all(self) -> None:
        for function in self.by_name.values():
            function.load()

    def resolve(self, name_or_arn: str) -> LocalFunction:
        name = name_or_arn.split(":function:", 1)[-1].split(":", 1)[0]
        try:
            return self.by_name[name]
        except KeyError:
            raise LookupError(f"no function {name_or_arn!r} in template.yaml") from None


@contextmanager
def _temporary_environment(values: dict[str, str]) -> Iterator[None]:
    saved = {k: os.environ.get(k) for k in values}
    os.environ.update(values)
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value
