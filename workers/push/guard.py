"""An HTTP session for URLs that someone else chose (Web Push endpoints), which reaches only the
public internet.

- Every address a host name resolves to is checked when the connection is made, and the socket is
  opened to the address that was checked (no second lookup for DNS to answer differently): a
  private, loopback, link-local, multicast or reserved address refuses the whole host
  (`service.domain.notify.endpoints.forbidden_address`). Loopback is allowed only when the setting
  says so (`BACKSTRIDE_PUSH_ALLOW_LOOPBACK`, for tests: their fakes listen on 127.0.0.1).
- https only; redirects are never followed (a 3xx is the push service's answer, not a direction).
- Nothing from the environment: no proxy, no netrc credentials, no CA bundle other than ours.
"""

from __future__ import annotations

import ipaddress
import socket
from typing import Any

import requests
from requests.adapters import HTTPAdapter
from urllib3.connection import HTTPSConnection
from urllib3.connectionpool import HTTPSConnectionPool
from urllib3.exceptions import NewConnectionError
from urllib3.util import connection

from service.domain.notify.endpoints import forbidden_address


class AddressRefused(NewConnectionError):
    """The host resolved to an address push traffic must not reach."""


class _GuardedConnection(HTTPSConnection):
    allow_loopback = False

    def _new_conn(self) -> socket.socket:
        try:
            found = socket.getaddrinfo(self._dns_host, self.port, type=socket.SOCK_STREAM)
        except socket.gaierror as error:
            raise NewConnectionError(self, f"Failed to resolve: {error}") from error
        addresses = list(dict.fromkeys(info[4][0] for info in found))
        refused = [a for a in addresses if forbidden_address(
            ipaddress.ip_address(a), allow_loopback=self.allow_loopback)]
        if refused or not addresses:
            raise AddressRefused(self, f"{self.host} resolves to a refused address {refused}")
        last: OSError | None = None
        for address in addresses:
            try:
                # An address literal: create_connection resolves nothing more.
                return connection.create_connection(
                    (address, self.port), self.timeout, source_address=self.source_address,
                    socket_options=self.socket_options)
            except OSError as error:
                last = error
        raise NewConnectionError(self, f"Failed to establish a new connection: {last}")


class _GuardedAdapter(HTTPAdapter):
    def __init__(self, allow_loopback: bool) -> None:
        self._connection_class = type("GuardedConnection", (_GuardedConnection,),
                                      {"allow_loopback": allow_loopback})
        super().__init__(max_retries=0)

    def init_poolmanager(self, *args: Any, **kwargs: Any) -> None:
        super().init_poolmanager(*args, **kwargs)
        pool = type("GuardedPool", (HTTPSConnectionPool,),
                    {"ConnectionCls": self._connection_class})
        self.poolmanager.pool_classes_by_scheme = {"https": pool}


class GuardedSession(requests.Session):
    def __init__(self, *, allow_loopback: bool = False, ca_bundle: str | None = None) -> None:
        super().__init__()
        self.trust_env = False
        self.adapters.clear()  # no plain http at all
        self.mount("https://", _GuardedAdapter(allow_loopback))
        if ca_bundle:
            self.verify = ca_bundle

    def request(self, method: str | bytes, url: str | bytes, *args: Any,
                **kwargs: Any) -> requests.Response:
        kwargs["allow_redirects"] = False
        return super().request(method, url, *args, **kwargs)
