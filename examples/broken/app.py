"""A deliberately broken service: the common mistakes of a first 426.

Its suite fails, and that failure is what the documentation shows (docs/
reference/failure-report.md); tests/integration/test_broken_example.py runs
it and checks that it still fails exactly so.

- ``/v2/orders`` requires HTTP/2, and answers HTTP/1.1 with a 426 that
  forgets ``Connection: upgrade``, names the protocol with the ALPN id ``h2``
  instead of the upgrade token ``HTTP/2.0``, has a plain-text body, and lets
  caches keep the refusal for a day.
- ``/ws`` is a WebSocket endpoint only: a plain GET gets 404, so a client
  that does not speak WebSocket is never told what to do.
"""

from __future__ import annotations

from typing import Any


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while (await receive())["type"] != "lifespan.shutdown":
            await send({"type": "lifespan.startup.complete"})
        await send({"type": "lifespan.shutdown.complete"})
        return
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while (message := await receive())["type"] != "websocket.disconnect":
            await send({"type": "websocket.send", "text": message.get("text")})
        return
    if scope["path"] == "/v2/orders" and scope["http_version"] != "2":
        status, body = 426, b"Please upgrade."
        headers = [
            (b"upgrade", b"h2"),
            (b"content-type", b"text/plain"),
            (b"cache-control", b"public, max-age=86400"),
        ]
    elif scope["path"] == "/v2/orders":
        status, body = 200, b'{"orders": []}'
        headers = [(b"content-type", b"application/json")]
    else:
        status, body = 404, b"not found"
        headers = [(b"content-type", b"text/plain")]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})
