"""The app's own answers, as it handed them to the bundled server.

hypercorn changes some answers on their way to the wire: over HTTP/2 its h2
stack drops the connection-specific fields (``Connection``, ``Upgrade``,
``Keep-Alive``, ``Transfer-Encoding``, ...) an app sets, so a check reading
the wire would pass on the server's behalf for an app that a proxy or another
server would expose (RFC 9113 §8.2.2). These thin ASGI and WSGI middlewares
record the header fields of every HTTP/2 response as the app sent them (the
ASGI ``http.response.start`` message, the WSGI ``start_response`` call), so
the checks judge the app where its answer is still visible.
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote, urlsplit

from .._model import AnsweredBy, Exchange
from ..protocols.h2c import H2C_UPGRADE
from ..protocols.websocket import VERSION_PROBE

__all__ = [
    "AnswerLog",
    "AppAnswer",
    "RecordingAnswersASGI",
    "RecordingAnswersWSGI",
    "ServedAnswers",
]

# Answers kept between two drains: a test's probes make a handful.
_KEPT = 256


@dataclass(frozen=True)
class AppAnswer:
    """The head of one response as the app sent it."""

    scheme: str  # "http" or "https"
    http_version: str  # "2" (only HTTP/2 answers are recorded)
    method: str
    path: str
    headers: tuple[tuple[str, str], ...]  # names lower-cased


class AnswerLog:
    """AppAnswers from the server's threads, read from the test's thread."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._answers: collections.deque[AppAnswer] = collections.deque(maxlen=_KEPT)

    def add(self, answer: AppAnswer) -> None:
        with self._lock:
            self._answers.append(answer)

    def drain(self) -> list[AppAnswer]:
        with self._lock:
            answers = list(self._answers)
            self._answers.clear()
        return answers


@dataclass(frozen=True)
class ServedAnswers:
    """The bundled server's record of one requirement's probes, for its Observation:
    which answers hypercorn gave itself, before the app saw the request, and the
    header fields the app sent for each HTTP/2 answer (hypercorn drops some)."""

    answers: tuple[AppAnswer, ...]  # the app's HTTP/2 answers while the probes ran
    # Whether a request with this Sec-WebSocket-Key reached the app.
    app_saw_websocket_key: Callable[[str], bool]

    def answered_by(self, exchange: Exchange) -> AnsweredBy:
        """Who gave ``exchange``'s answer (the probe's own word where the record says nothing)."""
        response = exchange.response
        keys = [v for k, v in exchange.request_headers if k.lower() == "sec-websocket-key"]
        if response is not None and keys and exchange.role == VERSION_PROBE:
            # hypercorn answers an unsupported Sec-WebSocket-Version itself (400).
            seen = self.app_saw_websocket_key(keys[0])
            return AnsweredBy.APP if seen else AnsweredBy.SERVER
        if exchange.role == H2C_UPGRADE and response is not None:
            # hypercorn switches to h2c itself (101) before the app is called.
            return AnsweredBy.SERVER if response.status == 101 else AnsweredBy.APP
        return exchange.answered_by

    def app_headers(self, exchange: Exchange) -> tuple[tuple[str, str], ...] | None:
        """The fields the app sent for ``exchange``'s HTTP/2 answer (None: none recorded)."""
        response = exchange.response
        if response is None or response.http_version != "2":
            return None
        url = urlsplit(exchange.url)
        scheme = {"wss": "https", "ws": "http"}.get(url.scheme, url.scheme)
        where = (scheme, exchange.method, unquote(url.path) or "/")
        matching = [a for a in self.answers if (a.scheme, a.method, a.path) == where]
        return matching[-1].headers if matching else None


def _decoded(headers: Iterable[tuple[Any, Any]]) -> tuple[tuple[str, str], ...]:
    def text(value: Any) -> str:
        return value.decode("latin-1") if isinstance(value, bytes | bytearray) else str(value)

    return tuple((text(name).lower(), text(value)) for name, value in headers)


class RecordingAnswersASGI:
    """Records the head of every HTTP/2 response the ASGI app sends."""

    def __init__(self, app: Callable[..., Any], log: AnswerLog) -> None:
        self._app = app
        self._log = log

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http" or scope.get("http_version") != "2":
            await self._app(scope, receive, send)
            return

        async def watched_send(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                self._log.add(
                    AppAnswer(
                        scope["scheme"],
                        "2",
                        scope["method"],
                        scope["path"],
                        _decoded(message.get("headers", ())),
                    )
                )
            await send(message)

        await self._app(scope, receive, watched_send)


class RecordingAnswersWSGI:
    """Records the head of every HTTP/2 response the WSGI app starts."""

    def __init__(self, app: Callable[..., Any], log: AnswerLog) -> None:
        self._app = app
        self._log = log

    def __call__(self, environ: dict[str, Any], start_response: Any) -> Any:
        if environ.get("SERVER_PROTOCOL") != "HTTP/2":
            return self._app(environ, start_response)

        def watched_start(status: str, headers: list[tuple[str, str]], *args: Any) -> Any:
            self._log.add(
                AppAnswer(
                    str(environ.get("wsgi.url_scheme", "http")),
                    "2",
                    str(environ.get("REQUEST_METHOD", "GET")),
                    str(environ.get("PATH_INFO", "/")),
                    _decoded(headers),
                )
            )
            return start_response(status, headers, *args)

        return self._app(environ, watched_start)
