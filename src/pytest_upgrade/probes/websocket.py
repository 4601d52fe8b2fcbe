"""The WebSocket probes: an RFC 6455 opening handshake made by the websockets library.

The library's sans-I/O client writes the request and validates the answer as
a real client does; the bytes travel over the probes' own bounded connection
(``http``), so the probe has one deadline, no thread of its own, and never
follows a redirect off the target. The checks judge the recorded 101 (or
whatever came instead) themselves. The connection is closed right after the
handshake: the test body gets a fresh one of its own (``upgrade.websocket``).
"""

from __future__ import annotations

import contextlib
import inspect
from collections.abc import Sequence
from typing import Any

from websockets.client import ClientProtocol
from websockets.exceptions import InvalidStatus
from websockets.frames import CloseCode
from websockets.http11 import Response as WsResponse
from websockets.protocol import State
from websockets.sync.client import connect
from websockets.typing import Origin, Subprotocol
from websockets.uri import parse_uri

from .._model import Exchange, FailureKind, Offer, ProbeFailure, Response
from .connection import USER_AGENT, Connection, ProbeError
from .endpoint import Endpoint
from .exchange import Recorder, connected, recording
from .spec import ConnectionSpec, Request
from .websocket_offer import EXTENSIONS, WebSocketOffer, deflate_factories, origin_of, without

__all__ = ["LEGACY_CONNECT", "client_protocol", "websocket_handshake", "websocket_uri"]

# websockets 16+ warns unless connect() is used as a context manager or told
# legacy=True; older releases have no such parameter.
LEGACY_CONNECT: dict[str, Any] = (
    {"legacy": True} if "legacy" in inspect.signature(connect).parameters else {}
)


def websocket_uri(endpoint: Endpoint, path: str) -> str:
    scheme = "wss" if endpoint.scheme == "https" else "ws"
    return f"{scheme}://{endpoint.authority}{endpoint.target(path)}"


def client_protocol(
    uri: str,
    headers: Sequence[tuple[str, str]],
    *,
    subprotocols: Sequence[str],
    origin: str | None,
    max_size: int,
) -> tuple[ClientProtocol, tuple[tuple[str, str], ...]]:
    """The sans-I/O client offering ``subprotocols``, ``origin`` and the headers' extensions,
    taking messages of at most ``max_size`` bytes.

    A ``Sec-WebSocket-Extensions`` in ``headers`` becomes the client's own offer
    (``permessage-deflate``, negotiated when the server accepts it: RFC 7692
    §5); the other headers are returned, for the request to carry.
    """
    offered = [value for name, value in headers if name.lower() == EXTENSIONS]
    protocol = ClientProtocol(
        parse_uri(uri),
        origin=Origin(origin) if origin is not None else None,
        extensions=deflate_factories(", ".join(offered)) if offered else None,
        subprotocols=[Subprotocol(name) for name in subprotocols] or None,
        max_size=max_size,
    )
    return protocol, without(headers, EXTENSIONS)


def _response(response: WsResponse) -> Response:
    return Response(
        status=response.status_code,
        http_version="1.1",
        headers=tuple((name.lower(), value) for name, value in response.headers.raw_items()),
        body=bytes(response.body or b""),
        reason=response.reason_phrase,
    )


def websocket_handshake(
    spec: ConnectionSpec, request: Request, *, role: str, offering: WebSocketOffer
) -> Exchange:
    """Make the RFC 6455 opening handshake on the request's path, then close; record it.

    The websockets library's sans-I/O client writes the request (a GET with the
    request's header fields) and judges the answer; the bytes go over the
    probes' own connection, under one deadline, with no thread of its own and no
    redirect followed (a redirect is the answer). It offers what ``offering``
    says: the subprotocols and, unless the request has an ``Origin``, the
    target's own origin (as a browser would).
    """
    endpoint = spec.endpoint
    uri = websocket_uri(endpoint, request.path)
    origin = None
    if offering.default_origin and not any(k.lower() == "origin" for k, _ in request.headers):
        origin = origin_of(endpoint)
    protocol, headers = client_protocol(
        uri,
        request.headers,
        subprotocols=offering.subprotocols,
        origin=origin,
        max_size=spec.limits.body,
    )
    https = spec.https
    offer = Offer(("1.1",), https, ("http/1.1",) if https else (), websocket=True)
    with (
        recording(role=role, url=uri, method="GET", offer=offer) as record,
        connected(spec, record, alpn=("http/1.1",)) as connection,
    ):
        _handshake(connection, protocol, headers, record)
    return record.exchange()


def _handshake(
    connection: Connection,
    protocol: ClientProtocol,
    headers: Sequence[tuple[str, str]],
    record: Recorder,
) -> None:
    request = protocol.connect()
    request.headers["User-Agent"] = USER_AGENT
    for name, value in headers:
        request.headers[name] = value
    record.request_headers = tuple(request.headers.raw_items())
    protocol.send_request(request)
    connection.send(b"".join(protocol.data_to_send()))
    record.response = _response(_read_response(connection, protocol))
    refusal = protocol.handshake_exc
    if refusal is not None and not isinstance(refusal, InvalidStatus):
        # A 101 the client must fail (RFC 6455 §4.1), a wrong accept value say.
        record.failure = ProbeFailure(
            FailureKind.PROTOCOL, f"the client refused the handshake: {refusal}"
        )
    elif protocol.state is State.OPEN:
        # Close as a client should (RFC 6455 §5.5.1), without waiting for the reply.
        protocol.send_close(CloseCode.NORMAL_CLOSURE)
        with contextlib.suppress(ProbeError):
            connection.send(b"".join(protocol.data_to_send()))


def _read_response(connection: Connection, protocol: ClientProtocol) -> WsResponse:
    """The handshake's answer, as the sans-I/O client parsed it."""
    answered = False  # any byte of an answer (TLS records aside)
    while True:
        data = connection.recv("reading the handshake response")
        answered = answered or bool(data)
        if data:
            protocol.receive_data(data)
        else:
            protocol.receive_eof()
        for event in protocol.events_received():
            if isinstance(event, WsResponse):
                return event
        if data and protocol.handshake_exc is None:
            continue
        if not answered:
            # A socket destroyed without a byte (Node's socket.destroy()).
            raise ProbeError(
                FailureKind.CLOSED, "the server closed the connection without answering"
            )
        if protocol.handshake_exc is not None:
            cause = _cause(protocol.handshake_exc)
            raise ProbeError(FailureKind.PROTOCOL, f"invalid handshake response: {cause}")
        raise ProbeError(FailureKind.CLOSED, "the server closed the connection without answering")


def _cause(exc: BaseException) -> str:
    cause = exc.__cause__
    return f"{exc}: {cause}" if cause is not None else str(exc)
