"""The parts of hypercorn the bundled server adjusts: its config (sockets bound by us,
TLS versions), a connection handler that ends with its client, and the event loop.
"""

from __future__ import annotations

import asyncio
import contextlib
import ssl
from collections.abc import Callable
from typing import Any

import hypercorn.asyncio.run
from hypercorn.asyncio.tcp_server import TCPServer
from hypercorn.asyncio.udp_server import UDPServer
from hypercorn.config import Config, Sockets
from hypercorn.events import Event, RawData, Updated

from ..probes.tls_versions import set_versions
from .in_band_tls import InBandTls

__all__ = [
    "ClosingTCPServer",
    "ClosingUDPServer",
    "EventLoop",
    "ServerConfig",
    "StartupAbortedError",
    "close_loop",
]

# How long a closing TLS connection waits for the client's close_notify.
_TLS_SHUTDOWN_TIMEOUT = 0.25


class StartupAbortedError(Exception):
    """Raised inside hypercorn to stop a start that must not go on."""


class ServerConfig(Config):
    """hypercorn's Config, given sockets we bound and the TLS versions we want."""

    def __init__(
        self,
        sockets: Sockets,
        on_sockets_taken: Callable[[], None],
        tls_minimum: ssl.TLSVersion,
        tls_maximum: ssl.TLSVersion,
    ) -> None:
        super().__init__()
        self._sockets = sockets
        self._on_sockets_taken = on_sockets_taken
        self._tls_minimum = tls_minimum
        self._tls_maximum = tls_maximum
        self._ssl_context: ssl.SSLContext | None = None

    def create_sockets(self) -> Sockets:
        # hypercorn calls this once, after lifespan startup succeeded and right
        # before asyncio.start_server(sock=...) takes the sockets over.
        self._on_sockets_taken()
        return self._sockets

    def create_ssl_context(self) -> ssl.SSLContext | None:
        # Built once; start() calls this first so a bad TLS setting fails there.
        if self._ssl_context is None:
            context = super().create_ssl_context()
            if context is None:  # pragma: no cover - certfile and keyfile are always set
                raise RuntimeError("TLS is not enabled in the hypercorn config")
            # hypercorn hard-codes a minimum of TLS 1.2; TLS 1.0/1.1 when asked for.
            set_versions(context, self._tls_minimum, self._tls_maximum)
            self._ssl_context = context
        return self._ssl_context


class ClosingTCPServer(TCPServer):
    """hypercorn's connection handler, ended as soon as the client has closed.

    hypercorn 0.18 (``asyncio/tcp_server.py``, ``TCPServer.run``): when the
    client closes, the read loop ends, but ``run()`` then waits in its task
    group for the keep-alive idle timer, ``keep_alive_timeout`` seconds. Until
    it fires, the closed connection's task, its h11/h2 state and (over TLS) its
    SSL object with its buffers stay alive, so memory grows with the rate of
    connections rather than with the connections open. Once nothing more can
    be read, no further request can arrive, so the idle timer has nothing left
    to time: stop it, and keep the protocol's "idle" updates from restarting it.

    Installed in place of hypercorn's class (``hypercorn.asyncio.run`` creates
    one per connection by that name), it changes nothing for servers other
    than the bundled one: the new behaviour applies only under ``ServerConfig``.
    """

    _client_closed = False

    async def _read_data(self) -> None:
        await super()._read_data()
        if isinstance(self.config, ServerConfig):
            self._client_closed = True
            await self.idle_task.stop()

    async def protocol_send(self, event: Event) -> None:
        if self._client_closed and isinstance(event, Updated) and event.idle:
            return
        await super().protocol_send(event)


hypercorn.asyncio.run.TCPServer = ClosingTCPServer  # type: ignore[attr-defined]


class ClosingUDPServer(UDPServer):
    """hypercorn's QUIC (HTTP/3) listener, ended promptly at shutdown.

    hypercorn 0.18 (``asyncio/udp_server.py``, ``UDPServer.run``) checks for
    the end of the server only after a datagram arrived: an idle listener
    waits for one until the graceful timeout cancels it, so every stop() would
    take that long. Once the server terminates, an empty datagram is queued
    (the QUIC layer drops it as unparsable), which lets the loop see the end.
    Installed like ``ClosingTCPServer``, for the bundled server only.
    """

    async def run(self) -> None:
        waker = self.loop.create_task(self._wake_at_end())
        try:
            await super().run()
        finally:
            waker.cancel()

    async def _wake_at_end(self) -> None:
        if not isinstance(self.config, ServerConfig):
            return
        await self.context.terminated.wait()
        with contextlib.suppress(asyncio.QueueFull):
            self.protocol_queue.put_nowait(RawData(data=b"", address=("", 0)))


hypercorn.asyncio.run.UDPServer = ClosingUDPServer  # type: ignore[attr-defined]


class EventLoop(asyncio.SelectorEventLoop):
    """An event loop whose TLS servers wait only briefly for a client's close_notify.

    At shutdown hypercorn closes idle keep-alive connections, and asyncio then
    waits for the client's TLS close_notify for ``ssl_shutdown_timeout`` (30 s
    by default). A pooled client that is not reading never sends one, so stop()
    would hang; hypercorn offers no setting for it. (On 3.11 the TimeoutError
    of an aborted connection also ends hypercorn's graceful wait, which takes
    it for its own ``asyncio.TimeoutError``; the remaining requests are then
    cancelled and answered 500.)
    """

    def __init__(
        self,
        on_connection: Callable[[str, str | None], None] | None = None,
        in_band_tls: ssl.SSLContext | None = None,
    ) -> None:
        """``in_band_tls``: the context with which cleartext connections may upgrade to TLS
        (RFC 2817, see ``in_band_tls.InBandTls``); None, they cannot."""
        super().__init__()
        self._on_connection = on_connection
        self._in_band_tls = in_band_tls
        self._datagram_transports: list[asyncio.BaseTransport] = []

    async def create_server(self, *args: Any, **kwargs: Any) -> asyncio.Server:
        if kwargs.get("ssl") is not None:
            kwargs.setdefault("ssl_shutdown_timeout", _TLS_SHUTDOWN_TIMEOUT)
        observer = self._on_connection
        if observer is not None and args:
            factory = args[0]
            args = (lambda: _ConnectionSpy(factory(), observer), *args[1:])
        context = self._in_band_tls
        if context is not None and kwargs.get("ssl") is None and args:
            plain = args[0]
            args = (lambda: InBandTls(plain(), context), *args[1:])
        return await super().create_server(*args, **kwargs)

    async def create_datagram_endpoint(  # type: ignore[override]
        self, *args: Any, **kwargs: Any
    ) -> tuple[asyncio.DatagramTransport, asyncio.DatagramProtocol]:
        # hypercorn never closes the transport of its QUIC socket: close_loop() does.
        transport, protocol = await super().create_datagram_endpoint(*args, **kwargs)
        self._datagram_transports.append(transport)
        return transport, protocol

    def close_datagram_transports(self) -> None:
        for transport in self._datagram_transports:
            transport.close()
        self._datagram_transports.clear()

    def default_exception_handler(self, context: dict[str, Any]) -> None:
        if not _is_shutdown_noise(context):
            super().default_exception_handler(context)


class _ConnectionSpy:
    """Stands in for a connection's protocol to tell who connected, and with which TLS.

    asyncio hands the transport to ``connection_made`` after the TLS
    handshake; everything else is passed through to the real protocol.
    """

    def __init__(self, inner: Any, observer: Callable[[str, str | None], None]) -> None:
        self._inner = inner
        self._observer = observer

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        peer = transport.get_extra_info("peername")
        ssl_object = transport.get_extra_info("ssl_object")
        version = ssl_object.version() if ssl_object is not None else None
        if peer:
            with contextlib.suppress(Exception):  # an observer must not break serving
                self._observer(f"{peer[0]}:{peer[1]}", version)
        self._inner.connection_made(transport)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _is_shutdown_noise(context: dict[str, Any]) -> bool:
    """Errors asyncio would log while stop() closes connections, though nothing is wrong.

    * When ``ssl_shutdown_timeout`` expires asyncio aborts the connection and
      ``wait_closed()`` raises TimeoutError, which hypercorn does not catch.
    * Cancellation comes only from stopping (hypercorn's graceful timeout, or
      ours), yet asyncio reports some of it: its stream callback calls
      ``task.exception()`` on a cancelled connection task (CPython 3.11), and a
      cancelled TLS handshake is logged in debug mode.
    """
    exception = context.get("exception")
    if isinstance(exception, TimeoutError):
        return context.get("message") == "Unhandled exception in client_connected_cb"
    return isinstance(exception, asyncio.CancelledError)


def close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """What asyncio.run() does at the end: no task, async generator or executor thread left."""
    try:
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        if isinstance(loop, EventLoop):
            loop.close_datagram_transports()
            loop.run_until_complete(asyncio.sleep(0))  # their connection_lost callbacks
        loop.run_until_complete(loop.shutdown_asyncgens())
        # WSGI apps run in the default executor; loop.close() would not wait for its threads.
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()
