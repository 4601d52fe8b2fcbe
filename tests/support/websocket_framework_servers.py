"""WebSocket endpoints written the way frameworks' documentation writes them, for issue tests.

Run as a script: ``python websocket_framework_servers.py KIND CERT KEY TLS_PORT PLAIN_PORT``
with KIND one of:

- ``aiohttp``: an aiohttp app with an authentication middleware answering
  ``401 {"detail": "Not authenticated"}`` to every request under ``/private``
  without ``Authorization`` (before routing, as such middleware does), and a
  WebSocket echo on ``/ws`` and ``/private/ws`` with
  ``WebSocketResponse(compress=True)`` (it accepts permessage-deflate, RFC 7692);
  a plain GET to them gets a 426 problem document.
- ``websockets-graphql``: the websockets library's server with
  ``subprotocols=["graphql-transport-ws"]`` (it refuses a handshake offering none).

Each serves TLS and cleartext on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import sys

PROBLEM = json.dumps(
    {
        "type": "about:blank",
        "title": "Upgrade Required",
        "status": 426,
        "detail": "This endpoint is a WebSocket: connect with a WebSocket client.",
    }
)


def _context(cert: str, key: str) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


async def serve_aiohttp(context: ssl.SSLContext, tls: int, plain: int) -> None:
    from aiohttp import WSMsgType, web

    @web.middleware
    async def authenticate(request: web.Request, handler: object) -> web.StreamResponse:
        if request.path.startswith("/private") and "Authorization" not in request.headers:
            return web.json_response({"detail": "Not authenticated"}, status=401)
        return await handler(request)  # type: ignore[operator,no-any-return]

    async def echo(request: web.Request) -> web.StreamResponse:
        websocket = web.WebSocketResponse(compress=True)
        if not websocket.can_prepare(request).ok:
            return web.Response(
                status=426,
                text=PROBLEM,
                content_type="application/problem+json",
                headers={"Upgrade": "websocket", "Connection": "Upgrade"},
            )
        await websocket.prepare(request)
        async for message in websocket:
            if message.type is WSMsgType.TEXT:
                await websocket.send_str(message.data)
        return websocket

    app = web.Application(middlewares=[authenticate])
    app.router.add_get("/ws", echo)
    app.router.add_get("/private/ws", echo)
    runner = web.AppRunner(app)
    await runner.setup()
    await web.TCPSite(runner, "127.0.0.1", tls, ssl_context=context).start()
    await web.TCPSite(runner, "127.0.0.1", plain).start()
    await asyncio.Event().wait()


async def serve_websockets_graphql(context: ssl.SSLContext, tls: int, plain: int) -> None:
    from websockets.asyncio.server import serve
    from websockets.typing import Subprotocol

    async def echo(websocket: object) -> None:
        async for message in websocket:  # type: ignore[attr-defined]
            await websocket.send(message)  # type: ignore[attr-defined]

    graphql = [Subprotocol("graphql-transport-ws")]
    async with (
        serve(echo, "127.0.0.1", tls, ssl=context, subprotocols=graphql),
        serve(echo, "127.0.0.1", plain, subprotocols=graphql),
    ):
        await asyncio.Event().wait()


KINDS = {"aiohttp": serve_aiohttp, "websockets-graphql": serve_websockets_graphql}

if __name__ == "__main__":
    kind, cert, key, tls_port, plain_port = sys.argv[1:6]
    asyncio.run(KINDS[kind](_context(cert, key), int(tls_port), int(plain_port)))
