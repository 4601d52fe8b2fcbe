"""A Flask (WSGI) service that requires HTTP/2 on /v2/ and no longer serves HTTP/1.0.

The 426 answers (RFC 9110 §15.5.22) are written the Flask way: a
``before_request`` hook. Each carries ``Upgrade``, ``Connection: upgrade``
(RFC 9110 §7.8) and an RFC 9457 problem document naming the protocol.

A WSGI server tells the app the protocol of the request in
``SERVER_PROTOCOL`` ("HTTP/1.0", "HTTP/1.1", "HTTP/2"; hypercorn's WSGI mode
sets it too) and the scheme in ``wsgi.url_scheme``.
"""

from __future__ import annotations

from flask import Flask, Response, jsonify, request

app = Flask(__name__)


def upgrade_required(upgrade: str, protocol: str) -> Response:
    """426 Upgrade Required with an RFC 9457 problem body naming ``protocol``."""
    response = jsonify(
        type="https://orders.example/problems/upgrade-required",
        title="Upgrade Required",
        status=426,
        detail=f"{request.method} {request.path} requires {protocol}.",
    )
    response.status_code = 426
    response.mimetype = "application/problem+json"
    response.headers["Cache-Control"] = "no-store"
    if request.environ["SERVER_PROTOCOL"].startswith("HTTP/1"):
        # Upgrade and Connection are HTTP/1.x fields: HTTP/2 forbids them (RFC 9113 §8.2.2).
        response.headers["Upgrade"] = upgrade
        response.headers["Connection"] = "upgrade"
    return response


@app.before_request
def require_protocols() -> Response | None:
    protocol = request.environ["SERVER_PROTOCOL"]
    if request.path.startswith("/v2/") and not (protocol == "HTTP/2" and request.is_secure):
        return upgrade_required("HTTP/2.0", "HTTP/2 over TLS")
    if protocol == "HTTP/1.0":
        return upgrade_required("HTTP/1.1", "HTTP/1.1 or later")
    return None


@app.get("/v2/orders")
def list_orders() -> Response:
    return jsonify(orders=[{"id": 1, "item": "widget"}])


@app.get("/catalogue")
def catalogue() -> Response:
    return jsonify(items=["widget", "gadget"])
