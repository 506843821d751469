"""Web Push endpoints and the addresses push traffic may reach: one strict reading for all.

An endpoint is a URL the client chose, and a worker will POST to it, so it is read once, here, by
the registration check and by the sender alike, and the sender posts the URL rebuilt from what was
read (`Endpoint.url`), never the string as given. Parsers disagree about odd URLs
(`https://127.0.0.1\\@fcm.googleapis.com/x` is fcm.googleapis.com to `urlsplit`, 127.0.0.1 to
urllib3), so anything odd is refused rather than interpreted: only `https`, no user info, no
backslash, no explicit port (unless the allow-list names that very host:port, as tests do for
their local fakes), no fragment, a host of plain letters, digits, dots and hyphens that the
allow-list names.

A host name says nothing of the address it resolves to: the worker checks every address when it
connects (`forbidden_address`, workers/push/guard.py), so a name that resolves to a private,
loopback, link-local, multicast or reserved address is never reached.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from urllib.parse import urlsplit

# RFC 3986's unreserved, reserved and percent characters, less the backslash (not in it anyway)
# and whitespace; the fragment delimiter "#" is refused on its own below.
_URL_CHARACTERS = re.compile(r"[A-Za-z0-9\-._~:/?\[\]@!$&'()*+,;=%]+")
_LABEL = re.compile(r"(?!-)[a-z0-9-]{1,63}(?<!-)")
_IPV6_LITERAL = re.compile(r"\[[0-9a-f:.]+\]")
_PORT = re.compile(r"[1-9][0-9]{0,4}")
MAX_LENGTH = 2000


@dataclass(frozen=True)
class Endpoint:
    host: str  # lower case; an IPv6 literal without its brackets
    port: int | None  # only when the allow-list names this host with this port
    url: str  # rebuilt from the parts read: what the sender posts to

    @property
    def origin(self) -> str:
        """The VAPID audience (RFC 8292): scheme, host and port, nothing else."""
        return self.url[: self.url.index("/", len("https://"))]


class EndpointRefused(ValueError):
    """Why an endpoint is not one we send to; its message is for the athlete."""


def parse(endpoint: str, allowed_hosts: Iterable[str]) -> Endpoint:
    """The endpoint as we will send to it, or `EndpointRefused` saying why not."""
    if not isinstance(endpoint, str) or not 0 < len(endpoint) <= MAX_LENGTH:
        raise EndpointRefused("The endpoint is not a URL we can use.")
    if not _URL_CHARACTERS.fullmatch(endpoint):
        raise EndpointRefused("The endpoint has characters a push service URL never has.")
    parts = urlsplit(endpoint)
    if parts.scheme.lower() != "https":
        raise EndpointRefused("Use an https push endpoint.")
    if "@" in parts.netloc:
        raise EndpointRefused("A push endpoint carries no user name or password.")
    host, port = _host_and_port(parts.netloc)
    if not host:
        raise EndpointRefused("The endpoint has no host.")
    if not parts.path.startswith("/"):
        raise EndpointRefused("The endpoint's path is not one a push service gives.")
    allowed = [h.strip().lower() for h in allowed_hosts]
    named = f"[{host}]" if ":" in host else host
    if port is not None:
        if f"{named}:{port}" not in allowed:
            raise EndpointRefused("A push endpoint names no port.")
    elif not any(_matches(host, pattern) for pattern in allowed):
        address = _ip_literal(host)
        if address is not None and forbidden_address(address):
            raise EndpointRefused("Push endpoints on private or local addresses are refused.")
        raise EndpointRefused("This push service is not one we send to.")
    netloc = named if port is None else f"{named}:{port}"
    query = f"?{parts.query}" if parts.query else ""
    return Endpoint(host, port, f"https://{netloc}{parts.path}{query}")


def problem(endpoint: str, allowed_hosts: Iterable[str]) -> str | None:
    """Why this endpoint is refused, or None."""
    try:
        parse(endpoint, allowed_hosts)
    except EndpointRefused as refused:
        return str(refused)
    return None


def forbidden_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address, *,
                      allow_loopback: bool = False) -> bool:
    """True for an address push traffic must never reach: anything but a global unicast one.

    Loopback only when `allow_loopback` (a setting tests turn on: their fake push services listen
    on 127.0.0.1). An IPv4 address mapped into IPv6 is judged as the IPv4 address it is.
    """
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    if address.is_loopback:
        return not allow_loopback
    return (not address.is_global or address.is_private or address.is_link_local
            or address.is_multicast or address.is_reserved or address.is_unspecified)


def _host_and_port(netloc: str) -> tuple[str, int | None]:
    netloc = netloc.lower()
    if netloc.startswith("["):
        literal, bracket, rest = netloc.partition("]")
        host = literal[1:]
        if not bracket or not _IPV6_LITERAL.fullmatch(literal + "]") \
                or _ip_literal(host) is None:
            raise EndpointRefused("The endpoint's host is not a host name.")
    else:
        host, colon, port = netloc.partition(":")
        rest = colon + port
        if host and not all(_LABEL.fullmatch(label) for label in host.split(".")):
            raise EndpointRefused("The endpoint's host is not a host name.")
    if not rest:
        return host, None
    if not rest.startswith(":") or not _PORT.fullmatch(rest[1:]) or int(rest[1:]) > 65535:
        raise EndpointRefused("The endpoint's port is not a port.")
    return host, int(rest[1:])


def _matches(host: str, pattern: str) -> bool:
    if pattern.startswith("*."):
        return host.endswith(pattern[1:]) and len(host) > len(pattern) - 1
    return host == pattern


def _ip_literal(host: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    try:
        return ipaddress.ip_address(host)
    except ValueError:
        return None
