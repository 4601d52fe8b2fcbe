"""Kept-alive connections, shared by the probes of a run: :class:`ConnectionPool`.

A real client sends its requests to one origin over a few persistent
connections (RFC 9112 §9.3: HTTP/1.1 connections persist unless one side says
``close``; RFC 9113 §9.1: an HTTP/2 connection carries many requests). The
probes do the same where a real client would, and only there:

- an HTTP/1.1 request without ``Upgrade`` (the legacy probes' plain requests)
  goes over a kept-alive connection of the same kind: the same peer and name,
  the same ALPN offer, the same lowest TLS version, the same trust and route;
- an HTTP/2 request over TLS goes over a kept-alive HTTP/2 connection of the
  same kind, one stream at a time;
- everything that takes a connection over or is about the connection itself
  (WebSocket handshakes, the TLS version handshakes, HTTP/1.0, h2c, RFC 2817,
  QUIC) keeps a connection of its own.

A connection goes back to the pool only when its exchange ended cleanly and
both sides said nothing against persistence; it is taken again only while
it is fresh (idle at most :data:`IDLE_SECONDS`, well under the keep-alive
timeouts servers use) and quiet (nothing to read: a server that closed it or
sent GOAWAY meanwhile makes it readable). A request that fails on a kept-alive
connection is retried once on a new one before anything is judged (RFC 9112
§9.3.1): a server may close an idle connection just as the request is sent.

The pool also holds the per-host connection count: at most ``host_limit``
connections are open to one peer at once, idle ones included; opening one
more closes the peer's longest-idle connection first.

Which pool the running probe uses is a context variable (:func:`lending`), set by
the probe engine around each probe; without one (``--upgrade-fresh-connections``,
or a probe called directly) every probe opens and closes its own connections.
"""

from __future__ import annotations

import contextlib
import contextvars
import threading
import time
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any, Generic, Protocol, TypeVar

__all__ = ["IDLE_SECONDS", "ConnectionPool", "Kept", "PoolKey", "idempotent", "lending", "lent"]

# How long an idle connection is worth taking again: well under the keep-alive
# timeouts of common servers (nginx 75 s, Apache 5 s, hypercorn 5 s).
IDLE_SECONDS = 2.0

Peer = tuple[str, int]

# RFC 9110 §9.2.2: a request with one of these methods may be sent again.
_IDEMPOTENT = frozenset({"GET", "HEAD", "OPTIONS", "TRACE", "PUT", "DELETE"})


def idempotent(method: str) -> bool:
    """Whether a request with ``method`` may be retried on a new connection (RFC 9110 §9.2.2)."""
    return method in _IDEMPOTENT  # method names are case-sensitive (RFC 9110 §9.1)


@dataclass(frozen=True)
class PoolKey:
    """What makes two connections interchangeable: the protocol spoken on it
    (``http/1.1`` or ``h2``), where it goes and under which name, what its TLS
    handshake offered (ALPN, lowest version), whom it trusts and how it was dialled
    (directly, or through a proxy's tunnel)."""

    kind: str
    scheme: str
    server_name: str
    peer: Peer
    alpn: tuple[str, ...]
    tls_minimum: str | None
    trust: object
    dialer: object


class Kept(Protocol):
    """What the pool uses of a connection (``probes.connection.Connection``)."""

    def quiet(self) -> bool:
        """Whether nothing has arrived on it while it was idle."""
        ...

    def close(self) -> None: ...


K = TypeVar("K", bound=Kept)


class ConnectionPool(Generic[K]):
    """Idle kept-alive connections by :class:`PoolKey`, and the open connections per peer."""

    def __init__(self, host_limit: int) -> None:
        self.host_limit = host_limit
        self._lock = threading.Lock()
        # Idle connections, oldest first: (key, connection) -> when it was given back.
        self._idle: OrderedDict[tuple[PoolKey, int], tuple[K, float]] = OrderedDict()
        self._open: dict[Peer, int] = {}
        self._closed = False
        self.opened = 0  # connections opened while this pool counted them
        self.reused = 0  # requests sent over a kept-alive connection

    def take(self, key: PoolKey) -> K | None:
        """A fresh, quiet idle connection of ``key``'s kind, or None."""
        while True:
            with self._lock:
                found = next((k for k in self._idle if k[0] == key), None)
                if found is None:
                    return None
                connection, since = self._idle.pop(found)
            if time.monotonic() - since <= IDLE_SECONDS and connection.quiet():
                with self._lock:
                    self.reused += 1
                return connection
            connection.close()

    def give_back(self, key: PoolKey, connection: K) -> None:
        """Keep ``connection`` (its exchange ended cleanly) for the next request of its kind."""
        with self._lock:
            if not self._closed:
                self._idle[(key, id(connection))] = (connection, time.monotonic())
                return
        connection.close()

    def opening(self, peer: Peer) -> None:
        """A connection to ``peer`` is about to be opened: count it, first closing the
        peer's longest-idle connections while the peer is at its limit."""
        while True:
            with self._lock:
                victim = None
                if self._open.get(peer, 0) >= self.host_limit:
                    victim = next((k for k in self._idle if k[0].peer == peer), None)
                if victim is None:
                    self._open[peer] = self._open.get(peer, 0) + 1
                    self.opened += 1
                    return
                connection, _ = self._idle.pop(victim)
            connection.close()  # calls closed(peer)

    def closed(self, peer: Peer) -> None:
        """A connection counted by :meth:`opening` was closed."""
        with self._lock:
            left = self._open.get(peer, 0) - 1
            if left > 0:
                self._open[peer] = left
            else:
                self._open.pop(peer, None)

    def open_to(self, peer: Peer) -> int:
        """How many counted connections to ``peer`` are open now."""
        with self._lock:
            return self._open.get(peer, 0)

    def close(self) -> None:
        """Close the idle connections; those in use are closed when their probe ends."""
        with self._lock:
            self._closed = True
            idle = [connection for connection, _ in self._idle.values()]
            self._idle.clear()
        for connection in idle:
            connection.close()


_LENT: contextvars.ContextVar[ConnectionPool[Any] | None] = contextvars.ContextVar(
    "pytest_upgrade_connection_pool", default=None
)


def lent() -> ConnectionPool[Any] | None:
    """The pool the running probe shares connections through, if any."""
    return _LENT.get()


@contextlib.contextmanager
def lending(pool: ConnectionPool[Any] | None) -> Iterator[None]:
    """Run the block's probes with ``pool`` (None: each opens its own connections)."""
    token = _LENT.set(pool)
    try:
        yield
    finally:
        _LENT.reset(token)
