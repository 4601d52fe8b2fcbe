"""The bundled example app: an orders service in the middle of its protocol migrations.

A plain ASGI app, so that the example needs no framework. Each area of the
service retires something, and answers the legacy request with a textbook
426 (RFC 9110 §15.5.22: an Upgrade field, with Connection: upgrade per §7.8,
and an RFC 9457 problem document saying what to do):

- ``/v2/...``      requires HTTP/2 over TLS (h2)
- ``/internal/...`` requires cleartext HTTP/2 (h2c), for service-to-service calls
- ``/ws``          is a WebSocket endpoint; a plain GET gets 426
- ``/secure/...``  requires TLS 1.2 or later (cleartext gets 426, RFC 2817) and HTTP/2;
                   every https answer carries HSTS (RFC 6797)
- ``/legacy/...``  no longer serves HTTP/1.0

``/reports`` was meant to require HTTP/2 too, but nobody enforced it yet:
the example suite marks it, and its failing report is what the demo shows.
"""

from __future__ import annotations

import json
from typing import Any

Scope = dict[str, Any]
Headers = list[tuple[bytes, bytes]]


def _refusal(scope: Scope, upgrade: str, needs: str) -> tuple[int, Headers, bytes]:
    body = {
        "type": "https://orders.example/problems/upgrade-required",
        "title": f"{needs} required",
        "status": 426,
        "detail": f"{scope['method']} {scope['path']} is served over {needs} only.",
        "migration_guide": "https://orders.example/docs/protocol-migrations",
    }
    headers = [
        (b"upgrade", upgrade.encode()),
        (b"connection", b"upgrade"),
        (b"content-type", b"application/problem+json"),
        (b"cache-control", b"no-store"),
    ]
    return 426, headers, json.dumps(body).encode()


def _served(scope: Scope) -> tuple[int, Headers, bytes]:
    body = {
        "orders": [{"id": 1, "item": "widget"}],
        "via": f"HTTP/{scope['http_version']} over {scope['scheme']}",
    }
    return 200, [(b"content-type", b"application/json")], json.dumps(body).encode()


def _route(scope: Scope) -> tuple[int, Headers, bytes]:
    path, version, scheme = scope["path"], scope["http_version"], scope["scheme"]
    if path.startswith("/v2/") and not (version == "2" and scheme == "https"):
        return _refusal(scope, "HTTP/2.0", "HTTP/2")
    if path.startswith("/internal/") and version != "2":
        return _refusal(scope, "h2c", "cleartext HTTP/2 (h2c, prior knowledge)")
    if path == "/ws":
        return _refusal(scope, "websocket", "WebSocket")
    if path.startswith("/secure/") and scheme != "https":
        return _refusal(scope, "TLS/1.2", "TLS 1.2 or later (https)")
    if path.startswith("/secure/") and version != "2":
        return _refusal(scope, "HTTP/2.0", "HTTP/2")
    if path.startswith("/legacy/") and version == "1.0":
        return _refusal(scope, "HTTP/1.1", "HTTP/1.1")
    if path.startswith(("/v2/", "/internal/", "/secure/", "/legacy/")) or path == "/reports":
        return _served(scope)
    return 404, [(b"content-type", b"text/plain")], b"not found"


async def _lifespan(receive: Any, send: Any) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return


async def _websocket(scope: Scope, receive: Any, send: Any) -> None:
    if scope["path"] != "/ws":
        await send({"type": "websocket.close", "code": 1008})
        return
    await receive()  # websocket.connect
    await send({"type": "websocket.accept"})
    while True:
        message = await receive()
        if message["type"] == "websocket.disconnect":
            return
        await send({"type": "websocket.send", "text": f"echo: {message.get('text')}"})


async def app(scope: Scope, receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        await _lifespan(receive, send)
        return
    if scope["type"] == "websocket":
        await _websocket(scope, receive, send)
        return
    status, headers, body = _route(scope)
    if scope["scheme"] == "https":
        # RFC 6797: once cleartext is retired, HSTS keeps clients on https.
        headers = [*headers, (b"strict-transport-security", b"max-age=31536000")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
