"""Small loopback servers that misbehave on purpose: the zoo of hostile targets.

``zoo_server(behaviour, tls=...)`` serves one behaviour on 127.0.0.1 and
yields a :class:`ZooServer` that records every connection it accepted and
how many bytes the behaviour managed to send (which shows that a client
stopped reading). ``hostile_server`` is the same, yielding only the port.

A behaviour is a function of one accepted connection (a socket, or a TLS
socket after the handshake when the server has a ``tls`` context; see
``raw_tcp`` for behaviours that must run before any TLS). Every behaviour ends
when the client goes away or the server stops; none blocks the test run.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import random
import socket
import ssl
import struct
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import h2.config
import h2.connection
import h2.events
import h2.exceptions

from support.listening import accepting

Behaviour = Callable[[Any], None]

_IDLE = 30.0  # the longest any behaviour waits for a peer (the server stops it sooner)


# -- the server -------------------------------------------------------------------


class Conn:
    """An accepted connection (plain or TLS) that counts the bytes sent on it."""

    def __init__(self, sock: socket.socket, server: ZooServer) -> None:
        self.sock = sock
        self._server = server

    def sendall(self, data: bytes) -> None:
        self.sock.sendall(data)
        with self._server.lock:
            self._server.sent += len(data)

    def __getattr__(self, name: str) -> Any:
        return getattr(self.sock, name)


@dataclass
class ZooServer:
    port: int
    peers: list[tuple[str, int]] = field(default_factory=list)
    sent: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def connections(self) -> int:
        return len(self.peers)

    def url(self, scheme: str = "https") -> str:
        return f"{scheme}://127.0.0.1:{self.port}"


def raw_tcp(behaviour: Behaviour) -> Behaviour:
    """Mark ``behaviour`` to run on the raw TCP connection, before (instead of) TLS."""
    behaviour.raw_tcp = True  # type: ignore[attr-defined]
    return behaviour


@contextlib.contextmanager
def zoo_server(behaviour: Behaviour, *, tls: ssl.SSLContext | None = None) -> Iterator[ZooServer]:
    """Serve ``behaviour`` on 127.0.0.1 (over TLS with ``tls``). Stops and joins on exit."""
    listener = socket.create_server(("127.0.0.1", 0))
    server = ZooServer(port=listener.getsockname()[1])
    open_sockets: list[socket.socket] = []
    before_tls = getattr(behaviour, "raw_tcp", False)

    def handle(conn: socket.socket) -> None:
        sock = conn
        if tls is not None and not before_tls:
            conn.settimeout(5)
            try:
                sock = tls.wrap_socket(conn, server_side=True)
            except (OSError, ValueError):
                conn.close()
                return  # a client that refused the certificate, or an old TLS version
            open_sockets.append(sock)
        with contextlib.suppress(OSError, ValueError, EOFError, h2.exceptions.ProtocolError):
            behaviour(Conn(sock, server))

    handlers: list[threading.Thread] = []
    try:
        with accepting(listener, handle, peers=server.peers, connections=open_sockets) as handlers:
            yield server
    finally:
        for sock in open_sockets:
            with contextlib.suppress(OSError, ValueError):
                sock.shutdown(socket.SHUT_RDWR)
        for handler in handlers:
            handler.join(5)
        for sock in open_sockets:
            sock.close()
        listener.close()


@contextlib.contextmanager
def hostile_server(behaviour: Behaviour) -> Iterator[int]:
    """Serve ``behaviour`` on 127.0.0.1; yields the port. Stops and joins on exit."""
    with zoo_server(behaviour) as server:
        yield server.port


# -- building blocks --------------------------------------------------------------


def read_head(conn: Any) -> bytes:
    """The request head (up to the blank line), or what arrived before EOF/timeout."""
    conn.settimeout(5)
    data = b""
    with contextlib.suppress(OSError):
        while b"\r\n\r\n" not in data and len(data) < 1 << 20:
            chunk = conn.recv(65536)
            if not chunk:
                break
            data += chunk
    return data


def linger(conn: Any, seconds: float = _IDLE) -> None:
    """Read (and drop) until the client closes, or ``seconds`` pass."""
    with contextlib.suppress(OSError, ValueError):
        conn.settimeout(seconds)
        while conn.recv(65536):
            pass


def head(status: int, reason: str, headers: list[tuple[str, str]]) -> bytes:
    lines = [f"HTTP/1.1 {status} {reason}", *(f"{name}: {value}" for name, value in headers)]
    return ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")


PROBLEM = {
    "type": "about:blank",
    "title": "Upgrade Required",
    "status": 426,
    "detail": "This endpoint requires HTTP/2.",
}
REFUSAL_HEADERS = [
    ("Upgrade", "HTTP/2.0"),
    ("Connection", "upgrade"),
    ("Content-Type", "application/problem+json"),
]


def good_426(extra: list[tuple[str, str]] | None = None, body: bytes | None = None) -> bytes:
    """A textbook 426 for an h2 requirement, closing the connection."""
    body = json.dumps(PROBLEM).encode() if body is None else body
    headers = [
        *REFUSAL_HEADERS,
        *(extra or []),
        ("Content-Length", str(len(body))),
        ("Connection", "close"),
    ]
    return head(426, "Upgrade Required", headers) + body


def serve_h2(conn: Any, *, status: int = 200, headers: list[tuple[str, str]] | None = None) -> None:
    """Answer every HTTP/2 request on this connection (RFC 9113 §3.4 preface first)."""
    config = h2.config.H2Configuration(client_side=False, header_encoding="utf-8")
    h2conn = h2.connection.H2Connection(config=config)
    h2conn.initiate_connection()
    conn.sendall(h2conn.data_to_send())
    conn.settimeout(5)
    while data := conn.recv(65536):
        for event in h2conn.receive_data(data):
            if isinstance(event, h2.events.RequestReceived):
                fields = [(":status", str(status)), ("content-type", "application/json")]
                h2conn.send_headers(event.stream_id, fields + (headers or []))
                h2conn.send_data(event.stream_id, b'{"ok": true}', end_stream=True)
        conn.sendall(h2conn.data_to_send())


def legacy_only(behaviour: Behaviour) -> Behaviour:
    """HTTP/2 (chosen by ALPN) is served correctly; HTTP/1.1 gets ``behaviour``.

    The hostile part then meets only the legacy probe, whose answer the checks
    judge; the upgraded probe sees a working HTTP/2 server.
    """

    def dispatch(conn: Any) -> None:
        alpn = getattr(conn.sock, "selected_alpn_protocol", lambda: None)()
        if alpn == "h2":
            serve_h2(conn)
        else:
            behaviour(conn)

    dispatch.__name__ = behaviour.__name__
    dispatch.__doc__ = behaviour.__doc__
    return dispatch


def _close_reset(conn: Any) -> None:
    """Close with SO_LINGER 0: the peer gets a TCP RST instead of a FIN."""
    with contextlib.suppress(OSError):
        conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    conn.close()


# -- behaviours -------------------------------------------------------------------


@raw_tcp
def silent(conn: Any) -> None:
    """Accept and never answer: hold the connection until the peer gives up."""
    linger(conn)


@raw_tcp
def ssh_banner(conn: Any) -> None:
    """Speak another protocol entirely."""
    with contextlib.suppress(OSError):
        conn.sendall(b"SSH-2.0-OpenSSH_9.6\r\n")
        conn.recv(65536)
    linger(conn)


@raw_tcp
def close_at_once(conn: Any) -> None:
    """Close right after accept, before reading anything."""
    conn.close()


def _first_bytes(conn: Any) -> None:
    """Wait (5 s at most) for the first bytes the client sends (a ClientHello, a request)."""
    conn.settimeout(5)
    with contextlib.suppress(OSError):
        conn.recv(65536)


def _answer_and_close(conn: Any, answer: bytes) -> None:
    """Send ``answer``, end the sending side, and wait (5 s) for the client to close."""
    conn.sendall(answer)
    conn.shutdown(socket.SHUT_WR)
    linger(conn, 5)


@raw_tcp
def random_bytes(conn: Any) -> None:
    """Read the request, answer 4 KiB of (seeded) random bytes, close."""
    read_head(conn)
    _answer_and_close(conn, random.Random(426).randbytes(4096))


@raw_tcp
def tls_alert(conn: Any) -> None:
    """On a cleartext port: answer the request with a TLS handshake_failure alert."""
    read_head(conn)
    _answer_and_close(conn, b"\x15\x03\x03\x00\x02\x02\x28")  # fatal, handshake_failure


@raw_tcp
def cleartext_on_tls_port(conn: Any) -> None:
    """On a TLS port: answer the ClientHello with a cleartext HTTP/1.1 400."""
    _first_bytes(conn)
    body = b"This port speaks plain HTTP."
    fields = [("Content-Length", str(len(body))), ("Connection", "close")]
    _answer_and_close(conn, head(400, "Bad Request", fields) + body)


@raw_tcp
def reset_at_once(conn: Any) -> None:
    """Read the first bytes the client sends, then reset the connection (RST)."""
    _first_bytes(conn)
    _close_reset(conn)


def status_then_stall(conn: Any) -> None:
    """Answer the status line, then nothing more."""
    read_head(conn)
    conn.sendall(b"HTTP/1.1 426 Upgrade Required\r\n")
    linger(conn)


def drip(conn: Any) -> None:
    """Send a correct 426 one byte a second."""
    read_head(conn)
    for byte in good_426():
        conn.sendall(bytes([byte]))
        time.sleep(1)


def reset_mid_response(conn: Any) -> None:
    """Send half of a 426, then reset the connection (SO_LINGER 0)."""
    read_head(conn)
    wire = good_426()
    conn.sendall(wire[: len(wire) // 2])
    time.sleep(0.05)
    _close_reset(conn)  # no close_notify on TLS: the socket under it is reset


def _send_big(conn: Any, total: int, piece: bytes) -> None:
    sent = 0
    while sent < total:
        conn.sendall(piece)
        sent += len(piece)


def huge_body(conn: Any) -> None:
    """A correct 426 head announcing a 50 MB problem+json body, and the body."""
    read_head(conn)
    size = 50 * 1000 * 1000
    opening = b'{"type": "about:blank", "title": "Upgrade Required", "status": 426, "pad": "'
    headers = [*REFUSAL_HEADERS, ("Content-Length", str(size)), ("Connection", "close")]
    conn.sendall(head(426, "Upgrade Required", headers) + opening)
    _send_big(conn, size - len(opening), b"x" * 65536)


def huge_header_line(conn: Any) -> None:
    """A 426 with one 1 MB header line."""
    read_head(conn)
    conn.sendall(good_426([("X-Zoo-Padding", "a" * (1 << 20))]))
    linger(conn, 5)


def many_headers(conn: Any) -> None:
    """A 426 with 10,000 header lines (about 390 KB of head)."""
    read_head(conn)
    extra = [(f"X-Zoo-Filler-{n:05d}", "0123456789abcdef") for n in range(10_000)]
    conn.sendall(good_426(extra))
    linger(conn, 5)


def endless_chunked(conn: Any) -> None:
    """A 426 whose chunked problem+json body never ends."""
    read_head(conn)
    headers = [*REFUSAL_HEADERS, ("Transfer-Encoding", "chunked")]
    conn.sendall(head(426, "Upgrade Required", headers))
    chunk = b'{"pad": "' + b"x" * 8000
    piece = f"{len(chunk):x}\r\n".encode() + chunk + b"\r\n"
    while True:
        conn.sendall(piece)


def redirect_to(location: str) -> Behaviour:
    """Every request, HTTP/1.1 or HTTP/2, is answered with a 308 to ``location``."""

    def redirect(conn: Any) -> None:
        alpn = getattr(conn.sock, "selected_alpn_protocol", lambda: None)()
        if alpn == "h2":
            serve_h2(conn, status=308, headers=[("location", location)])
            return
        data = read_head(conn)
        if data.startswith(b"PRI * HTTP/2.0"):
            return  # prior knowledge on cleartext: not answered
        conn.sendall(
            head(
                308,
                "Permanent Redirect",
                [("Location", location), ("Content-Length", "0"), ("Connection", "close")],
            )
        )
        linger(conn, 5)

    return redirect


def answer_426(conn: Any) -> None:
    """A correct 426 on HTTP/1.1 (combine with ``legacy_only`` for a compliant h2 target)."""
    read_head(conn)
    conn.sendall(good_426())
    linger(conn, 5)


# -- certificates -----------------------------------------------------------------


def server_context(certfile: str, *, alpn: tuple[str, ...] = ("h2", "http/1.1")) -> ssl.SSLContext:
    """A TLS 1.2+ server context with one certificate (PEM with key) and ALPN."""
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.minimum_version = ssl.TLSVersion.TLSv1_2
    context.load_cert_chain(certfile)
    context.set_alpn_protocols(list(alpn))
    return context


def self_signed_pem(path: str, host: str = "127.0.0.1") -> None:
    """Write a self-signed certificate for ``host`` and its key to ``path`` (one PEM)."""
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(days=1))
        .not_valid_after(now + dt.timedelta(days=30))
        .add_extension(
            x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address(host))]),
            critical=False,
        )
        .sign(key, hashes.SHA256())
    )
    key_pem = key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.NoEncryption(),
    )
    with open(path, "wb") as file:
        os.fchmod(file.fileno(), 0o600)
        file.write(key_pem + cert.public_bytes(serialization.Encoding.PEM))
