"""Client validation (billing.domain.clients): pure, no AWS."""

from __future__ import annotations

from typing import Any

import pytest
from billing.domain.clients import (
    SEARCH_FIELDS,
    Client,
    ClientCreate,
    ClientUpdate,
    check_client,
    iban_checksum_ok,
    normalize_email,
    normalize_iban,
    parse_country_id,
    parse_flag,
)
from billing.domain.errors import ValidationFailed
from billing.domain.search import FieldKind
from billing.http.errors import validation_messages
from billing.wire.views.clients import client as client_view
from pydantic import ValidationError
from pydantic_core import PydanticCustomError


def messages(model: Any, data: dict[str, Any]) -> list[str]:
    with pytest.raises(ValidationError) as caught:
        model.model_validate(data)
    return validation_messages(caught.value, "client")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        (True, True),
        (False, False),
        (1, True),
        (0, False),
        ("true", True),
        ("TRUE", True),
        (" 1 ", True),
        ("false", False),
        ("0", False),
        ("", False),
        (None, False),
    ],
)
def test_flags_accept_true_false_1_0(raw: Any, expected: bool) -> None:
    assert parse_flag(raw) is expected


@pytest.mark.parametrize("raw", ["maybe", "yes", "on", "2", 2, -1, "t", [], {}])
def test_other_flags_are_refused(raw: Any) -> None:
    with pytest.raises(PydanticCustomError):
        parse_flag(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("RO49 AAAA 1B31 0075 9384 0000", "RO49AAAA1B31007593840000"),
        ("ro49aaaa1b31007593840000", "RO49AAAA1B31007593840000"),
        ("GB82 WEST 1234 5698 7654 32", "GB82WEST12345698765432"),
        ("DE89 3704 0044 0532 0130 00", "DE89370400440532013000"),
        ("NO93 8601 1117 947", "NO9386011117947"),  # the shortest (15)
        ("MT84MALT011000012345MTLCAST001S", "MT84MALT011000012345MTLCAST001S"),
        ("", ""),
        ("   ", ""),
    ],
)
def test_iban_is_normalized(raw: str, expected: str) -> None:
    assert normalize_iban(raw) == expected


@pytest.mark.parametrize(
    "raw",
    [
        "RO49AAAA1B31007593840001",  # one digit off
        "RO94AAAA1B31007593840000",  # swapped check digits
        "GB82WEST1234569876543",  # a digit missing
        "12345",
        "RO49-AAAA-1B31",
        "ROXXAAAA1B31007593840000",
        "RO49AAAA1B310075938400000000000000000000",  # too long
    ],
)
def test_invalid_ibans_are_refused(raw: str) -> None:
    with pytest.raises(PydanticCustomError):
        normalize_iban(raw)


def test_iban_checksum_is_mod_97() -> None:
    assert iban_checksum_ok("GB82WEST12345698765432")
    assert not iban_checksum_ok("GB83WEST12345698765432")


@pytest.mark.parametrize(
    "raw", ["a@b.ro", "john.smith+bills@example.co.uk", "ana-maria@exemplu-bun.ro", "ș@ă.ro", ""]
)
def test_valid_emails(raw: str) -> None:
    assert normalize_email(raw) == raw


@pytest.mark.parametrize(
    "raw",
    [
        "plain",
        "a@b",
        "a b@c.ro",
        "a@@b.ro",
        "a@b..ro",
        "a@-b.ro",
        "a@b.ro.",
        "@b.ro",
        "a@b.r0",
        "a@b_c.ro",
        "x" * 65 + "@b.ro",
    ],
)
def test_invalid_emails(raw: str) -> None:
    with pytest.raises(PydanticCustomError):
        normalize_email(raw)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [("642", 642), (642, 642), ("RO", 642), ("ro", 642), (" DE ", 276), ("", None), (None, None)],
)
def test_country_by_iso_numeric_id_or_code(raw: Any, expected: int | None) -> None:
    assert parse_country_id(raw) == expected


@pytest.mark.parametrize("raw", ["213", "ZZ", "ROU", "Romania", True, 1.5, ["642"]])
def test_unknown_countries_are_refused(raw: Any) -> None:
    with pytest.raises(PydanticCustomError):
        parse_country_id(raw)


def test_create_requires_only_the_name() -> None:
    assert ClientCreate.model_validate({"name": "MyCompany", "uid": "999999"}).changes() == {
        "name": "MyCompany",
        "uid": "999999",
    }
    assert messages(ClientCreate, {"uid": "1"}) == ["client.name is required"]
    assert messages(ClientCreate, {"name": "   "})[0].startswith("client.name:")


def test_reference_php_values_are_read_as_text() -> None:
    fields = ClientCreate.model_validate(
        {"name": "A", "tax_id": 1, "uid": 3987985, "zip": "400001"}
    ).changes()
    assert fields == {"name": "A", "tax_id": "1", "uid": "3987985", "zip": "400001"}


def test_update_keeps_only_what_was_sent_and_ignores_read_only_fields() -> None:
    sent = {"city": " New city ", "id": "9", "created_at": "x", "updated_at": "y", "country": "Romania"}
    assert ClientUpdate.model_validate(sent).changes() == {"city": "New city"}


def test_unknown_and_wrongly_typed_fields_are_named() -> None:
    found = messages(
        ClientUpdate, {"colour": "red", "is_company": "maybe", "name": {"x": "1"}, "tax_id": True}
    )
    assert "client.colour is not a known field" in found
    assert any(m.startswith("client.is_company: must be true or false") for m in found)
    assert any(m.startswith("client.name:") for m in found)
    assert any(m.startswith("client.tax_id:") for m in found)


def test_searchable_text_must_fit_a_search_key() -> None:
    assert ClientCreate.model_validate({"name": "ă" * 255}).changes()["name"] == "ă" * 255
    assert messages(ClientCreate, {"name": "x" * 256})[0].startswith("client.name:")
    assert (
        messages(ClientCreate, {"name": "\U0001f600" * 251})[0] == "client.name: is too long to be searched"
    )


def test_company_needs_uid() -> None:
    with pytest.raises(ValidationFailed, match=r"client\.uid is required"):
        check_client(Client(id=1, name="Co", is_company=True))
    assert check_client(Client(id=1, name="Co", is_company=True, uid="RO1")).uid == "RO1"
    assert check_client(Client(id=1, name="Person")).is_company is False


def test_search_fields_follow_the_reference() -> None:
    assert list(SEARCH_FIELDS) == ["name", "uid", "email", "created_at", "updated_at"]
    assert SEARCH_FIELDS["name"] is FieldKind.TEXT and SEARCH_FIELDS["uid"] is FieldKind.EXACT


def test_view_has_reference_names_in_rails_order() -> None:
    view = client_view(Client(id=7, name="A", country_id=642))
    assert list(view) == sorted(view)
    assert view["country"] == "Romania" and view["country_id"] == 642
    assert client_view(Client(id=7, name="A"))["country"] is None
