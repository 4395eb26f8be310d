"""AWS clients, created on first use and kept for the life of the container.

Endpoints come from the standard AWS_ENDPOINT_URL variable, which the local runtime points at
moto, so the code has no local-only branches."""

from __future__ import annotations

from functools import cache
from typing import Any

import boto3
from botocore.config import Config

_CLIENT_CONFIG = Config(retries={"max_attempts": 5, "mode": "adaptive"}, connect_timeout=3, read_timeout=10)


@cache
def client(service: str) -> Any:
    return boto3.session.Session().client(service, config=_CLIENT_CONFIG)  # type: ignore[call-overload]


def reset_clients() -> None:
    """Forget cached clients (tests and the local runtime switch endpoints)."""
    client.cache_clear()
