"""Product validation (billing.domain.products): pure, no AWS."""

from __future__ import annotations

from decimal import Decimal as D
from typing import Any

import pytest
from billing.domain.products import (
    SEARCH_FIELDS,
    Product,
    ProductCreate,
    ProductUpdate,
    parse_currency_id,
    parse_price,
    parse_quantity,
    parse_vat,
)
from billing.domain.search import FieldKind
from billing.http.errors import validation_messages
from billing.wire.views.products import product as product_view
from billing.wire.xml import render_xml
from pydantic import ValidationError
from pydantic_core import PydanticCustomError


def messages(model: Any, data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return validation_messages(caught.value, "product")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("12", D("12")), (12, D("12")), ("12.5", D("12.5")), (D("0.1"), D("0.1")), ("1.2345", D("1.2345")),
     ("1.23450000", D("1.2345")), ("0", D("0")), ("-0", D("0")), ("1e2", D("100")), ("", None), (None, None)],
)  # fmt: skip
def test_price_is_an_exact_non_negative_decimal(raw: Any, expected: D | None) -> None:
    price = parse_price(raw)
    assert price == expected
    assert price is None or (isinstance(price, D) and not price.is_signed())


@pytest.mark.parametrize(
    "raw", ["abc", "1,5", "1_000", "-1", "-0.01", "1.23456", "NaN", "Infinity", 1.5, True, "1e400", [1]]
)
def test_bad_prices_are_refused(raw: Any) -> None:
    with pytest.raises(PydanticCustomError):
        parse_price(raw)


def test_price_messages_name_the_problem() -> None:
    assert messages(ProductUpdate, {"price": "abc"}) == ["product.price: must be a number"]
    assert messages(ProductUpdate, {"price": "-1"}) == ["product.price: must not be negative"]
    assert messages(ProductUpdate, {"price": "1.00001"}) == [
        "product.price: must have at most 4 decimal places"
    ]
    assert messages(ProductUpdate, {"price": 1.5}) == [
        "product.price: must be a decimal string or an integer, not a binary float"
    ]


@pytest.mark.parametrize(
    ("raw", "expected"), [("0", D(0)), ("19", D(19)), ("5.5", D("5.5")), ("100", D(100)), ("", None)]
)
def test_vat_is_a_percentage(raw: str, expected: D | None) -> None:
    assert parse_vat(raw) == expected


@pytest.mark.parametrize("raw", ["150", "100.01", "-1", "19.125", "x"])
def test_bad_vat_is_refused(raw: str) -> None:
    with pytest.raises(PydanticCustomError):
        parse_vat(raw)


def test_quantity_is_not_negative() -> None:
    assert parse_quantity("2.5") == D("2.5") and parse_quantity("0") == D(0)
    for raw in ("-1", "lots"):
        with pytest.raises(PydanticCustomError):
            parse_quantity(raw)


@pytest.mark.parametrize(
    ("raw", "expected"), [("978", 978), (978, 978), ("EUR", 978), ("eur", 978), ("RON", 946), (" USD ", 840)]
)
def test_currency_by_iso_numeric_id_or_code(raw: Any, expected: int) -> None:
    assert parse_currency_id(raw) == expected


@pytest.mark.parametrize("raw", ["", None, "XYZ", "5", "euro", True, [978]])
def test_unknown_or_blank_currency_is_refused(raw: Any) -> None:
    with pytest.raises(PydanticCustomError):
        parse_currency_id(raw)


def test_create_requires_description_and_currency() -> None:
    assert messages(ProductCreate, {}) == [
        "product.description is required",
        "product.currency_id is required",
    ]
    assert messages(ProductCreate, {"description": "D", "currency_id": ""}) == [
        "product.currency_id is required"
    ]
    fields = ProductCreate.model_validate(
        {"description": " D ", "price": "12", "currency_id": "978"}
    ).changes()
    assert fields == {"description": "D", "price": D(12), "currency_id": 978}


def test_update_keeps_only_what_was_sent_and_ignores_read_only_fields() -> None:
    sent = {"price": "3", "id": 1, "currency": "EUR", "created_at": "x", "updated_at": "y"}
    assert ProductUpdate.model_validate(sent).changes() == {"price": D(3)}
    assert messages(ProductUpdate, {"colour": "red"}) == ["product.colour is not a known field"]


def test_search_fields_follow_the_reference() -> None:
    assert list(SEARCH_FIELDS) == ["code", "description", "price", "created_at", "updated_at"]
    assert SEARCH_FIELDS["price"] is FieldKind.DECIMAL and SEARCH_FIELDS["code"] is FieldKind.EXACT


def test_view_renders_like_the_reference_example() -> None:
    view = product_view(Product(id=741342701, description="subscription", price=D(12), currency_id=978))
    assert list(view) == sorted(view) and view["currency"] == "EUR"
    body = render_xml("product", view).decode()
    assert "<code></code>" in body
    assert '<price type="decimal">12.0</price>' in body
    assert '<id type="integer">741342701</id>' in body
