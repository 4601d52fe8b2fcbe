"""WebSocket over HTTP/2 (RFC 8441): an extended CONNECT, then a Ping answered by a Pong.

Browsers open a WebSocket as a stream of their HTTP/2 connection to the
server when its SETTINGS enable the extended CONNECT protocol (RFC 8441 §3),
instead of making the HTTP/1.1 handshake. This probe does what they do:
over TLS with ALPN ``h2`` it reads the server's SETTINGS, and only when
``SETTINGS_ENABLE_CONNECT_PROTOCOL`` is 1 sends ``CONNECT`` with
``:protocol = websocket`` (RFC 8441 §4-5). A 2xx opens the tunnel; the
round trip is a Ping, which every WebSocket endpoint must answer with a Pong
carrying the same payload (RFC 6455 §5.5.2-5.5.3), so no route has to echo.
The WebSocket frames are written and read by the websockets library's
sans-I/O protocol, carried in the stream's DATA frames.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Sequence

import h2.config
import h2.connection
import h2.events
import h2.exceptions
from websockets.client import ClientProtocol
from websockets.datastructures import Headers
from websockets.exceptions import InvalidHandshake
from websockets.frames import CloseCode, Frame, Opcode
from websockets.protocol import Protocol, Side

from .._model import Exchange, FailureKind, Offer, Response
from .connection import USER_AGENT, Connection, Deadline, ProbeError, open_connection
from .exchange import Recorder, recording
from .http2 import received_frames, response_head
from .spec import ConnectionSpec, Request
from .websocket import client_protocol, websocket_uri
from .websocket_offer import WebSocketOffer, handshake_headers

__all__ = ["websocket_over_h2"]


def websocket_over_h2(
    spec: ConnectionSpec, request: Request, *, role: str, offering: WebSocketOffer
) -> Exchange:
    """Open the request's path as a WebSocket over HTTP/2 (RFC 8441) and make a Ping/Pong
    round trip.

    The exchange records the answer to the extended CONNECT (which carries the
    request's header fields); its failure says why the tunnel was not opened
    or the round trip did not complete. The CONNECT offers what ``offering`` says
    as the RFC 6455 handshake does (RFC 8441 §5: the same fields, less the key
    and upgrade).
    """
    endpoint = spec.endpoint
    offer = Offer(("2",), True, ("h2",), websocket=True)
    subprotocols = offering.subprotocols
    fields = handshake_headers(
        request.headers, endpoint, default_origin=offering.default_origin, subprotocols=subprotocols
    )
    uri = websocket_uri(endpoint, request.path)
    with recording(role=role, url=uri, method="CONNECT", offer=offer) as record:
        connection = _open_h2(spec)
        try:
            record.transport = connection.transport(endpoint.scheme)
            if record.transport.alpn != "h2":
                selected = record.transport.alpn or "no protocol"
                raise ProbeError(
                    FailureKind.ALPN_MISMATCH,
                    f"the server selected {selected} by ALPN, not h2: WebSocket over HTTP/2"
                    " needs an HTTP/2 connection",
                )
            tunnel = _Tunnel(connection, spec, record)
            tunnel.client, _ = client_protocol(
                uri,
                request.headers,
                subprotocols=subprotocols,
                origin=None,
                max_size=spec.limits.body,
            )
            tunnel.run(request.path, fields)
        finally:
            connection.close()
    return record.exchange()


def _open_h2(spec: ConnectionSpec) -> Connection:
    """A TLS connection offering only ``h2`` by ALPN; a refusal of it means no HTTP/2 here.

    A server without HTTP/2 may refuse the offer with a ``no_application_protocol``
    alert (RFC 7301 §3.2) or end the handshake: no HTTP/2 was spoken, so
    whether it offers WebSocket over HTTP/2 is not in question (skipped).
    """
    try:
        return open_connection(spec, Deadline(spec.timeout), alpn=("h2",))
    except ProbeError as exc:
        if exc.kind not in (FailureKind.TLS_REFUSED, FailureKind.CLOSED, FailureKind.PROTOCOL):
            raise
        raise ProbeError(
            FailureKind.ALPN_MISMATCH,
            f"the TLS handshake offering only h2 by ALPN failed ({exc.message}): the server"
            " speaks no HTTP/2 here (RFC 7301 §3.2), so browsers use the HTTP/1.1 handshake",
        ) from None


class _Tunnel:
    """One HTTP/2 connection carrying one WebSocket stream."""

    def __init__(self, connection: Connection, spec: ConnectionSpec, record: Recorder):
        self.connection = connection
        self.endpoint = spec.endpoint
        self.limits = spec.limits
        self.record = record
        config = h2.config.H2Configuration(
            client_side=True, header_encoding=None, validate_inbound_headers=False
        )
        self.h2 = h2.connection.H2Connection(config=config)
        self.stream_id = 0
        # Events read with the response head but not handled yet (DATA in the same read).
        self.pending: list[h2.events.Event] = []
        # The RFC 6455 client whose offer the CONNECT carries: it judges the answer.
        self.client: ClientProtocol | None = None

    def run(self, path: str, headers: Sequence[tuple[str, str]]) -> None:
        self.h2.initiate_connection()
        self.connection.send(self.h2.data_to_send())
        self._await_settings()
        status = self._open(path, headers)
        if 200 <= status < 300:
            self._ping_pong(self._negotiated())

    def _events(self, what: str) -> list[h2.events.Event]:
        if self.pending:
            events, self.pending = self.pending, []
            return events
        return self._receive(self.connection.recv(what), what)

    def _receive(self, data: bytes, what: str) -> list[h2.events.Event]:
        if not data:
            raise ProbeError(FailureKind.CLOSED, f"{what}: the server closed the connection")
        events = received_frames(self.h2, data)
        pending = self.h2.data_to_send()
        if pending:
            self.connection.send(pending)
        return events

    def _check_ended(self, event: h2.events.Event, what: str) -> None:
        """Raise when ``event`` ends the stream or the connection before the probe is done.

        Events are taken in order: a reset right after a complete answer (Apache
        httpd sends RST_STREAM NO_ERROR after some) does not undo the answer.
        """
        if isinstance(event, h2.events.StreamReset) and event.stream_id == self.stream_id:
            raise ProbeError(
                FailureKind.CLOSED,
                f"{what}: the server reset the stream (RST_STREAM {event.error_code!s})",
            )
        if isinstance(event, h2.events.ConnectionTerminated):
            raise ProbeError(
                FailureKind.CLOSED, f"{what}: the server sent GOAWAY ({event.error_code!s})"
            )

    def _await_settings(self) -> None:
        # RFC 9113 §3.4: the server's preface is a SETTINGS frame.
        what = "reading the server's HTTP/2 SETTINGS"
        try:
            first = self.connection.recv(what)
            if first.startswith(b"HTTP/"):
                line = first.split(b"\r\n", 1)[0][:80].decode("latin-1")
                raise ProbeError(FailureKind.PROTOCOL, f"it answered with {line!r}")
            self.pending = self._receive(first, what)
            while not self._settings_arrived(what):
                pass
        except ProbeError as exc:
            # Not this check's finding: the server's HTTP/2 itself is broken.
            raise ProbeError(
                FailureKind.UNSUPPORTED,
                f"no HTTP/2 SETTINGS arrived ({exc.message}), so whether the server offers"
                " WebSocket over HTTP/2 is unknown",
            ) from None
        if self.h2.remote_settings.enable_connect_protocol != 1:
            # RFC 8441 §3: without the setting a client must not send :protocol.
            raise ProbeError(
                FailureKind.NOT_APPLICABLE,
                "the server's HTTP/2 SETTINGS do not enable the extended CONNECT protocol"
                " (SETTINGS_ENABLE_CONNECT_PROTOCOL, RFC 8441 §3): browsers use the"
                " HTTP/1.1 handshake",
            )

    def _settings_arrived(self, what: str) -> bool:
        for event in self._events(what):
            self._check_ended(event, what)
            if isinstance(event, h2.events.RemoteSettingsChanged):
                return True
        return False

    def _open(self, path: str, headers: Sequence[tuple[str, str]]) -> int:
        """Send the extended CONNECT (RFC 8441 §4-5); record and return the status."""
        self.stream_id = self.h2.get_next_available_stream_id()
        request = [
            (":method", "CONNECT"),
            (":protocol", "websocket"),
            (":scheme", self.endpoint.scheme),
            (":path", self.endpoint.target(path)),
            (":authority", self.endpoint.authority),
            # RFC 8441 §5: no Sec-WebSocket-Key/Accept, no Upgrade/Connection.
            ("sec-websocket-version", "13"),
            ("user-agent", USER_AGENT),
            *((name.lower(), value) for name, value in headers),
        ]
        self.record.request_headers = tuple(request)
        try:
            self.h2.send_headers(self.stream_id, request)
        except h2.exceptions.ProtocolError as exc:
            raise ProbeError(
                FailureKind.UNSUPPORTED, f"the request cannot be sent over HTTP/2: {exc}"
            ) from None
        self.connection.send(self.h2.data_to_send())
        while True:
            what = "reading the answer to the extended CONNECT"
            events = self._events(what)
            for index, event in enumerate(events):
                self._check_ended(event, what)
                if (
                    isinstance(event, h2.events.ResponseReceived)
                    and event.stream_id == self.stream_id
                ):
                    self.pending = events[index + 1 :]
                    status, fields = response_head(event.headers or ())
                    if status < 0:
                        raise ProbeError(
                            FailureKind.PROTOCOL, "the HTTP/2 response has an invalid :status"
                        )
                    self.record.response = Response(status, "2", tuple(fields))
                    return status

    def _negotiated(self) -> Protocol:
        """The stream's WebSocket, with what the 2xx accepted of the offer (RFC 8441 §5).

        As over HTTP/1.1 (RFC 6455 §4.1), a selected subprotocol or extension the
        client did not offer fails the connection.
        """
        websocket = Protocol(Side.CLIENT, max_size=self.limits.body)
        response = self.record.response
        assert response is not None
        if self.client is not None:
            fields = Headers(response.headers)
            try:
                self.client.process_subprotocol(fields)
                websocket.extensions = self.client.process_extensions(fields)
            except InvalidHandshake as exc:
                raise ProbeError(
                    FailureKind.PROTOCOL, f"the client refused the answer: {exc}"
                ) from None
        return websocket

    def _ping_pong(self, websocket: Protocol) -> None:
        """RFC 6455 §5.5.2: a Ping is answered by a Pong with the same payload.

        A route that closes cleanly (1000) before answering shows the stream
        works as well: its Close frame came through the tunnel, and after a
        Close no Pong is owed (RFC 6455 §5.5.1).
        """
        payload = os.urandom(8).hex().encode("ascii")
        websocket.send_ping(payload)
        self._send_frames(websocket)
        what = "waiting for the Pong to a Ping over the WebSocket stream"
        while True:
            for event in self._events(what):
                self._check_ended(event, what)
                if not isinstance(event, h2.events.DataReceived):
                    if isinstance(event, h2.events.StreamEnded) and (
                        event.stream_id == self.stream_id
                    ):
                        raise ProbeError(FailureKind.CLOSED, f"{what}: the server ended the stream")
                    continue
                if event.stream_id != self.stream_id:
                    continue
                self.h2.acknowledge_received_data(event.flow_controlled_length or 0, self.stream_id)
                websocket.receive_data(bytes(event.data or b""))
                for frame in websocket.events_received():
                    if _is_answer(frame, payload):
                        self.record.round_trip = "Pong received"
                        self._close(websocket)
                        return
                self._send_frames(websocket)  # a Pong to a Ping of the server's, say
                closed = websocket.close_rcvd
                if closed is not None and closed.code == CloseCode.NORMAL_CLOSURE:
                    self.record.round_trip = f"the route closed the WebSocket cleanly ({closed})"
                    with contextlib.suppress(ProbeError, h2.exceptions.ProtocolError):
                        self._send_frames(websocket, end_stream=True)  # the Close echoed
                    return
                if closed is not None:
                    raise ProbeError(
                        FailureKind.CLOSED,
                        f"{what}: the server closed the WebSocket ({websocket.close_rcvd})",
                    )
                if websocket.parser_exc is not None:
                    raise ProbeError(
                        FailureKind.PROTOCOL,
                        f"{what}: invalid WebSocket frames: {websocket.parser_exc}",
                    )

    def _send_frames(self, websocket: Protocol, *, end_stream: bool = False) -> None:
        data = b"".join(websocket.data_to_send())
        if data or end_stream:
            self.h2.send_data(self.stream_id, data, end_stream=end_stream)
            self.connection.send(self.h2.data_to_send())

    def _close(self, websocket: Protocol) -> None:
        # RFC 6455 §5.5.1 and RFC 8441 §5: a Close frame, then the end of the stream.
        websocket.send_close(CloseCode.NORMAL_CLOSURE)
        with contextlib.suppress(ProbeError, h2.exceptions.ProtocolError):
            self._send_frames(websocket, end_stream=True)


def _is_answer(frame: object, payload: bytes) -> bool:
    return isinstance(frame, Frame) and frame.opcode is Opcode.PONG and frame.data == payload
