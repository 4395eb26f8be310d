from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest
from billing.domain.errors import MalformedInput
from billing.wire.jsonio import parse_json, render_json
from billing.wire.xml import XmlArray, XmlAttributes


def test_numbers_are_never_float() -> None:
    value = parse_json(b'{"price": 0.74, "qty": 4, "rate": 1e2, "big": 123456789012345678901234567890.01}')
    assert value == {
        "price": Decimal("0.74"),
        "qty": 4,
        "rate": Decimal("1e2"),
        "big": Decimal("123456789012345678901234567890.01"),
    }
    assert type(value["price"]) is Decimal
    assert type(value["qty"]) is int


def test_str_bom_and_unicode() -> None:
    assert parse_json('{"name": "Ștefan"}') == {"name": "Ștefan"}
    assert parse_json('\ufeff{"a": 1}') == {"a": 1}
    assert parse_json(b'\xef\xbb\xbf{"a": "\xc8\x99"}') == {"a": "ș"}


@pytest.mark.parametrize("constant", ["NaN", "Infinity", "-Infinity"])
def test_non_finite_constants_are_refused(constant: str) -> None:
    with pytest.raises(MalformedInput, match=f"JSON constant {constant} is not allowed"):
        parse_json(f'{{"price": {constant}}}')


@pytest.mark.parametrize("body", [b"", b"{", b'{"a": 1,}', b"{'a': 1}", b'{"a": 1} x', b"1" * 5000])
def test_malformed_json(body: bytes) -> None:
    with pytest.raises(MalformedInput, match="malformed JSON"):
        parse_json(body)


def test_non_utf8() -> None:
    with pytest.raises(MalformedInput, match="not valid UTF-8"):
        parse_json(b'{"a": "\xff"}')


def test_oversize() -> None:
    with pytest.raises(MalformedInput, match="larger than"):
        parse_json(b'{"a": "' + b"x" * (1024 * 1024) + b'"}')
    with pytest.raises(MalformedInput, match="larger than"):
        parse_json('{"a": "' + "ș" * (600 * 1024) + '"}')


def test_nesting_limit() -> None:
    assert parse_json("[" * 32 + "]" * 32)
    with pytest.raises(MalformedInput, match="nested deeper than 32"):
        parse_json("[" * 33 + "]" * 33)
    with pytest.raises(MalformedInput, match="nested deeper than 32"):
        parse_json('{"a":' * 33 + "1" + "}" * 33)
    # deep enough to exhaust the recursive decoder itself
    with pytest.raises(MalformedInput, match="nested deeper than 32"):
        parse_json("[" * 200_000 + "]" * 200_000)


def test_render_wire_types() -> None:
    value = {
        "id": 1,
        "total": Decimal("12"),
        "rate": Decimal("-3.460"),
        "paid": False,
        "note": None,
        "date": date(2024, 2, 29),
        "at": datetime(2024, 2, 29, 10, 0, tzinfo=UTC),
        "name": 'Ștefan "q"',
        "positions": ({"vat": 19},),
        "banks": XmlArray([{"name": "B"}], "bank"),
        "due": XmlAttributes({"currency": "EUR", "amount": Decimal("100")}),
    }
    body = render_json(value)
    assert (
        body
        == (
            '{"id":1,"total":"12.0","rate":"-3.46","paid":false,"note":null,"date":"2024-02-29",'
            '"at":"2024-02-29T10:00:00Z","name":"Ștefan \\"q\\"","positions":[{"vat":19}],'
            '"banks":[{"name":"B"}],"due":{"currency":"EUR","amount":"100.0"}}'
        ).encode()
    )
    assert json.loads(body)["name"] == 'Ștefan "q"'


def test_render_refuses_what_the_wire_cannot_carry() -> None:
    with pytest.raises(TypeError, match="float"):
        render_json({"price": 1.5})
    with pytest.raises(TypeError, match="keys must be str"):
        render_json({1: "a"})
    with pytest.raises(TypeError, match="set"):
        render_json({"a": {1}})
