"""The probes: every byte pytest-upgrade sends to a target goes through here.

Each probe makes one bounded exchange and returns a record (:class:`Exchange`
or :class:`TlsHandshake`); none raises for anything the target does. TLS is
driven through memory BIOs so that every read, the handshake included, is
bounded by one deadline: a target that drips bytes cannot stretch a probe past
its timeout. HTTP/1.x is framed by h11 and HTTP/2 by h2; nothing here parses
HTTP by hand.

Probes connect only to the host and port of the URL they are given.
"""

from __future__ import annotations

import contextlib
import re
import socket
import ssl
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from urllib.parse import urlsplit

import h2.config
import h2.connection
import h2.events
import h2.exceptions
import h11

from .._model import (
    Exchange,
    FailureKind,
    HandshakeOutcome,
    Offer,
    ProbeFailure,
    Response,
    TlsHandshake,
    Transport,
)
from .tls_versions import set_versions

__all__ = [
    "BODY_LIMIT",
    "HEADER_LIMIT",
    "USER_AGENT",
    "ClientTrust",
    "Endpoint",
    "http1_exchange",
    "http2_exchange",
    "tls_handshake",
]

USER_AGENT = "pytest-upgrade/0.1"
BODY_LIMIT = 1024 * 1024  # bytes of a response body kept; the rest is not read
HEADER_LIMIT = 256 * 1024  # bytes of a response head before it is refused
_RECV_SIZE = 65536

TLS_VERSIONS = {
    "TLSv1": ssl.TLSVersion.TLSv1,
    "TLSv1.1": ssl.TLSVersion.TLSv1_1,
    "TLSv1.2": ssl.TLSVersion.TLSv1_2,
    "TLSv1.3": ssl.TLSVersion.TLSv1_3,
}


@dataclass(frozen=True)
class Endpoint:
    """Where a probe connects: the scheme, host and port of one base URL."""

    scheme: str
    host: str
    port: int
    base_path: str = ""

    @classmethod
    def from_url(cls, url: str) -> Endpoint:
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise ValueError(f"{url!r} is not an http:// or https:// URL with a host")
        try:
            port = parts.port
        except ValueError as exc:
            raise ValueError(f"{url!r} has an invalid port: {exc}") from None
        default = 443 if parts.scheme == "https" else 80
        return cls(parts.scheme, parts.hostname, port or default, parts.path.rstrip("/"))

    @property
    def authority(self) -> str:
        host = f"[{self.host}]" if ":" in self.host else self.host
        default = 443 if self.scheme == "https" else 80
        return host if self.port == default else f"{host}:{self.port}"

    def url(self, path: str) -> str:
        return f"{self.scheme}://{self.authority}{self.base_path}{path}"

    def target(self, path: str) -> str:
        """The request-target for ``path`` (origin-form, RFC 9112 §3.2.1)."""
        return f"{self.base_path}{path}"


class ClientTrust:
    """Which certificates the probes trust, and the client TLS contexts built from it.

    Contexts are built once and cached (the system trust store takes about
    30 ms to load). Each cached context has a fixed ALPN list and is used only
    by the probes of this module, which never hand it to a library that
    would change its ALPN under us (httpcore does that to contexts it is given).
    Certificate verification is always on.
    """

    def __init__(self, cafile: str | None = None) -> None:
        self.cafile = cafile
        self._contexts: dict[tuple[tuple[str, ...], str | None, str | None], ssl.SSLContext] = {}

    def _base_context(self) -> ssl.SSLContext:
        if self.cafile is None:
            return ssl.create_default_context()
        context = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
        context.load_verify_locations(cafile=self.cafile)
        return context

    def context(
        self, alpn: Sequence[str] = (), version: str | None = None, minimum: str | None = None
    ) -> ssl.SSLContext:
        """A verifying client context offering ``alpn``.

        ``version`` pins the one TLS version offered; ``minimum`` offers that
        version and every later one. Raises ``ssl.SSLError`` or ``ValueError``
        when this Python/OpenSSL cannot be configured so.
        """
        key = (tuple(alpn), version, minimum)
        context = self._contexts.get(key)
        if context is None:
            context = self._base_context()
            if alpn:
                context.set_alpn_protocols(list(alpn))
            if version is not None:
                _pin_version(context, TLS_VERSIONS[version])
            elif minimum is not None:
                context.minimum_version = TLS_VERSIONS[minimum]
            self._contexts[key] = context
        return context


def _pin_version(context: ssl.SSLContext, version: ssl.TLSVersion) -> None:
    set_versions(context, version, version)


class _ProbeError(Exception):
    def __init__(self, kind: FailureKind, message: str) -> None:
        super().__init__(message)
        self.kind = kind
        self.message = message


class _Deadline:
    def __init__(self, timeout: float) -> None:
        self.timeout = timeout
        self.end = time.monotonic() + timeout

    def remaining(self, what: str) -> float:
        left = self.end - time.monotonic()
        if left <= 0:
            raise _ProbeError(FailureKind.TIMEOUT, f"{what}: no answer within {self.timeout:g} s")
        return left


class _Connection:
    """A TCP connection, optionally with TLS over memory BIOs, under one deadline."""

    def __init__(self, sock: socket.socket, deadline: _Deadline) -> None:
        self.sock = sock
        self.deadline = deadline
        self.tls: ssl.SSLObject | None = None
        self._incoming = ssl.MemoryBIO()
        self._outgoing = ssl.MemoryBIO()
        self.received = 0

    @classmethod
    def open(cls, endpoint: Endpoint, deadline: _Deadline) -> _Connection:
        where = f"{endpoint.host}:{endpoint.port}"
        try:
            sock = socket.create_connection(
                (endpoint.host, endpoint.port), timeout=deadline.remaining(f"connect to {where}")
            )
        except socket.gaierror as exc:
            raise _ProbeError(
                FailureKind.UNREACHABLE, f"cannot resolve {endpoint.host!r}: {exc.strerror}"
            ) from None
        except TimeoutError:
            raise _ProbeError(
                FailureKind.UNREACHABLE,
                f"connect to {where}: no answer within {deadline.timeout:g} s",
            ) from None
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise _ProbeError(FailureKind.UNREACHABLE, f"connect to {where}: {reason}") from None
        with contextlib.suppress(OSError):
            sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        return cls(sock, deadline)

    def close(self) -> None:
        if self.tls is not None:
            # Say goodbye (close_notify, RFC 8446 §6.1) without waiting for the
            # answer: a server that sees the socket just vanish may keep the
            # connection's buffers until its keep-alive timeout.
            with contextlib.suppress(ssl.SSLError, ValueError):
                self.tls.unwrap()
            pending = self._outgoing.read()
            if pending:
                with contextlib.suppress(OSError):
                    self.sock.setblocking(False)
                    self.sock.send(pending)
        self.sock.close()

    # -- raw socket I/O, bounded by the deadline ---------------------------
    def _raw_send(self, data: bytes) -> None:
        try:
            self.sock.settimeout(self.deadline.remaining("sending"))
            self.sock.sendall(data)
        except TimeoutError:
            raise _ProbeError(FailureKind.TIMEOUT, "sending: the peer stopped reading") from None
        except OSError as exc:
            raise _ProbeError(FailureKind.CLOSED, f"sending: {_os_reason(exc)}") from None

    def _raw_recv(self, what: str) -> bytes:
        try:
            self.sock.settimeout(self.deadline.remaining(what))
            data = self.sock.recv(_RECV_SIZE)
        except TimeoutError:
            raise _ProbeError(
                FailureKind.TIMEOUT, f"{what}: no answer within {self.deadline.timeout:g} s"
            ) from None
        except OSError as exc:
            raise _ProbeError(FailureKind.CLOSED, f"{what}: {_os_reason(exc)}") from None
        self.received += len(data)
        return data

    # -- TLS ----------------------------------------------------------------
    def start_tls(self, context: ssl.SSLContext, server_hostname: str) -> None:
        self.tls = context.wrap_bio(self._incoming, self._outgoing, server_hostname=server_hostname)
        while True:
            try:
                self.tls.do_handshake()
            except ssl.SSLWantReadError:
                self._flush_tls()
                try:
                    data = self._raw_recv("TLS handshake")
                except _ProbeError as exc:
                    if exc.kind is not FailureKind.CLOSED:
                        raise
                    # A reset during the handshake is a refusal, like a close.
                    raise _ProbeError(
                        FailureKind.TLS_REFUSED, f"during the TLS handshake, {exc.message}"
                    ) from None
                if not data:
                    raise _ProbeError(
                        FailureKind.TLS_REFUSED,
                        "the server closed the connection during the TLS handshake",
                    ) from None
                self._incoming.write(data)
                continue
            except ssl.SSLCertVerificationError as exc:
                raise _ProbeError(
                    FailureKind.CERTIFICATE,
                    f"certificate verify failed: {exc.verify_message}"
                    " (trust a private CA with --upgrade-ca=PEM)",
                ) from None
            except ssl.SSLError as exc:
                self._flush_tls(quietly=True)
                raise _tls_error(exc) from None
            self._flush_tls()
            return

    def _flush_tls(self, *, quietly: bool = False) -> None:
        pending = self._outgoing.read()
        if pending:
            try:
                self._raw_send(pending)
            except _ProbeError:
                if not quietly:
                    raise

    # -- application data ---------------------------------------------------
    def send(self, data: bytes) -> None:
        if self.tls is None:
            self._raw_send(data)
            return
        self.tls.write(data)
        self._flush_tls()

    def recv(self, what: str) -> bytes:
        """Up to 64 KiB of application data; b"" when the peer closed."""
        if self.tls is None:
            return self._raw_recv(what)
        while True:
            try:
                return self.tls.read(_RECV_SIZE)
            except ssl.SSLWantReadError:
                data = self._raw_recv(what)
                if not data:
                    self._incoming.write_eof()
                    with contextlib.suppress(ssl.SSLError):
                        return self.tls.read(_RECV_SIZE)
                    return b""
                self._incoming.write(data)
            except ssl.SSLZeroReturnError:
                return b""
            except ssl.SSLError as exc:
                reason = _ssl_reason(exc)
                raise _ProbeError(FailureKind.PROTOCOL, f"{what}: TLS error {reason}") from None

    def transport(self, scheme: str) -> Transport:
        if self.tls is None:
            return Transport(scheme=scheme)
        return Transport(
            scheme=scheme,
            tls_version=self.tls.version(),
            alpn=self.tls.selected_alpn_protocol(),
        )


def _os_reason(exc: OSError) -> str:
    if isinstance(exc, ConnectionResetError):
        return "the connection was reset by the peer"
    if isinstance(exc, BrokenPipeError):
        return "the peer closed the connection"
    return exc.strerror or type(exc).__name__


def _ssl_reason(exc: ssl.SSLError) -> str:
    return str(exc.reason or exc.strerror or exc).lower().replace("_", " ")


def _alert_name(exc: ssl.SSLError) -> str | None:
    """The TLS alert the peer sent ("protocol_version"), if the error is one."""
    reason = str(exc.reason or "")
    if "ALERT_" in reason:
        return reason.split("ALERT_", 1)[1].lower()
    # Alerts Python has no reason code for (no_application_protocol, on some
    # OpenSSL builds) only show in the message: "... tlsv1 alert no application protocol (...)".
    match = re.search(r"alert ([a-z ]+?)\s*(?:\(|$)", str(exc).lower())
    return match.group(1).strip().replace(" ", "_") if match else None


def _tls_error(exc: ssl.SSLError) -> _ProbeError:
    """Classify a failed handshake: refused by the server, or not TLS at all."""
    alert = _alert_name(exc)
    reason = str(exc.reason or "")
    if alert is not None:
        return _ProbeError(
            FailureKind.TLS_REFUSED, f"the server refused the TLS handshake: alert {alert}"
        )
    if reason in (
        "WRONG_VERSION_NUMBER",
        "HTTP_REQUEST",
        "PACKET_LENGTH_TOO_LONG",
        "RECORD_LAYER_FAILURE",
    ):
        return _ProbeError(
            FailureKind.PROTOCOL,
            f"the server did not answer with TLS ({_ssl_reason(exc)}): is this a cleartext port?",
        )
    if reason in ("UNEXPECTED_EOF_WHILE_READING",) or isinstance(exc, ssl.SSLEOFError):
        return _ProbeError(
            FailureKind.TLS_REFUSED, "the server closed the connection during the TLS handshake"
        )
    if reason in ("UNSUPPORTED_PROTOCOL", "TLSV1_ALERT_PROTOCOL_VERSION"):
        return _ProbeError(FailureKind.TLS_REFUSED, "the server refused the TLS version offered")
    return _ProbeError(FailureKind.TLS_REFUSED, f"TLS handshake failed: {_ssl_reason(exc)}")


def _connect(
    endpoint: Endpoint,
    deadline: _Deadline,
    context: ssl.SSLContext | None,
) -> _Connection:
    connection = _Connection.open(endpoint, deadline)
    if endpoint.scheme == "https":
        if context is None:  # pragma: no cover - callers always pass one for https
            raise ValueError("an https endpoint needs a TLS context")
        try:
            connection.start_tls(context, endpoint.host)
        except BaseException:
            connection.close()
            raise
    return connection


@contextlib.contextmanager
def _recording(
    *, role: str, endpoint: Endpoint, method: str, path: str, offer: Offer
) -> Iterator[dict[str, object]]:
    """Collects the parts of an exchange; turns probe errors into failures."""
    record: dict[str, object] = {}
    start = time.perf_counter()
    try:
        yield record
    except _ProbeError as exc:
        record["failure"] = ProbeFailure(exc.kind, exc.message)
    record["exchange"] = Exchange(
        role=role,
        url=endpoint.url(path),
        method=method,
        offered=offer.describe(),
        offer=offer,
        request_headers=record.get("request_headers", ()),  # type: ignore[arg-type]
        transport=record.get("transport"),  # type: ignore[arg-type]
        response=record.get("response"),  # type: ignore[arg-type]
        failure=record.get("failure"),  # type: ignore[arg-type]
        elapsed=time.perf_counter() - start,
    )


def _decode(value: bytes) -> str:
    # Field values are octets; obs-text (RFC 9110 §5.5) survives as Latin-1.
    return value.decode("latin-1")


def http1_exchange(
    endpoint: Endpoint,
    *,
    role: str,
    method: str,
    path: str,
    headers: Sequence[tuple[str, str]] = (),
    trust: ClientTrust,
    alpn: Sequence[str] = ("http/1.1",),
    timeout: float,
    http_version: str = "1.1",
    tls_minimum: str | None = None,
    body_limit: int = BODY_LIMIT,
) -> Exchange:
    """One HTTP/1.x request (1.1, or 1.0 written by hand and read by h11).

    Over https, ``alpn`` is the ALPN offer (the ``h2`` legacy probe offers
    only ``http/1.1``, as an HTTP/1.1-only client does) and ``tls_minimum``
    the lowest TLS version offered.
    """
    context = trust.context(alpn, minimum=tls_minimum) if endpoint.scheme == "https" else None
    https = endpoint.scheme == "https"
    offer = Offer((http_version,), https, tuple(alpn), tls_minimum if https else None)
    request_headers = [("Host", endpoint.authority), ("User-Agent", USER_AGENT), ("Accept", "*/*")]
    request_headers += [(name, value) for name, value in headers]
    with _recording(role=role, endpoint=endpoint, method=method, path=path, offer=offer) as record:
        record["request_headers"] = tuple(request_headers)
        deadline = _Deadline(timeout)
        connection = _connect(endpoint, deadline, context)
        try:
            record["transport"] = connection.transport(endpoint.scheme)
            record["response"] = _http1_roundtrip(
                connection, endpoint, method, path, request_headers, http_version, body_limit
            )
        finally:
            connection.close()
    return record["exchange"]  # type: ignore[return-value]


def _http1_roundtrip(
    connection: _Connection,
    endpoint: Endpoint,
    method: str,
    path: str,
    headers: list[tuple[str, str]],
    http_version: str,
    body_limit: int,
) -> Response:
    conn = h11.Connection(h11.CLIENT, max_incomplete_event_size=HEADER_LIMIT)
    request = h11.Request(method=method, target=endpoint.target(path), headers=headers)
    wire = conn.send(request) + conn.send(h11.EndOfMessage())
    if http_version == "1.0":
        # h11 only writes HTTP/1.1 requests; an HTTP/1.0 request is written
        # here (RFC 9112 §3) and h11 still frames the response.
        lines = [f"{method} {endpoint.target(path)} HTTP/1.0"]
        lines += [f"{name}: {value}" for name, value in headers]
        wire = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    connection.send(wire)

    response: h11.Response | None = None
    body = bytearray()
    first_bytes = b""  # what came before a response head, to name a non-HTTP peer
    truncated = False
    while True:
        try:
            event = conn.next_event()
        except h11.RemoteProtocolError as exc:
            raise _ProbeError(FailureKind.PROTOCOL, f"invalid HTTP/1.x response: {exc}") from None
        if event is h11.NEED_DATA:
            what = "reading the response" if response is None else "reading the response body"
            try:
                data = connection.recv(what)
            except _ProbeError as exc:
                if exc.kind is FailureKind.TIMEOUT and response is None:
                    _not_http(first_bytes)
                raise
            if response is None and len(first_bytes) < 64:
                first_bytes += data[: 64 - len(first_bytes)]
            if not data and response is None and connection.received == 0:
                raise _ProbeError(
                    FailureKind.CLOSED, "the server closed the connection without answering"
                )
            try:
                conn.receive_data(data)
            except h11.RemoteProtocolError as exc:  # pragma: no cover - h11 raises on next_event
                raise _ProbeError(
                    FailureKind.PROTOCOL, f"invalid HTTP/1.x response: {exc}"
                ) from None
            continue
        if isinstance(event, h11.InformationalResponse):
            if event.status_code == 101:
                # 101 Switching Protocols ends the HTTP/1.1 exchange (RFC 9110
                # §15.2.2); what follows is the other protocol, not read here.
                return _h11_response(event, b"", truncated=False)
            continue
        if isinstance(event, h11.Response):
            response = event
            continue
        if isinstance(event, h11.Data):
            room = body_limit - len(body)
            body += event.data[:room]
            if len(event.data) > room:
                truncated = True
                break
            continue
        if isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
            break
        if event is h11.PAUSED:  # pragma: no cover - a client never pauses before EndOfMessage
            break
    if response is None:
        raise _ProbeError(
            FailureKind.CLOSED, "the connection closed before a complete response head"
        )
    return _h11_response(response, bytes(body), truncated=truncated)


def _not_http(first_bytes: bytes) -> None:
    """Raise a protocol failure when the peer's first bytes cannot start an HTTP response."""
    if first_bytes and not b"HTTP/".startswith(first_bytes[:5]):
        shown = first_bytes.split(b"\r\n", 1)[0][:40].decode("latin-1")
        raise _ProbeError(
            FailureKind.PROTOCOL,
            f"the server sent bytes that are not an HTTP response ({shown!r}) and then nothing",
        )


def _h11_response(
    event: h11.Response | h11.InformationalResponse, body: bytes, *, truncated: bool
) -> Response:
    return Response(
        status=event.status_code,
        http_version=event.http_version.decode("ascii", "replace"),
        headers=tuple((_decode(k).lower(), _decode(v)) for k, v in event.headers.raw_items()),
        body=body,
        reason=_decode(event.reason),
        body_truncated=truncated,
    )


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
    with _recording(role=role, endpoint=endpoint, method=method, path=path, offer=offer) as record:
        record["request_headers"] = tuple(h2_headers)
        deadline = _Deadline(timeout)
        connection = _connect(endpoint, deadline, context)
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
                record["response"] = _http1_roundtrip(
                    connection, endpoint, method, path, h1_headers, "1.1", body_limit
                )
            elif https and transport.alpn != "h2":
                selected = transport.alpn or "no protocol"
                raise _ProbeError(
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


def _http2_roundtrip(
    connection: _Connection,
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
            raise _ProbeError(
                FailureKind.PROTOCOL, f"the server answered the HTTP/2 preface with {line!r}"
            )
        first = False
        if not data:
            if status is None:
                raise _ProbeError(
                    FailureKind.CLOSED,
                    "the server closed the connection without an HTTP/2 response",
                )
            break
        try:
            events = conn.receive_data(data)
        except h2.exceptions.ProtocolError as exc:
            raise _ProbeError(
                FailureKind.PROTOCOL, f"invalid HTTP/2 from the server: {exc}"
            ) from None
        for event in events:
            if isinstance(event, h2.events.ResponseReceived) and event.stream_id == stream_id:
                for raw_name, raw_value in event.headers or ():
                    name, value = _decode(bytes(raw_name)), _decode(bytes(raw_value))
                    if name == ":status":
                        status = int(value) if value.isdigit() else -1
                    elif not name.startswith(":"):
                        fields.append((name.lower(), value))
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
                raise _ProbeError(
                    FailureKind.CLOSED,
                    f"the server reset the stream (error code {event.error_code!s})",
                )
            elif isinstance(event, h2.events.ConnectionTerminated):
                if status is None:
                    raise _ProbeError(
                        FailureKind.CLOSED,
                        f"the server sent GOAWAY ({event.error_code!s}) before answering",
                    )
                done = True
        pending = conn.data_to_send()
        if pending and not done:
            connection.send(pending)
    if status is None:
        raise _ProbeError(FailureKind.CLOSED, "no HTTP/2 response head arrived")
    if status < 0:
        raise _ProbeError(FailureKind.PROTOCOL, "the HTTP/2 response has an invalid :status")
    return Response(
        status=status,
        http_version="2",
        headers=tuple(fields),
        body=bytes(body),
        body_truncated=truncated,
    )


def tls_handshake(
    endpoint: Endpoint, *, version: str, trust: ClientTrust, timeout: float
) -> TlsHandshake:
    """A bare TLS handshake offering only ``version``.

    Tells apart a server that refused (an alert, a close, or a ServerHello
    for another version) from a client that could not offer the version at
    all (an error before any byte was sent): only the first says something
    about the server (RFC 8996).
    """
    try:
        context = trust.context(alpn=("http/1.1",), version=version)
    except (ssl.SSLError, ValueError) as exc:
        return TlsHandshake(
            version,
            HandshakeOutcome.CLIENT_CANNOT_OFFER,
            f"this client's TLS cannot offer {version} ({exc}): inconclusive",
        )
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=endpoint.host)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    except ssl.SSLError as exc:
        return TlsHandshake(
            version,
            HandshakeOutcome.CLIENT_CANNOT_OFFER,
            f"this client's OpenSSL cannot offer {version} ({_ssl_reason(exc)}): inconclusive",
        )
    hello = outgoing.read()
    if not hello:
        return TlsHandshake(
            version,
            HandshakeOutcome.CLIENT_CANNOT_OFFER,
            f"the local OpenSSL produced no {version} ClientHello",
        )
    deadline = _Deadline(timeout)
    try:
        connection = _Connection.open(endpoint, deadline)
    except _ProbeError as exc:
        return TlsHandshake(version, HandshakeOutcome.ERROR, exc.message)
    try:
        connection._raw_send(hello)
        while True:
            data = connection._raw_recv(f"{version} handshake")
            if not data:
                return TlsHandshake(
                    version, HandshakeOutcome.REFUSED, "the server closed the connection"
                )
            incoming.write(data)
            try:
                tls.do_handshake()
            except ssl.SSLWantReadError:
                pending = outgoing.read()
                if pending:
                    connection._raw_send(pending)
                continue
            except ssl.SSLCertVerificationError as exc:
                # A certificate is sent only after the server agreed to the
                # version in its ServerHello: the version was accepted.
                return TlsHandshake(
                    version,
                    HandshakeOutcome.ACCEPTED,
                    f"the server agreed to {version} (its certificate then failed to verify:"
                    f" {exc.verify_message})",
                )
            except ssl.SSLError as exc:
                return _refusal(version, exc)
            return TlsHandshake(
                version, HandshakeOutcome.ACCEPTED, f"negotiated {tls.version() or version}"
            )
    except _ProbeError as exc:
        if exc.kind is FailureKind.CLOSED:
            # A close and a reset say the same here, and which one arrives
            # depends on timing: one wording keeps reports comparable.
            return TlsHandshake(
                version, HandshakeOutcome.REFUSED, "the server closed the connection"
            )
        return TlsHandshake(version, HandshakeOutcome.ERROR, exc.message)
    finally:
        connection.close()


def _refusal(version: str, exc: ssl.SSLError) -> TlsHandshake:
    alert = _alert_name(exc)
    reason = str(exc.reason or "")
    if alert is not None:
        return TlsHandshake(version, HandshakeOutcome.REFUSED, f"alert {alert}")
    if reason in ("UNSUPPORTED_PROTOCOL", "WRONG_SSL_VERSION", "TLSV1_ALERT_PROTOCOL_VERSION"):
        return TlsHandshake(
            version, HandshakeOutcome.REFUSED, "the server answered with another TLS version"
        )
    if reason == "UNEXPECTED_EOF_WHILE_READING" or isinstance(exc, ssl.SSLEOFError):
        return TlsHandshake(version, HandshakeOutcome.REFUSED, "the server closed the connection")
    if reason in ("WRONG_VERSION_NUMBER", "HTTP_REQUEST", "RECORD_LAYER_FAILURE"):
        return TlsHandshake(
            version,
            HandshakeOutcome.ERROR,
            f"the server did not answer with TLS ({_ssl_reason(exc)})",
        )
    return TlsHandshake(version, HandshakeOutcome.REFUSED, f"handshake failed: {_ssl_reason(exc)}")
