"""The aioquic client of the HTTP/3 probe: one request on one QUIC connection.

Imported by :mod:`.quic` only when an ``h3`` requirement is probed and aioquic
(an optional extra, ``pytest-upgrade[h3]``) is installed.
"""

from __future__ import annotations

import asyncio

from aioquic.asyncio.protocol import QuicConnectionProtocol
from aioquic.h3.connection import H3Connection
from aioquic.h3.events import DataReceived, HeadersReceived
from aioquic.quic.configuration import QuicConfiguration
from aioquic.quic.connection import QuicConnection
from aioquic.quic.events import ConnectionTerminated, HandshakeCompleted, QuicEvent

from .._model import FailureKind, Response, Transport
from .connection import ProbeError, decode_field
from .exchange import Recorder
from .quic_errors import H3_ERRORS, rejected, terminated
from .spec import BODY_LIMIT, ConnectionSpec, Request

__all__ = ["H3Client"]


class _QuicConnection(QuicConnection):
    """A QUIC connection that remembers why this client closed it first."""

    closed_here: tuple[int, int | None, str] | None = None

    def close(
        self, error_code: int = 0, frame_type: int | None = None, reason_phrase: str = ""
    ) -> None:
        if self.closed_here is None:
            self.closed_here = (error_code, frame_type, reason_phrase)
        super().close(error_code=error_code, frame_type=frame_type, reason_phrase=reason_phrase)


class H3Client(QuicConnectionProtocol):
    """One request on one QUIC connection; failures arrive as ProbeErrors."""

    def __init__(self, configuration: QuicConfiguration, offered: str | None = None) -> None:
        self._offered = offered  # the client certificate file the configuration offers
        self._connection = _QuicConnection(configuration=configuration)
        super().__init__(self._connection)
        self._h3 = H3Connection(self._quic)
        self._done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._handshake: asyncio.Future[str | None] = asyncio.get_running_loop().create_future()
        self._stream_id: int | None = None
        self._status: int | None = None
        self._fields: list[tuple[str, str]] = []
        self._body = bytearray()
        self._limit = BODY_LIMIT
        self._truncated = False
        self._where = ""

    def _fail(self, error: ProbeError) -> None:
        # Only the future being awaited: an exception nobody retrieves is logged.
        future = self._done if self._handshake.done() else self._handshake
        if not future.done():
            future.set_exception(error)
            future.exception()  # retrieved: a timeout may have ended the wait already

    def error_received(self, exc: Exception) -> None:
        # An ICMP error on the connected UDP socket (port unreachable).
        self._fail(
            ProbeError(
                FailureKind.UNREACHABLE,
                f"nothing listens on {self._where}: {type(exc).__name__}: {exc}",
            )
        )

    def quic_event_received(self, event: QuicEvent) -> None:
        if isinstance(event, HandshakeCompleted):
            if not self._handshake.done():
                self._handshake.set_result(event.alpn_protocol)
        elif isinstance(event, ConnectionTerminated):
            # aioquic reports an application close (type 0x1d) with no frame type.
            application = event.frame_type is None
            by_peer = self._connection.closed_here is None
            self._fail(
                terminated(
                    event.error_code,
                    event.reason_phrase,
                    self._where,
                    application,
                    by_peer=by_peer,
                    offered=self._offered,
                )
            )
        h3_events = self._h3.handle_event(event)
        closed = self._connection.closed_here
        if closed is not None and closed[1] is None and closed[0] in H3_ERRORS:
            # The HTTP/3 layer rejected what the server sent and closed the
            # connection (RFC 9114 §8): that is the answer, now, not after draining.
            self._fail(rejected(closed[0], closed[2], self._where))
        for h3_event in h3_events:
            if getattr(h3_event, "stream_id", None) != self._stream_id:
                continue
            if isinstance(h3_event, HeadersReceived) and self._status is None:
                self._head(h3_event.headers)
            elif isinstance(h3_event, DataReceived):
                room = self._limit - len(self._body)
                self._body += h3_event.data[:room]
                self._truncated = self._truncated or len(h3_event.data) > room
            ended = getattr(h3_event, "stream_ended", False) or self._truncated
            if ended and not self._done.done():
                self._done.set_result(None)

    def _head(self, headers: list[tuple[bytes, bytes]]) -> None:
        fields = [(decode_field(n), decode_field(v)) for n, v in headers]
        status = next((v for n, v in fields if n == ":status"), "")
        if status.isdigit() and 100 <= int(status) < 200:
            return  # an interim response (103 Early Hints); the final one follows (§4.1)
        self._status = int(status) if status.isdigit() else -1
        self._fields = [(n.lower(), v) for n, v in fields if not n.startswith(":")]

    async def exchange(
        self,
        address: tuple[str, int],
        spec: ConnectionSpec,
        request: Request,
        record: Recorder,
        where: str,
    ) -> None:
        """Make ``request`` for the spec's origin over QUIC to ``address``, ``where`` for people."""
        origin = spec.endpoint
        self._limit, self._where = spec.limits.body, where
        self.connect(address)
        alpn = await self._handshake
        record.transport = Transport("https", "TLSv1.3", alpn)  # RFC 9001 §4.2
        if alpn != "h3":
            raise ProbeError(
                FailureKind.ALPN_MISMATCH, f"{where} selected {alpn or 'no protocol'}, not h3"
            )
        self._stream_id = self._quic.get_next_available_stream_id()
        pseudo = [
            (b":method", request.method.encode()),
            (b":scheme", b"https"),
            (b":authority", origin.authority.encode()),
            (b":path", origin.target(request.path).encode()),
        ]
        fields = [(n.encode(), v.encode("latin-1")) for n, v in request.headers]
        self._h3.send_headers(self._stream_id, pseudo + fields, end_stream=True)
        self.transmit()
        await self._done
        if self._status is None:
            raise ProbeError(FailureKind.CLOSED, f"{where} ended the stream without a response")
        if self._status < 0:
            raise ProbeError(FailureKind.PROTOCOL, "the HTTP/3 response has an invalid :status")
        record.response = Response(
            status=self._status,
            http_version="3",
            headers=tuple(self._fields),
            body=bytes(self._body),
            body_truncated=self._truncated,
        )
