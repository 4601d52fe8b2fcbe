"""HTTP/2 probes: over TLS chosen by ALPN (RFC 9113 §3.2), or over cleartext with
prior knowledge (RFC 9113 §3.3), framed by h2.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from .._model import Exchange, FailureKind, Offer, Response
from .connection import USER_AGENT, Connection, ProbeError, decode_field
from .endpoint import Endpoint
from .exchange import exchange_over, recording
from .http1 import http1_headers, http1_roundtrip
from .spec import ConnectionSpec, Request

__all__ = ["http2_exchange", "received_frames", "response_head"]


def http2_exchange(
    spec: ConnectionSpec,
    request: Request,
    *,
    role: str,
    alpn: Sequence[str] = ("h2", "http/1.1"),
    tls_minimum: str | None = None,
    http1_fallback: bool = False,
) -> Exchange:
    """One HTTP/2 request: over TLS chosen by ALPN (RFC 9113 §3.2), or over
    cleartext with prior knowledge (RFC 9113 §3.3).

    When TLS is used and the server does not select ``h2``, the exchange
    records an ALPN failure; with ``http1_fallback`` it makes the request
    over HTTP/1.1 instead, as a browser would.

    Over TLS the request goes over a kept-alive HTTP/2 connection of the same
    kind when the probe's pool has one (RFC 9113 §9.1, :mod:`.reuse`), one stream
    at a time; a prior-knowledge (cleartext) request has its own connection.
    """
    https = spec.https
    versions = ("2", "1.1") if http1_fallback else ("2",)
    offer = Offer(versions, https, tuple(alpn), tls_minimum if https else None)
    sent = request.but(
        headers=[
            ("user-agent", USER_AGENT),
            ("accept", "*/*"),
            *((name.lower(), value) for name, value in request.headers),
        ]
    )
    url = spec.endpoint.url(request.path)
    with recording(role=role, url=url, method=request.method, offer=offer) as record:
        record.request_headers = sent.headers

        def roundtrip(connection: Connection) -> Response:
            selected = connection.transport(spec.endpoint.scheme).alpn
            if https and selected != "h2" and http1_fallback:
                fallback = request.but(headers=http1_headers(spec.endpoint, request))
                record.request_headers = fallback.headers
                response = http1_roundtrip(connection, spec.endpoint, fallback, spec.limits)
                connection.reusable = False  # an HTTP/1.1 connection, not an h2 one
                return response
            if https and selected != "h2":
                raise ProbeError(
                    FailureKind.ALPN_MISMATCH,
                    f"the server selected {selected or 'no protocol'} by ALPN, not h2",
                )
            return _H2Reader(connection, spec.limits.body).roundtrip(spec.endpoint, sent)

        exchange_over(
            spec, record, roundtrip, kind="h2", alpn=alpn, minimum=tls_minimum, reuse=https
        )
    return record.exchange()


def received_frames(conn: h2.connection.H2Connection, data: bytes) -> list[h2.events.Event]:
    """The events of the server's bytes, or a protocol failure naming what h2 refused."""
    try:
        return conn.receive_data(data)
    except h2.exceptions.ProtocolError as exc:
        raise ProbeError(FailureKind.PROTOCOL, f"invalid HTTP/2 from the server: {exc}") from None


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


class _H2Reader:
    """One request on an HTTP/2 connection (a new one, or one kept alive after an
    earlier stream) and its stream's response (RFC 9113 §8.1)."""

    def __init__(self, connection: Connection, body_limit: int) -> None:
        self.connection = connection
        self.body_limit = body_limit
        self.fresh = connection.http2 is None
        if connection.http2 is None:
            config = h2.config.H2Configuration(
                client_side=True,
                header_encoding=None,
                # Inbound validation would reject exactly what h2-no-connection-headers
                # must see (RFC 9113 §8.2.2); the checks judge the headers instead.
                validate_inbound_headers=False,
            )
            connection.http2 = h2.connection.H2Connection(config=config)
        self.conn = connection.http2
        self.ended = False  # the stream ended (END_STREAM)
        self.goaway = False  # the server sent GOAWAY: no new stream on this connection
        self.stream_id = 0
        self.status: int | None = None
        self.fields: list[tuple[str, str]] = []
        self.body = bytearray()
        self.truncated = False

    def roundtrip(self, endpoint: Endpoint, request: Request) -> Response:
        """Send ``request``, its header fields as given, and read its response."""
        if self.fresh:
            self.conn.initiate_connection()
        self.stream_id = self.conn.get_next_available_stream_id()
        pseudo = [
            (":method", request.method),
            (":scheme", endpoint.scheme),
            (":authority", endpoint.authority),
            (":path", endpoint.target(request.path)),
        ]
        try:
            self.conn.send_headers(self.stream_id, [*pseudo, *request.headers], end_stream=True)
        except h2.exceptions.ProtocolError as exc:
            # A kept-alive connection that takes no new stream (its stream limit, a
            # GOAWAY h2 read): the request goes again on a new one (.reuse).
            raise ProbeError(
                FailureKind.CLOSED, f"the HTTP/2 connection takes no new stream: {exc}"
            ) from None
        self.connection.send(self.conn.data_to_send())
        first = self.fresh
        while True:
            data = self.connection.recv("reading the HTTP/2 response")
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
                if self.status is None:
                    raise ProbeError(
                        FailureKind.CLOSED,
                        "the server closed the connection without an HTTP/2 response",
                    )
                break
            if self._receive(data):
                break
        response = self._response()
        # Another stream may follow on this connection when this one ended whole and
        # the server did not say GOAWAY (RFC 9113 §6.8).
        self.connection.reusable = self.ended and not self.truncated and not self.goaway
        return response

    def _receive(self, data: bytes) -> bool:
        """Take the server's bytes; True once the response is complete (or cut at the limit)."""
        events = received_frames(self.conn, data)
        done = False
        for event in events:
            done = self._event(event) or done
        pending = self.conn.data_to_send()
        if pending and not done:
            self.connection.send(pending)
        return done

    def _event(self, event: h2.events.Event) -> bool:
        """Handle one event; True when it ends the response."""
        if isinstance(event, h2.events.ConnectionTerminated):
            self.goaway = True
            if self.status is None:
                raise ProbeError(
                    FailureKind.CLOSED,
                    f"the server sent GOAWAY ({event.error_code!s}) before answering",
                )
            return True
        if getattr(event, "stream_id", None) != self.stream_id:
            return False
        if isinstance(event, h2.events.ResponseReceived):
            self.status, self.fields = response_head(event.headers or ())
        elif isinstance(event, h2.events.DataReceived):
            chunk = bytes(event.data or b"")
            self.conn.acknowledge_received_data(event.flow_controlled_length or 0, self.stream_id)
            room = self.body_limit - len(self.body)
            self.body += chunk[:room]
            cut = len(chunk) > room
            self.truncated = self.truncated or cut
            return cut
        elif isinstance(event, h2.events.StreamEnded):
            self.ended = True
            return True
        elif isinstance(event, h2.events.StreamReset):
            raise ProbeError(
                FailureKind.CLOSED,
                f"the server reset the stream (error code {event.error_code!s})",
            )
        return False

    def _response(self) -> Response:
        if self.status is None:
            raise ProbeError(FailureKind.CLOSED, "no HTTP/2 response head arrived")
        if self.status < 0:
            raise ProbeError(FailureKind.PROTOCOL, "the HTTP/2 response has an invalid :status")
        return Response(
            status=self.status,
            http_version="2",
            headers=tuple(self.fields),
            body=bytes(self.body),
            body_truncated=self.truncated,
        )
