"""The webhook address policy (billing.payments.urls): what a callback URL may point at."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from billing.payments.urls import AddressRefused, address_refusal, check_webhook_url

PUBLIC_V4 = "93.184.215.14"
PUBLIC_V6 = "2606:2800:21f:cb07:6820:80da:af6b:8b2c"


def resolver(table: dict[str, Sequence[str]]):  # type: ignore[no-untyped-def]
    def resolve(host: str, port: int) -> Sequence[str]:
        return table.get(host, ())

    return resolve


DNS = resolver(
    {
        "hooks.example.com": [PUBLIC_V4, PUBLIC_V6],
        "internal.example.com": ["10.1.2.3"],
        "mixed.example.com": [PUBLIC_V4, "192.168.1.10"],
        "metadata.example.com": ["169.254.169.254"],
        "localhost": ["127.0.0.1", "::1"],
        "v6local.example.com": ["fd12:3456::1"],
    }
)


@pytest.mark.parametrize(
    "url",
    [
        "https://hooks.example.com/factura/callback",
        "https://hooks.example.com:8443/cb?tenant=1",
        f"https://{PUBLIC_V4}/cb",
        f"https://[{PUBLIC_V6}]/cb",
    ],
)
def test_public_https_is_accepted_when_deployed(url: str) -> None:
    target = check_webhook_url(url, allow_loopback=False, resolve=DNS)
    assert target.scheme == "https" and target.addresses


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/cb", "https"),
        (f"http://{PUBLIC_V4}/cb", "https"),
        ("ftp://hooks.example.com/cb", "https"),
        ("https://127.0.0.1/cb", "loopback"),
        ("https://127.8.9.10/cb", "loopback"),
        ("https://[::1]/cb", "loopback"),
        ("https://localhost/cb", "loopback"),
        ("https://0.0.0.0/cb", "unspecified"),
        ("https://10.0.0.5/cb", "private"),
        ("https://172.16.0.1/cb", "private"),
        ("https://172.31.255.254/cb", "private"),
        ("https://192.168.1.1/cb", "private"),
        ("https://100.64.0.1/cb", "shared"),
        ("https://169.254.169.254/latest/meta-data/", "metadata"),
        ("https://169.254.10.10/cb", "link-local"),
        ("https://[fe80::1]/cb", "link-local"),
        ("https://[fc00::1]/cb", "unique-local"),
        ("https://[fd00:ec2::254]/cb", "metadata"),
        ("https://[fd12:3456::1]/cb", "unique-local"),
        ("https://224.0.0.1/cb", "multicast"),
        ("https://[ff02::1]/cb", "multicast"),
        ("https://[::ffff:127.0.0.1]/cb", "loopback"),
        ("https://[::ffff:10.0.0.1]/cb", "private"),
        ("https://[64:ff9b::a9fe:a9fe]/cb", "metadata"),  # NAT64 of 169.254.169.254
        ("https://[2002:a00:1::]/cb", "private"),  # 6to4 of 10.0.0.1
        ("https://2130706433/cb", "does not resolve"),  # decimal IPv4 is not an IP literal to us
        ("https://internal.example.com/cb", "private"),
        ("https://metadata.example.com/cb", "metadata"),
        ("https://v6local.example.com/cb", "unique-local"),
        ("https://mixed.example.com/cb", "private"),
        ("https://nowhere.example.com/cb", "does not resolve"),
        ("https://user:pass@hooks.example.com/cb", "user name"),
        ("https://hooks.example.com/cb#frag", "fragment"),
        ("https:///cb", "no host"),
        ("https://hooks.example.com:99999/cb", "not valid"),
        ("https://hooks.example.com/a b", "spaces"),
        ("", "required"),
        ("https://hooks.example.com/" + "a" * 2000, "longer"),
    ],
)
def test_refused_when_deployed(url: str, reason: str) -> None:
    with pytest.raises(AddressRefused) as refused:
        check_webhook_url(url, allow_loopback=False, resolve=DNS)
    assert reason in str(refused.value)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/cb", "http://localhost:9000/cb", "https://127.0.0.1/cb", "http://[::1]:81/"],
)
def test_local_runtime_accepts_loopback(url: str) -> None:
    assert check_webhook_url(url, allow_loopback=True, resolve=DNS).addresses


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("http://hooks.example.com/cb", "https"),  # http only for a local receiver
        ("https://10.0.0.5/cb", "private"),
        ("https://169.254.169.254/", "metadata"),
        ("http://0.0.0.0:8080/", "unspecified"),
    ],
)
def test_local_runtime_still_refuses_other_non_public_targets(url: str, reason: str) -> None:
    with pytest.raises(AddressRefused) as refused:
        check_webhook_url(url, allow_loopback=True, resolve=DNS)
    assert reason in str(refused.value)


def test_any_refused_address_refuses_the_name() -> None:
    assert address_refusal(PUBLIC_V4) is None
    assert address_refusal(PUBLIC_V6) is None
    assert address_refusal("not-an-ip") is not None
    assert "loopback" in (address_refusal("127.0.0.1") or "")
    assert address_refusal("127.0.0.1", allow_loopback=True) is None


@pytest.mark.parametrize("url", ["https://localhost/cb", "https://2130706433/cb", "https://0x7f.1/cb"])
def test_system_resolver_sees_through_names_and_numeric_forms(url: str) -> None:
    with pytest.raises(AddressRefused) as refused:
        check_webhook_url(url, allow_loopback=False)
    assert "loopback" in str(refused.value) or "does not resolve" in str(refused.value)
