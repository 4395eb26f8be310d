"""Per-client throttling of the B2B API (billing.store.b2b_throttle): fixed windows per second
and per minute, limits from the client record or the defaults, 429 + Retry-After, atomic under
concurrency, other clients unaffected, unauthenticated calls not counted."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor

import pytest
from billing.domain.errors import TooManyRequests

from tests.conftest import Tenant, make_tenant
from tests.support.aws import LocalStack
from tests.support.b2b import B2bHttp, access_token, make_b2b_client
from tests.support.client import ApiClient

STATUS = "/billing/b2b/v1/status"


@pytest.fixture(scope="module")
def tenant(aws: LocalStack) -> Tenant:
    return make_tenant("throttle")


def caller(aws: LocalStack, tenant: Tenant, limits: tuple[int | None, int | None]) -> B2bHttp:
    creds = make_b2b_client(tenant.tenant_id, rate_limits=limits)
    return B2bHttp(ApiClient(aws.gateway), access_token(creds), creds.api_key)


def record(tenant: Tenant, limits: tuple[int | None, int | None]) -> object:
    from billing.store.b2b_clients import B2bClients

    creds = make_b2b_client(tenant.tenant_id, rate_limits=limits)
    return B2bClients().get(tenant.tenant_id, creds.record_id)


def away_from_the_minute_boundary() -> None:
    """Start a minute-window test with at least 5 s left in the current minute."""
    left = 60 - time.time() % 60
    if left < 5:
        time.sleep(left + 0.05)


@pytest.fixture
def default_limits(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from billing.b2b_settings import b2b_settings

    monkeypatch.setenv("B2B_RATE_PER_SECOND", "2")
    monkeypatch.setenv("B2B_RATE_PER_MINUTE", "0")
    b2b_settings.cache_clear()
    yield
    monkeypatch.undo()
    b2b_settings.cache_clear()


def test_windows_with_a_clock(aws: LocalStack, tenant: Tenant) -> None:
    from billing.store.b2b_throttle import throttle

    client = record(tenant, (2, 3))
    t0 = 1_800_000_000.25  # 0.25 s into a second and into a minute
    throttle.check(tenant.tenant_id, client, now=t0)  # type: ignore[arg-type]
    throttle.check(tenant.tenant_id, client, now=t0 + 0.5)  # type: ignore[arg-type]
    with pytest.raises(TooManyRequests) as refused:
        throttle.check(tenant.tenant_id, client, now=t0 + 0.7)  # type: ignore[arg-type]
    assert refused.value.retry_after == 1
    assert "2 per second" in refused.value.messages[0]
    throttle.check(tenant.tenant_id, client, now=t0 + 1)  # type: ignore[arg-type]  # next second, 3rd in the minute
    with pytest.raises(TooManyRequests) as refused:
        throttle.check(tenant.tenant_id, client, now=t0 + 2)  # type: ignore[arg-type]
    assert refused.value.retry_after == 58  # until the minute ends (2.25 -> 60)
    assert "3 per minute" in refused.value.messages[0]
    throttle.check(tenant.tenant_id, client, now=t0 + 60)  # type: ignore[arg-type]  # the next minute


def test_window_items_expire(aws: LocalStack, tenant: Tenant) -> None:
    from billing.store import keys
    from billing.store.b2b_throttle import THROTTLE_KIND, throttle
    from billing.store.table import Table

    client = record(tenant, (5, 0))
    throttle.check(tenant.tenant_id, client, now=1_800_000_100.5)  # type: ignore[arg-type]
    item = Table().get(keys.tenant_pk(tenant.tenant_id, THROTTLE_KIND), f"{client.id}#s#1800000100")  # type: ignore[attr-defined]
    assert item is not None
    assert item["n"] == 1
    assert item["expires_at"] == 1_800_000_101 + 60


def test_http_429_with_retry_after(aws: LocalStack, tenant: Tenant) -> None:
    away_from_the_minute_boundary()
    limited = caller(aws, tenant, (0, 3))
    for _ in range(3):
        assert limited.get(STATUS).status == 200
    refused = limited.get(STATUS)
    assert refused.status == 429
    assert refused.json()["error"] == "too_many_requests"
    assert "3 per minute" in refused.json()["error_description"]
    assert 1 <= int(refused.header("Retry-After") or 0) <= 60
    assert limited.get("/billing/b2b/v1/bills").status == 429  # every route counts
    other = caller(aws, tenant, (0, 3))  # another client of the same tenant has its own windows
    assert other.get(STATUS).status == 200


def test_defaults_apply_without_a_limit_on_the_record(
    aws: LocalStack, tenant: Tenant, default_limits: None
) -> None:
    client = caller(aws, tenant, (None, None))
    time.sleep(1 - time.time() % 1 + 0.02)  # at the start of a second
    statuses = [client.get(STATUS).status for _ in range(3)]
    assert statuses == [200, 200, 429]


def test_zero_means_no_limit(aws: LocalStack, tenant: Tenant, default_limits: None) -> None:
    client = caller(aws, tenant, (0, 0))
    assert all(client.get(STATUS).status == 200 for _ in range(6))


def test_concurrent_calls_never_exceed_the_limit(aws: LocalStack, tenant: Tenant) -> None:
    away_from_the_minute_boundary()
    limited = caller(aws, tenant, (0, 5))
    with ThreadPoolExecutor(max_workers=8) as pool:
        statuses = list(pool.map(lambda _: limited.get(STATUS).status, range(16)))
    assert sorted(statuses) == [200] * 5 + [429] * 11


def test_unauthenticated_calls_are_not_counted(aws: LocalStack, tenant: Tenant) -> None:
    away_from_the_minute_boundary()
    limited = caller(aws, tenant, (0, 2))
    wrong_key = B2bHttp(limited.http, limited.token, "fb2b_wrong")
    for _ in range(5):
        assert wrong_key.get(STATUS).status == 401
    assert [limited.get(STATUS).status for _ in range(3)] == [200, 200, 429]
