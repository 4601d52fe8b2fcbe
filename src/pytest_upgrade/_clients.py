"""Clients for test bodies: already set up to speak the upgraded protocol.

The probes have their own, bounded machinery; these are the ordinary
clients a test body uses afterwards (httpx, and the websockets library),
each with a TLS context of its own (httpcore sets ALPN on a context it is
given, so contexts are never shared) and with proxies from the environment
ignored: the target is the only peer.
"""

from __future__ import annotations

import httpx
from websockets.sync.client import ClientConnection, connect

from ._model import Requirement
from ._observe import Target
from ._probes import USER_AGENT, ClientTrust
from ._websocket import LEGACY_CONNECT, websocket_uri

__all__ = ["open_websocket", "upgraded_client"]


def upgraded_client(requirement: Requirement, target: Target, timeout: float) -> httpx.Client:
    """An httpx client that speaks ``requirement``'s upgraded protocol to ``target``."""
    protocol = requirement.protocol
    trust = ClientTrust(target.cafile)  # a fresh one: its contexts are this client's alone

    def client(base_url: str, **options: object) -> httpx.Client:
        return httpx.Client(
            base_url=base_url,
            trust_env=False,
            timeout=timeout,
            headers={"user-agent": USER_AGENT},
            **options,  # type: ignore[arg-type]
        )

    if protocol == "websocket":
        raise ValueError("a websocket requirement has no HTTP client: use upgrade.websocket")
    if protocol == "h2c":
        if target.http is None:
            raise ValueError("the target has no http URL to speak cleartext HTTP/2 to")
        # http1=False over http:// is HTTP/2 with prior knowledge (RFC 9113 §3.3).
        return client(target.http.url(""), http1=False, http2=True)
    if protocol == "HTTP/1.1":
        endpoint = target.https or target.http
        assert endpoint is not None
        return client(endpoint.url(""), verify=trust.context())
    if target.https is None:
        raise ValueError(f"the target has no https URL to speak {protocol} to")
    if protocol == "h2":
        return client(target.https.url(""), http1=False, http2=True, verify=trust.context())
    minimum = "TLSv" + protocol.split("/", 1)[1]
    return client(target.https.url(""), http2=True, verify=trust.context(minimum=minimum))


def open_websocket(requirement: Requirement, target: Target, timeout: float) -> ClientConnection:
    """An open WebSocket connection to the requirement's path (wss:// when there is TLS)."""
    endpoint = target.https or target.http
    assert endpoint is not None
    context = (
        ClientTrust(target.cafile).context(("http/1.1",)) if endpoint.scheme == "https" else None
    )
    connection: ClientConnection = connect(
        websocket_uri(endpoint, requirement.path),
        ssl=context,
        proxy=None,
        open_timeout=timeout,
        close_timeout=timeout,
        additional_headers=list(requirement.headers),
        user_agent_header=USER_AGENT,
        **LEGACY_CONNECT,
    )
    return connection
