"""The HTTP/3 probe: a QUIC handshake with ALPN ``h3`` (RFC 9114 §3.1) and one request,
with aioquic (the QUIC stack hypercorn itself serves HTTP/3 with).

aioquic is an optional extra (``pytest-upgrade[h3]``): it is imported only
inside the probe, and its absence is recorded as an ``UNSUPPORTED`` failure
that names the extra, so an ``h3`` requirement is skipped, never passed.

The request goes to an *alternative service* (RFC 7838): the UDP endpoint an
``Alt-Svc`` field advertised, while the request itself is for the origin
(its ``:authority``, and the name the certificate must be valid for, RFC 7838
§2.1, RFC 9114 §3.3). Verification is always on, with the target's trust.

The UDP socket is connected to the endpoint, so on loopback (or wherever the
ICMP message comes back) "port unreachable" ends the probe at once;
otherwise silence ends it at the probe's timeout. Everything is bounded by
that one timeout: the probe runs its own event loop in the calling thread.
"""

from __future__ import annotations

import asyncio
import functools
import os
import re
import ssl
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from .._model import Exchange, FailureKind, Offer, ProbeFailure, Response, Transport
from .connection import BODY_LIMIT, USER_AGENT, ProbeError, decode_field
from .endpoint import ClientTrust, Endpoint

if TYPE_CHECKING:
    from aioquic.quic.events import QuicEvent

__all__ = ["H3_EXTRA", "aioquic_missing", "h3_exchange"]

H3_EXTRA = "pip install 'pytest-upgrade[h3]'"

# RFC 9001 §4.8: a TLS alert travels as the QUIC transport error CRYPTO_ERROR,
# 0x0100 + alert (0x0100-0x01ff), in a CONNECTION_CLOSE of type 0x1c. HTTP/3's own
# error codes (RFC 9114 §8.1) share those numbers but are application errors,
# carried in a CONNECTION_CLOSE of type 0x1d (RFC 9000 §19.19): the frame type,
# never the number, tells the two apart.
_CRYPTO_ERROR = 0x100
# RFC 9114 §8.1 and RFC 9204 §6 (QPACK): the application error codes of HTTP/3.
_H3_ERRORS = {
    0x100: "H3_NO_ERROR",
    0x101: "H3_GENERAL_PROTOCOL_ERROR",
    0x102: "H3_INTERNAL_ERROR",
    0x103: "H3_STREAM_CREATION_ERROR",
    0x104: "H3_CLOSED_CRITICAL_STREAM",
    0x105: "H3_FRAME_UNEXPECTED",
    0x106: "H3_FRAME_ERROR",
    0x107: "H3_EXCESSIVE_LOAD",
    0x108: "H3_ID_ERROR",
    0x109: "H3_SETTINGS_ERROR",
    0x10A: "H3_MISSING_SETTINGS",
    0x10B: "H3_REQUEST_REJECTED",
    0x10C: "H3_REQUEST_CANCELLED",
    0x10D: "H3_REQUEST_INCOMPLETE",
    0x10E: "H3_MESSAGE_ERROR",
    0x10F: "H3_CONNECT_ERROR",
    0x110: "H3_VERSION_FALLBACK",
    0x200: "QPACK_DECOMPRESSION_FAILED",
    0x201: "QPACK_ENCODER_STREAM_ERROR",
    0x202: "QPACK_DECODER_STREAM_ERROR",
}
_H3_MESSAGE_ERROR = 0x10E
# RFC 9114 §4.2: fields an HTTP/3 message must not carry (aioquic's wording of
# that rejection names the field; the rule is the RFC's).
_CONNECTION_SPECIFIC = re.compile(r"[Hh]eader b?'([^']+)' is connection-specific")
# RFC 8446 §6: the alerts a client raises when the certificate does not verify.
_CERTIFICATE_ALERTS = {
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    48: "unknown_ca",
}
_NO_APPLICATION_PROTOCOL = 120  # RFC 7301 §3.2


def aioquic_missing() -> str | None:
    """Why this client cannot speak QUIC (aioquic is not installed), or None."""
    try:
        import aioquic.asyncio  # noqa: F401, PLC0415 (an optional extra, imported when needed)
    except ImportError as exc:
        return f"HTTP/3 probes need aioquic ({exc}): {H3_EXTRA}"
    return None


def _offer() -> Offer:
    return Offer(("3",), True, ("h3",))


def h3_exchange(
    origin: Endpoint,
    host: str,
    port: int,
    *,
    role: str,
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]] = (),
    trust: ClientTrust,
    timeout: float,
    body_limit: int = BODY_LIMIT,
) -> Exchange:
    """One HTTP/3 request for ``origin``'s ``path``, over QUIC to ``host``:``port`` (UDP)."""
    offer = _offer()
    where = f"{host}:{port}" if ":" not in host else f"[{host}]:{port}"
    record: dict[str, Any] = {}
    h3_headers = [("user-agent", USER_AGENT), ("accept", "*/*")]
    h3_headers += [(name.lower(), value) for name, value in headers]
    missing = aioquic_missing()
    try:
        if missing is not None:
            raise ProbeError(FailureKind.UNSUPPORTED, missing)
        record["request_headers"] = tuple(h3_headers)
        asyncio.run(
            _request(
                origin, host, port, method, path, h3_headers, trust, timeout, body_limit, record
            )
        )
    except ProbeError as exc:
        record["failure"] = ProbeFailure(exc.kind, exc.message)
    return Exchange(
        role=role,
        url=origin.url(path),
        method=method,
        offered=f"{offer.describe()}, to {where} (UDP)",
        offer=offer,
        request_headers=record.get("request_headers", ()),
        transport=record.get("transport"),
        response=record.get("response"),
        failure=record.get("failure"),
    )


async def _request(
    origin: Endpoint,
    host: str,
    port: int,
    method: str,
    path: str,
    headers: list[tuple[str, str]],
    trust: ClientTrust,
    timeout: float,
    body_limit: int,
    record: dict[str, Any],
) -> None:
    from aioquic.h3.connection import H3_ALPN  # noqa: PLC0415 (optional extra)
    from aioquic.quic.configuration import QuicConfiguration  # noqa: PLC0415

    loop = asyncio.get_running_loop()
    where = f"{host}:{port} (UDP)"
    configuration = QuicConfiguration(
        alpn_protocols=H3_ALPN,
        is_client=True,
        # RFC 7838 §2.1: the alternative must be authoritative for the origin.
        server_name=origin.host,
        # Our own timeout ends the probe; QUIC's idle timer must not race it.
        idle_timeout=timeout * 2,
    )
    _load_trust(configuration, trust)
    client = _client_class()
    try:
        # A literal address is used as given; a name is resolved first (bounded too).
        transport, protocol = await asyncio.wait_for(
            loop.create_datagram_endpoint(lambda: client(configuration), remote_addr=(host, port)),
            timeout,
        )
    except (OSError, TimeoutError) as exc:
        raise ProbeError(
            FailureKind.UNREACHABLE, f"cannot open a UDP socket to {where}: {exc or 'timed out'}"
        ) from None
    peer = transport.get_extra_info("peername")
    remote = (str(peer[0]), int(peer[1]), *peer[2:])
    try:
        async with asyncio.timeout(timeout):
            await protocol.exchange(
                remote, origin, method, path, headers, body_limit, record, where
            )
    except TimeoutError:
        stage = "the response" if "transport" in record else "the QUIC handshake"
        raise ProbeError(
            FailureKind.TIMEOUT,
            f"no answer to {stage} from {where} within {timeout:g} s",
        ) from None
    finally:
        protocol.close()  # sends CONNECTION_CLOSE; no need to wait for the draining period
        transport.close()


def _load_trust(configuration: Any, trust: ClientTrust) -> None:
    """The CAs the TCP probes trust: the given CA file, else the system's store.

    Verification is always on. aioquic falls back to certifi's roots only when
    this Python knows no system store (``ssl.get_default_verify_paths``).
    """
    if trust.cafile is not None:
        configuration.load_verify_locations(cafile=trust.cafile)
        return
    paths = ssl.get_default_verify_paths()
    cafile = paths.cafile if paths.cafile and os.path.isfile(paths.cafile) else None
    capath = paths.capath if paths.capath and os.path.isdir(paths.capath) else None
    if cafile is not None or capath is not None:
        configuration.load_verify_locations(cafile=cafile, capath=capath)


# Over 60 lines: one class body, defined in a function so that aioquic (an
# optional extra) is imported only when an h3 requirement is probed.
@functools.cache
def _client_class() -> Any:
    """The aioquic protocol class, built on first use (aioquic is an optional extra)."""
    from aioquic.asyncio.protocol import QuicConnectionProtocol  # noqa: PLC0415
    from aioquic.h3.connection import H3Connection  # noqa: PLC0415
    from aioquic.h3.events import DataReceived, HeadersReceived  # noqa: PLC0415
    from aioquic.quic.connection import QuicConnection  # noqa: PLC0415
    from aioquic.quic.events import ConnectionTerminated, HandshakeCompleted  # noqa: PLC0415

    class Connection(QuicConnection):
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

        def __init__(self, configuration: Any) -> None:
            self._connection = Connection(configuration=configuration)
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
                self._fail(
                    _terminated(event.error_code, event.reason_phrase, self._where, application)
                )
            h3_events = self._h3.handle_event(event)
            closed = self._connection.closed_here
            if closed is not None and closed[1] is None and closed[0] in _H3_ERRORS:
                # The HTTP/3 layer rejected what the server sent and closed the
                # connection (RFC 9114 §8): that is the answer, now, not after draining.
                self._fail(_rejected(closed[0], closed[2], self._where))
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
            origin: Endpoint,
            method: str,
            path: str,
            headers: list[tuple[str, str]],
            body_limit: int,
            record: dict[str, Any],
            where: str,
        ) -> None:
            self._limit, self._where = body_limit, where
            self.connect(address)
            alpn = await self._handshake
            record["transport"] = Transport("https", "TLSv1.3", alpn)  # RFC 9001 §4.2
            if alpn != "h3":
                raise ProbeError(
                    FailureKind.ALPN_MISMATCH, f"{where} selected {alpn or 'no protocol'}, not h3"
                )
            self._stream_id = self._quic.get_next_available_stream_id()
            pseudo = [
                (b":method", method.encode()),
                (b":scheme", b"https"),
                (b":authority", origin.authority.encode()),
                (b":path", origin.target(path).encode()),
            ]
            fields = [(n.encode(), v.encode("latin-1")) for n, v in headers]
            self._h3.send_headers(self._stream_id, pseudo + fields, end_stream=True)
            self.transmit()
            await self._done
            if self._status is None:
                raise ProbeError(FailureKind.CLOSED, f"{where} ended the stream without a response")
            if self._status < 0:
                raise ProbeError(FailureKind.PROTOCOL, "the HTTP/3 response has an invalid :status")
            record["response"] = Response(
                status=self._status,
                http_version="3",
                headers=tuple(self._fields),
                body=bytes(self._body),
                body_truncated=self._truncated,
            )

    return H3Client


def _h3_error(code: int) -> str:
    name = _H3_ERRORS.get(code)
    return f"{name} (0x{code:x})" if name else f"0x{code:x}"


def _rejected(code: int, reason: str, where: str) -> ProbeError:
    """This client closed the HTTP/3 connection because of what ``where`` sent (RFC 9114 §8)."""
    because = f": {reason}" if reason else ""
    fields = _CONNECTION_SPECIFIC.findall(reason)
    if code == _H3_MESSAGE_ERROR and fields:
        return ProbeError(
            FailureKind.PROTOCOL,
            f"the HTTP/3 answer from {where} is malformed: it carries the connection-specific"
            f" field {', '.join(fields)}, which HTTP/3 forbids (RFC 9114 §4.2): the app (or its"
            " server) set it on an HTTP/3 answer, and this client closed the connection with"
            f" {_h3_error(code)} (RFC 9114 §4.1.2, §8.1)",
        )
    return ProbeError(
        FailureKind.PROTOCOL,
        f"the HTTP/3 answer from {where} broke HTTP/3's rules, so this client closed the"
        f" connection with {_h3_error(code)} (RFC 9114 §8.1){because}",
    )


def _terminated(code: int, reason: str, where: str, application: bool) -> ProbeError:
    """What a closed QUIC connection means (RFC 9000 §19.19, §20; RFC 9001 §4.8; RFC 9114 §8.1).

    ``application``: the close carried an application error code (frame type
    0x1d), HTTP/3's; otherwise a transport error code, where 0x0100-0x01ff is
    a TLS alert.
    """
    because = f": {reason}" if reason else ""
    if application:
        return ProbeError(
            FailureKind.CLOSED,
            f"{where} closed the HTTP/3 connection with {_h3_error(code)} (RFC 9114 §8.1){because}",
        )
    alert = code - _CRYPTO_ERROR
    if alert in _CERTIFICATE_ALERTS:
        return ProbeError(
            FailureKind.CERTIFICATE,
            f"the certificate {where} presented over QUIC did not verify"
            f" ({_CERTIFICATE_ALERTS[alert]}{because})",
        )
    if alert == _NO_APPLICATION_PROTOCOL:
        return ProbeError(
            FailureKind.ALPN_MISMATCH,
            f"{where} does not offer h3 in ALPN (no_application_protocol)",
        )
    if 0 <= alert < 0x100:
        return ProbeError(
            FailureKind.TLS_REFUSED,
            f"the QUIC handshake with {where} failed: TLS alert {alert}{because}",
        )
    return ProbeError(
        FailureKind.CLOSED,
        f"{where} closed the QUIC connection (transport error 0x{code:x}, RFC 9000 §20{because})",
    )
