"""Answers held back after their status line, and clients that read only that line.

The race of issue 27 made deterministic: an ASGI layer between a server's
record and its app lets an answer's status line out at once and holds its
body back (until a test releases it, or on a timer); the client reads only
the status line and asks the record at once.
"""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Callable
from typing import Any

Scope = dict[str, Any]
Selector = Callable[[Scope], bool]

HELD_AT_MOST = 10.0  # s: a held body is sent by then whatever happens


class HeldBodies:
    """Holds back the bodies of the answers ``select`` picks until ``release``."""

    def __init__(self, select: Selector) -> None:
        self.select = select
        self.release = threading.Event()

    def wrap(self, app: Callable[..., Any]) -> Callable[..., Any]:
        async def held(scope: Scope, receive: Any, send: Any) -> None:
            if scope["type"] != "http" or not self.select(scope):
                await app(scope, receive, send)
                return

            async def send_later(message: dict[str, Any]) -> None:
                if message["type"] == "http.response.body":
                    deadline = time.monotonic() + HELD_AT_MOST
                    while not self.release.is_set() and time.monotonic() < deadline:
                        await asyncio.sleep(0.005)
                await send(message)

            await app(scope, receive, send_later)

        return held

    def release_after(self, seconds: float) -> threading.Timer:
        timer = threading.Timer(seconds, self.release.set)
        timer.start()
        return timer


def port_of(url: str) -> int:
    return int(url.rsplit(":", 1)[1])


def status_line_only(url: str, request: bytes) -> tuple[socket.socket, bytes]:
    """Send ``request`` and read up to the end of the status line, no further."""
    sock = socket.create_connection(("127.0.0.1", port_of(url)), timeout=10)
    sock.sendall(request)
    line = b""
    while not line.endswith(b"\r\n"):
        byte = sock.recv(1)
        if not byte:
            break
        line += byte
    return sock, line


DENIAL = b'{"title": "Upgrade Required", "status": 426, "detail": "offer HTTP/2"}'


def websocket_routes(accept: threading.Event, answer: str = "accept") -> Callable[..., Any]:
    """An app that answers WebSocket handshakes (``answer``: accept, close or a
    426 denial response) and HTTP requests with 200."""

    async def app(scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] == "websocket":
            await receive()  # websocket.connect
            if answer == "close":
                await send({"type": "websocket.close"})
                return
            if answer == "deny":
                start = {"type": "websocket.http.response.start", "status": 426, "headers": []}
                await send(start)
                await send({"type": "websocket.http.response.body", "body": DENIAL})
                return
            await send({"type": "websocket.accept"})
            await send({"type": "websocket.send", "text": "hello"})
            accept.set()
            while (await receive())["type"] != "websocket.disconnect":
                pass
            return
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    return app
