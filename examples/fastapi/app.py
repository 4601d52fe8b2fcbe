"""A FastAPI service that requires HTTP/2 on /v2/ and serves a WebSocket at /ws.

The 426 answers (RFC 9110 §15.5.22) are written the FastAPI way: an
``@app.middleware("http")`` function for the HTTP/2 requirement, and a GET
path operation next to the WebSocket endpoint for plain GETs of /ws. Each
carries ``Upgrade``, ``Connection: upgrade`` (RFC 9110 §7.8) and an RFC 9457
problem document naming the protocol.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response, WebSocket, WebSocketDisconnect
from fastapi.responses import JSONResponse
from pydantic import BaseModel

app = FastAPI(title="orders")


class Order(BaseModel):
    id: int
    item: str


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


@app.middleware("http")
async def require_http2(
    request: Request, call_next: Callable[[Request], Awaitable[Response]]
) -> Response:
    """Requests under /v2/ must come over HTTP/2 over TLS."""
    is_h2 = request.scope["http_version"] == "2" and request.url.scheme == "https"
    if request.url.path.startswith("/v2/") and not is_h2:
        return upgrade_required(request, "HTTP/2.0", "HTTP/2 over TLS")
    return await call_next(request)


@app.get("/v2/orders")
async def list_orders() -> dict[str, list[Order]]:
    return {"orders": [Order(id=1, item="widget")]}


@app.post("/v2/orders", status_code=201)
async def create_order() -> Order:
    return Order(id=2, item="gadget")


@app.get("/ws", include_in_schema=False)
async def live_http(request: Request) -> JSONResponse:
    """A plain GET of the WebSocket endpoint: tell the client to upgrade."""
    return upgrade_required(request, "websocket", "a WebSocket handshake")


@app.websocket("/ws")
async def live(websocket: WebSocket) -> None:
    await websocket.accept()
    try:
        while True:
            message = await websocket.receive_text()
            await websocket.send_text(f"echo: {message}")
    except WebSocketDisconnect:
        pass
