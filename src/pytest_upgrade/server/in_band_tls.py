"""The in-band TLS upgrade (RFC 2817) for the bundled server's cleartext listener, opt-in.

hypercorn cannot perform it: it answers ``Upgrade: TLS/1.x`` like any other
request, and an ASGI app has no way to start TLS on its connection. So the
bundled server can put this protocol in front of hypercorn's on the
cleartext listener (``upgrade_server_options = {"tls_upgrade": True}``). It
reads the first request head. A request without ``Upgrade: TLS/x.y`` and
``Connection: upgrade`` goes to hypercorn unchanged, and the protocol steps
aside. One with them is answered ``101 Switching Protocols`` (RFC 2817 §3.3),
TLS is started on the same transport with the https listener's context,
and hypercorn gets the TLS connection, with the original request minus its
upgrade fields, as if it had arrived over TLS: the app answers it over TLS
(the "response to the original request" of §3.3) with ``scheme`` "https",
and serves the requests that follow.
"""

from __future__ import annotations

import asyncio
import ssl
from typing import Any

__all__ = ["InBandTls"]

# A request head larger than this is not an upgrade request worth reading: pass it on.
_HEAD_LIMIT = 64 * 1024
# Hop-by-hop fields of the upgrade itself, not passed on with the request (RFC 9110 §7.6.1).
_UPGRADE_FIELDS = (b"upgrade", b"connection")


class InBandTls(asyncio.Protocol):
    """Stands in front of hypercorn's protocol until the first request head has arrived."""

    def __init__(self, inner: Any, context: ssl.SSLContext) -> None:
        self._inner = inner
        self._context = context
        self._transport: asyncio.Transport | None = None
        self._buffer = b""
        self._task: asyncio.Task[None] | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self._transport = transport

    def data_received(self, data: bytes) -> None:
        self._buffer += data
        head, found, _ = self._buffer.partition(b"\r\n\r\n")
        if not found and len(self._buffer) < _HEAD_LIMIT:
            return
        token = _tls_token(head) if found else None
        if token is None:
            self._pass_on(self._buffer)
            return
        transport = self._transport
        assert transport is not None
        # Nothing more is read until TLS is set up: the ClientHello follows the 101.
        transport.pause_reading()
        transport.write(
            b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: "
            + token
            + b", HTTP/1.1\r\nConnection: Upgrade\r\n\r\n"
        )
        request = _without_upgrade(head) + b"\r\n\r\n" + self._buffer[len(head) + 4 :]
        self._task = asyncio.get_running_loop().create_task(self._switch(transport, request))

    def eof_received(self) -> bool | None:
        if self._task is None and self._transport is not None:
            self._pass_on(self._buffer)
            return bool(self._inner.eof_received())
        return None

    def connection_lost(self, exc: Exception | None) -> None:
        # Before a decision: hypercorn never saw the connection, there is nothing to tell it.
        self._transport = None

    def _pass_on(self, data: bytes) -> None:
        """Not an upgrade: hypercorn's protocol takes the connection as it is."""
        transport = self._transport
        assert transport is not None
        transport.set_protocol(self._inner)
        self._inner.connection_made(transport)
        if data:
            self._inner.data_received(data)

    async def _switch(self, transport: asyncio.Transport, request: bytes) -> None:
        loop = asyncio.get_running_loop()
        try:
            secure = await loop.start_tls(transport, self._inner, self._context, server_side=True)
        except (OSError, ssl.SSLError, ConnectionError, TimeoutError):
            # The client refused the handshake (RFC 2817 §3.3: a failure disconnects).
            transport.abort()
            return
        if secure is None:  # pragma: no cover - the transport closed during the handshake
            return
        self._inner.connection_made(secure)
        self._inner.data_received(request)


def _tls_token(head: bytes) -> bytes | None:
    """The ``TLS/x.y`` token of an RFC 2817 upgrade request, or None for any other request."""
    upgrade: list[bytes] = []
    connection: list[bytes] = []
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        name = name.strip().lower()
        if name == b"upgrade":
            upgrade += [v.strip() for v in value.split(b",")]
        elif name == b"connection":
            connection += [v.strip().lower() for v in value.split(b",")]
    if b"upgrade" not in connection:
        return None
    return next((p for p in upgrade if p.lower().startswith(b"tls/")), None)


def _without_upgrade(head: bytes) -> bytes:
    lines = head.split(b"\r\n")
    kept = [
        line for line in lines[1:] if line.partition(b":")[0].strip().lower() not in _UPGRADE_FIELDS
    ]
    return b"\r\n".join([lines[0], *kept])
