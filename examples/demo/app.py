"""The bundled example app: an orders API retiring HTTP/1.1 on its /v2 routes.

A plain ASGI app, so that the example needs no framework. ``/v2/...`` routes
require HTTP/2: over HTTP/1.x they answer a textbook 426. ``/reports`` was
meant to require HTTP/2 too, but nobody enforced it yet: the example suite
marks it, and its failing report is what the demo shows.
"""

from __future__ import annotations

import json
from typing import Any

Scope = dict[str, Any]


def _problem(scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    # RFC 9110 §15.5.22: a 426 MUST carry Upgrade; §7.8: with Connection: upgrade.
    # RFC 9457: the body says what went wrong and what to do, as problem+json.
    body = {
        "type": "https://orders.example/problems/http2-required",
        "title": "HTTP/2 required",
        "status": 426,
        "detail": f"{scope['method']} {scope['path']} is served over HTTP/2 only;"
        " reconnect with TLS and ALPN h2.",
        "migration_guide": "https://orders.example/docs/http2-migration",
    }
    headers = [
        (b"upgrade", b"HTTP/2.0"),
        (b"connection", b"upgrade"),
        (b"content-type", b"application/problem+json"),
        (b"cache-control", b"no-store"),
    ]
    return 426, headers, json.dumps(body).encode()


def _orders(scope: Scope) -> tuple[int, list[tuple[bytes, bytes]], bytes]:
    body = {"orders": [{"id": 1, "item": "widget"}], "via": f"HTTP/{scope['http_version']}"}
    return 200, [(b"content-type", b"application/json")], json.dumps(body).encode()


async def app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    path = scope["path"]
    if path.startswith("/v2/") and scope["http_version"] != "2":
        status, headers, body = _problem(scope)
    elif path.startswith("/v2/") or path == "/reports":
        status, headers, body = _orders(scope)
    else:
        status, headers, body = 404, [(b"content-type", b"text/plain")], b"not found"
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
