"""B2B billing accounts through the gateway: the reference's JSON shape, pagination headers,
sort, URL filters (nested, repeated), 400s that say why, scopes and tenant isolation."""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import urlencode

import pytest

from tests.conftest import Tenant, make_tenant
from tests.support.aws import LocalStack
from tests.support.b2b import B2bHttp, access_token, make_b2b_client
from tests.support.client import ApiClient

ACCOUNTS = "/billing/b2b/v1/billingAccounts"
T0 = datetime(2024, 3, 1, 8, 0, 0, 123000, tzinfo=UTC)

# name, is_company, country, created offset (days), updated offset (days)
PEOPLE = [
    ("ACME Corp", True, "RO", 0, 5),
    ("Globex", True, "DE", 1, 1),
    ("Initech", True, None, 2, 9),
    ("Ana Popescu", False, "RO", 3, 3),
    ("acme corp", True, "FR", 4, 4),
]


@dataclass
class World:
    tenant: Tenant
    ids: dict[str, int]
    caller: B2bHttp
    http: ApiClient

    def scoped(self, *names: str) -> B2bHttp:
        creds = make_b2b_client(self.tenant.tenant_id, [self.ids[n] for n in names])
        return B2bHttp(self.http, access_token(creds), creds.api_key)


def add_client(
    tenant_id: int, name: str, is_company: bool, country: str | None, created: int, updated: int
) -> int:
    from billing.domain.clients import Client
    from billing.domain.reference_data import country as find_country
    from billing.store.clients import clients

    record = clients.insert(
        tenant_id,
        lambda new_id: Client(
            id=new_id,
            name=name,
            is_company=is_company,
            uid="RO1" if is_company else "",
            country_id=find_country(country).id if country else None,
            created_at=T0 + timedelta(days=created),
            updated_at=T0 + timedelta(days=updated),
        ),
    )
    return record.id


@pytest.fixture(scope="module")
def world(aws: LocalStack) -> Iterator[World]:
    tenant = make_tenant("b2b")
    ids = {name: add_client(tenant.tenant_id, name, *rest) for name, *rest in PEOPLE}
    other = make_tenant("b2b-other")
    add_client(other.tenant_id, "ACME Corp", True, "RO", 0, 0)
    http = ApiClient(aws.gateway)
    creds = make_b2b_client(tenant.tenant_id)
    yield World(tenant, ids, B2bHttp(http, access_token(creds), creds.api_key), http)


def names(response: Any) -> list[str]:
    assert response.status == 200, response.text
    return [account["name"] for account in response.json()]


def listing(caller: B2bHttp, params: dict[str, Any] | list[tuple[str, str]] | None = None) -> Any:
    query = urlencode(params or {}, doseq=True)
    return caller.get(f"{ACCOUNTS}?{query}" if query else ACCOUNTS)


def counts(response: Any) -> tuple[int, int]:
    return int(response.header("X-Total-Count")), int(response.header("X-Result-Count"))


def bad_request(response: Any, fragment: str) -> None:
    assert response.status == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_request"
    assert fragment in body["error_description"], body


# -- shape ---------------------------------------------------------------------------------------


def test_list_in_creation_order_with_headers(world: World) -> None:
    response = listing(world.caller)
    assert response.header("Content-Type") == "application/json; charset=UTF-8"
    assert names(response) == [p[0] for p in PEOPLE]
    assert counts(response) == (5, 5)


def test_billing_account_shape(world: World) -> None:
    account_id = world.ids["ACME Corp"]
    response = world.caller.get(f"{ACCOUNTS}/{account_id}")
    assert response.status == 200, response.text
    assert response.header("Content-Type") == "application/json; charset=UTF-8"
    assert response.json() == {
        "id": str(account_id),
        "name": "ACME Corp",
        "customer": {"id": str(account_id), "name": "ACME Corp", "segment": "company"},
        "currency": {"id": "EUR"},
        "country": {"id": "RO"},
        "createdAt": "2024-03-01T08:00:00.123Z",
        "updatedAt": "2024-03-06T08:00:00.123Z",
    }
    listed = next(a for a in listing(world.caller).json() if a["id"] == str(account_id))
    assert listed == response.json()
    initech = world.caller.get(f"{ACCOUNTS}/{world.ids['Initech']}").json()
    assert initech["country"] is None
    person = world.caller.get(f"{ACCOUNTS}/{world.ids['Ana Popescu']}").json()
    assert person["customer"]["segment"] == "individual"


def test_timestamps_have_milliseconds(world: World) -> None:
    for account in listing(world.caller).json():
        for field in ("createdAt", "updatedAt"):
            assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z", account[field])


@pytest.mark.parametrize("ref", ["12345", "abc", "0", "1.5", "99999999999999999999"])
def test_unknown_account_is_404(world: World, ref: str) -> None:
    response = world.caller.get(f"{ACCOUNTS}/{ref}")
    assert response.status == 404
    assert response.json()["error"] == "not_found"


def test_post_is_405(world: World) -> None:
    response = world.http.request("POST", ACCOUNTS, auth=False, headers=world.caller.headers())
    assert response.status == 405 and response.header("Allow") == "GET"
    assert response.json()["error"] == "method_not_allowed"


def test_needs_token_and_key(world: World) -> None:
    assert world.http.get(ACCOUNTS, auth=False).status == 401
    no_key = B2bHttp(world.http, world.caller.token, None)
    assert no_key.get(f"{ACCOUNTS}/{world.ids['Globex']}").json()["error"] == "invalid_api_key"


# -- pagination ----------------------------------------------------------------------------------


def test_offset_and_limit(world: World) -> None:
    response = listing(world.caller, {"offset": 1, "limit": 2})
    assert names(response) == ["Globex", "Initech"]
    assert counts(response) == (5, 2)
    response = listing(world.caller, {"offset": 4, "limit": 100})
    assert names(response) == ["acme corp"] and counts(response) == (5, 1)
    response = listing(world.caller, {"offset": 10})
    assert names(response) == [] and counts(response) == (5, 0)


def test_default_limit_is_20(aws: LocalStack) -> None:
    tenant = make_tenant("many")
    for i in range(23):
        add_client(tenant.tenant_id, f"Client {i:02d}", False, None, i, i)
    creds = make_b2b_client(tenant.tenant_id)
    caller = B2bHttp(ApiClient(aws.gateway), access_token(creds), creds.api_key)
    response = caller.get(ACCOUNTS)
    assert names(response) == [f"Client {i:02d}" for i in range(20)]
    assert counts(response) == (23, 20)
    assert names(caller.get(f"{ACCOUNTS}?offset=20")) == ["Client 20", "Client 21", "Client 22"]


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("limit=0", "'limit' must be a whole number from 1 to 100"),
        ("limit=101", "'limit' must be a whole number from 1 to 100, got 101"),
        ("limit=abc", "'limit' must be a whole number"),
        ("limit=", "'limit' must be a whole number"),
        ("offset=-1", "'offset' must be a whole number of at least 0"),
        ("offset=1e3", "'offset' must be a whole number"),
        ("limit=5&limit=6", "'limit' is given 2 times"),
        ("sort=name&sort=id", "'sort' is given 2 times"),
    ],
)
def test_bad_window_is_400(world: World, query: str, fragment: str) -> None:
    bad_request(world.caller.get(f"{ACCOUNTS}?{query}"), fragment)


# -- sort ----------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("sort", "expected"),
    [
        ("name", ["ACME Corp", "Ana Popescu", "Globex", "Initech", "acme corp"]),
        ("-name", ["acme corp", "Initech", "Globex", "Ana Popescu", "ACME Corp"]),
        ("-updatedAt", ["Initech", "ACME Corp", "acme corp", "Ana Popescu", "Globex"]),
        ("createdAt", [p[0] for p in PEOPLE]),
        ("country.id,-name", ["Globex", "acme corp", "Ana Popescu", "ACME Corp", "Initech"]),
        ("customer.segment,name", ["ACME Corp", "Globex", "Initech", "acme corp", "Ana Popescu"]),
    ],
)
def test_sort(world: World, sort: str, expected: list[str]) -> None:
    assert names(listing(world.caller, {"sort": sort})) == expected


def test_sort_then_window(world: World) -> None:
    response = listing(world.caller, {"sort": "-updatedAt", "offset": 1, "limit": 2})
    assert names(response) == ["ACME Corp", "acme corp"] and counts(response) == (5, 2)


@pytest.mark.parametrize(
    ("sort", "fragment"),
    [
        ("colour", "cannot sort on unknown field 'colour'"),
        ("nmae", "did you mean 'name'?"),
        ("name,", "empty field name at position 2"),
        ("name,-name", "names field 'name' more than once"),
    ],
)
def test_bad_sort_is_400(world: World, sort: str, fragment: str) -> None:
    bad_request(listing(world.caller, {"sort": sort}), fragment)


# -- filters -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"name": "Globex"}, ["Globex"]),
        ({"customer.name": "ACME Corp"}, ["ACME Corp"]),
        ({"customer.segment": "individual"}, ["Ana Popescu"]),
        ({"country.id": "RO"}, ["ACME Corp", "Ana Popescu"]),
        ([("country.id", "RO"), ("country.id", "DE")], ["ACME Corp", "Globex", "Ana Popescu"]),
        ({"country.id": "RO", "customer.segment": "company"}, ["ACME Corp"]),
        ({"currency.id": "EUR"}, [p[0] for p in PEOPLE]),
        ({"currency.id": "RON"}, []),
        ({"createdAt": "2024-03-02T08:00:00.123Z"}, ["Globex"]),
        ({"createdAt": "2024-03-02T10:00:00.123+02:00"}, ["Globex"]),
        ({"name": "Nobody"}, []),
    ],
)
def test_filters(world: World, params: Any, expected: list[str]) -> None:
    response = listing(world.caller, params)
    assert names(response) == expected
    assert counts(response) == (len(expected), len(expected))


def test_nested_filter_with_a_space_as_in_the_reference(world: World) -> None:
    for query in ("customer.name=ACME%20Corp", "customer.name=ACME+Corp"):
        assert names(world.caller.get(f"{ACCOUNTS}?{query}")) == ["ACME Corp"]


def test_id_filter(world: World) -> None:
    globex, initech = str(world.ids["Globex"]), str(world.ids["Initech"])
    assert names(listing(world.caller, {"id": globex})) == ["Globex"]
    response = listing(world.caller, [("id", initech), ("id", globex), ("id", "123"), ("id", "x")])
    assert names(response) == ["Globex", "Initech"] and counts(response) == (2, 2)


def test_filter_sort_and_window_together(world: World) -> None:
    response = listing(
        world.caller, {"customer.segment": "company", "sort": "-name", "limit": 2, "offset": 1}
    )
    assert names(response) == ["Initech", "Globex"]
    assert counts(response) == (4, 2)


@pytest.mark.parametrize(
    ("query", "fragment"),
    [
        ("colour=red", "unknown filter 'colour'"),
        ("customer.nam=ACME", "did you mean 'customer.name'?"),
        ("customer=ACME", "unknown filter 'customer'"),
        ("name=", "filter 'name' has an empty value"),
        ("createdAt=yesterday", "filter 'createdAt' needs an ISO 8601 date-time"),
    ],
)
def test_bad_filter_is_400(world: World, query: str, fragment: str) -> None:
    bad_request(world.caller.get(f"{ACCOUNTS}?{query}"), fragment)


# -- scope and tenants -----------------------------------------------------------------------------


def test_scoped_client_sees_only_its_accounts(world: World) -> None:
    caller = world.scoped("Initech", "ACME Corp")
    response = listing(caller)
    assert names(response) == ["ACME Corp", "Initech"] and counts(response) == (2, 2)
    assert caller.get(f"{ACCOUNTS}/{world.ids['Initech']}").status == 200
    outside = caller.get(f"{ACCOUNTS}/{world.ids['Globex']}")
    assert outside.status == 404 and outside.json()["error"] == "not_found"
    assert names(listing(caller, {"customer.segment": "company", "sort": "-name"})) == [
        "Initech",
        "ACME Corp",
    ]
    assert names(listing(caller, {"name": "Globex"})) == []
    response = listing(caller, {"id": str(world.ids["Globex"])})
    assert names(response) == [] and counts(response) == (0, 0)
    assert names(listing(caller, [("id", str(world.ids["Globex"])), ("id", str(world.ids["Initech"]))])) == [
        "Initech"
    ]


def test_scope_naming_a_deleted_client(aws: LocalStack, world: World) -> None:
    from billing.store.clients import clients

    doomed = add_client(world.tenant.tenant_id, "Doomed", False, None, 10, 10)
    creds = make_b2b_client(world.tenant.tenant_id, [doomed, world.ids["Globex"]])
    clients.delete(world.tenant.tenant_id, doomed)
    caller = B2bHttp(world.http, access_token(creds), creds.api_key)
    assert names(listing(caller)) == ["Globex"]
    assert caller.get(f"{ACCOUNTS}/{doomed}").status == 404


def test_other_tenants_accounts_are_invisible(aws: LocalStack, world: World) -> None:
    other = make_tenant("intruder")
    theirs = add_client(other.tenant_id, "Theirs", True, "RO", 0, 0)
    creds = make_b2b_client(other.tenant_id)
    intruder = B2bHttp(world.http, access_token(creds), creds.api_key)
    assert names(listing(intruder)) == ["Theirs"]
    for account_id in world.ids.values():
        assert intruder.get(f"{ACCOUNTS}/{account_id}").status == 404
        assert names(listing(intruder, {"id": str(account_id)})) == []
    assert world.caller.get(f"{ACCOUNTS}/{theirs}").status == 404
    assert str(theirs) not in listing(world.caller).text


def test_reads_query_only_the_tenants_partitions(world: World) -> None:
    """Listings never Scan, and every Query and BatchGetItem stays in the caller's tenant."""
    from billing.store.aws import client

    ddb = client("dynamodb")
    seen: list[tuple[str, Any]] = []

    def record(params: dict[str, Any], model: Any, **_: Any) -> None:
        seen.append((model.name, params))

    ddb.meta.events.register("provide-client-params.dynamodb.*", record)
    try:
        listing(world.caller, {"customer.segment": "company", "sort": "name"})
        listing(world.scoped("Globex"))
        listing(world.caller, {"id": str(world.ids["Globex"])})
    finally:
        ddb.meta.events.unregister("provide-client-params.dynamodb.*", record)
    operations = {name for name, _ in seen}
    assert "Scan" not in operations
    assert {"Query", "BatchGetItem", "GetItem"} <= operations
    prefix = f"T#{world.tenant.tenant_id}#"
    for name, params in seen:
        if name == "Query":
            assert params["ExpressionAttributeValues"][":pk"]["S"].startswith(prefix)
        elif name == "BatchGetItem":
            for request in params["RequestItems"].values():
                assert all(key["PK"]["S"].startswith(prefix) for key in request["Keys"])
        elif name == "GetItem":
            assert params["Key"]["PK"]["S"].startswith(prefix)
