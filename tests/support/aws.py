"""In-process AWS for integration tests: moto's mock, provisioned from template.yaml."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from moto import mock_aws

from local.apigw import LocalApiGateway
from local.bridges import configure_moto, install_lambda_bridge
from local.functions import Functions
from local.provision import Stack, provision
from local.runtime import fake_aws_environment, gateway_for
from local.template import load_template

MOTO_CONFIG: Any = {
    "core": {"reset_boto3_session": False},
    "stepfunctions": {"execute_state_machine": True},
    "lambda": {"use_docker": False},
}


@dataclass
class LocalStack:
    stack: Stack
    functions: Functions
    gateway: LocalApiGateway


@contextmanager
def local_stack(template: dict[str, Any] | None = None) -> Iterator[LocalStack]:
    fake_aws_environment()
    configure_moto()
    with mock_aws(config=MOTO_CONFIG):
        from billing.config import settings
        from billing.store.aws import reset_clients

        stack = provision(template or load_template())
        functions = Functions(stack)
        functions.install_environment()
        settings.cache_clear()
        reset_clients()
        install_lambda_bridge(functions)
        yield LocalStack(stack=stack, functions=functions, gateway=gateway_for(stack, functions))
        reset_clients()
