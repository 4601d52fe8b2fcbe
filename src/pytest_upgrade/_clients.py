"""Clients for test bodies: already set up to speak the upgraded protocol.

The probes have their own, bounded machinery; these are the ordinary
clients a test body uses afterwards (httpx, and the websockets library),
each with a TLS context of its own (httpcore sets ALPN on a context it is
given, so contexts are never shared) and with proxies from the environment
ignored: the target is the only peer. Each comes in a blocking form (for
sync tests) and an async one (for async tests), set up the same way.
"""

from __future__ import annotations

import socket
import ssl
import threading
from typing import Any, cast

import httpx
from websockets.asyncio.client import ClientConnection as AsyncClientConnection
from websockets.asyncio.client import connect as async_connect
from websockets.client import ClientProtocol
from websockets.exceptions import SecurityError
from websockets.sync.client import ClientConnection, connect
from websockets.typing import Origin, Subprotocol
from websockets.uri import parse_uri

from ._model import Requirement
from .probes.connection import USER_AGENT
from .probes.target import Target
from .probes.websocket import LEGACY_CONNECT, websocket_uri
from .probes.websocket_offer import (
    EXTENSIONS,
    deflate_factories,
    origin_of,
    split_protocols,
    without,
)
from .protocols import protocol_for
from .protocols.pieces import request_headers

__all__ = [
    "open_async_websocket",
    "open_websocket",
    "upgraded_async_client",
    "upgraded_client",
]


def _client_options(requirement: Requirement, target: Target, timeout: float) -> dict[str, Any]:
    """The keyword arguments of an httpx client speaking the upgraded protocol."""
    options = protocol_for(requirement.protocol).client_options
    if options is None:
        raise ValueError(
            f"a {requirement.protocol} requirement has no HTTP client:"
            " use upgrade.websocket (or await upgrade.async_websocket() in an async test)"
        )
    trust = target.trust.alike()  # a fresh one: its contexts are this client's alone
    common: dict[str, Any] = {
        "trust_env": False,
        # The egress proxy the probes tunnel through (RFC 9110 §9.3.6), if any.
        "proxy": _proxy_of(target),
        "timeout": timeout,
        "headers": {"user-agent": USER_AGENT},
    }
    return {**common, **options(target, trust)}


def _proxy_of(target: Target) -> str | None:
    """The target's egress proxy as a client library takes it (None: direct, the
    environment ignored: the run already chose, ``_proxies.choose_proxy``)."""
    return target.proxy.proxy.client_url() if target.proxy is not None else None


def upgraded_client(requirement: Requirement, target: Target, timeout: float) -> httpx.Client:
    """An httpx client that speaks ``requirement``'s upgraded protocol to ``target``."""
    return httpx.Client(**_client_options(requirement, target, timeout))


def upgraded_async_client(
    requirement: Requirement, target: Target, timeout: float
) -> httpx.AsyncClient:
    """The same client as :func:`upgraded_client`, as an ``httpx.AsyncClient``."""
    return httpx.AsyncClient(**_client_options(requirement, target, timeout))


def _websocket_options(
    requirement: Requirement, target: Target, timeout: float
) -> tuple[str, dict[str, Any]]:
    """The URI and keyword arguments of a WebSocket connection to the requirement's path."""
    endpoint = target.https or target.http
    assert endpoint is not None
    context: ssl.SSLContext | None = None
    if endpoint.scheme == "https":
        # An RFC 6455 handshake is an HTTP/1.1 request: offer only http/1.1 by ALPN.
        context = target.trust.alike().context(("http/1.1",))
    headers, subprotocols = split_protocols(
        request_headers(requirement, target), requirement.subprotocols
    )
    options: dict[str, Any] = {
        "ssl": context,
        "proxy": _proxy_of(target),
        "open_timeout": timeout,
        "close_timeout": timeout,
        "user_agent_header": USER_AGENT,
    }
    # The offer the probes made (probes.websocket_offer): the same subprotocols,
    # Origin and extensions; .subprotocol is then the server's selection.
    if subprotocols:
        options["subprotocols"] = [Subprotocol(name) for name in subprotocols]
    if requirement.default_origin and not any(k.lower() == "origin" for k, _ in headers):
        options["origin"] = Origin(origin_of(endpoint))
    offered = [value for name, value in headers if name.lower() == EXTENSIONS]
    if offered:
        # The declared offer replaces websockets' own permessage-deflate offer.
        options["extensions"] = deflate_factories(", ".join(offered))
        options["compression"] = None
    options["additional_headers"] = list(without(headers, EXTENSIONS))
    return websocket_uri(endpoint, requirement.path), options


# How long the reader of a sync WebSocket waits for the handshake request to be
# written (it is released sooner when the connection closes): a bound, never a hang.
_REQUEST_WRITTEN_BOUND = 30.0


class _RequestFirstSocket:
    """A connected socket whose reads wait until the first write (the handshake request) ends.

    websockets' sync client starts its reader thread before it writes the opening
    handshake. Over TLS 1.3 that reader's ``SSL_read`` then processes the server's
    session tickets (RFC 8446 §4.6.1, sent right after the handshake) on the same
    SSL object as the main thread's ``SSL_write`` of the request, which OpenSSL does
    not support: on this machine about one handshake in 25 was lost (the server read
    nothing; the client timed out waiting for the 101). With reads held back until
    the request is written, the two never overlap during the handshake; afterwards
    the main thread only writes when the test sends.
    """

    def __init__(self, sock: socket.socket) -> None:
        self._sock = sock
        self._written = threading.Event()

    def sendall(self, data: bytes) -> None:
        try:
            self._sock.sendall(data)
        finally:
            self._written.set()

    def recv(self, size: int) -> bytes:
        self._written.wait(_REQUEST_WRITTEN_BOUND)
        return self._sock.recv(size)

    def shutdown(self, how: int) -> None:
        self._written.set()
        self._sock.shutdown(how)

    def close(self) -> None:
        self._written.set()
        self._sock.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)


class _ClientConnection(ClientConnection):
    """websockets' sync ClientConnection over a :class:`_RequestFirstSocket`."""

    def __init__(self, sock: socket.socket, protocol: ClientProtocol, **options: Any) -> None:
        # Positional: the parameter is ``socket`` in websockets 16, ``sock`` in 17.
        super().__init__(cast(socket.socket, _RequestFirstSocket(sock)), protocol, **options)


def open_websocket(requirement: Requirement, target: Target, timeout: float) -> ClientConnection:
    """An open WebSocket connection to the requirement's path (wss:// when there is TLS)."""
    uri, options = _websocket_options(requirement, target, timeout)
    connection: ClientConnection = connect(
        uri, **options, **LEGACY_CONNECT, create_connection=_ClientConnection
    )
    return connection


class _SameOriginConnect(async_connect):
    """websockets' asyncio ``connect``, following a redirect only within the target's origin.

    (Its sync client follows none.) The requirement's headers, credentials
    among them, go to the target alone; websockets itself strips only
    Authorization, Cookie and Proxy-Authorization on a cross-origin redirect.
    """

    def process_redirect(self, exc: Exception) -> Exception | str:
        before = parse_uri(self.uri)  # websockets 16 keeps no ws_uri; 17 does
        followed = super().process_redirect(exc)
        if isinstance(followed, str):
            after = parse_uri(followed)
            if (after.secure, after.host, after.port) != (before.secure, before.host, before.port):
                return SecurityError(
                    f"not following a redirect to another origin ({followed}): the"
                    " requirement's headers go only to the target"
                )
        return followed


async def open_async_websocket(
    requirement: Requirement, target: Target, timeout: float
) -> AsyncClientConnection:
    """The same connection as :func:`open_websocket`, from websockets' asyncio client."""
    uri, options = _websocket_options(requirement, target, timeout)
    connection: AsyncClientConnection = await _SameOriginConnect(uri, **options)
    return connection
