"""CORS for the enforcer's 426: the refusal a browser application can read (Fetch §3.2).

The enforcer answers before the app, so its 426 would carry none of the app's
CORS fields, and a page on another origin would see a network error instead
of the 426. For a request with ``Origin`` it asks the app what it would
allow that origin, with the preflight a browser would send (OPTIONS is safe,
RFC 9110 §9.2.1: asking has no side effect), and copies the answer's
``Access-Control-Allow-*`` fields onto the 426. Preflights themselves go to
the app unrefused: a preflight answered 426 fails (Fetch §4.8), and the page
would never see the 426 of its request.
"""

from __future__ import annotations

import asyncio
import io
from collections.abc import Callable, Iterable
from typing import Any

__all__ = ["asgi_cors_fields", "is_preflight", "wsgi_cors_fields"]

# What a 426 copies of the app's answer to the preflight: enough for the CORS
# check of the 426 itself (Fetch §4.10) and for the page to read its fields.
_COPIED = ("access-control-allow-origin", "access-control-allow-credentials", "vary")
_ASK_TIMEOUT = 5.0


def is_preflight(method: str, headers: Iterable[tuple[str, str]]) -> bool:
    """An OPTIONS request with Origin and Access-Control-Request-Method (Fetch §4.8)."""
    names = {name.lower() for name, _ in headers}
    return method == "OPTIONS" and {"origin", "access-control-request-method"} <= names


def _origin(headers: Iterable[tuple[str, str]]) -> str | None:
    return next((value for name, value in headers if name.lower() == "origin"), None)


async def asgi_cors_fields(app: Callable[..., Any], scope: dict[str, Any]) -> list[tuple[str, str]]:
    """The app's CORS answer for the request's origin, as fields to put on the 426."""
    headers = [(k.decode("latin-1"), v.decode("latin-1")) for k, v in scope.get("headers", ())]
    origin = _origin(headers)
    if origin is None:
        return []
    asked = [
        (b"origin", origin.encode("latin-1")),
        (b"access-control-request-method", scope["method"].encode("latin-1")),
    ]
    preflight = {**scope, "method": "OPTIONS", "headers": asked, "query_string": b""}
    answer: list[tuple[str, str]] = []

    async def receive() -> dict[str, Any]:
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            answer.extend(
                (k.decode("latin-1").lower(), v.decode("latin-1"))
                for k, v in message.get("headers", ())
            )

    try:
        await asyncio.wait_for(app(preflight, receive, send), _ASK_TIMEOUT)
    except Exception:  # the app cannot answer a preflight: the 426 has no CORS fields
        return []
    return [(name, value) for name, value in answer if name in _COPIED]


def wsgi_cors_fields(app: Callable[..., Any], environ: dict[str, Any]) -> list[tuple[str, str]]:
    """As :func:`asgi_cors_fields`, for a WSGI app."""
    origin = environ.get("HTTP_ORIGIN")
    if not isinstance(origin, str):
        return []
    preflight = {
        key: value
        for key, value in environ.items()
        if not key.startswith("HTTP_") and key not in ("CONTENT_LENGTH", "CONTENT_TYPE")
    }
    preflight["wsgi.input"] = io.BytesIO(b"")
    preflight.update(
        REQUEST_METHOD="OPTIONS",
        QUERY_STRING="",
        HTTP_ORIGIN=origin,
        HTTP_ACCESS_CONTROL_REQUEST_METHOD=str(environ.get("REQUEST_METHOD", "GET")),
    )
    answer: list[tuple[str, str]] = []

    def start_response(status: str, headers: list[tuple[str, str]], exc_info: Any = None) -> Any:
        answer.extend((name.lower(), value) for name, value in headers)
        return lambda data: None

    try:
        body = app(preflight, start_response)
        try:
            for _ in body:
                pass
        finally:
            close = getattr(body, "close", None)
            if close is not None:
                close()
    except Exception:  # as above
        return []
    return [(name, value) for name, value in answer if name in _COPIED]
