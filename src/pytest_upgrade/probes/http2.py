"""HTTP/2 probes: over TLS chosen by ALPN (RFC 9113 §3.2), or over cleartext with
prior knowledge (RFC 9113 §3.3), framed by h2.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from .._model import (
    Exchange,
    FailureKind,
    Offer,
    Response,
)
from .connection import (
    BODY_LIMIT,
    USER_AGENT,
    Connection,
    Deadline,
    ProbeError,
    decode_field,
    open_connection,
    recording,
)
from .endpoint import ClientTrust, Endpoint
from .http1 import http1_roundtrip

__all__ = ["http2_exchange", "response_head"]


def http2_exchange(
    endpoint: Endpoint,
    *,
    role: str,
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]] = (),
    trust: ClientTrust,
    alpn: Sequence[str] = ("h2", "http/1.1"),
    timeout: float,
    tls_minimum: str | None = None,
    http1_fallback: bool = False,
    body_limit: int = BODY_LIMIT,
) -> Exchange:
    """One HTTP/2 request: over TLS chosen by ALPN (RFC 9113 §3.2), or over
    cleartext with prior knowledge (RFC 9113 §3.3).

    When TLS is used and the server does not select ``h2``, the exchange
    records an ALPN failure; with ``http1_fallback`` it makes the request
    over HTTP/1.1 instead, as a browser would.
    """
    https = endpoint.scheme == "https"
    context = trust.context(alpn, minimum=tls_minimum) if https else None
    versions = ("2", "1.1") if http1_fallback else ("2",)
    offer = Offer(versions, https, tuple(alpn), tls_minimum if https else None)
    h2_headers = [("user-agent", USER_AGENT), ("accept", "*/*")]
    h2_headers += [(name.lower(), value) for name, value in headers]
    with recording(role=role, endpoint=endpoint, method=method, path=path, offer=offer) as record:
        record["request_headers"] = tuple(h2_headers)
        deadline = Deadline(timeout)
        connection = open_connection(endpoint, deadline, context)
        try:
            transport = connection.transport(endpoint.scheme)
            record["transport"] = transport
            if https and transport.alpn != "h2" and http1_fallback:
                h1_headers = [
                    ("Host", endpoint.authority),
                    ("User-Agent", USER_AGENT),
                    ("Accept", "*/*"),
                    *headers,
                ]
                record["request_headers"] = tuple(h1_headers)
                record["response"] = http1_roundtrip(
                    connection, endpoint, method, path, h1_headers, "1.1", body_limit
                )
            elif https and transport.alpn != "h2":
                selected = transport.alpn or "no protocol"
                raise ProbeError(
                    FailureKind.ALPN_MISMATCH,
                    f"the server selected {selected} by ALPN, not h2",
                )
            else:
                record["response"] = _http2_roundtrip(
                    connection, endpoint, method, path, h2_headers, body_limit
                )
        finally:
            connection.close()
    return record["exchange"]  # type: ignore[return-value]


def response_head(headers: Iterable[tuple[bytes, bytes]]) -> tuple[int, list[tuple[str, str]]]:
    """The :status (-1 when it is not a number) and the other fields, names lower-cased."""
    status = -1
    fields: list[tuple[str, str]] = []
    for raw_name, raw_value in headers:
        name, value = decode_field(bytes(raw_name)), decode_field(bytes(raw_value))
        if name == ":status":
            status = int(value) if value.isdigit() else -1
        elif not name.startswith(":"):
            fields.append((name.lower(), value))
    return status, fields


# Over 60 lines: one loop over h2's events for one stream, each case a few
# lines, sharing the response's state; split, that state would be threaded through.
def _http2_roundtrip(
    connection: Connection,
    endpoint: Endpoint,
    method: str,
    path: str,
    headers: list[tuple[str, str]],
    body_limit: int,
) -> Response:
    config = h2.config.H2Configuration(
        client_side=True,
        header_encoding=None,
        # Inbound validation would reject exactly what h2-no-connection-headers
        # must see (RFC 9113 §8.2.2); the checks judge the headers instead.
        validate_inbound_headers=False,
    )
    conn = h2.connection.H2Connection(config=config)
    conn.initiate_connection()
    stream_id = conn.get_next_available_stream_id()
    pseudo = [
        (":method", method),
        (":scheme", endpoint.scheme),
        (":authority", endpoint.authority),
        (":path", endpoint.target(path)),
    ]
    conn.send_headers(stream_id, pseudo + headers, end_stream=True)
    connection.send(conn.data_to_send())

    status: int | None = None
    fields: list[tuple[str, str]] = []
    body = bytearray()
    truncated = False
    done = False
    first = True
    while not done:
        data = connection.recv("reading the HTTP/2 response")
        if first and data.startswith(b"HTTP/"):
            # RFC 9113 §3.4: the server's preface is a SETTINGS frame. An
            # HTTP/1.x status line means it does not speak HTTP/2 here (h2
            # alone would read it as the header of a huge frame and wait).
            line = data.split(b"\r\n", 1)[0][:80].decode("latin-1")
            raise ProbeError(
                FailureKind.PROTOCOL, f"the server answered the HTTP/2 preface with {line!r}"
            )
        first = False
        if not data:
            if status is None:
                raise ProbeError(
                    FailureKind.CLOSED,
                    "the server closed the connection without an HTTP/2 response",
                )
            break
        try:
            events = conn.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            raise ProbeError(
                FailureKind.PROTOCOL, f"invalid HTTP/2 from the server: {exc}"
            ) from None
        for event in events:
            if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream_id:
                status, fields = response_head(event.headers or ())
            elif isinstance(event, h2.events.DataReceived) and event.stream_id == stream_id:
                chunk = bytes(event.data or b"")
                conn.acknowledge_received_data(event.flow_controlled_length or 0, stream_id)
                room = body_limit - len(body)
                body += chunk[:room]
                if len(chunk) > room:
                    truncated = True
                    done = True
            elif isinstance(event, h2.events.StreamEnded) and event.stream_id == stream_id:
                done = True
            elif isinstance(event, h2.events.StreamReset) and event.stream_id == stream_id:
                raise ProbeError(
                    FailureKind.CLOSED,
                    f"the server reset the stream (error code {event.error_code!s})",
                )
            elif isinstance(event, h2.events.ConnectionTerminated):
                if status is None:
                    raise ProbeError(
                        FailureKind.CLOSED,
                        f"the server sent GOAWAY ({event.error_code!s}) before answering",
                    )
                done = True
        pending = conn.data_to_send()
        if pending and not done:
            connection.send(pending)
    if status is None:
        raise ProbeError(FailureKind.CLOSED, "no HTTP/2 response head arrived")
    if status < 0:
        raise ProbeError(FailureKind.PROTOCOL, "the HTTP/2 response has an invalid :status")
    return Response(
        status=status,
        http_version="2",
        headers=tuple(fields),
        body=bytes(body),
        body_truncated=truncated,
    )
