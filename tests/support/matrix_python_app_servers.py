"""Python servers people deploy, serving a WebSocket echo on /ws, for the server matrix.

Run as a script: ``python matrix_python_app_servers.py KIND CERT KEY TLS_PORT PLAIN_PORT``,
KIND one of uvicorn, tornado, aiohttp, websockets. Each serves the same
endpoint over TLS and cleartext on 127.0.0.1, written as each library's own
documentation shows; what a plain GET, a handshake or an unknown version
gets is the library's answer, except for uvicorn, where an ASGI app answers
plain HTTP itself (uvicorn passes it on) with a 426 as the README asks.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import sys
from typing import Any

PROBLEM = json.dumps(
    {
        "type": "about:blank",
        "title": "Upgrade Required",
        "status": 426,
        "detail": "This endpoint is a WebSocket: connect with a WebSocket client.",
    }
).encode()


def tls_context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


# -- uvicorn: an ASGI app ---------------------------------------------------------


async def asgi_app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            event = (await receive())["type"]
            if event == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            else:
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] == "websocket":
        await receive()  # websocket.connect
        await send({"type": "websocket.accept"})
        while True:
            message = await receive()
            if message["type"] == "websocket.disconnect":
                return
            await send({"type": "websocket.send", "text": message.get("text")})
    if scope["path"] == "/v2/orders":
        await h2_orders(scope, send)
        return
    await send(
        {
            "type": "http.response.start",
            "status": 426,
            "headers": [
                (b"upgrade", b"websocket"),
                (b"connection", b"Upgrade"),
                (b"content-type", b"application/problem+json"),
            ],
        }
    )
    await send({"type": "http.response.body", "body": PROBLEM})


async def h2_orders(scope: dict[str, Any], send: Any) -> None:
    """HTTP/2 required: HTTP/1.x gets the README's 426 (ASGI's http_version says which)."""
    if scope["http_version"] == "2":
        status, body = 200, b'{"ok": true}'
        headers = [(b"content-type", b"application/json")]
    else:
        status, body = 426, H2_PROBLEM
        headers = [
            (b"upgrade", b"HTTP/2.0"),
            (b"connection", b"Upgrade"),
            (b"content-type", b"application/problem+json"),
        ]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


H2_PROBLEM = json.dumps(
    {
        "type": "about:blank",
        "title": "Upgrade Required",
        "status": 426,
        "detail": "This endpoint requires HTTP/2.",
    }
).encode()


async def run_uvicorn(cert: str, key: str, tls_port: int, plain_port: int) -> None:
    import uvicorn

    servers = [
        uvicorn.Server(
            uvicorn.Config(
                asgi_app,
                host="127.0.0.1",
                port=port,
                log_level="warning",
                ssl_certfile=cert if tls else None,
                ssl_keyfile=key if tls else None,
            )
        )
        for port, tls in ((tls_port, True), (plain_port, False))
    ]
    await asyncio.gather(*(server.serve() for server in servers))


# -- Tornado: a WebSocketHandler -----------------------------------------------------


async def run_tornado(cert: str, key: str, tls_port: int, plain_port: int) -> None:
    import tornado.web
    import tornado.websocket

    class Echo(tornado.websocket.WebSocketHandler):
        def on_message(self, message: str | bytes) -> None:
            self.write_message(message)

    application = tornado.web.Application([(r"/ws", Echo)])
    application.listen(tls_port, "127.0.0.1", ssl_options=tls_context(cert, key))
    application.listen(plain_port, "127.0.0.1")
    await asyncio.Event().wait()


# -- aiohttp: a WebSocketResponse handler -------------------------------------------------


async def run_aiohttp(cert: str, key: str, tls_port: int, plain_port: int) -> None:
    from aiohttp import WSMsgType, web

    async def echo(request: web.Request) -> web.WebSocketResponse:
        websocket = web.WebSocketResponse()
        await websocket.prepare(request)
        async for message in websocket:
            if message.type == WSMsgType.TEXT:
                await websocket.send_str(message.data)
        return websocket

    application = web.Application()
    application.router.add_get("/ws", echo)
    runner = web.AppRunner(application, access_log=None)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", tls_port, ssl_context=tls_context(cert, key)).start()
    await web.TCPSite(runner, "127.0.0.1", plain_port).start()
    await asyncio.Event().wait()


# -- the websockets library's own server ------------------------------------------------


async def run_websockets(cert: str, key: str, tls_port: int, plain_port: int) -> None:
    from websockets.asyncio.server import ServerConnection, serve

    async def echo(websocket: ServerConnection) -> None:
        async for message in websocket:
            await websocket.send(message)

    async with (
        serve(echo, "127.0.0.1", tls_port, ssl=tls_context(cert, key)),
        serve(echo, "127.0.0.1", plain_port),
    ):
        await asyncio.Event().wait()


RUNNERS = {
    "uvicorn": run_uvicorn,
    "tornado": run_tornado,
    "aiohttp": run_aiohttp,
    "websockets": run_websockets,
}

if __name__ == "__main__":
    kind, cert, key, tls_port, plain_port = sys.argv[1:6]
    asyncio.run(RUNNERS[kind](cert, key, int(tls_port), int(plain_port)))
