from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest

from tests.support.aws import LocalStack, local_stack
from tests.support.client import ApiClient


@pytest.fixture(scope="session")
def aws() -> Iterator[LocalStack]:
    """One moto world for the session, built from template.yaml. Tests isolate themselves by
    working in tenants of their own (every key starts with the tenant)."""
    with local_stack() as world:
        yield world


@dataclass(frozen=True)
class Tenant:
    tenant_id: int
    user_id: int
    api_key: str


def make_tenant(name: str = "test") -> Tenant:
    from billing.store.accounts import Accounts

    created = Accounts().create_tenant(
        {"name": name, "company_name": f"{name} SRL", "company_country_id": 642},
        {"first_name": "Test", "last_name": "User"},
    )
    return Tenant(created.account.id, created.user.id, created.api_key.plaintext)


@pytest.fixture
def tenant(aws: LocalStack) -> Tenant:
    return make_tenant()


@pytest.fixture
def other_tenant(aws: LocalStack) -> Tenant:
    return make_tenant("other")


@pytest.fixture
def client(aws: LocalStack, tenant: Tenant) -> ApiClient:
    return ApiClient(aws.gateway, tenant.api_key)
