"""Where a webhook may go: the one place that decides, used when a partner subscribes and again
before every delivery (webhooks are no way into our network).

A URL is accepted when its scheme is ``https`` and every address its host resolves to is a
public unicast address. Loopback, private (RFC 1918, CGNAT 100.64/10, IPv6 unique local),
link-local (cloud metadata), multicast, reserved and unspecified addresses are refused, in
IPv4 and IPv6 alike, IPv4 written inside IPv6 (``::ffff:10.0.0.1``, NAT64) included.
``WEBHOOK_ALLOW_PRIVATE_NETWORKS`` (local development and tests only) also admits plain
``http`` and loopback and private addresses; never link-local, multicast, reserved or
unspecified ones. The sender connects to the addresses checked here, never looking the name up
again (a name that resolves elsewhere a second time gains nothing).
"""

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.validators import URLValidator

SCHEME_NOT_ALLOWED = "webhook_scheme_not_allowed"
URL_NOT_ALLOWED = "webhook_url_not_allowed"
HOST_UNRESOLVED = "webhook_host_unresolved"

# What the development setting admits besides public addresses.
DEVELOPMENT_CLASSES = {"loopback", "private"}

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


def _networks(*pairs: tuple[str, str]) -> list[tuple[Network, str]]:
    return [(ipaddress.ip_network(network), kind) for network, kind in pairs]


IPV4_REFUSED = _networks(
    ("0.0.0.0/8", "unspecified"),  # "this network"
    ("10.0.0.0/8", "private"),
    ("100.64.0.0/10", "private"),  # carrier-grade NAT (shared address space)
    ("127.0.0.0/8", "loopback"),
    ("169.254.0.0/16", "link-local"),  # cloud metadata lives here
    ("172.16.0.0/12", "private"),
    ("192.0.0.0/24", "reserved"),  # IETF protocol assignments
    ("192.0.2.0/24", "reserved"),  # documentation
    ("192.88.99.0/24", "reserved"),  # 6to4 relay anycast
    ("192.168.0.0/16", "private"),
    ("198.18.0.0/15", "reserved"),  # benchmarking
    ("198.51.100.0/24", "reserved"),  # documentation
    ("203.0.113.0/24", "reserved"),  # documentation
    ("224.0.0.0/4", "multicast"),
    ("240.0.0.0/4", "reserved"),  # and the broadcast address
)
IPV6_REFUSED = _networks(
    ("::/128", "unspecified"),
    ("::1/128", "loopback"),
    ("::/8", "reserved"),  # IPv4-compatible and other legacy forms (mapped ones are unwrapped)
    ("64:ff9b:1::/48", "reserved"),  # local-use NAT64
    ("100::/64", "reserved"),  # discard-only
    ("2001::/23", "reserved"),  # IETF protocol assignments, Teredo
    ("2001:db8::/32", "reserved"),  # documentation
    ("2002::/16", "reserved"),  # 6to4
    ("3fff::/20", "reserved"),  # documentation
    ("5f00::/16", "reserved"),  # segment routing
    ("fc00::/7", "private"),  # unique local
    ("fe80::/10", "link-local"),
    ("fec0::/10", "reserved"),  # site-local, deprecated
    ("ff00::/8", "multicast"),
)
IPV6_GLOBAL_UNICAST = ipaddress.ip_network("2000::/3")
NAT64 = ipaddress.ip_network("64:ff9b::/96")
_FAMILIES = (socket.AF_INET, socket.AF_INET6)


class TargetRefused(Exception):
    """A webhook URL that may not be used; ``code`` says why (``webhook_...``)."""

    def __init__(self, code: str, message: str):
        super().__init__(message)
        self.code = code
        self.message = message

    @property
    def permanent(self) -> bool:
        """A name that does not resolve may resolve later; a refused address or scheme stays."""
        return self.code != HOST_UNRESOLVED


@dataclass(frozen=True)
class Target:
    """A checked URL: the name it gives (for the Host header and the TLS certificate) and the
    socket addresses the name resolved to, every one of them checked."""

    scheme: str
    host: str
    port: int
    path: str
    addresses: tuple[tuple[int, tuple], ...]  # (address family, socket address)


def address_class(address: str) -> str:
    """``public`` or why the address is refused: ``loopback``, ``private``, ``link-local``,
    ``multicast``, ``reserved`` or ``unspecified``."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address):
        embedded = ip.ipv4_mapped or (
            ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF) if ip in NAT64 else None
        )
        if embedded is not None:
            return address_class(str(embedded))
        refused = IPV6_REFUSED
        if ip not in IPV6_GLOBAL_UNICAST and not any(ip in net for net, _ in refused):
            return "reserved"  # outside global unicast, nothing else is assigned
    else:
        refused = IPV4_REFUSED
    return next((kind for network, kind in refused if ip in network), "public")


def allowed_schemes() -> set[str]:
    return {"https", "http"} if settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS else {"https"}


def resolve_target(url: str) -> Target:
    """Check ``url`` and resolve its host; raise ``TargetRefused`` unless every address is
    one a webhook may reach."""
    scheme, host, port, path = _parse(url)
    try:
        found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    except (OSError, UnicodeError) as error:
        raise TargetRefused(HOST_UNRESOLVED, f"{host} does not resolve ({error}).") from None
    addresses = tuple(
        (family, sockaddr) for family, _, _, _, sockaddr in found if family in _FAMILIES
    )
    if not addresses:
        raise TargetRefused(HOST_UNRESOLVED, f"{host} has no IPv4 or IPv6 address.")
    admitted = {"public"} | (
        DEVELOPMENT_CLASSES if settings.WEBHOOK_ALLOW_PRIVATE_NETWORKS else set()
    )
    for _, sockaddr in addresses:
        kind = address_class(sockaddr[0])
        if kind not in admitted:
            raise TargetRefused(
                URL_NOT_ALLOWED,
                f"{host} resolves to {sockaddr[0]}, a {kind} address: webhooks go to public "
                "addresses only.",
            )
    return Target(scheme, host, port, path, addresses)


def _parse(url: str) -> tuple[str, str, int, str]:
    if any(ord(character) <= 0x20 or ord(character) == 0x7F for character in url):
        raise TargetRefused(URL_NOT_ALLOWED, "A webhook URL has no spaces or control characters.")
    parts = urlsplit(url)
    scheme = parts.scheme.lower()
    if scheme not in allowed_schemes():
        schemes = " or ".join(sorted(allowed_schemes(), reverse=True))
        raise TargetRefused(SCHEME_NOT_ALLOWED, f"A webhook URL is {schemes}, not {scheme!r}.")
    try:
        URLValidator(schemes=["http", "https"])(url)
    except ValidationError:
        raise TargetRefused(URL_NOT_ALLOWED, "Not a valid URL.") from None
    if parts.username is not None or parts.password is not None:
        raise TargetRefused(URL_NOT_ALLOWED, "A webhook URL carries no user name or password.")
    try:
        port = parts.port
        host = _host(parts.hostname or "")
    except (ValueError, UnicodeError):
        raise TargetRefused(URL_NOT_ALLOWED, "The URL's host or port is not valid.") from None
    if not host or port == 0:
        raise TargetRefused(URL_NOT_ALLOWED, "A webhook URL names a host (and a port above 0).")
    if port is None:
        port = 443 if scheme == "https" else 80
    path = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    return scheme, host, port, path


def _host(name: str) -> str:
    """An IP literal as it is; a name in ASCII (IDNA), as DNS, TLS and the Host header want it."""
    try:
        return str(ipaddress.ip_address(name))
    except ValueError:
        return name.rstrip(".").encode("idna").decode("ascii")
