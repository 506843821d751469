"""An HTTP client for URLs that someone else chose (Web Push endpoints, webhook endpoints), which
reaches only the public internet.

- Every address a host name resolves to is checked when the connection is made, and the socket is
  opened to the address that was checked (no second lookup for DNS to answer differently): a
  private, loopback, link-local, multicast or reserved address refuses the whole host
  (`service.domain.notify.endpoints.forbidden_address`). Loopback is allowed only when the setting
  says so (`BACKSTRIDE_PUSH_ALLOW_LOOPBACK`, for tests: their fakes listen on 127.0.0.1).
- https only; redirects are never followed (a 3xx is the push service's answer, not a direction).
- Nothing from the environment: no proxy, no netrc credentials, no CA bundle other than ours.

`checked_addresses` is the one check, and `guarded_client` (httpx) the one way Web Push and
webhooks connect through it.
"""

from __future__ import annotations

import ipaddress
import socket
import ssl
from typing import Any

import httpcore
import httpx

from service.domain.notify.endpoints import forbidden_address


class Refused(OSError):
    """The host resolved to an address our traffic must not reach (or to none)."""


def checked_addresses(host: str, port: int, *, allow_loopback: bool) -> list[str]:
    """Every address `host` resolves to, once, all of them allowed; `Refused` if any is not
    (`socket.gaierror` if it does not resolve). Connect to these literals, never the name again."""
    found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    addresses = list(dict.fromkeys(str(info[4][0]) for info in found))
    refused = [a for a in addresses if forbidden_address(
        ipaddress.ip_address(a.split("%", 1)[0]), allow_loopback=allow_loopback)]
    if refused or not addresses:
        raise Refused(f"{host} resolves to a refused address {refused}")
    return addresses


class _GuardedBackend(httpcore.SyncBackend):
    """httpcore's sockets, opened only to addresses `checked_addresses` allowed. TLS still
    names and verifies the host (httpcore passes it as the server name), not the address."""

    def __init__(self, allow_loopback: bool) -> None:
        self.allow_loopback = allow_loopback

    def connect_tcp(self, host: str, port: int, timeout: float | None = None,
                    local_address: str | None = None,
                    socket_options: Any = None) -> httpcore.NetworkStream:
        try:
            addresses = checked_addresses(host, port, allow_loopback=self.allow_loopback)
        except socket.gaierror as error:
            raise httpcore.ConnectError(f"Failed to resolve {host}: {error}") from error
        except Refused as error:
            raise httpcore.ConnectError(str(error)) from error
        last: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address,
                                           socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as error:
                last = error
        raise last or httpcore.ConnectError(f"Could not connect to {host}")


class _GuardedTransport(httpx.HTTPTransport):
    """httpx's transport on the guarded backend, for https URLs only."""

    def __init__(self, *, verify: Any, allow_loopback: bool, limits: httpx.Limits) -> None:
        super().__init__(verify=verify, trust_env=False, limits=limits)
        # The pool httpx made, again with the guarded backend (HTTPTransport takes none).
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(verify=verify, trust_env=False),
            max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections,
            keepalive_expiry=limits.keepalive_expiry,
            network_backend=_GuardedBackend(allow_loopback))

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if request.url.scheme != "https":
            raise httpx.UnsupportedProtocol("Only https URLs are reached.", request=request)
        return super().handle_request(request)


def guarded_client(*, allow_loopback: bool = False, ca_bundle: str | None = None,
                   timeout_s: float = 15, max_connections: int = 20) -> httpx.Client:
    """An httpx client that reaches only public addresses over https, follows no redirect and
    takes nothing from the environment (proxies, netrc, SSL_CERT_FILE)."""
    verify = ssl.create_default_context(cafile=ca_bundle) if ca_bundle else True
    return httpx.Client(
        transport=_GuardedTransport(verify=verify, allow_loopback=allow_loopback,
                                    limits=httpx.Limits(max_connections=max_connections,
                                                        max_keepalive_connections=max_connections)),
        timeout=httpx.Timeout(timeout_s), follow_redirects=False, trust_env=False)
