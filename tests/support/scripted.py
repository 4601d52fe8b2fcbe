"""A scripted server for the probes' framing tests: its bytes, in the order they arrive.

A :class:`Peer` is what the dialer of a :class:`~pytest_upgrade.probes.spec.ConnectionSpec`
returns in place of a connected socket, as h11's tests feed a connection
bytes by hand: no socket, no server, no timing.
"""

from __future__ import annotations

from collections.abc import Callable

from pytest_upgrade._model import Exchange, FailureKind
from pytest_upgrade.probes.endpoint import ClientTrust, Endpoint
from pytest_upgrade.probes.spec import ConnectionSpec, Limits, Request

__all__ = ["DEFAULTS", "ENDPOINT", "GET", "Peer", "failure_of", "spec"]

# A chunk the server sends, an error its socket raises, or an answer made from
# what the client has sent so far (a WebSocket accept value, say).
Chunk = bytes | OSError | Callable[[bytes], bytes]


class Peer:
    """A connected socket whose server side is a script: each ``recv`` returns the next
    chunk, then b"" (the server closed)."""

    def __init__(self, *script: Chunk) -> None:
        self.script = list(script)
        self.sent = bytearray()
        self.dialed: tuple[str, int] | None = None
        self.closed = False

    def dial(self, peer: tuple[str, int], timeout: float) -> Peer:
        self.dialed = peer
        return self

    def settimeout(self, value: float | None) -> None:
        pass

    def setblocking(self, flag: bool) -> None:
        pass

    def setsockopt(self, level: int, option: int, value: int) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.sent += data

    def send(self, data: bytes) -> int:
        self.sent += data
        return len(data)

    def recv(self, size: int) -> bytes:
        if not self.script:
            return b""
        chunk = self.script.pop(0)
        if isinstance(chunk, OSError):
            raise chunk
        data = chunk(bytes(self.sent)) if callable(chunk) else chunk
        assert len(data) <= size
        return data

    def close(self) -> None:
        self.closed = True


ENDPOINT = Endpoint("http", "app.example", 8080, "/base")
GET = Request("GET", "/x", (("X-Trace", "1"),))


DEFAULTS = Limits()


def spec(peer: Peer, *, limits: Limits = DEFAULTS) -> ConnectionSpec:
    return ConnectionSpec(ENDPOINT, ClientTrust(), 5.0, limits, dialer=peer.dial)


def failure_of(exchange: Exchange) -> tuple[FailureKind, str]:
    """Why the probe got no response: its failure's kind and message (fails on a response)."""
    assert exchange.failure is not None, exchange
    return exchange.failure.kind, exchange.failure.message
