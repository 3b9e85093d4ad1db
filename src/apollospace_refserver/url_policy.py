"""Which webhook URLs may be called: no private, link-local, reserved or multicast targets.

The ranges are those of `createWebhookSubscription` plus whatever else the
IANA special-purpose registries mark as not globally reachable (`is_global`).
An IPv4-mapped IPv6 address counts as its IPv4 address, and so do NAT64
(`64:ff9b::/96`) and 6to4 (`2002::/16`) addresses, which carry one.

Loopback is a separate category the reference server accepts (it is a local
stand-in: the conformance kit's receiver runs on loopback); a production
policy would refuse it. `allow_private` lifts the refusal of the private
ranges only (RFC 1918, shared address space, unique local), never link-local,
reserved, multicast or unspecified addresses.

`check_url` runs when a URL is stored; `vet_host` runs before every delivery
connection and returns the vetted addresses the connection must use, so a host
name that resolves elsewhere later cannot reach a refused address.
"""

from __future__ import annotations

import ipaddress
import socket
import threading
from dataclasses import dataclass
from urllib.parse import urlsplit

from apollospace_refserver.errors import ApiError

Address = ipaddress.IPv4Address | ipaddress.IPv6Address

PRIVATE, LOOPBACK, LINK_LOCAL, MULTICAST, UNSPECIFIED, RESERVED = (
    "private",
    "loopback",
    "link-local",
    "multicast",
    "unspecified",
    "reserved",
)

_V4 = [
    (UNSPECIFIED, "0.0.0.0/8"),
    (PRIVATE, "10.0.0.0/8"),
    (PRIVATE, "100.64.0.0/10"),
    (LOOPBACK, "127.0.0.0/8"),
    (LINK_LOCAL, "169.254.0.0/16"),
    (PRIVATE, "172.16.0.0/12"),
    (RESERVED, "192.0.0.0/24"),
    (RESERVED, "192.0.2.0/24"),
    (PRIVATE, "192.168.0.0/16"),
    (RESERVED, "198.18.0.0/15"),
    (RESERVED, "198.51.100.0/24"),
    (RESERVED, "203.0.113.0/24"),
    (MULTICAST, "224.0.0.0/4"),
    (RESERVED, "240.0.0.0/4"),
]
# 192.0.0.9 and 192.0.0.10 are globally reachable exceptions inside 192.0.0.0/24.
_V4_GLOBAL_EXCEPTIONS = [
    ipaddress.ip_network("192.0.0.9/32"),
    ipaddress.ip_network("192.0.0.10/32"),
]
_V6 = [
    (UNSPECIFIED, "::/128"),
    (LOOPBACK, "::1/128"),
    (RESERVED, "64:ff9b:1::/48"),
    (RESERVED, "100::/64"),
    (RESERVED, "2001::/23"),
    (RESERVED, "2001:db8::/32"),
    (RESERVED, "3fff::/20"),
    (RESERVED, "5f00::/16"),
    (PRIVATE, "fc00::/7"),
    (LINK_LOCAL, "fe80::/10"),
    (RESERVED, "fec0::/10"),
    (MULTICAST, "ff00::/8"),
]
_V4_NETS = [(kind, ipaddress.IPv4Network(net)) for kind, net in _V4]
_V6_NETS = [(kind, ipaddress.IPv6Network(net)) for kind, net in _V6]
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
DNS_TIMEOUT_SECONDS = 5.0


class UrlNotAllowed(Exception):
    """The URL's host is, or resolves to, a refused address."""


class HostNotResolved(Exception):
    """The URL's host name does not resolve."""


def classify(address: Address) -> str | None:
    """The refused category of `address` (loopback included); None when globally reachable."""
    if isinstance(address, ipaddress.IPv6Address):
        embedded = address.ipv4_mapped or address.sixtofour
        if embedded is None and address in _NAT64:
            embedded = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
        if embedded is not None:
            return classify(embedded)
        nets: list = _V6_NETS
    else:
        if any(address in net for net in _V4_GLOBAL_EXCEPTIONS):
            return None
        nets = _V4_NETS
    for kind, net in nets:
        if address in net:
            return str(kind)
    if address.is_reserved or not address.is_global:
        return RESERVED
    return None


@dataclass(frozen=True)
class UrlPolicy:
    allow_loopback: bool = False
    allow_private: bool = False

    def refusal(self, address: Address) -> str | None:
        """Why `address` may not be called, or None when it may."""
        kind = classify(address)
        if (
            kind is None
            or (kind == LOOPBACK and self.allow_loopback)
            or (kind == PRIVATE and self.allow_private)
        ):
            return None
        return kind

    def check_url(self, url: str) -> None:
        """Raise 400 `webhook_url_not_allowed` when `url` reaches a refused address.

        A host name that does not resolve (now) is accepted: every delivery
        attempt checks again and fails with an error while it does not resolve.
        """
        try:
            host, port = _host_and_port(url)
            addresses = _literal(host)
            if addresses is None:
                try:
                    addresses = _resolve(host, port, timeout=DNS_TIMEOUT_SECONDS)
                except HostNotResolved:
                    return
            self._check(host, addresses)
        except UrlNotAllowed as exc:
            raise ApiError(
                400, "webhook_url_not_allowed", f"The webhook URL is not allowed: {exc}"
            ) from exc

    def vet_host(self, host: str, port: int, timeout: float | None = None) -> list[str]:
        """The addresses of `host`, all allowed; raises UrlNotAllowed or HostNotResolved
        (also when the lookup takes longer than `timeout` seconds)."""
        addresses = _literal(host)
        if addresses is None:
            addresses = _resolve(host, port, timeout=timeout)
        self._check(host, addresses)
        return [str(address) for address in addresses]

    def _check(self, host: str, addresses: list[Address]) -> None:
        for address in addresses:
            kind = self.refusal(address)
            if kind is None:
                continue
            article = "an" if kind[0] in "aeiou" else "a"
            if _literal(host) == [address]:
                raise UrlNotAllowed(f"{host} is {article} {kind} address.")
            raise UrlNotAllowed(f"{host} resolves to {address}, {article} {kind} address.")


def _host_and_port(url: str) -> tuple[str, int]:
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UrlNotAllowed("the URL has no valid host and port.") from exc
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise UrlNotAllowed("the URL must be an absolute http or https URL with a host.")
    return parts.hostname, port or (443 if parts.scheme == "https" else 80)


def _literal(host: str) -> list[Address] | None:
    """[the address] when `host` is an IP literal in canonical form, else None (resolve it)."""
    try:
        return [ipaddress.ip_address(host.strip("[]"))]
    except ValueError:
        return None


def _resolve(host: str, port: int, *, timeout: float | None) -> list[Address]:
    """Every address `host` resolves to (the system resolver, as a connection would use it)."""
    outcome: dict[str, object] = {}

    def lookup() -> None:
        try:
            outcome["infos"] = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except (OSError, UnicodeError) as exc:
            outcome["error"] = exc

    if timeout is None:
        lookup()
    else:
        thread = threading.Thread(target=lookup, name="apollospace-dns", daemon=True)
        thread.start()
        thread.join(timeout)
    if "infos" not in outcome:
        raise HostNotResolved(
            f"the host name {host} did not resolve ({outcome.get('error') or 'timed out'})."
        )
    addresses: list[Address] = []
    for info in outcome["infos"]:  # type: ignore[attr-defined]
        text = str(info[4][0]).split("%", 1)[0]
        address = ipaddress.ip_address(text)
        if address not in addresses:
            addresses.append(address)
    if not addresses:
        raise HostNotResolved(f"the host name {host} did not resolve.")
    return addresses
