"""B2B snapshots (bill counters): every groupBy against an independent count of the stored
invoices, sort / offset / limit, filters answered by counters and by the index stream, scopes,
400s; and the counters staying right through a bill's life (create, mark_open, close, cancel,
payment closing and reopening, flags set by the API and by the issuance workflow)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tests.support.aws import LocalStack
from tests.support.b2b import B2bHttp
from tests.support.b2b_bills import SNAPSHOTS, Bills, build_world, counts, get, position

GROUPS = {
    "type": lambda r: r["type"],
    "state": lambda r: r["state"],
    "sendingFormat": lambda r: r["sendingFormat"],
    "currency.id": lambda r: r["currency"],
    "currency": lambda r: r["currency"],
    "customer.id": lambda r: str(r["customer"]),
    "billingAccount.id": lambda r: str(r["customer"]),
}


@pytest.fixture(scope="module")
def world(aws: LocalStack) -> Bills:
    return build_world(aws.gateway, "snapshots")


def caller(world: Bills) -> B2bHttp:
    assert world.caller is not None
    return world.caller


def snapshot(who: B2bHttp, params: dict[str, Any] | list[tuple[str, str]]) -> dict[str, int]:
    response = get(who, SNAPSHOTS, params)
    assert response.status == 200, response.text
    assert response.header("Content-Type") == "application/json; charset=UTF-8"
    body: dict[str, int] = response.json()
    assert counts(response)[1] == len(body)
    return body


def expected(records: list[dict[str, Any]], group: str) -> dict[str, int]:
    return dict(Counter(GROUPS[group](r) for r in records))


@pytest.fixture
def small_scan(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from billing.b2b_settings import b2b_settings

    monkeypatch.setenv("B2B_MAX_SCAN", "1")
    b2b_settings.cache_clear()
    yield
    monkeypatch.undo()
    b2b_settings.cache_clear()


@pytest.mark.parametrize("group", list(GROUPS))
def test_every_group_counts_like_the_oracle(world: Bills, group: str) -> None:
    found = snapshot(caller(world), {"groupBy": group, "limit": 100})
    assert found == expected(world.oracle(), group)


def test_reference_example_shapes(world: Bills) -> None:
    oracle = world.oracle()
    by_type = expected(oracle, "type")
    response = get(caller(world), SNAPSHOTS, {"groupBy": "type"})
    assert response.text == f'{{"invoice":{by_type["invoice"]},"creditNote":{by_type["creditNote"]}}}'
    body = snapshot(caller(world), {"groupBy": "sendingFormat", "sort": "-value"})
    assert list(body.values()) == sorted(body.values(), reverse=True)
    assert body == expected(oracle, "sendingFormat")


@pytest.mark.parametrize(
    ("sort", "key"),
    [
        ("key", lambda kv: kv[0]),
        ("-key", lambda kv: tuple(-ord(c) for c in kv[0])),
        ("value", lambda kv: (kv[1], kv[0])),
        ("-value", lambda kv: (-kv[1], kv[0])),
        (None, lambda kv: (-kv[1], kv[0])),
    ],
)
def test_sort_offset_limit(world: Bills, sort: str | None, key: Any) -> None:
    full = expected(world.oracle(), "customer.id")
    ordered = sorted(full.items(), key=key)
    params: dict[str, Any] = {"groupBy": "customer.id", "limit": 100}
    if sort:
        params["sort"] = sort
    assert list(snapshot(caller(world), params).items()) == ordered
    response = get(caller(world), SNAPSHOTS, {**params, "offset": 1, "limit": 2})
    assert list(response.json().items()) == ordered[1:3]
    assert counts(response) == (len(ordered), 2)


def test_filters(world: Bills) -> None:
    oracle = world.oracle()
    acme = world.clients["ACME Corp"]
    cases: list[tuple[list[tuple[str, str]], str, Any]] = [
        ([("customer.id", str(acme))], "state", lambda r: r["customer"] == acme),
        (
            [("customer.id", str(acme)), ("type", "invoice")],
            "type",
            lambda r: r["customer"] == acme and r["type"] == "invoice",
        ),
        ([("type", "invoice")], "state", lambda r: r["type"] == "invoice"),
        ([("customer.name", "Globex")], "currency", lambda r: r["customer_name"] == "Globex"),
        ([("billDate", "2024-05-20")], "customer.id", lambda r: r["billDate"] == date(2024, 5, 20)),
        ([("state", "open"), ("state", "closed")], "state", lambda r: r["state"] in ("open", "closed")),
        ([("amounts.due", "119.00")], "sendingFormat", lambda r: r["due"] == Decimal("119.00")),
        ([("customer.id", "404")], "type", lambda r: False),
    ]
    for filters, group, predicate in cases:
        found = snapshot(caller(world), [("groupBy", group), ("limit", "100"), *filters])
        assert found == expected([r for r in oracle if predicate(r)], group), (filters, group)


def test_counter_answered_filters_read_no_bills(world: Bills, small_scan: None) -> None:
    """With a read bound of 1 bill, whatever is still answered came from the counters."""
    oracle = world.oracle()
    acme = world.clients["ACME Corp"]
    assert snapshot(caller(world), {"groupBy": "state", "limit": 100}) == expected(oracle, "state")
    mine = [r for r in oracle if r["customer"] == acme]
    assert snapshot(caller(world), {"groupBy": "currency", "customer.id": str(acme)}) == expected(
        mine, "currency"
    )
    assert snapshot(caller(world), {"groupBy": "type", "type": "creditNote"}) == expected(
        [r for r in oracle if r["type"] == "creditNote"], "type"
    )
    response = get(caller(world), SNAPSHOTS, {"groupBy": "state", "customer.name": "ACME Corp"})
    assert response.status == 400
    assert "never limited" in response.json()["error_description"]


def test_scope(world: Bills) -> None:
    two = world.scoped("ACME Corp", "Ana Popescu")
    allowed = {world.clients["ACME Corp"], world.clients["Ana Popescu"]}
    mine = [r for r in world.oracle() if r["customer"] in allowed]
    for group in ("type", "state", "currency", "customer.id"):
        assert snapshot(two, {"groupBy": group, "limit": 100}) == expected(mine, group), group
    assert snapshot(two, {"groupBy": "type", "customer.id": str(world.clients["Globex"])}) == {}
    assert snapshot(two, {"groupBy": "state", "customer.name": "Globex"}) == {}


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({}, "'groupBy' is required"),
        ({"groupBy": "priority"}, "cannot group by 'priority'"),
        ({"groupBy": "type", "sort": "count"}, "snapshots sort by 'key', '-key', 'value' or '-value'"),
        ({"groupBy": "type", "priority": "high"}, "unknown filter 'priority'"),
        ({"groupBy": "type", "limit": "0"}, "'limit' must be a whole number from 1 to 100"),
    ],
)
def test_bad_snapshots_are_400(world: Bills, params: dict[str, str], fragment: str) -> None:
    response = get(caller(world), SNAPSHOTS, params)
    assert response.status == 400, response.text
    assert fragment in response.json()["error_description"]


# -- counters through a bill's life ---------------------------------------------------------------


def stored_counters(world: Bills) -> dict[str, int]:
    """Every counter item of the tenant, as stored (zeros left out)."""
    from billing.store.bills import bills

    return {k: n for k, n in bills._counter_prefix(world.tenant.tenant_id, "").items() if n}


def recounted(world: Bills) -> dict[str, int]:
    """What the counters must be, counted from the stored invoices."""
    found: Counter[str] = Counter()
    for r in world.oracle():
        customer = str(r["customer"])
        found[f"*#customer.id#{customer}"] += 1
        for field, value in (
            ("type", r["type"]),
            ("state", r["state"]),
            ("sendingFormat", r["sendingFormat"]),
            ("currency.id", r["currency"]),
        ):
            found[f"*#{field}#{value}"] += 1
            found[f"c{customer}#{field}#{value}"] += 1
    return dict(found)


def check(world: Bills) -> None:
    assert stored_counters(world) == recounted(world)
    for group in ("type", "state", "sendingFormat", "currency", "customer.id"):
        assert snapshot(caller(world), {"groupBy": group, "limit": 100}) == expected(world.oracle(), group), (
            group
        )


def test_counters_follow_every_write(aws: LocalStack, small_scan: None) -> None:
    from billing.payments.registration import delete_payment, register_payment
    from billing.store.document_marks import set_flag

    from tests.conftest import make_tenant
    from tests.support.b2b import access_token, make_b2b_client
    from tests.support.client import ApiClient

    tenant = make_tenant("counters")
    api = ApiClient(aws.gateway, tenant.api_key)
    series = api.send_json("POST", "/api/v1/invoice_series.json", {"invoice_series": {"prefix": "C"}})
    world = Bills(tenant, api, int(series.json()["id"]))
    creds = make_b2b_client(tenant.tenant_id)
    world.caller = B2bHttp(api, access_token(creds), creds.api_key)
    world.client("ACME Corp")
    world.client("Globex")
    check(world)  # nothing yet

    world.invoice("a", "ACME Corp")
    world.invoice("b", "Globex", state="draft")
    check(world)  # a draft counts nowhere
    world.mark("b", "open")
    check(world)
    world.invoice("c", "Globex", currency="USD", flag_sent_by_email=1)
    world.invoice(
        "credit",
        "ACME Corp",
        reversed_document_id=world.invoices["a"],
        positions=[position(price="-10", count="1")],
    )
    check(world)
    world.mark("a", "closed")
    world.mark("c", "cancelled")
    check(world)
    world.mark("a", "open")  # reopened
    world.modify("a", {"flag_sent_by_email": 1})
    check(world)

    # a payment of the whole amount closes the invoice; deleting it reopens it
    payment = register_payment(
        tenant.tenant_id,
        invoice_id=world.invoices["b"],
        proforma_invoice_id=None,
        amount=Decimal("119.00"),
        currency="EUR",
        payment_date=date(2024, 6, 1),
        description="wire",
    )
    assert world.caller.get(f"/billing/b2b/v1/bills/{world.invoices['b']}").json()["state"] == "closed"
    check(world)
    delete_payment(tenant.tenant_id, payment.id)
    bill = world.caller.get(f"/billing/b2b/v1/bills/{world.invoices['b']}").json()
    assert (bill["state"], bill["amounts"]["due"]) == ("open", "119.00")
    check(world)

    # a partial payment changes the amount due, not the counters
    register_payment(
        tenant.tenant_id,
        invoice_id=world.invoices["b"],
        proforma_invoice_id=None,
        amount=Decimal("19.00"),
        currency="EUR",
        payment_date=date(2024, 6, 2),
        description="part",
    )
    assert (
        world.caller.get(f"/billing/b2b/v1/bills/{world.invoices['b']}").json()["amounts"]["due"] == "100.00"
    )
    check(world)

    # the issuance workflow marking an invoice e-mailed
    assert set_flag(tenant.tenant_id, "invoice", world.invoices["b"], "flag_sent_by_email") is True
    assert set_flag(tenant.tenant_id, "invoice", world.invoices["b"], "flag_sent_by_email") is False
    assert world.caller.get(f"/billing/b2b/v1/bills/{world.invoices['b']}").json()["sendingFormat"] == "email"
    check(world)
