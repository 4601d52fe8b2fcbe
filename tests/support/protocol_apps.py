"""Source of a configurable ASGI app with one route per requirement, correct unless told otherwise.

Routes (the same as examples/demo/app.py):

- ``/ws``        a WebSocket endpoint: a plain HTTP request gets 426 ``Upgrade: websocket``
- ``/internal``  requires h2c: HTTP/1.x gets 426 ``Upgrade: h2c``
- ``/secure``    requires TLS 1.2: cleartext gets 426 ``Upgrade: TLS/1.2``
- ``/secure13``  requires TLS 1.3: cleartext gets 426 ``Upgrade: TLS/1.3``
- ``/legacy``    requires HTTP/1.1: HTTP/1.0 gets 426 ``Upgrade: HTTP/1.1``
- ``/both``      requires TLS and h2: cleartext gets the TLS refusal, HTTP/1.1 over TLS
                 gets 426 ``Upgrade: HTTP/2.0``

Each refusal is a dict (status, header fields, problem detail) that a test
overrides key by key: ``protocol_app_source(tls={"status": 308, "location": ...})``.
Which TLS versions the server accepts is the server's business, not the
app's (``upgrade_server_options``, or ``TLS13_ONLY_PATCH`` for a live one).
A refusal whose status is below 400 is the route serving (2xx) or
redirecting (3xx) the legacy request instead.

Like tests/support/apps.py this is text that tests write into pytester directories
and hypercorn subprocesses.
"""

from __future__ import annotations

import textwrap
from typing import Any

from support.apps import SERVED_WITH_OPTIONS


def _refusal(upgrade: str, detail: str) -> dict[str, Any]:
    return {
        "status": 426,
        "upgrade": upgrade,
        "connection": "upgrade",
        "location": None,
        "detail": detail,
    }


CORRECT: dict[str, dict[str, Any]] = {
    # "handshake": what the WebSocket route does with an opening handshake:
    # "accept"; "close" (hypercorn then answers 403); or "deny-426", a 426
    # asking for websocket, as the app sees it behind a proxy that strips
    # Upgrade/Connection (sent with the ASGI websocket.http.response extension).
    "websocket": {
        **_refusal("websocket", "This endpoint is a WebSocket endpoint (wss://)."),
        "handshake": "accept",
    },
    "h2c": _refusal("h2c", "This endpoint requires cleartext HTTP/2 (h2c, prior knowledge)."),
    # "hsts": the Strict-Transport-Security of the route's https answers (None: none).
    "tls": {
        **_refusal("TLS/1.2", "This endpoint requires TLS 1.2 or later (https)."),
        "hsts": "max-age=31536000",
    },
    "tls13": {
        **_refusal("TLS/1.3", "This endpoint requires TLS 1.3 (https)."),
        "hsts": "max-age=31536000",
    },
    "http11": _refusal("HTTP/1.1", "This endpoint requires HTTP/1.1."),
    "both_tls": {
        **_refusal("TLS/1.2", "This endpoint requires TLS 1.2 or later (https)."),
        "hsts": "max-age=31536000",
    },
    "both_h2": _refusal("HTTP/2.0", "This endpoint requires HTTP/2."),
}

APP_TEMPLATE = """
import json

ROUTES = {routes!r}


def answer(refusal):
    \"""The response to a legacy request: a 426 problem, or what a broken route does instead.\"""
    status = refusal["status"]
    headers = [
        (name.encode(), refusal[name].encode())
        for name in ("upgrade", "connection", "location")
        if refusal[name] is not None
    ]
    if status >= 400:
        problem = {{
            "type": "about:blank",
            "title": "Upgrade Required" if status == 426 else "Refused",
            "status": status,
            "detail": refusal["detail"],
        }}
        headers.append((b"content-type", b"application/problem+json"))
        return status, headers, json.dumps(problem).encode()
    return served(status, headers)


def served(status=200, headers=()):
    return status, [*headers, (b"content-type", b"application/json")], b'{{"ok": true}}'


def over_https(route):
    \"""The answer of a TLS route over https: with its HSTS policy, if it has one.\"""
    hsts = route["hsts"]
    return served(headers=[(b"strict-transport-security", hsts.encode())] if hsts else [])


def respond(scope):
    path, version, scheme = scope["path"], scope["http_version"], scope["scheme"]
    if path == "/ws":
        return answer(ROUTES["websocket"])  # a WebSocket route: plain HTTP is never served
    if path == "/internal":
        return answer(ROUTES["h2c"]) if version != "2" else served()
    if path == "/secure":
        return answer(ROUTES["tls"]) if scheme == "http" else over_https(ROUTES["tls"])
    if path == "/secure13":
        return answer(ROUTES["tls13"]) if scheme == "http" else over_https(ROUTES["tls13"])
    if path == "/legacy":
        return answer(ROUTES["http11"]) if version == "1.0" else served()
    if path == "/both":
        if scheme == "http":
            return answer(ROUTES["both_tls"])
        return answer(ROUTES["both_h2"]) if version != "2" else over_https(ROUTES["both_tls"])
    return 404, [(b"content-type", b"text/plain")], b"not found"


async def websocket(scope, receive, send):
    await receive()  # websocket.connect
    handshake = ROUTES["websocket"]["handshake"] if scope["path"] == "/ws" else "close"
    if handshake == "close":
        await send({{"type": "websocket.close", "code": 1008}})
        return
    if handshake == "deny-426":
        status, headers, body = answer(ROUTES["websocket"])
        start = {{"type": "websocket.http.response.start", "status": status, "headers": headers}}
        await send(start)
        await send({{"type": "websocket.http.response.body", "body": body}})
        return
    await send({{"type": "websocket.accept"}})
    while (await receive())["type"] != "websocket.disconnect":
        pass


async def app(scope, receive, send):
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({{"type": "lifespan.startup.complete"}})
            elif message["type"] == "lifespan.shutdown":
                await send({{"type": "lifespan.shutdown.complete"}})
                return
    if scope["type"] == "websocket":
        await websocket(scope, receive, send)
        return
    status, headers, body = respond(scope)
    await send({{"type": "http.response.start", "status": status, "headers": headers}})
    await send({{"type": "http.response.body", "body": body}})
"""

# hypercorn's command line cannot raise its TLS minimum (it hard-codes 1.2).
# A live app module that needs a TLS 1.3-only deployment does it when
# hypercorn imports it, which happens before hypercorn builds its TLS context.
TLS13_ONLY_PATCH = """
import ssl

import hypercorn.config

_create_ssl_context = hypercorn.config.Config.create_ssl_context


def _tls13_only(self):
    context = _create_ssl_context(self)
    if context is not None:
        context.minimum_version = ssl.TLSVersion.TLSv1_3
    return context


hypercorn.config.Config.create_ssl_context = _tls13_only
"""


def protocol_app_source(**changes: dict[str, Any]) -> str:
    """The app's source with the refusals in ``changes`` changed, key by key."""
    unknown = set(changes) - set(CORRECT)
    if unknown:
        raise KeyError(f"unknown routes: {sorted(unknown)}")
    routes: dict[str, dict[str, Any]] = {}
    for name, refusal in CORRECT.items():
        change = changes.get(name, {})
        bad_keys = set(change) - set(refusal)
        if bad_keys:
            raise KeyError(f"unknown keys for {name}: {sorted(bad_keys)}")
        routes[name] = {**refusal, **change}
    return textwrap.dedent(APP_TEMPLATE.format(routes=routes))


CONFTEST_TEMPLATE = (
    """

import ssl

import pytest

"""
    + SERVED_WITH_OPTIONS
)

# Simulates a local OpenSSL that cannot offer TLS 1.0/1.1 at all (as some
# distributions build it): pinning a context to them fails before anything is
# sent. Patched for the inner session only, and undone after it.
NO_LEGACY_TLS_CLIENT = """

@pytest.fixture(scope="session", autouse=True)
def _client_cannot_offer_legacy_tls():
    import pytest_upgrade.probes.endpoint as probes

    pin_version = probes._pin_version

    def pin_modern_only(context, version):
        if version < ssl.TLSVersion.TLSv1_2:
            raise ssl.SSLError("no protocols available")
        pin_version(context, version)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(probes, "_pin_version", pin_modern_only)
        yield
"""


def protocol_conftest_source(
    *,
    server_options: str = "{}",
    no_legacy_tls_client: bool = False,
    **changes: dict[str, Any],
) -> str:
    """A conftest.py serving the app through ``upgrade_app``.

    ``server_options`` is the source of the ``upgrade_server_options`` dict
    (``ssl`` is imported), e.g. ``"{'tls_minimum': ssl.TLSVersion.TLSv1}"``.
    """
    source = protocol_app_source(**changes)
    source += CONFTEST_TEMPLATE.format(server_options=server_options)
    if no_legacy_tls_client:
        source += NO_LEGACY_TLS_CLIENT
    return source
