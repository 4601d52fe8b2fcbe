"""The bundled test server: an app under hypercorn in a background thread.

One example::

    ca = BundledCA()
    try:
        with UpgradeServer(app, ca=ca) as server:
            with httpx.Client(verify=server.ssl_context(), trust_env=False, http2=True) as client:
                client.get(server.https_url + "/")
            assert server.drain_errors() == []
    finally:
        ca.close()

The server listens on 127.0.0.1 twice: TLS (ALPN ``h2`` and ``http/1.1``) and
cleartext; with aioquic installed (``pytest-upgrade[h3]``) also on UDP, serving
HTTP/3 over QUIC with the same certificate, and its HTTP/1.1 and HTTP/2
answers advertise it (``Alt-Svc: h3=":PORT"; ma=86400``). It runs on its own
event loop in its own thread, so synchronous tests and fixtures can use it.

Why it is built the way it is:

* We bind both listening sockets ourselves and hand them to hypercorn through
  ``Config.create_sockets()``. hypercorn calls that only after the ASGI
  lifespan startup succeeded, which makes the call our "started" signal; the
  sockets already listen, so the kernel queues connections made right after.
* hypercorn only *logs* what the app raises (and answers 500). A middleware
  records those exceptions so a test can report them (``drain_errors()``).
* hypercorn carries on without lifespan when the app raises during lifespan
  startup; for a test server that is a failed start, so we abort it.
* hypercorn keeps a connection the client closed until its keep-alive timer
  fires; probes make many short connections, so the bundled server ends each
  connection as soon as its client has closed it (``loop.ClosingTCPServer``).

Exceptions::

    ServerStartError     start() failed; the message is one line naming the cause
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import logging
import socket
import ssl
import threading
import time
from collections.abc import Callable
from types import TracebackType
from typing import Literal, cast

from hypercorn.asyncio import serve
from hypercorn.config import Sockets
from hypercorn.typing import (
    ASGIFramework,
    WSGIFramework,
)
from hypercorn.utils import is_asgi

from ..probes.quic import aioquic_missing
from ..probes.target import Target
from .answers import AnswerLog, AppAnswer, RecordingAnswersASGI, RecordingAnswersWSGI
from .ca import LOOPBACK, BundledCA
from .loop import EventLoop, ServerConfig, StartupAbortedError, close_loop
from .recording import (
    AppError,
    ErrorLog,
    LifespanWatch,
    RecordingASGI,
    RecordingWSGI,
    app_error,
    summary,
)
from .startup import failure_message, failure_traceback
from .virtual_host import VirtualHostASGI, VirtualHostWSGI, check_virtual_host

__all__ = ["ServerStartError", "UpgradeServer"]

_THREAD_NAME = "pytest-upgrade-server"
# In-flight requests get at most this long at stop() before they are cancelled
# (less when an aborted TLS connection ends hypercorn's wait early, see EventLoop).
_GRACEFUL_TIMEOUT = 1.0
# Seconds an idle keep-alive connection is kept open (hypercorn's default).
# The same timer bounds how long a new connection may take to send its first
# request, so it must not be shorter than the probes' own timeout: on a
# starved machine the server would otherwise close a probe's connection
# before the probe's clock ran out, and the verdict would depend on the load
# (the plugin passes its probe timeout when that is longer). Connections the
# client closed end at once (ClosingTCPServer), whatever this is.
_KEEP_ALIVE_TIMEOUT = 5.0
# hypercorn's own bound on the app's lifespan shutdown.
_LIFESPAN_SHUTDOWN_TIMEOUT = 2.0
# How long a failed start() waits for the thread it started to end.
_ABORT_TIMEOUT = 5.0


class ServerStartError(Exception):
    """The bundled server could not start; the message is one line naming the cause,
    ``traceback`` the app's traceback when one is known (to show once below it)."""

    def __init__(self, message: str, traceback: str = "") -> None:
        super().__init__(message)
        self.traceback = traceback


class UpgradeServer:
    """Serves an ASGI or WSGI app on 127.0.0.1 over TLS and cleartext, in a background thread."""

    def __init__(
        self,
        app: object,
        *,
        ca: BundledCA,
        tls_minimum: ssl.TLSVersion = ssl.TLSVersion.TLSv1_2,
        tls_maximum: ssl.TLSVersion = ssl.TLSVersion.MAXIMUM_SUPPORTED,
        alpn_protocols: tuple[str, ...] = ("h2", "http/1.1"),
        startup_timeout: float = 10.0,
        keep_alive_timeout: float = _KEEP_ALIVE_TIMEOUT,
        on_connection: Callable[[str, str | None], None] | None = None,
        tls_upgrade: bool = False,
        h3: bool | None = None,
        advertise_h3: bool = True,
        virtual_host: str | None = None,
    ) -> None:
        """``on_connection(peer, tls_version)`` is called for every accepted
        connection once its TLS handshake (if any) is done, on the server thread.

        ``tls_upgrade`` lets cleartext connections switch to TLS in-band (RFC 2817),
        which hypercorn cannot do by itself (``server.in_band_tls``).
        ``h3``: serve HTTP/3 over QUIC (None: when aioquic is installed; True:
        required, start() fails naming the extra without it). ``advertise_h3``:
        add ``Alt-Svc`` naming the QUIC port to every answer (False: the app
        sends its own, or none). ``virtual_host``: the ``Host`` the app sees on
        every request instead of ``127.0.0.1:PORT`` (``server.virtual_host``)."""
        self.ca = ca
        self._on_connection = on_connection
        self._errors = ErrorLog()
        self._answers = AnswerLog()
        self._lifespan = LifespanWatch()
        self._app: ASGIFramework | WSGIFramework
        self._mode: Literal["asgi", "wsgi"]
        self.virtual_host = None if virtual_host is None else check_virtual_host(virtual_host)
        if is_asgi(app):
            if self.virtual_host is not None:
                app = VirtualHostASGI(cast(Callable[..., object], app), self.virtual_host)
            app = RecordingAnswersASGI(cast(Callable[..., object], app), self._answers)
            self._app = RecordingASGI(cast(ASGIFramework, app), self._errors, self._lifespan)
            self._mode = "asgi"
        else:
            if self.virtual_host is not None:
                app = VirtualHostWSGI(cast(Callable[..., object], app), self.virtual_host)
            app = RecordingAnswersWSGI(cast(Callable[..., object], app), self._answers)
            self._app = RecordingWSGI(cast(WSGIFramework, app), self._errors)
            self._mode = "wsgi"
        self._tls_minimum = tls_minimum
        self._tls_maximum = tls_maximum
        self._alpn_protocols = list(alpn_protocols)
        self._startup_timeout = startup_timeout
        self._keep_alive_timeout = keep_alive_timeout
        self._tls_upgrade = tls_upgrade
        self._h3 = h3
        self._advertise_h3 = advertise_h3
        self._h3_port: int | None = None

        self._sockets: list[socket.socket] = []
        self._ports: tuple[int, int] | None = None
        self._loop: asyncio.AbstractEventLoop | None = None
        self._main: asyncio.Task[None] | None = None
        self._stop_event: asyncio.Event | None = None
        self._thread: threading.Thread | None = None
        self._ready = threading.Event()  # hypercorn took the sockets: started
        self._settled = threading.Event()  # ready, or the thread ended
        self._failure: BaseException | None = None  # what serve() raised
        self._stopped = False

    # -- public API -----------------------------------------------------------

    @property
    def keep_alive_timeout(self) -> float:
        """Seconds an idle connection stays open, and a new one has to send its first request."""
        return self._keep_alive_timeout

    @property
    def tls_upgrade(self) -> bool:
        """Whether cleartext connections can switch to TLS in-band (RFC 2817)."""
        return self._tls_upgrade

    @property
    def https_url(self) -> str:
        return f"https://{LOOPBACK}:{self._bound_ports()[0]}"

    @property
    def http_url(self) -> str:
        return f"http://{LOOPBACK}:{self._bound_ports()[1]}"

    @property
    def h3_port(self) -> int | None:
        """The UDP port serving HTTP/3 (QUIC), or None when HTTP/3 is not served."""
        self._bound_ports()
        return self._h3_port

    @property
    def h3_url(self) -> str | None:
        """``https://127.0.0.1:PORT`` of the QUIC listener, or None when HTTP/3 is not served."""
        port = self.h3_port
        return None if port is None else f"https://{LOOPBACK}:{port}"

    def target(self, *, headers: tuple[tuple[str, str], ...] = ()) -> Target:
        """Where the plugin's probes go to test this server (``headers``: --upgrade-header)."""
        cafile = str(self.ca.ca_pem)
        live = Target.from_urls([self.https_url, self.http_url], cafile=cafile, headers=headers)
        # The in-band TLS upgrade (RFC 2817) is tried only when this server performs it.
        return dataclasses.replace(live, bundled=True, in_band_tls=self._tls_upgrade)

    def ssl_context(self) -> ssl.SSLContext:
        """A new client context trusting the server's CA.

        One per client: httpcore sets ALPN on the context at every connect.
        """
        return self.ca.ssl_context()

    def drain_errors(self) -> list[AppError]:
        """The exceptions the app raised while serving since the last call."""
        return self._errors.drain()

    def drain_answers(self) -> list[AppAnswer]:
        """The heads of the HTTP/2 responses the app sent since the last call, as it sent
        them (hypercorn drops connection-specific fields on the way to the wire)."""
        return self._answers.drain()

    def app_saw_websocket_key(self, key: str) -> bool:
        """Whether a request with this Sec-WebSocket-Key reached the app.

        hypercorn answers some WebSocket handshakes itself (an unsupported
        Sec-WebSocket-Version gets its own 400); this tells those apart.
        """
        return self._errors.key_was_seen(key)

    def start(self) -> None:
        """Return once both listeners are live, or raise ServerStartError having cleaned up."""
        if self._thread is not None or self._stopped:
            raise RuntimeError("an UpgradeServer can be started only once")
        config = self._listen_and_configure()
        in_band = config.create_ssl_context() if self._tls_upgrade else None
        loop = EventLoop(self._on_connection, in_band)
        self._loop = loop
        self._stop_event = asyncio.Event()
        # The task exists before the thread runs, so stop() can always cancel it.
        self._main = loop.create_task(
            serve(self._app, config, shutdown_trigger=self._stop_event.wait, mode=self._mode)
        )
        self._thread = threading.Thread(
            target=self._run_loop,
            args=(loop, self._main),
            name=f"{_THREAD_NAME}:{self._bound_ports()[0]}",
            daemon=False,
        )
        self._thread.start()

        if self._settled.wait(self._startup_timeout) and self._ready.is_set():
            return
        message = failure_message(self._failure, self._lifespan, self._startup_timeout)
        try:
            self._halt(_ABORT_TIMEOUT, graceful=False)
        except RuntimeError as exc:  # the app blocks the event loop
            message = f"{message}; {exc}"
        cause = self._lifespan.startup_exception or self._failure
        raise ServerStartError(message, failure_traceback(self._failure, self._lifespan)) from cause

    def stop(self, timeout: float = 5.0) -> None:
        """Shut down within ``timeout`` seconds; idempotent, also after a failed start."""
        self._stopped = True
        self._halt(timeout, graceful=True)

    def __enter__(self) -> UpgradeServer:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()

    # -- starting -------------------------------------------------------------

    def _bound_ports(self) -> tuple[int, int]:
        if self._ports is None:
            raise RuntimeError("the server has not been started")
        return self._ports

    def _listen_and_configure(self) -> ServerConfig:
        try:
            tls_sock = socket.create_server((LOOPBACK, 0))
            self._sockets.append(tls_sock)
            plain_sock = socket.create_server((LOOPBACK, 0))
            self._sockets.append(plain_sock)
        except OSError as exc:
            self._close_sockets()
            raise ServerStartError(f"cannot listen on {LOOPBACK}: {summary(exc)}") from exc
        for sock in (tls_sock, plain_sock):
            # Accepted sockets inherit this: without it, a response written in
            # two parts waits for the client's delayed ACK (about 40 ms).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._ports = (tls_sock.getsockname()[1], plain_sock.getsockname()[1])
        quic_sockets = self._quic_sockets(self._ports[0])

        config = ServerConfig(
            Sockets(
                secure_sockets=[tls_sock], insecure_sockets=[plain_sock], quic_sockets=quic_sockets
            ),
            self._sockets_taken,
            self._tls_minimum,
            self._tls_maximum,
        )
        # bind/insecure_bind are never used (create_sockets is overridden), but
        # TLS is on only when both certfile and keyfile are set.
        config.bind = [f"{LOOPBACK}:{self._ports[0]}"]
        config.insecure_bind = [f"{LOOPBACK}:{self._ports[1]}"]
        self.ca.configure_server(config)
        config.alpn_protocols = self._alpn_protocols
        if self._h3_port is not None and self._advertise_h3:
            # RFC 7838 §3: no host means the origin's; ma (§3.1) stated, not defaulted.
            config.alt_svc_headers = [f'h3=":{self._h3_port}"; ma=86400']
        config.accesslog = None
        config.errorlog = logging.getLogger("pytest_upgrade.server")
        config.graceful_timeout = _GRACEFUL_TIMEOUT
        config.keep_alive_timeout = self._keep_alive_timeout
        config.startup_timeout = self._startup_timeout
        config.shutdown_timeout = _LIFESPAN_SHUTDOWN_TIMEOUT
        try:
            config.create_ssl_context()
        except Exception as exc:  # ssl.SSLError, OSError, ValueError: all mean bad settings
            self._close_sockets()
            raise ServerStartError(f"cannot build the TLS context: {summary(exc)}") from exc
        return config

    def _quic_sockets(self, tls_port: int) -> list[socket.socket]:
        """The UDP socket HTTP/3 is served on, when it is (see ``h3``)."""
        if self._h3 is False:
            return []
        missing = aioquic_missing()
        if missing is not None:
            if self._h3:
                self._close_sockets()
                raise ServerStartError(f"cannot serve HTTP/3: {missing}")
            return []  # without the extra the server starts exactly as before
        sock = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
        self._sockets.append(sock)
        try:
            # The TLS port's number when it is free on UDP, as deployments do
            # (h3=":443"); any free port otherwise.
            sock.bind((LOOPBACK, tls_port))
        except OSError:
            try:
                sock.bind((LOOPBACK, 0))
            except OSError as exc:
                self._close_sockets()
                raise ServerStartError(f"cannot bind UDP on {LOOPBACK}: {summary(exc)}") from exc
        sock.setblocking(False)
        self._h3_port = sock.getsockname()[1]
        return [sock]

    def _sockets_taken(self) -> None:
        # On the loop thread, after lifespan startup: the last moment to refuse to serve.
        startup_exception = self._lifespan.startup_exception
        if startup_exception is not None:
            raise StartupAbortedError(f"the app failed to start: {summary(startup_exception)}")
        self._ready.set()
        self._settled.set()

    def _run_loop(self, loop: asyncio.AbstractEventLoop, main: asyncio.Task[None]) -> None:
        try:
            loop.run_until_complete(main)
        except asyncio.CancelledError:
            pass  # stop() or a failed start() cancelled it
        except BaseException as exc:  # reported by start(), or by drain_errors() once serving
            self._failure = exc
            if self._ready.is_set():
                self._errors.add(app_error("hypercorn", exc))
        finally:
            try:
                close_loop(loop)
            finally:
                self._settled.set()

    # -- stopping -------------------------------------------------------------

    def _halt(self, timeout: float, *, graceful: bool) -> None:
        thread = self._thread
        if thread is not None and thread.is_alive():
            deadline = time.monotonic() + timeout
            if graceful:
                assert self._stop_event is not None
                self._call_in_loop(self._stop_event.set)
                # Most of the budget for a clean shutdown, the rest for cancelling.
                thread.join(timeout * 0.8)
            if thread.is_alive():
                assert self._main is not None
                self._call_in_loop(self._main.cancel)
                thread.join(max(0.0, deadline - time.monotonic()))
            if thread.is_alive():
                raise RuntimeError(f"the server thread did not stop within {timeout} s")
        # asyncio closes the sockets it took over; these are for a start that
        # failed before, or between, the hand-overs. close() is idempotent.
        self._close_sockets()

    def _call_in_loop(self, callback: Callable[[], object]) -> None:
        # Setting an asyncio.Event from another thread would not wake the loop.
        assert self._loop is not None
        with contextlib.suppress(RuntimeError):  # closed: the thread is ending on its own
            self._loop.call_soon_threadsafe(callback)

    def _close_sockets(self) -> None:
        for sock in self._sockets:
            sock.close()
