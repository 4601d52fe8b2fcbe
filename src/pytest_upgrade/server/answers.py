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

__all__ = ["AnswerLog", "AppAnswer", "RecordingAnswersASGI", "RecordingAnswersWSGI"]

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
