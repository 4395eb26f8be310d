from __future__ import annotations

import xml.etree.ElementTree as ET

import pytest

from tests.support.aws import LocalStack
from tests.support.client import ApiClient


def test_currencies_list_is_iso_4217(client: ApiClient) -> None:
    doc = ET.fromstring(client.get("/api/v1/currencies.xml").body)
    assert doc.get("type") == "array"
    codes = {c.findtext("iso_name"): int(c.findtext("id")) for c in doc}
    assert codes["EUR"] == 978 and codes["RON"] == 946 and codes["USD"] == 840
    assert len(codes) > 150


@pytest.mark.parametrize("ref", ["978.xml", "EUR.xml", "eur.xml", "978"])
def test_currency_by_id_or_code(client: ApiClient, ref: str) -> None:
    response = client.get(f"/api/v1/currencies/{ref}")
    assert response.status == 200
    assert ET.fromstring(response.body).findtext("iso_name") == "EUR"


def test_countries(client: ApiClient) -> None:
    doc = ET.fromstring(client.get("/api/v1/countries.xml").body)
    by_iso = {c.findtext("iso"): c for c in doc}
    assert by_iso["RO"].findtext("name") == "Romania" and by_iso["RO"].findtext("id") == "642"
    assert client.get("/api/v1/countries/642.json").json() == {"id": 642, "name": "Romania", "iso": "RO"}


def test_unknown_currency_and_country_are_404(client: ApiClient) -> None:
    assert client.get("/api/v1/currencies/1.xml").status == 404
    assert client.get("/api/v1/countries/XX.xml").status == 404


def test_reference_data_needs_a_key(aws: LocalStack) -> None:
    assert ApiClient(aws.gateway).get("/api/v1/currencies.xml").status == 401
