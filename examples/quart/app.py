"""A Quart service that requires HTTP/2 on /v2/ and serves a WebSocket at /ws.

The 426 answers (RFC 9110 §15.5.22) are written the Quart way: a
``before_request`` hook for the HTTP/2 requirement, and a GET route next to
the WebSocket route for plain GETs of /ws. Each carries ``Upgrade``,
``Connection: upgrade`` (RFC 9110 §7.8) and an RFC 9457 problem document
naming the protocol.
"""

from __future__ import annotations

import json

from quart import Quart, Response, request, websocket

app = Quart(__name__)


def upgrade_required(upgrade: str, protocol: str) -> Response:
    """426 Upgrade Required with an RFC 9457 problem body naming ``protocol``."""
    problem = {
        "type": "https://orders.example/problems/upgrade-required",
        "title": "Upgrade Required",
        "status": 426,
        "detail": f"{request.method} {request.path} requires {protocol}.",
    }
    response = Response(json.dumps(problem), status=426, mimetype="application/problem+json")
    response.headers["Cache-Control"] = "no-store"
    if request.http_version.startswith("1"):
        # Upgrade and Connection are HTTP/1.x fields: HTTP/2 forbids them (RFC 9113 §8.2.2).
        response.headers["Upgrade"] = upgrade
        response.headers["Connection"] = "upgrade"
    return response


@app.before_request
async def require_http2() -> Response | None:
    """Requests under /v2/ must come over HTTP/2 over TLS."""
    is_h2 = request.http_version == "2" and request.scheme == "https"
    if request.path.startswith("/v2/") and not is_h2:
        return upgrade_required("HTTP/2.0", "HTTP/2 over TLS")
    return None


@app.get("/v2/orders")
async def list_orders() -> dict[str, object]:
    return {"orders": [{"id": 1, "item": "widget"}]}


@app.post("/v2/orders")
async def create_order() -> tuple[dict[str, object], int]:
    return {"id": 2, "item": "gadget"}, 201


@app.get("/ws")
async def live_http() -> Response:
    """A plain GET of the WebSocket endpoint: tell the client to upgrade."""
    return upgrade_required("websocket", "a WebSocket handshake")


@app.websocket("/ws")
async def live() -> None:
    while True:
        message = await websocket.receive()
        await websocket.send(f"echo: {message}")
