"""Where a webhook may be sent: the address policy for merchant callback URLs (no AWS, no I/O
except the resolver it is given).

A callback URL is chosen by a merchant, so it must not become a way to make our functions call
something inside AWS or on the function's own host (SSRF). The rules:

- deployed: only `https://` URLs, whose host (an IP literal, or every address the name resolves
  to) is a public unicast address. Refused: loopback, unspecified (0.0.0.0 reaches loopback),
  private (10/8, 172.16/12, 192.168/16), shared (100.64/10), link-local (169.254/16, including
  the instance metadata address 169.254.169.254, and fe80::/10), unique-local (fc00::/7, which
  includes fd00:ec2::254), multicast, reserved and documentation ranges. IPv6 forms that embed
  an IPv4 address (::ffff:a.b.c.d, 6to4, Teredo, NAT64 64:ff9b::/96) are judged by the IPv4
  address they carry;
- no user:password in the URL (it would end up in logs) and no #fragment;
- the local runtime (`allow_loopback`) additionally accepts loopback targets, over http too, so a
  receiver on 127.0.0.1 can be tried. Private ranges stay refused even then.

The check runs when an endpoint is saved (to give the merchant a clear 422) and again when each
callback connects (`billing.payments.dispatch` resolves through `checked_addresses` and connects
to an address it checked, so a DNS answer that changes between the two — DNS rebinding — cannot
reach a refused address)."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final
from urllib.parse import SplitResult, urlsplit

from billing.domain.errors import ValidationFailed

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], Sequence[str]]
"""(host, port) -> the addresses a connection to that name may reach (strings)."""

MAX_URL_LENGTH: Final = 2000
_NAT64: Final = ipaddress.IPv6Network("64:ff9b::/96")
_UNIQUE_LOCAL: Final = ipaddress.IPv6Network("fc00::/7")
_SHARED: Final = ipaddress.IPv4Network("100.64.0.0/10")
_METADATA: Final = frozenset({ipaddress.ip_address("169.254.169.254"), ipaddress.ip_address("fd00:ec2::254")})


class AddressRefused(ValidationFailed):
    """A webhook URL or one of the addresses it resolves to is not an allowed target."""


@dataclass(frozen=True)
class WebhookTarget:
    url: str
    scheme: str
    host: str
    port: int
    addresses: tuple[str, ...]


def system_resolver(host: str, port: int) -> list[str]:
    """Every address `host` resolves to, in resolver order, without duplicates. A name that does
    not resolve gives no addresses (the caller refuses it)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError):
        return []
    seen: dict[str, None] = {}
    for *_, sockaddr in infos:
        seen.setdefault(str(sockaddr[0]).split("%", 1)[0], None)  # drop an IPv6 zone id
    return list(seen)


def _embedded_ipv4(ip: ipaddress.IPv6Address) -> ipaddress.IPv4Address | None:
    if ip.ipv4_mapped is not None:
        return ip.ipv4_mapped
    if ip.sixtofour is not None:
        return ip.sixtofour
    if ip.teredo is not None:
        return ip.teredo[1]
    if ip in _NAT64:
        return ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    return None


def address_refusal(address: str | IPAddress, *, allow_loopback: bool = False) -> str | None:
    """Why `address` may not receive a webhook, or None when it may."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return f"{address!s:.60} is not an IP address"
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = _embedded_ipv4(ip)
        if embedded is not None:
            reason = address_refusal(embedded, allow_loopback=allow_loopback)
            return f"{ip} embeds {reason}" if reason else None
    if ip.is_loopback:
        return None if allow_loopback else f"{ip} is a loopback address"
    if ip.is_unspecified:
        return f"{ip} is the unspecified address"
    if ip in _METADATA:
        return f"{ip} is the cloud instance metadata address"
    if ip.is_link_local:
        return f"{ip} is a link-local address"
    if ip.is_multicast:
        return f"{ip} is a multicast address"
    if isinstance(ip, ipaddress.IPv6Address) and ip in _UNIQUE_LOCAL:
        return f"{ip} is a unique-local address"
    if isinstance(ip, ipaddress.IPv4Address) and ip in _SHARED:
        return f"{ip} is a shared (carrier-grade NAT) address"
    if ip.is_private:
        return f"{ip} is a private address"
    if ip.is_reserved or not ip.is_global:
        return f"{ip} is not a public address"
    return None


def checked_addresses(host: str, port: int, *, allow_loopback: bool, resolve: Resolver) -> list[str]:
    """The addresses of `host`, all of them allowed; refuses the host if any one is not (a name
    answering both a public and a private address is refused, whichever would be picked)."""
    try:
        addresses = [str(ipaddress.ip_address(host.strip("[]")))]
    except ValueError:
        addresses = list(resolve(host, port))
    if not addresses:
        raise AddressRefused(f"{host} does not resolve to any address")
    for address in addresses:
        reason = address_refusal(address, allow_loopback=allow_loopback)
        if reason is not None:
            raise AddressRefused(f"{host} is not a public address: {reason}" if host != address else reason)
    return addresses


def _split(url: str) -> tuple[SplitResult, int]:
    if not isinstance(url, str) or not url.strip():
        raise AddressRefused("url is required")
    if len(url) > MAX_URL_LENGTH:
        raise AddressRefused(f"url is longer than {MAX_URL_LENGTH} characters")
    if any(ch.isspace() or ord(ch) < 0x20 for ch in url):
        raise AddressRefused("url must not contain spaces or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise AddressRefused(f"url is not valid: {exc}") from None
    if parts.scheme not in ("https", "http"):
        raise AddressRefused("url must be an https:// URL")
    if not parts.hostname:
        raise AddressRefused("url has no host")
    if parts.username is not None or parts.password is not None:
        raise AddressRefused("url must not contain a user name or password")
    if parts.fragment or url.endswith("#"):
        raise AddressRefused("url must not contain a #fragment")
    return parts, port or (443 if parts.scheme == "https" else 80)


def check_webhook_url(
    url: str, *, allow_loopback: bool, resolve: Resolver = system_resolver
) -> WebhookTarget:
    """Check a callback URL against the policy of this module; returns what was checked."""
    parts, port = _split(url)
    assert parts.hostname is not None
    if parts.scheme == "http" and not allow_loopback:
        raise AddressRefused("url must be an https:// URL")
    addresses = checked_addresses(parts.hostname, port, allow_loopback=allow_loopback, resolve=resolve)
    if parts.scheme == "http" and not all(ipaddress.ip_address(a).is_loopback for a in addresses):
        raise AddressRefused("url must be an https:// URL (http is only accepted for a local receiver)")
    return WebhookTarget(
        url=url, scheme=parts.scheme, host=parts.hostname, port=port, addresses=tuple(addresses)
    )
