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
cleartext. It runs on its own event loop in its own thread, so synchronous
tests and fixtures can use it.

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
  connection as soon as its client has closed it (``_ClosingTCPServer``).

Exceptions::

    ServerStartError     start() failed; the message is one line naming the cause
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import logging
import os
import pathlib
import shutil
import socket
import ssl
import tempfile
import threading
import time
import weakref
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from traceback import format_exception
from types import TracebackType
from typing import Any, Literal, cast

import hypercorn.asyncio.run
import trustme
from hypercorn.asyncio import serve
from hypercorn.asyncio.tcp_server import TCPServer
from hypercorn.config import Config, Sockets
from hypercorn.events import Event, Updated
from hypercorn.typing import (
    ASGIFramework,
    ASGIReceiveCallable,
    ASGIReceiveEvent,
    ASGISendCallable,
    ASGISendEvent,
    LifespanScope,
    Scope,
    WSGIFramework,
    WWWScope,
)
from hypercorn.utils import LifespanFailureError, LifespanTimeoutError, is_asgi

from ..probes.tls_versions import set_versions

__all__ = ["AppError", "BundledCA", "ServerStartError", "UpgradeServer"]

_LOOPBACK = "127.0.0.1"
_THREAD_NAME = "pytest-upgrade-server"
# In-flight requests get at most this long at stop() before they are cancelled
# (less when an aborted TLS connection ends hypercorn's wait early, see _EventLoop).
_GRACEFUL_TIMEOUT = 1.0
# Seconds an idle keep-alive connection is kept open (hypercorn's default).
# The same timer bounds how long a new connection may take to send its first
# request, so it must not be shorter than the probes' own timeout: on a
# starved machine the server would otherwise close a probe's connection
# before the probe's clock ran out, and the verdict would depend on the load
# (the plugin passes its probe timeout when that is longer). Connections the
# client closed end at once (_ClosingTCPServer), whatever this is.
_KEEP_ALIVE_TIMEOUT = 5.0
# hypercorn's own bound on the app's lifespan shutdown.
_LIFESPAN_SHUTDOWN_TIMEOUT = 2.0
# How long a closing TLS connection waits for the client's close_notify.
_TLS_SHUTDOWN_TIMEOUT = 0.25
# How long a failed start() waits for the thread it started to end.
_ABORT_TIMEOUT = 5.0
_WSGIStartResponse = Callable[..., Any]


class ServerStartError(Exception):
    """The bundled server could not start; the message is one line naming the cause."""


@dataclass(frozen=True)
class AppError:
    """An exception the served app raised.

    ``where`` names the request ("GET /v2/orders (HTTP/1.1, https)") or the
    lifespan stage; ``summary`` is one line ("ValueError: boom").
    """

    where: str
    traceback: str
    summary: str


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _summary(exc: BaseException) -> str:
    message = _one_line(str(exc))
    name = type(exc).__name__
    return f"{name}: {message}" if message else name


def _app_error(where: str, exc: BaseException) -> AppError:
    return AppError(where=where, traceback="".join(format_exception(exc)), summary=_summary(exc))


class _ErrorLog:
    """AppErrors from the loop thread and WSGI worker threads, read from the test's thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._errors: list[AppError] = []
        # Sec-WebSocket-Key values of the requests that reached the app: they
        # tell a response of the app from one hypercorn gave by itself.
        self._keys: collections.deque[str] = collections.deque(maxlen=1024)

    def saw_key(self, key: str) -> None:
        with self._lock:
            self._keys.append(key)

    def key_was_seen(self, key: str) -> bool:
        with self._lock:
            return key in self._keys

    def add(self, error: AppError) -> None:
        with self._lock:
            self._errors.append(error)

    def drain(self) -> list[AppError]:
        with self._lock:
            errors, self._errors = self._errors, []
        return errors


def _write_private(path: pathlib.Path, data: bytes) -> pathlib.Path:
    # Created with mode 0600 (O_EXCL: never an existing file), then made exactly
    # 0600 whatever the umask: the server key must not be readable by others.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with open(fd, "wb") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(data)
    return path


class BundledCA:
    """A trustme CA and a server certificate for 127.0.0.1, localhost and ::1.

    The PEM files live in a private temporary directory (mode 0700, files
    0600) that ``close()`` removes.
    """

    def __init__(self) -> None:
        self._ca = trustme.CA()
        cert = self._ca.issue_cert(_LOOPBACK, "localhost", "::1")
        self._dir = pathlib.Path(tempfile.mkdtemp(prefix="pytest-upgrade-ca-"))  # mode 0700
        # Like tempfile.TemporaryDirectory: a forgotten close() still cleans up at exit.
        self._cleanup = weakref.finalize(self, shutil.rmtree, self._dir, ignore_errors=True)
        try:
            self.ca_pem = _write_private(self._dir / "ca.pem", self._ca.cert_pem.bytes())
            chain = b"".join(blob.bytes() for blob in cert.cert_chain_pems)
            self._certfile = _write_private(self._dir / "server.pem", chain)
            self._keyfile = _write_private(self._dir / "server.key", cert.private_key_pem.bytes())
        except BaseException:
            self.close()
            raise

    def ssl_context(self) -> ssl.SSLContext:
        """A new client context that trusts only this CA (verification and hostname checks on).

        Built from scratch rather than with ``ssl.create_default_context()``,
        which loads the system trust store (about 30 ms) only to ignore it.
        """
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        self._ca.configure_trust(context)
        return context

    def close(self) -> None:
        """Remove the directory and its files; idempotent."""
        self._cleanup()


@dataclass
class _LifespanWatch:
    """What the app did with the lifespan protocol; written on the loop thread only."""

    startup_received: bool = False
    startup_complete: bool = False
    failed_message: str | None = None  # from "lifespan.startup.failed"
    startup_exception: BaseException | None = None


class _RecordingASGI:
    """Records what the app raises (hypercorn only logs it) and watches its lifespan."""

    def __init__(self, app: ASGIFramework, errors: _ErrorLog, lifespan: _LifespanWatch) -> None:
        self._app = app
        self._errors = errors
        self._lifespan = lifespan

    async def __call__(
        self, scope: Scope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        if scope["type"] == "lifespan":
            await self._run_lifespan(scope, receive, send)
            return
        for name, value in scope["headers"]:
            if name.lower() == b"sec-websocket-key":
                self._errors.saw_key(value.decode("latin-1"))
        try:
            await self._app(scope, receive, send)
        except Exception as exc:
            self._errors.add(_app_error(_where_asgi(scope), exc))
            raise  # hypercorn still answers 500 (or closes the stream)

    async def _run_lifespan(
        self, scope: LifespanScope, receive: ASGIReceiveCallable, send: ASGISendCallable
    ) -> None:
        watch = self._lifespan

        async def watched_receive() -> ASGIReceiveEvent:
            message = await receive()
            if message["type"] == "lifespan.startup":
                watch.startup_received = True
            return message

        async def watched_send(message: ASGISendEvent) -> None:
            if message["type"] == "lifespan.startup.complete":
                watch.startup_complete = True
            elif message["type"] == "lifespan.startup.failed":
                watch.failed_message = message.get("message", "")
            await send(message)

        try:
            await self._app(scope, watched_receive, watched_send)
        except Exception as exc:
            # Raising before receiving anything is how an app says it does not
            # support lifespan (ASGI spec): fine. A "startup.failed" message
            # already makes hypercorn fail. Anything else is the app's bug.
            if watch.startup_received and watch.failed_message is None:
                if watch.startup_complete:
                    self._errors.add(_app_error("lifespan shutdown", exc))
                else:
                    watch.startup_exception = exc
            raise


def _where_asgi(scope: WWWScope) -> str:
    method = scope["method"] if scope["type"] == "http" else "WebSocket"
    return f"{method} {scope['path']} (HTTP/{scope['http_version']}, {scope['scheme']})"


class _RecordingWSGI:
    """Records what a WSGI app raises, when called and while its result is iterated."""

    def __init__(self, app: WSGIFramework, errors: _ErrorLog) -> None:
        self._app = app
        self._errors = errors

    def __call__(
        self, environ: dict[str, Any], start_response: _WSGIStartResponse
    ) -> Iterable[bytes]:
        where = "{} {} ({}, {})".format(
            environ.get("REQUEST_METHOD"),
            environ.get("PATH_INFO"),
            environ.get("SERVER_PROTOCOL"),
            environ.get("wsgi.url_scheme"),
        )
        key = environ.get("HTTP_SEC_WEBSOCKET_KEY")
        if isinstance(key, str):
            self._errors.saw_key(key)
        try:
            result = self._app(environ, start_response)
        except Exception as exc:
            self._errors.add(_app_error(where, exc))
            raise
        return self._iterate(result, where)

    def _iterate(self, result: Iterable[bytes], where: str) -> Iterator[bytes]:
        try:
            try:
                yield from result
            finally:
                close = getattr(result, "close", None)  # PEP 3333: always call close()
                if close is not None:
                    close()
        except Exception as exc:
            self._errors.add(_app_error(where, exc))
            raise


class _StartupAbortedError(Exception):
    """Raised inside hypercorn to stop a start that must not go on."""


class _Config(Config):
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


class _ClosingTCPServer(TCPServer):
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
    than the bundled one: the new behaviour applies only under ``_Config``.
    """

    _client_closed = False

    async def _read_data(self) -> None:
        await super()._read_data()
        if isinstance(self.config, _Config):
            self._client_closed = True
            await self.idle_task.stop()

    async def protocol_send(self, event: Event) -> None:
        if self._client_closed and isinstance(event, Updated) and event.idle:
            return
        await super().protocol_send(event)


hypercorn.asyncio.run.TCPServer = _ClosingTCPServer  # type: ignore[attr-defined]


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
    ) -> None:
        """``on_connection(peer, tls_version)`` is called for every accepted
        connection once its TLS handshake (if any) is done, on the server thread."""
        self.ca = ca
        self._on_connection = on_connection
        self._errors = _ErrorLog()
        self._lifespan = _LifespanWatch()
        self._app: ASGIFramework | WSGIFramework
        self._mode: Literal["asgi", "wsgi"]
        if is_asgi(app):
            self._app = _RecordingASGI(cast(ASGIFramework, app), self._errors, self._lifespan)
            self._mode = "asgi"
        else:
            self._app = _RecordingWSGI(cast(WSGIFramework, app), self._errors)
            self._mode = "wsgi"
        self._tls_minimum = tls_minimum
        self._tls_maximum = tls_maximum
        self._alpn_protocols = list(alpn_protocols)
        self._startup_timeout = startup_timeout
        self._keep_alive_timeout = keep_alive_timeout

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
    def https_url(self) -> str:
        return f"https://{_LOOPBACK}:{self._bound_ports()[0]}"

    @property
    def http_url(self) -> str:
        return f"http://{_LOOPBACK}:{self._bound_ports()[1]}"

    def ssl_context(self) -> ssl.SSLContext:
        """A new client context trusting the server's CA.

        One per client: httpcore sets ALPN on the context at every connect.
        """
        return self.ca.ssl_context()

    def drain_errors(self) -> list[AppError]:
        """The exceptions the app raised while serving since the last call."""
        return self._errors.drain()

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
        loop = _EventLoop(self._on_connection)
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
        message = self._start_failure_message()
        try:
            self._halt(_ABORT_TIMEOUT, graceful=False)
        except RuntimeError as exc:  # the app blocks the event loop
            message = f"{message}; {exc}"
        raise ServerStartError(message) from self._lifespan.startup_exception or self._failure

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

    def _listen_and_configure(self) -> _Config:
        try:
            tls_sock = socket.create_server((_LOOPBACK, 0))
            self._sockets.append(tls_sock)
            plain_sock = socket.create_server((_LOOPBACK, 0))
            self._sockets.append(plain_sock)
        except OSError as exc:
            self._close_sockets()
            raise ServerStartError(f"cannot listen on {_LOOPBACK}: {_summary(exc)}") from exc
        for sock in (tls_sock, plain_sock):
            # Accepted sockets inherit this: without it, a response written in
            # two parts waits for the client's delayed ACK (about 40 ms).
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._ports = (tls_sock.getsockname()[1], plain_sock.getsockname()[1])

        config = _Config(
            Sockets(secure_sockets=[tls_sock], insecure_sockets=[plain_sock], quic_sockets=[]),
            self._sockets_taken,
            self._tls_minimum,
            self._tls_maximum,
        )
        # bind/insecure_bind are never used (create_sockets is overridden), but
        # TLS is on only when both certfile and keyfile are set.
        config.bind = [f"{_LOOPBACK}:{self._ports[0]}"]
        config.insecure_bind = [f"{_LOOPBACK}:{self._ports[1]}"]
        config.certfile = os.fspath(self.ca._certfile)
        config.keyfile = os.fspath(self.ca._keyfile)
        config.alpn_protocols = self._alpn_protocols
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
            raise ServerStartError(f"cannot build the TLS context: {_summary(exc)}") from exc
        return config

    def _sockets_taken(self) -> None:
        # On the loop thread, after lifespan startup: the last moment to refuse to serve.
        startup_exception = self._lifespan.startup_exception
        if startup_exception is not None:
            raise _StartupAbortedError(f"the app failed to start: {_summary(startup_exception)}")
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
                self._errors.add(_app_error("hypercorn", exc))
        finally:
            try:
                _close_loop(loop)
            finally:
                self._settled.set()

    def _start_failure_message(self) -> str:
        failure = self._failure
        if isinstance(failure, _StartupAbortedError):
            return str(failure)
        if isinstance(failure, LifespanFailureError):
            detail = _one_line(self._lifespan.failed_message or "") or "(no message)"
            return f"the app failed to start: lifespan.startup.failed: {detail}"
        if isinstance(failure, LifespanTimeoutError) or (
            failure is None and self._lifespan.startup_received
        ):
            return f"the app did not complete lifespan startup within {self._startup_timeout} s"
        if failure is not None:
            return f"hypercorn failed to start: {_summary(failure)}"
        return f"the server did not start within {self._startup_timeout} s"

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


class _EventLoop(asyncio.SelectorEventLoop):
    """An event loop whose TLS servers wait only briefly for a client's close_notify.

    At shutdown hypercorn closes idle keep-alive connections, and asyncio then
    waits for the client's TLS close_notify for ``ssl_shutdown_timeout`` (30 s
    by default). A pooled client that is not reading never sends one, so stop()
    would hang; hypercorn offers no setting for it. (On 3.11 the TimeoutError
    of an aborted connection also ends hypercorn's graceful wait, which takes
    it for its own ``asyncio.TimeoutError``; the remaining requests are then
    cancelled and answered 500.)
    """

    def __init__(self, on_connection: Callable[[str, str | None], None] | None = None) -> None:
        super().__init__()
        self._on_connection = on_connection

    async def create_server(self, *args: Any, **kwargs: Any) -> asyncio.Server:
        if kwargs.get("ssl") is not None:
            kwargs.setdefault("ssl_shutdown_timeout", _TLS_SHUTDOWN_TIMEOUT)
        observer = self._on_connection
        if observer is not None and args:
            factory = args[0]
            args = (lambda: _ConnectionSpy(factory(), observer), *args[1:])
        return await super().create_server(*args, **kwargs)

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


def _close_loop(loop: asyncio.AbstractEventLoop) -> None:
    """What asyncio.run() does at the end: no task, async generator or executor thread left."""
    try:
        tasks = asyncio.all_tasks(loop)
        for task in tasks:
            task.cancel()
        if tasks:
            loop.run_until_complete(asyncio.gather(*tasks, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        # WSGI apps run in the default executor; loop.close() would not wait for its threads.
        loop.run_until_complete(loop.shutdown_default_executor())
    finally:
        loop.close()
