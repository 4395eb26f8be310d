"""B2B bills through the gateway: the JSON shape, what is a bill, pagination headers, sort, URL
filters and the JSON search; every query checked against an independent filter of the stored
invoices (tests/support/b2b_bills.py's oracle); scopes and tenant isolation; 400s that say why;
the read bound of queries the index cannot answer directly."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest

from tests.conftest import make_tenant
from tests.support.aws import LocalStack
from tests.support.b2b import B2bHttp
from tests.support.b2b_bills import (
    BILLS,
    Bills,
    build_world,
    counts,
    every_page,
    get,
    ids,
    oracle_order,
    search,
)
from tests.support.client import ApiClient

Record = dict[str, Any]


@pytest.fixture(scope="module")
def world(aws: LocalStack) -> Bills:
    return build_world(aws.gateway)


@pytest.fixture(scope="module")
def other_ids(aws: LocalStack) -> list[int]:
    """Another tenant with a customer of the same name and bills of its own."""
    tenant = make_tenant("bills-other")
    api = ApiClient(aws.gateway, tenant.api_key)
    response = api.send_json("POST", "/api/v1/invoice_series.json", {"invoice_series": {"prefix": "X"}})
    other = Bills(tenant, api, int(response.json()["id"]))
    other.client("ACME Corp")
    return [other.invoice(f"x{i}", "ACME Corp") for i in range(3)]


def caller(world: Bills) -> B2bHttp:
    assert world.caller is not None
    return world.caller


def bad_request(response: Any, fragment: str) -> None:
    assert response.status == 400, response.text
    body = response.json()
    assert body["error"] == "invalid_request"
    assert fragment in body["error_description"], body


# -- shape and membership -------------------------------------------------------------------------


def test_bill_shape(world: Bills) -> None:
    bill_id = world.invoices["acme-usd-email"]
    response = caller(world).get(f"{BILLS}/{bill_id}")
    assert response.status == 200, response.text
    assert response.header("Content-Type") == "application/json; charset=UTF-8"
    body = response.json()
    acme = str(world.clients["ACME Corp"])
    assert {k: v for k, v in body.items() if k not in ("createdAt", "updatedAt", "number")} == {
        "id": str(bill_id),
        "type": "invoice",
        "state": "open",
        "sendingFormat": "email",
        "customer": {"id": acme, "name": "ACME Corp", "segment": "company"},
        "billingAccount": {"id": acme, "name": "ACME Corp"},
        "currency": {"id": "USD"},
        "amounts": {
            "totalExcludingTax": "100.00",
            "totalTax": "19.00",
            "totalIncludingTax": "119.00",
            "due": "119.00",
        },
        "billDate": "2024-06-02",
        "dueDate": None,
    }
    assert body["number"].startswith("FCT-")
    for name in ("createdAt", "updatedAt"):
        assert len(body[name]) == 24 and body[name].endswith("Z") and body[name][19] == ".", body[name]


def test_credit_note_closed_and_due_date(world: Bills) -> None:
    credit = caller(world).get(f"{BILLS}/{world.invoices['acme-credit']}").json()
    assert credit["type"] == "creditNote"
    assert credit["amounts"]["totalIncludingTax"] == "-59.50"
    closed = caller(world).get(f"{BILLS}/{world.invoices['acme-closed']}").json()
    assert closed["state"] == "closed"
    assert closed["dueDate"] == "2024-06-19"
    assert (
        caller(world).get(f"{BILLS}/{world.invoices['ana-email']}").json()["customer"]["segment"]
        == "individual"
    )


def test_drafts_and_unissued_cancelled_drafts_are_not_bills(world: Bills) -> None:
    listed = set(every_page(lambda o, n: get(caller(world), BILLS, {"offset": o, "limit": n}), 100)[0])
    for label in ("initech-draft", "initech-void-draft"):
        assert world.invoices[label] not in listed
        response = caller(world).get(f"{BILLS}/{world.invoices[label]}")
        assert response.status == 404
        assert response.json()["error"] == "not_found"
    assert listed == {r["id"] for r in world.oracle()}


def test_another_tenants_bills_do_not_exist(world: Bills, other_ids: list[int]) -> None:
    for bill_id in other_ids:
        assert caller(world).get(f"{BILLS}/{bill_id}").status == 404
    listed = every_page(lambda o, n: get(caller(world), BILLS, {"offset": o, "limit": n}), 100)[0]
    assert not set(other_ids) & set(listed)
    assert ids(search(caller(world), {"id": {"$in": [str(i) for i in other_ids]}})) == []


@pytest.mark.parametrize("ref", ["abc", "0", "-1", "1" * 25, "12.5"])
def test_bad_ids_are_404(world: Bills, ref: str) -> None:
    assert caller(world).get(f"{BILLS}/{ref}").status == 404


def test_headers_default_window_and_order(world: Bills) -> None:
    response = get(caller(world), BILLS)
    oracle = world.oracle()
    assert counts(response) == (len(oracle), len(oracle))
    assert ids(response) == oracle_order(oracle, [("createdAt", False)])
    response = get(caller(world), BILLS, {"offset": 3, "limit": 4, "sort": "-updatedAt"})
    assert counts(response) == (len(oracle), 4)
    assert ids(response) == oracle_order(oracle, [("updatedAt", True)])[3:7]
    response = get(caller(world), BILLS, {"offset": 100})
    assert counts(response) == (len(oracle), 0)
    assert response.json() == []


# -- queries against the oracle -----------------------------------------------------------------------

Predicate = Callable[[Record], bool]


def url_cases(world: Bills) -> list[tuple[list[tuple[str, str]], Predicate]]:
    acme, globex = str(world.clients["ACME Corp"]), str(world.clients["Globex"])
    return [
        ([], lambda r: True),
        ([("type", "invoice")], lambda r: r["type"] == "invoice"),
        ([("type", "creditNote")], lambda r: r["type"] == "creditNote"),
        ([("state", "open")], lambda r: r["state"] == "open"),
        ([("state", "closed"), ("state", "cancelled")], lambda r: r["state"] in ("closed", "cancelled")),
        ([("sendingFormat", "email")], lambda r: r["sendingFormat"] == "email"),
        ([("currency.id", "GBP")], lambda r: r["currency"] == "GBP"),
        ([("customer.id", acme)], lambda r: str(r["customer"]) == acme),
        ([("billingAccount.id", globex)], lambda r: str(r["customer"]) == globex),
        ([("customer.name", "ACME Corp")], lambda r: r["customer_name"] == "ACME Corp"),
        (
            [("customer.name", "ACME Corp"), ("type", "creditNote")],
            lambda r: r["customer_name"] == "ACME Corp" and r["type"] == "creditNote",
        ),
        ([("type", "invoice"), ("state", "open")], lambda r: r["type"] == "invoice" and r["state"] == "open"),
        (
            [("currency.id", "EUR"), ("sendingFormat", "paper")],
            lambda r: r["currency"] == "EUR" and r["sendingFormat"] == "paper",
        ),
        (
            [("customer.id", acme), ("state", "open")],
            lambda r: str(r["customer"]) == acme and r["state"] == "open",
        ),
        ([("billDate", "2024-05-20")], lambda r: r["billDate"] == date(2024, 5, 20)),
        ([("amounts.due", "119")], lambda r: r["due"] == Decimal(119)),
        ([("customer.id", "999")], lambda r: False),
        ([("currency.id", "RON")], lambda r: False),
    ]


SORTS: list[tuple[str | None, list[tuple[str, bool]]]] = [
    (None, [("createdAt", False)]),
    ("-createdAt", [("createdAt", True)]),
    ("updatedAt", [("updatedAt", False)]),
    ("-updatedAt", [("updatedAt", True)]),
    ("billDate,-createdAt", [("billDate", False), ("createdAt", True)]),
    ("-amounts.totalIncludingTax", [("total", True)]),
    ("number", [("number", False)]),
]


@pytest.mark.parametrize("sort", SORTS, ids=[s[0] or "default" for s in SORTS])
def test_url_filters_match_the_oracle(world: Bills, sort: tuple[str | None, list[tuple[str, bool]]]) -> None:
    text, order = sort
    oracle = world.oracle()
    for params, predicate in url_cases(world):
        expected = oracle_order([r for r in oracle if predicate(r)], order)
        extra = [("sort", text)] if text else []
        for limit in (3, 100):
            found, totals = every_page(
                lambda o, n, p=params, x=extra: get(
                    caller(world), BILLS, [*p, *x, ("offset", str(o)), ("limit", str(n))]
                ),
                limit,
            )
            assert found == expected, (params, text, limit)
            assert totals == {len(expected)}, (params, text, limit)


def search_cases(world: Bills) -> list[tuple[Any, Predicate]]:
    acme, ana = str(world.clients["ACME Corp"]), str(world.clients["Ana Popescu"])
    return [
        ({}, lambda r: True),
        (
            {"$or": [{"currency.id": "GBP"}, {"currency.id": "JPY"}]},
            lambda r: r["currency"] in ("GBP", "JPY"),
        ),
        (
            {"$and": [{"type": "invoice"}, {"sendingFormat": "paper"}]},
            lambda r: r["type"] == "invoice" and r["sendingFormat"] == "paper",
        ),
        ({"type": {"$eq": "invoice"}}, lambda r: r["type"] == "invoice"),
        ({"type": {"$nin": ["creditNote"]}}, lambda r: r["type"] != "creditNote"),
        ({"state": {"$not": "open"}}, lambda r: r["state"] != "open"),
        ({"$not": {"state": "open"}}, lambda r: r["state"] != "open"),
        (
            {"state": {"$neq": "cancelled"}, "currency.id": "EUR"},
            lambda r: r["state"] != "cancelled" and r["currency"] == "EUR",
        ),
        ({"amounts.totalIncludingTax": {"$gt": 100}}, lambda r: r["total"] > 100),
        ({"amounts.due": {"$lte": "59.50", "$gte": 0}}, lambda r: 0 <= r["due"] <= Decimal("59.50")),
        ({"billDate": {"$gte": "2024-06-01"}}, lambda r: r["billDate"] >= date(2024, 6, 1)),
        (
            {"customer.id": {"$in": [acme, ana]}, "state": "open"},
            lambda r: str(r["customer"]) in (acme, ana) and r["state"] == "open",
        ),
        (
            {"$or": [{"customer.id": acme}, {"type": "creditNote"}]},
            lambda r: str(r["customer"]) == acme or r["type"] == "creditNote",
        ),
        (
            {"$and": [{"currency.id": {"$in": ["EUR", "GBP"]}}, {"currency.id": "GBP"}]},
            lambda r: r["currency"] == "GBP",
        ),
        ({"type": {"$in": []}}, lambda r: False),
        ({"customer.name": {"$gte": "B"}}, lambda r: r["customer_name"] >= "B"),
    ]


@pytest.mark.parametrize(
    "sort", SORTS[:4] + SORTS[5:6], ids=[s[0] or "default" for s in SORTS[:4] + SORTS[5:6]]
)
def test_search_matches_the_oracle(world: Bills, sort: tuple[str | None, list[tuple[str, bool]]]) -> None:
    text, order = sort
    oracle = world.oracle()
    for document, predicate in search_cases(world):
        expected = oracle_order([r for r in oracle if predicate(r)], order)
        extra = {"sort": text} if text else {}
        found, totals = every_page(
            lambda o, n, d=document, x=extra: search(caller(world), d, {**x, "offset": o, "limit": n}), 4
        )
        assert found == expected, (document, text)
        assert totals == {len(expected)}, (document, text)


def test_reference_search_example_sent_form_encoded(world: Bills) -> None:
    """curl -d sends the reference's example as application/x-www-form-urlencoded."""
    body = '{"$and": [ { "type": "invoice" }, { "sendingFormat": "paper" } ] }'
    response = search(caller(world), body, content_type="application/x-www-form-urlencoded")
    expected = [r["id"] for r in world.oracle() if r["type"] == "invoice" and r["sendingFormat"] == "paper"]
    assert sorted(ids(response)) == sorted(expected)
    assert counts(response) == (len(expected), len(expected))


def test_search_with_url_filters_too(world: Bills) -> None:
    response = search(caller(world), {"type": "invoice"}, {"currency.id": "EUR", "limit": 100})
    expected = {r["id"] for r in world.oracle() if r["type"] == "invoice" and r["currency"] == "EUR"}
    assert set(ids(response)) == expected


@pytest.mark.parametrize(
    ("body", "fragment"),
    [
        ("", "a JSON query is required"),
        ("{not json", "not valid JSON"),
        ("[1, 2]", "a query must be a JSON object"),
        ('{"priority": "high"}', "unknown field 'priority'"),
        ('{"type": "bill"}', "'type' needs one of 'invoice', 'creditNote'"),
        ('{"type": {"$gt": "invoice"}}', "'$gt' is not allowed on enum field 'type'"),
        ('{"$xor": []}', "unknown operator '$xor'"),
        ('{"amounts.due": {"$gt": "lots"}}', "needs a decimal number"),
        ('{"amounts.due": NaN}', "not valid JSON"),
        ('{"billDate": {"$in": "2024-01-01"}}', "needs a list of values"),
    ],
)
def test_bad_searches_are_400_saying_why(world: Bills, body: str, fragment: str) -> None:
    bad_request(search(caller(world), body), fragment)


@pytest.mark.parametrize(
    ("params", "fragment"),
    [
        ({"priority": "high"}, "unknown filter 'priority'"),
        ({"type": "bill"}, "filter 'type' needs one of"),
        ({"sort": "-priority"}, "cannot sort on unknown field 'priority'"),
        ({"limit": "101"}, "'limit' must be a whole number from 1 to 100"),
        ({"offset": "-1"}, "'offset' must be a whole number"),
        ({"amounts.due": "much"}, "needs a decimal number"),
        ({"createdAt": "yesterday"}, "ISO 8601"),
    ],
)
def test_bad_listings_are_400_saying_why(world: Bills, params: dict[str, str], fragment: str) -> None:
    bad_request(get(caller(world), BILLS, params), fragment)


def test_search_is_post_only(world: Bills) -> None:
    response = caller(world).get("/billing/b2b/v1/search")
    assert response.status == 405
    assert response.header("Allow") == "POST"


# -- scope ------------------------------------------------------------------------------------------


def test_scope_limits_listing_and_totals(world: Bills) -> None:
    acme_only = world.scoped("ACME Corp")
    acme = world.clients["ACME Corp"]
    expected = [r for r in world.oracle() if r["customer"] == acme]
    response = get(acme_only, BILLS, {"limit": 100})
    assert ids(response) == oracle_order(expected, [("createdAt", False)])
    assert counts(response) == (len(expected), len(expected))
    invoices = [r for r in expected if r["type"] == "invoice"]
    response = get(acme_only, BILLS, {"type": "invoice", "sort": "-updatedAt"})
    assert ids(response) == oracle_order(invoices, [("updatedAt", True)])
    assert counts(response)[0] == len(invoices)
    # asking for another customer's bills through filters finds nothing
    response = get(acme_only, BILLS, {"customer.id": str(world.clients["Globex"])})
    assert ids(response) == [] and counts(response) == (0, 0)


def test_scope_hides_other_bills_by_id(world: Bills) -> None:
    acme_only = world.scoped("ACME Corp")
    assert acme_only.get(f"{BILLS}/{world.invoices['acme-closed']}").status == 200
    for label in ("globex-gbp", "ana-email", "more-0"):
        response = acme_only.get(f"{BILLS}/{world.invoices[label]}")
        assert response.status == 404, label
        assert "not found" in response.json()["error_description"]


def test_scope_limits_search(world: Bills) -> None:
    two = world.scoped("ACME Corp", "Ana Popescu")
    allowed = {world.clients["ACME Corp"], world.clients["Ana Popescu"]}
    response = search(two, {"$or": [{"currency.id": "GBP"}, {"state": "closed"}]}, {"limit": 100})
    expected = {
        r["id"]
        for r in world.oracle()
        if r["customer"] in allowed and (r["currency"] == "GBP" or r["state"] == "closed")
    }
    assert set(ids(response)) == expected and expected
    response = search(two, {"customer.id": str(world.clients["Globex"])})
    assert ids(response) == [] and counts(response) == (0, 0)


# -- the read bound -----------------------------------------------------------------------------------


@pytest.fixture
def small_scan(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    from billing.b2b_settings import b2b_settings

    monkeypatch.setenv("B2B_MAX_SCAN", "3")
    b2b_settings.cache_clear()
    yield
    monkeypatch.undo()
    b2b_settings.cache_clear()


def test_queries_the_index_answers_ignore_the_read_bound(world: Bills, small_scan: None) -> None:
    oracle = world.oracle()
    invoices = [r for r in oracle if r["type"] == "invoice"]
    response = get(caller(world), BILLS, {"type": "invoice", "limit": 2, "sort": "-updatedAt"})
    assert counts(response) == (len(invoices), 2)
    assert ids(response) == oracle_order(invoices, [("updatedAt", True)])[:2]
    response = get(caller(world), BILLS, {"limit": 2})
    assert counts(response) == (len(oracle), 2)


def test_queries_beyond_the_read_bound_are_400_saying_how_to_narrow(world: Bills, small_scan: None) -> None:
    response = get(caller(world), BILLS, {"customer.name": "ACME Corp"})
    bad_request(response, "would read 13 bills, more than the 3 one request may read")
    assert (
        "filter on type, state, sendingFormat, currency.id or customer.id"
        in response.json()["error_description"]
    )
    bad_request(get(caller(world), BILLS, {"sort": "billDate"}), "than the 3 one request may read")
    # narrowed to a customer with few enough bills, the same filter works
    ana = str(world.clients["Ana Popescu"])
    response = get(caller(world), BILLS, {"customer.name": "Ana Popescu", "customer.id": ana})
    assert counts(response) == (2, 2)
