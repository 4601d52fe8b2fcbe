"""What every probe is given: where and how to connect (:class:`ConnectionSpec`), and
what to send (:class:`Request`).

A probe function takes the two values and its own offer (the ALPN list, the
TLS minimum, the HTTP version: what makes that probe the probe it is)::

    http1_exchange(spec, request, role=LEGACY, alpn=("http/1.1",))

The spec is the one place a way of connecting is said. Today a probe connects
to the endpoint's host and port and names that host. Each new way is one field
of the spec, and no probe function changes:

- a node's address: :attr:`ConnectionSpec.peer` is where the socket goes,
  while :attr:`~ConnectionSpec.server_name` and the endpoint's authority stay
  the name for SNI, ``Host``/``:authority`` and certificate verification;
- an egress proxy: :attr:`ConnectionSpec.dialer` makes the TCP connection
  (through a CONNECT tunnel then, RFC 9110 §9.3.6);
- a client certificate: the spec's :class:`~.endpoint.ClientTrust` builds
  every TLS context a probe's handshake uses, and would load it into each.
"""

from __future__ import annotations

import socket
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Protocol

from .endpoint import ClientTrust, Endpoint

__all__ = [
    "BODY_LIMIT",
    "HEADER_LIMIT",
    "ConnectionSpec",
    "Dialer",
    "Limits",
    "Request",
    "Socket",
]

BODY_LIMIT = 1024 * 1024  # bytes of a response body kept; the rest is not read
HEADER_LIMIT = 256 * 1024  # bytes of a response head before it is refused


class Socket(Protocol):
    """What a probe's connection uses of a connected ``socket.socket``."""

    def settimeout(self, value: float | None, /) -> None: ...
    def setblocking(self, flag: bool, /) -> None: ...
    def setsockopt(self, level: int, option: int, value: int, /) -> None: ...
    def sendall(self, data: bytes, /) -> None: ...
    def send(self, data: bytes, /) -> int: ...
    def recv(self, size: int, /) -> bytes: ...
    def close(self) -> None: ...


# How a TCP connection is made: (host, port), timeout -> a connected socket.
Dialer = Callable[[tuple[str, int], float], Socket]


@dataclass(frozen=True)
class Limits:
    """How much of an answer a probe reads: a body is cut at ``body`` bytes (and
    recorded as truncated); a response head over ``head`` bytes is refused."""

    body: int = BODY_LIMIT
    head: int = HEADER_LIMIT


@dataclass(frozen=True)
class Request:
    """What a probe sends: the method, the path (below the endpoint's base path) and the
    header fields, as the requirement declares them (``${NAME}`` expanded)."""

    method: str
    path: str
    headers: tuple[tuple[str, str], ...] = ()

    def but(
        self, *, method: str | None = None, headers: Sequence[tuple[str, str]] | None = None
    ) -> Request:
        """This request with another method or other header fields."""
        return replace(
            self,
            method=self.method if method is None else method,
            headers=self.headers if headers is None else tuple(headers),
        )


def _create_connection(peer: tuple[str, int], timeout: float) -> socket.socket:
    return socket.create_connection(peer, timeout=timeout)


@dataclass(frozen=True)
class ConnectionSpec:
    """Where and how one probe connects: the endpoint (scheme, name, port and base
    path), whom it trusts, its timeout (one deadline for the whole probe) and its limits.

    ``dialer`` makes the TCP connection to :attr:`peer` (``socket.create_connection``);
    a test gives one that returns a scripted socket, as httpx's ``MockTransport``
    stands in for the network. ``address`` is the node the connection goes to (one
    address of the endpoint's name, or one given with ``--upgrade-resolve``); the
    name stays the endpoint's host for SNI, ``Host``/``:authority`` and verification.
    """

    endpoint: Endpoint
    trust: ClientTrust = field(compare=False)
    timeout: float
    limits: Limits = Limits()
    dialer: Dialer = field(default=_create_connection, compare=False, repr=False)
    address: str | None = None  # the node's address; None: connect to the endpoint's host

    @property
    def https(self) -> bool:
        return self.endpoint.scheme == "https"

    @property
    def server_name(self) -> str:
        """The name the probe says it connects to: SNI, and the certificate's name."""
        return self.endpoint.host

    @property
    def peer(self) -> tuple[str, int]:
        """Where the socket goes: the node's address, else the endpoint's host; its port."""
        return (self.address or self.endpoint.host, self.endpoint.port)

    def dial(self, timeout: float) -> Socket:
        """A TCP connection to :attr:`peer` (OSError as ``socket.create_connection`` raises)."""
        return self.dialer(self.peer, timeout)
