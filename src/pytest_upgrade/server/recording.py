"""What the app did under the bundled server: the exceptions it raised (hypercorn
only logs them) and the WebSocket handshakes it saw, recorded by thin ASGI and WSGI
middlewares.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from traceback import format_exception
from typing import Any

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

__all__ = [
    "AppError",
    "ErrorLog",
    "LifespanWatch",
    "RecordingASGI",
    "RecordingWSGI",
    "app_error",
    "one_line",
    "summary",
]

_WSGIStartResponse = Callable[..., Any]


@dataclass(frozen=True)
class AppError:
    """An exception the served app raised.

    ``where`` names the request ("GET /v2/orders (HTTP/1.1, https)") or the
    lifespan stage; ``summary`` is one line ("ValueError: boom").
    """

    where: str
    traceback: str
    summary: str


def one_line(text: str) -> str:
    return " ".join(text.split())


def summary(exc: BaseException) -> str:
    message = one_line(str(exc))
    name = type(exc).__name__
    return f"{name}: {message}" if message else name


def app_error(where: str, exc: BaseException) -> AppError:
    return AppError(where=where, traceback="".join(format_exception(exc)), summary=summary(exc))


class ErrorLog:
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


@dataclass
class LifespanWatch:
    """What the app did with the lifespan protocol; written on the loop thread only."""

    startup_received: bool = False
    startup_complete: bool = False
    failed_message: str | None = None  # from "lifespan.startup.failed"
    startup_exception: BaseException | None = None


class RecordingASGI:
    """Records what the app raises (hypercorn only logs it) and watches its lifespan."""

    def __init__(self, app: ASGIFramework, errors: ErrorLog, lifespan: LifespanWatch) -> None:
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
        watched = _DisconnectWatch(receive)
        try:
            await self._app(scope, receive if scope["type"] == "http" else watched, send)
        except Exception as exc:
            if watched.explains(exc):
                # The client is gone and the app has stopped: nothing is left to
                # answer, so hypercorn is not handed it to log as the app's error.
                return
            self._errors.add(app_error(_where_asgi(scope), exc))
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
                    self._errors.add(app_error("lifespan shutdown", exc))
                else:
                    watch.startup_exception = exc
            raise


class _DisconnectWatch:
    """A WebSocket's receive, noting whether it delivered ``websocket.disconnect``.

    The probes close their connections right after the handshake or the Ping;
    an app that reads on then raises its framework's disconnect exception
    (Starlette's ``WebSocketDisconnect(1006)``). That is the client going
    away, not a failure of the app: it is neither listed among the app's
    errors nor passed on for hypercorn to log.
    """

    def __init__(self, receive: ASGIReceiveCallable) -> None:
        self._receive = receive
        self.disconnected = False

    async def __call__(self) -> ASGIReceiveEvent:
        message = await self._receive()
        if message["type"] == "websocket.disconnect":
            self.disconnected = True
        return message

    def explains(self, exc: Exception) -> bool:
        return self.disconnected and "disconnect" in type(exc).__name__.lower()


def _where_asgi(scope: WWWScope) -> str:
    method = scope["method"] if scope["type"] == "http" else "WebSocket"
    return f"{method} {scope['path']} (HTTP/{scope['http_version']}, {scope['scheme']})"


class RecordingWSGI:
    """Records what a WSGI app raises, when called and while its result is iterated."""

    def __init__(self, app: WSGIFramework, errors: ErrorLog) -> None:
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
            self._errors.add(app_error(where, exc))
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
            self._errors.add(app_error(where, exc))
            raise
