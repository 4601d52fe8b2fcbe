"""HTTP/1.x probes: the request written by h11 (or by hand for HTTP/1.0), the answer
framed by h11 (RFC 9112).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import h11

from .._model import Exchange, FailureKind, Offer, Response
from .connection import USER_AGENT, Connection, ProbeError, decode_field
from .endpoint import Endpoint
from .exchange import exchange_over, recording
from .spec import ConnectionSpec, Limits, Request

__all__ = [
    "h11_response",
    "http1_exchange",
    "http1_headers",
    "http1_roundtrip",
    "readable_h11_error",
    "speaks_http2",
]


def http1_exchange(
    spec: ConnectionSpec,
    request: Request,
    *,
    role: str,
    alpn: Sequence[str] = ("http/1.1",),
    http_version: str = "1.1",
    tls_minimum: str | None = None,
) -> Exchange:
    """One HTTP/1.x request (1.1, or 1.0 written by hand and read by h11).

    Over https, ``alpn`` is the ALPN offer (the ``h2`` legacy probe offers
    only ``http/1.1``, as an HTTP/1.1-only client does) and ``tls_minimum``
    the lowest TLS version offered.

    An HTTP/1.1 request that asks for no upgrade goes over a kept-alive
    connection of the same kind when the probe's pool has one (:mod:`.reuse`);
    an HTTP/1.0 request, or one whose ``Upgrade`` could take the connection over
    (h2c's, RFC 7540 §3.2), has a connection of its own.
    """
    https = spec.https
    offer = Offer((http_version,), https, tuple(alpn), tls_minimum if https else None)
    sent = request.but(headers=http1_headers(spec.endpoint, request))
    url = spec.endpoint.url(request.path)
    with recording(role=role, url=url, method=request.method, offer=offer) as record:
        record.request_headers = sent.headers
        exchange_over(
            spec,
            record,
            lambda connection: http1_roundtrip(
                connection, spec.endpoint, sent, spec.limits, http_version=http_version
            ),
            kind="http/1.1",
            alpn=alpn,
            minimum=tls_minimum,
            reuse=http_version == "1.1" and not _upgrades(request),
        )
    return record.exchange()


def _upgrades(request: Request) -> bool:
    """Whether the request asks to switch protocols (RFC 9110 §7.8): the server may
    then take the connection over, and it is nobody else's."""
    return any(name.lower() in ("upgrade", "http2-settings") for name, _ in request.headers)


def http1_headers(endpoint: Endpoint, request: Request) -> tuple[tuple[str, str], ...]:
    """The header fields an HTTP/1.x request carries: ``Host`` (RFC 9112 §3.2), this
    client's own, then the request's."""
    return (
        ("Host", endpoint.authority),
        ("User-Agent", USER_AGENT),
        ("Accept", "*/*"),
        *request.headers,
    )


def http1_roundtrip(
    connection: Connection,
    endpoint: Endpoint,
    request: Request,
    limits: Limits,
    *,
    http_version: str = "1.1",
    sent: bool = False,
) -> Response:
    """Send ``request`` (unless it was ``sent`` already), its header fields as given,
    and read its response."""
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=limits.head)
    target = endpoint.target(request.path)
    wire = conn.send(
        h11.Request(method=request.method, target=target, headers=list(request.headers))
    )
    wire += conn.send(h11.EndOfMessage())
    if http_version == "1.0":
        # h11 only writes HTTP/1.1 requests; an HTTP/1.0 request is written
        # here (RFC 9112 §3) and h11 still frames the response.
        lines = [f"{request.method} {target} HTTP/1.0"]
        lines += [f"{name}: {value}" for name, value in request.headers]
        wire = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    if not sent:
        connection.send(wire)
    return _ResponseReader(conn, connection, limits.body).read()


class _ResponseReader:
    """One response read from ``connection`` through h11's events (RFC 9112 §6)."""

    def __init__(self, conn: h11.Connection, connection: Connection, body_limit: int) -> None:
        self.conn = conn
        self.connection = connection
        self.body_limit = body_limit
        self.head: h11.Response | None = None
        self.body = bytearray()
        self.first_bytes = b""  # what came before a response head, to name a non-HTTP peer
        self.truncated = False

    def read(self) -> Response:
        while True:
            event = self._next_event()
            if event is h11.NEED_DATA:
                self._receive()
            elif isinstance(event, h11.InformationalResponse):
                if event.status_code == 101:
                    # 101 Switching Protocols ends the HTTP/1.1 exchange (RFC 9110
                    # §15.2.2); what follows is the other protocol, not read here.
                    return h11_response(event, b"", truncated=False)
            elif isinstance(event, h11.Response):
                self.head = event
            elif not isinstance(event, h11.Data) or not self._keep(event.data):
                # The end of the message, the connection closed or the body cut at the
                # limit (a client never sees PAUSED before EndOfMessage).
                break
        if self.head is None:
            raise ProbeError(
                FailureKind.CLOSED, "the connection closed before a complete response head"
            )
        # Persistent when both sides are done and neither said close (RFC 9112 §9.3),
        # the whole body was read and nothing else came.
        self.connection.reusable = (
            self.conn.our_state is h11.DONE
            and self.conn.their_state is h11.DONE
            and not self.truncated
            and self.conn.trailing_data == (b"", False)
        )
        return h11_response(self.head, bytes(self.body), truncated=self.truncated)

    def _next_event(self) -> h11.Event | type[h11.NEED_DATA] | type[h11.PAUSED]:
        try:
            return self.conn.next_event()
        except h11.RemoteProtocolError as exc:
            if self.head is None and speaks_http2(self.first_bytes):
                raise ProbeError(
                    FailureKind.PROTOCOL,
                    "this port speaks HTTP/2 only: it answered the HTTP/1.x request with"
                    " HTTP/2 frames (a SETTINGS or GOAWAY frame, RFC 9113 §3.4, §6.5, §6.8)",
                ) from None
            raise _remote_error(exc) from None

    def _receive(self) -> None:
        what = "reading the response" if self.head is None else "reading the response body"
        try:
            data = self.connection.recv(what)
        except ProbeError as exc:
            if exc.kind is FailureKind.TIMEOUT and self.head is None:
                _not_http(self.first_bytes)
            raise
        if self.head is None and len(self.first_bytes) < 64:
            self.first_bytes += data[: 64 - len(self.first_bytes)]
        if not data and self.head is None and self.connection.received == 0:
            raise ProbeError(
                FailureKind.CLOSED, "the server closed the connection without answering"
            )
        try:
            self.conn.receive_data(data)
        except h11.RemoteProtocolError as exc:  # pragma: no cover - h11 raises on next_event
            raise ProbeError(FailureKind.PROTOCOL, f"invalid HTTP/1.x response: {exc}") from None

    def _keep(self, data: bytes) -> bool:
        """Keep what fits of a piece of the body; False once the body is cut at the limit."""
        room = self.body_limit - len(self.body)
        self.body += data[:room]
        if len(data) > room:
            self.truncated = True
            return False
        return True


_SETTINGS, _GOAWAY = 0x4, 0x7  # HTTP/2 frame types (RFC 9113 §6.5, §6.8)


def speaks_http2(first_bytes: bytes) -> bool:
    """Whether a peer's first bytes are an HTTP/2 frame on stream 0, as a server's preface.

    A server that speaks only HTTP/2 on a port (nginx ``listen 8080 http2``, prior
    knowledge only) answers anything with its SETTINGS frame (RFC 9113 §3.4), then
    a GOAWAY; a frame header is 9 bytes: length (24 bits), type, flags, stream id.
    """
    if len(first_bytes) < 9:
        return False
    length = int.from_bytes(first_bytes[0:3], "big")
    stream = int.from_bytes(first_bytes[5:9], "big") & 0x7FFFFFFF
    kind = first_bytes[3]
    if stream != 0 or length > 16384:
        return False
    return (kind == _SETTINGS and length % 6 == 0) or (kind == _GOAWAY and length >= 8)


def _not_http(first_bytes: bytes) -> None:
    """Raise a protocol failure when the peer's first bytes cannot start an HTTP response."""
    if first_bytes and not b"HTTP/".startswith(first_bytes[:5]):
        shown = first_bytes.split(b"\r\n", 1)[0][:40].decode("latin-1")
        raise ProbeError(
            FailureKind.PROTOCOL,
            f"the server sent bytes that are not an HTTP response ({shown!r}) and then nothing",
        )


def h11_response(
    event: h11.Response | h11.InformationalResponse, body: bytes, *, truncated: bool
) -> Response:
    return Response(
        status=event.status_code,
        http_version=event.http_version.decode("ascii", "replace"),
        headers=tuple(
            (decode_field(k).lower(), decode_field(v)) for k, v in event.headers.raw_items()
        ),
        body=body,
        reason=decode_field(event.reason),
        body_truncated=truncated,
    )


_BYTEARRAY = re.compile(r"bytearray\((b(['\"]).*?\2)\)")


def readable_h11_error(exc: Exception) -> str:
    """h11's message with the peer's bytes as a quoted literal, not Python's
    ``bytearray(b'...')`` repr: "illegal status line: b'\\x00\\xffGARBAGE'"."""
    return _BYTEARRAY.sub(r"\1", str(exc))


def _remote_error(exc: h11.RemoteProtocolError) -> ProbeError:
    """What h11's complaint about the server's bytes means, in the probe's words."""
    if "ConnectionClosed" in str(exc):
        # h11 saw the connection end where a response head was due ("can't handle
        # event type ConnectionClosed when role=SERVER and state=SEND_RESPONSE"):
        # the server destroyed the socket instead of answering.
        return ProbeError(
            FailureKind.CLOSED, "the server closed the connection without a complete response"
        )
    return ProbeError(FailureKind.PROTOCOL, f"invalid HTTP/1.x response: {readable_h11_error(exc)}")
