"""A Starlette service that requires HTTP/2 on /v2/ and serves a WebSocket at /ws.

The 426 answers (RFC 9110 §15.5.22) are written the Starlette way: a
middleware for the HTTP/2 requirement, and an HTTP route next to the
WebSocket route for plain GETs of /ws. Each carries ``Upgrade``, ``Connection:
upgrade`` (RFC 9110 §7.8) and an RFC 9457 problem document naming the protocol.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket


def upgrade_required(request: Request, upgrade: str, protocol: str) -> JSONResponse:
    """426 Upgrade Required with an RFC 9457 problem body naming ``protocol``."""
    headers = {"Cache-Control": "no-store"}
    if request.scope["http_version"].startswith("1"):
        # Upgrade and Connection are HTTP/1.x fields: HTTP/2 forbids them (RFC 9113 §8.2.2).
        headers |= {"Upgrade": upgrade, "Connection": "upgrade"}
    problem = {
        "type": "https://orders.example/problems/upgrade-required",
        "title": "Upgrade Required",
        "status": 426,
        "detail": f"{request.method} {request.url.path} requires {protocol}.",
    }
    return JSONResponse(
        problem, status_code=426, headers=headers, media_type="application/problem+json"
    )


class RequireHTTP2Middleware(BaseHTTPMiddleware):
    """Answers 426 to requests under ``prefix`` that are not HTTP/2 over TLS."""

    def __init__(self, app, prefix: str) -> None:
        super().__init__(app)
        self.prefix = prefix

    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        is_h2 = request.scope["http_version"] == "2" and request.url.scheme == "https"
        if request.url.path.startswith(self.prefix) and not is_h2:
            return upgrade_required(request, "HTTP/2.0", "HTTP/2 over TLS")
        return await call_next(request)


async def list_orders(request: Request) -> JSONResponse:
    return JSONResponse({"orders": [{"id": 1, "item": "widget"}]})


async def create_order(request: Request) -> JSONResponse:
    return JSONResponse({"id": 2}, status_code=201)


async def live_http(request: Request) -> JSONResponse:
    """A plain GET of the WebSocket endpoint: tell the client to upgrade."""
    return upgrade_required(request, "websocket", "a WebSocket handshake")


async def live(websocket: WebSocket) -> None:
    await websocket.accept()
    async for message in websocket.iter_text():
        await websocket.send_text(f"echo: {message}")


app = Starlette(
    routes=[
        Route("/v2/orders", list_orders, methods=["GET"]),
        Route("/v2/orders", create_order, methods=["POST"]),
        Route("/ws", live_http, methods=["GET"]),
        WebSocketRoute("/ws", live),
    ],
    middleware=[Middleware(RequireHTTP2Middleware, prefix="/v2/")],
)
