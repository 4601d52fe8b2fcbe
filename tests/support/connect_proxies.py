"""Loopback stand-ins for an egress proxy (HTTP CONNECT, RFC 9110 §9.3.6), on raw sockets.

``connect_proxy(behaviour)`` serves one behaviour on 127.0.0.1 and yields a
:class:`StandIn` (its port, the CONNECT heads it read). A behaviour gets the
accepted socket and the request head it read:

- :func:`tunnel` relays to the authority asked for (loopback only), asking
  for Basic credentials first when given some (407 without or with others);
- :func:`answer` sends fixed bytes (a 403, a 407, garbage, a 200 with the
  origin's first bytes in the same segment) and closes, or keeps the socket
  open (``hold``);
- :func:`silent` reads the request and never answers.

``closed_port()`` is a loopback port where nothing listens (a proxy that is down).
"""

from __future__ import annotations

import base64
import contextlib
import ipaddress
import socket
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from support.hostile import linger, read_head, zoo_server
from support.proxy import relay

# A stand-in's behaviour: the accepted connection and the CONNECT request head it read.
Behaviour = Callable[[Any, bytes], None]
_IDLE = 10.0


@dataclass
class StandIn:
    port: int
    heads: list[bytes] = field(default_factory=list)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def header(self, name: str, index: int = -1) -> str | None:
        """A header field of the ``index``-th CONNECT request read (None: absent)."""
        for line in self.heads[index].decode("latin-1").split("\r\n")[1:]:
            key, _, value = line.partition(":")
            if key.strip().lower() == name.lower():
                return value.strip()
        return None

    @property
    def request_lines(self) -> list[str]:
        return [head.split(b"\r\n", 1)[0].decode("latin-1") for head in self.heads]


def tunnel(*, user: str | None = None, password: str = "") -> Behaviour:
    """A CONNECT proxy to loopback addresses, requiring ``user:password`` when given."""
    wanted = None
    if user is not None:
        wanted = "Basic " + base64.b64encode(f"{user}:{password}".encode()).decode()

    def behaviour(conn: Any, head: bytes) -> None:
        lines = head.decode("latin-1").split("\r\n\r\n", 1)[0].split("\r\n")
        method, authority, _ = lines[0].split(" ", 2)
        given = next(
            (
                line.split(":", 1)[1].strip()
                for line in lines[1:]
                if line.lower().startswith("proxy-authorization:")
            ),
            None,
        )
        if wanted is not None and given != wanted:
            conn.sendall(
                b"HTTP/1.1 407 Proxy Authentication Required\r\n"
                b'Proxy-Authenticate: Basic realm="stand-in"\r\nContent-Length: 0\r\n\r\n'
            )
            return
        host, _, port = authority.rpartition(":")
        host = host.strip("[]")
        if method != "CONNECT" or not ipaddress.ip_address(host).is_loopback:
            conn.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        try:
            upstream = socket.create_connection((host, int(port)), timeout=_IDLE)
        except OSError:
            conn.sendall(b"HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n")
            return
        with upstream:
            conn.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            conn.settimeout(None)
            relay(conn, upstream)

    return behaviour


def answer(data: bytes, *, hold: bool = False) -> Behaviour:
    """Answer every CONNECT with ``data``; then close, or (``hold``) wait for the client."""

    def behaviour(conn: Any, head: bytes) -> None:
        conn.sendall(data)
        if hold:
            linger(conn)

    return behaviour


def silent(conn: Any, head: bytes) -> None:
    """Read the CONNECT request, never answer: a proxy that hangs."""
    linger(conn)


@contextlib.contextmanager
def connect_proxy(behaviour: Behaviour) -> Iterator[StandIn]:
    """Serve ``behaviour`` on a loopback port until the block ends (``hostile.zoo_server``,
    which shuts every connection down at the end: a waiting behaviour ends then)."""
    heads: list[bytes] = []

    def serve(conn: Any) -> None:
        head = read_head(conn)
        if b"\r\n\r\n" in head:
            heads.append(head.split(b"\r\n\r\n", 1)[0] + b"\r\n\r\n")
            behaviour(conn, head)
        conn.close()  # a behaviour that ends closes the connection

    with zoo_server(serve) as server:
        yield StandIn(server.port, heads)


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then closed)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])
