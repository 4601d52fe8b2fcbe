"""The floor: the exchanges a requirement needs, made with bare sockets, ssl, h11, h2
(and aioquic for HTTP/3).

Each function makes one exchange on a fresh connection, the way the plugin's
probe for it does (same ALPN offer, same TLS version pin, same request), and
returns what it got; nothing is recorded, classified or checked beyond a
sanity assertion on the answer. TLS uses blocking ``ssl.SSLSocket`` objects
(no memory BIOs, no deadlines), and every ``SSLContext`` is built once, up
front, in :class:`Contexts`.

:func:`plan` lists, per requirement, exactly the exchanges the plugin's plan
(each protocol's, in ``pytest_upgrade.protocols``) makes for it against the bundled server.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import os
import re
import socket
import ssl
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from functools import partial

import h2.config
import h2.connection
import h2.events
import h11

from pytest_upgrade.grammar import UNASSIGNED_WEBSOCKET_VERSION

HOST = "127.0.0.1"
TIMEOUT = 5.0
USER_AGENT = "bench-floor"
_WS_GUID = b"258EAFA5-E914-47DA-95CA-C5AB0DC85B11"


@dataclass(frozen=True)
class Contexts:
    """Every client TLS context the floor uses, built once from the CA file."""

    h1: ssl.SSLContext  # ALPN http/1.1 only
    h2: ssl.SSLContext  # ALPN h2, http/1.1
    tls10: ssl.SSLContext  # pinned to TLS 1.0 (security level 0)
    tls11: ssl.SSLContext  # pinned to TLS 1.1 (security level 0)
    tls12: ssl.SSLContext  # pinned to TLS 1.2
    min12: ssl.SSLContext  # TLS 1.2 or later, ALPN h2, http/1.1
    cafile: str  # aioquic takes the CA file itself

    @classmethod
    def build(cls, cafile: str) -> Contexts:
        def context(
            alpn: list[str],
            pin: ssl.TLSVersion | None = None,
            minimum: ssl.TLSVersion | None = None,
        ) -> ssl.SSLContext:
            ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_CLIENT)
            ctx.load_verify_locations(cafile=cafile)
            ctx.set_alpn_protocols(alpn)
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", DeprecationWarning)
                if pin is not None:
                    if pin < ssl.TLSVersion.TLSv1_2:
                        ctx.set_ciphers("DEFAULT:@SECLEVEL=0")
                    ctx.minimum_version = ctx.maximum_version = pin
                if minimum is not None:
                    ctx.minimum_version = minimum
            return ctx

        return cls(
            h1=context(["http/1.1"]),
            h2=context(["h2", "http/1.1"]),
            tls10=context(["http/1.1"], pin=ssl.TLSVersion.TLSv1),
            tls11=context(["http/1.1"], pin=ssl.TLSVersion.TLSv1_1),
            tls12=context(["http/1.1"], pin=ssl.TLSVersion.TLSv1_2),
            min12=context(["h2", "http/1.1"], minimum=ssl.TLSVersion.TLSv1_2),
            cafile=cafile,
        )


def _open(port: int, ctx: ssl.SSLContext | None) -> socket.socket:
    sock = socket.create_connection((HOST, port), timeout=TIMEOUT)
    sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    if ctx is None:
        return sock
    try:
        return ctx.wrap_socket(sock, server_hostname=HOST)
    except BaseException:
        sock.close()
        raise


def http1(
    port: int,
    ctx: ssl.SSLContext | None,
    path: str,
    *,
    version: str = "1.1",
    headers: tuple[tuple[str, str], ...] = (),
) -> int:
    """One HTTP/1.x request on a fresh connection; the status (101 ends the exchange)."""
    fields = [("Host", f"{HOST}:{port}"), ("User-Agent", USER_AGENT), ("Accept", "*/*")]
    fields += headers
    conn = h11.Connection(h11.CLIENT)
    if version == "1.0":
        lines = [f"GET {path} HTTP/1.0", *(f"{k}: {v}" for k, v in fields)]
        wire = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
    else:
        wire = conn.send(h11.Request(method="GET", target=path, headers=fields))
        wire += conn.send(h11.EndOfMessage())
    with _open(port, ctx) as sock:
        sock.sendall(wire)
        status = 0
        while True:
            event = conn.next_event()
            if event is h11.NEED_DATA:
                conn.receive_data(sock.recv(65536))
            elif isinstance(event, h11.InformationalResponse):
                if event.status_code == 101:
                    return 101
            elif isinstance(event, h11.Response):
                status = event.status_code
            elif isinstance(event, (h11.EndOfMessage, h11.ConnectionClosed)):
                return status


def http2(port: int, ctx: ssl.SSLContext | None, path: str) -> int:
    """One HTTP/2 request on a fresh connection (ALPN h2 over TLS, prior knowledge over TCP)."""
    conn = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, header_encoding=None)
    )
    with _open(port, ctx) as sock:
        if ctx is not None:
            assert isinstance(sock, ssl.SSLSocket)
            assert sock.selected_alpn_protocol() == "h2"
        conn.initiate_connection()
        headers = [
            (":method", "GET"),
            (":scheme", "https" if ctx is not None else "http"),
            (":authority", f"{HOST}:{port}"),
            (":path", path),
            ("user-agent", USER_AGENT),
            ("accept", "*/*"),
        ]
        conn.send_headers(1, headers, end_stream=True)
        sock.sendall(conn.data_to_send())
        status = 0
        while True:
            data = sock.recv(65536)
            if not data:
                return status
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    status = int(dict(event.headers)[b":status"])
                elif isinstance(event, h2.events.DataReceived):
                    conn.acknowledge_received_data(event.flow_controlled_length, 1)
                elif isinstance(event, h2.events.StreamEnded):
                    return status
            pending = conn.data_to_send()
            if pending:
                sock.sendall(pending)


def http2_alt_svc(port: int, ctx: ssl.SSLContext, path: str) -> int:
    """One HTTP/2 request over TLS; the UDP port its Alt-Svc advertises for h3."""
    conn = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, header_encoding=None)
    )
    with _open(port, ctx) as sock:
        conn.initiate_connection()
        headers = [
            (":method", "GET"),
            (":scheme", "https"),
            (":authority", f"{HOST}:{port}"),
            (":path", path),
            ("user-agent", USER_AGENT),
        ]
        conn.send_headers(1, headers, end_stream=True)
        sock.sendall(conn.data_to_send())
        alt_svc = b""
        while True:
            data = sock.recv(65536)
            assert data, "closed before the response ended"
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.ResponseReceived):
                    alt_svc = dict(event.headers).get(b"alt-svc", b"")
                elif isinstance(event, h2.events.DataReceived):
                    conn.acknowledge_received_data(event.flow_controlled_length, 1)
                elif isinstance(event, h2.events.StreamEnded):
                    match = re.search(rb'h3=":(\d+)"', alt_svc)
                    assert match is not None, alt_svc
                    return int(match[1])
            pending = conn.data_to_send()
            if pending:
                sock.sendall(pending)


def http3(port: int, cafile: str, path: str) -> int:
    """One HTTP/3 request with bare aioquic on a fresh QUIC connection; the status."""
    return asyncio.run(asyncio.wait_for(_http3(port, cafile, path), TIMEOUT))


async def _http3(port: int, cafile: str, path: str) -> int:
    from aioquic.asyncio.protocol import QuicConnectionProtocol  # noqa: PLC0415 (extra h3)
    from aioquic.h3.connection import H3_ALPN, H3Connection  # noqa: PLC0415
    from aioquic.h3.events import HeadersReceived  # noqa: PLC0415
    from aioquic.quic.configuration import QuicConfiguration  # noqa: PLC0415
    from aioquic.quic.connection import QuicConnection  # noqa: PLC0415
    from aioquic.quic.events import QuicEvent  # noqa: PLC0415

    loop = asyncio.get_running_loop()
    status: asyncio.Future[int] = loop.create_future()

    class Client(QuicConnectionProtocol):
        def __init__(self, quic: QuicConnection) -> None:
            super().__init__(quic)
            self.h3 = H3Connection(quic)

        def quic_event_received(self, event: QuicEvent) -> None:
            for h3_event in self.h3.handle_event(event):
                if isinstance(h3_event, HeadersReceived) and not status.done():
                    status.set_result(int(dict(h3_event.headers)[b":status"]))

    config = QuicConfiguration(alpn_protocols=H3_ALPN, is_client=True, server_name=HOST)
    config.load_verify_locations(cafile=cafile)
    transport, client = await loop.create_datagram_endpoint(
        lambda: Client(QuicConnection(configuration=config)), remote_addr=(HOST, port)
    )
    try:
        client.connect((HOST, port))
        await client.wait_connected()
        stream = client._quic.get_next_available_stream_id()
        pseudo = [(b":method", b"GET"), (b":scheme", b"https"), (b":path", path.encode())]
        pseudo.append((b":authority", f"{HOST}:{port}".encode()))
        client.h3.send_headers(stream, pseudo, end_stream=True)
        client.transmit()
        return await status
    finally:
        client.close()
        transport.close()


def http2_then_http3(port: int, ctx: ssl.SSLContext, cafile: str, path: str) -> int:
    """What any client must do to reach HTTP/3: read Alt-Svc, then go there."""
    return http3(http2_alt_svc(port, ctx, path), cafile, path)


def tls_attempt(port: int, ctx: ssl.SSLContext) -> bool:
    """One TLS handshake with a pinned version: True if accepted, False if refused."""
    try:
        with _open(port, ctx):
            return True
    except (ssl.SSLError, ConnectionError):
        return False


def websocket(port: int, ctx: ssl.SSLContext | None, path: str) -> int:
    """An RFC 6455 opening handshake, then the closing handshake, on a fresh connection.

    The same exchange as the plugin's probe (the websockets library connects,
    then closes): the 101, our masked close frame, the server's close frame
    and its end of the TCP connection.
    """
    key = base64.b64encode(os.urandom(16))
    request = (
        f"GET {path} HTTP/1.1\r\nHost: {HOST}:{port}\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key.decode()}\r\n"
        f"Sec-WebSocket-Version: 13\r\nUser-Agent: {USER_AGENT}\r\n\r\n"
    ).encode("ascii")
    with _open(port, ctx) as sock:
        sock.sendall(request)
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = sock.recv(65536)
            if not chunk:
                return 0
            head += chunk
        status = int(head.split(b" ", 2)[1])
        if status != 101:
            return status
        accept = base64.b64encode(hashlib.sha1(key + _WS_GUID).digest())
        assert accept in head, "wrong Sec-WebSocket-Accept"
        # Close frame, code 1000, masked with a zero key (RFC 6455 §5.3 allows any key).
        sock.sendall(b"\x88\x82\x00\x00\x00\x00\x03\xe8")
        while sock.recv(65536):
            pass
        return 101


def websocket_over_h2(port: int, ctx: ssl.SSLContext, path: str) -> int:
    """RFC 8441 on a fresh HTTP/2 connection, as the plugin's probe: SETTINGS, the
    extended CONNECT, its 200, a masked Ping answered by a Pong, then a masked
    Close frame that ends the stream. Returns the status."""
    conn = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=True, header_encoding=None)
    )
    with _open(port, ctx) as sock:
        conn.initiate_connection()
        sock.sendall(conn.data_to_send())
        status = 0
        sent_connect = False
        while True:
            data = sock.recv(65536)
            if not data:
                return status
            for event in conn.receive_data(data):
                if isinstance(event, h2.events.RemoteSettingsChanged) and not sent_connect:
                    assert conn.remote_settings.enable_connect_protocol == 1
                    conn.send_headers(
                        1,
                        [
                            (":method", "CONNECT"),
                            (":protocol", "websocket"),
                            (":scheme", "https"),
                            (":path", path),
                            (":authority", f"{HOST}:{port}"),
                            ("sec-websocket-version", "13"),
                            ("user-agent", USER_AGENT),
                        ],
                    )
                    sent_connect = True
                elif isinstance(event, h2.events.ResponseReceived):
                    status = int(dict(event.headers)[b":status"])
                    if status != 200:
                        return status
                    # Ping "floor", masked with a zero key (RFC 6455 §5.3 allows any key).
                    conn.send_data(1, b"\x89\x85\x00\x00\x00\x00floor")
                elif isinstance(event, h2.events.DataReceived):
                    conn.acknowledge_received_data(event.flow_controlled_length, 1)
                    if event.data.startswith(b"\x8a\x05floor"):  # the Pong
                        conn.send_data(1, b"\x88\x82\x00\x00\x00\x00\x03\xe8", end_stream=True)
                        sock.sendall(conn.data_to_send())
                        return status
            pending = conn.data_to_send()
            if pending:
                sock.sendall(pending)


def _h2c_upgrade_headers() -> tuple[tuple[str, str], ...]:
    conn = h2.connection.H2Connection(h2.config.H2Configuration(client_side=True))
    settings = conn.initiate_upgrade_connection()
    value = settings.decode("ascii") if isinstance(settings, bytes) else str(settings)
    return (
        ("Connection", "Upgrade, HTTP2-Settings"),
        ("Upgrade", "h2c"),
        ("HTTP2-Settings", value),
    )


def _ws_version_headers() -> tuple[tuple[str, str], ...]:
    return (
        ("Connection", "Upgrade"),
        ("Upgrade", "websocket"),
        ("Sec-WebSocket-Key", base64.b64encode(os.urandom(16)).decode("ascii")),
        ("Sec-WebSocket-Version", UNASSIGNED_WEBSOCKET_VERSION),
    )


Exchange = Callable[[], object]


@dataclass(frozen=True)
class Planned:
    """One floor exchange and the answer it must get (a status, or True/False for TLS)."""

    what: str
    run: Exchange
    expect: object


def plan(protocol: str, path: str, https_port: int, http_port: int, ctx: Contexts) -> list[Planned]:
    """The exchanges the plugin makes for ``protocol`` on ``path``, as floor calls."""
    if protocol == "h2":
        return [
            Planned(
                "HTTP/1.1 over TLS (ALPN http/1.1)", partial(http1, https_port, ctx.h1, path), 426
            ),
            Planned("HTTP/2 over TLS (ALPN h2)", partial(http2, https_port, ctx.h2, path), 200),
            Planned("TLS 1.0 handshake", partial(tls_attempt, https_port, ctx.tls10), False),
            Planned("TLS 1.1 handshake", partial(tls_attempt, https_port, ctx.tls11), False),
        ]
    if protocol == "h2c":
        return [
            Planned("HTTP/1.1 over TCP", partial(http1, http_port, None, path), 426),
            Planned("HTTP/2 prior knowledge", partial(http2, http_port, None, path), 200),
            Planned(
                "HTTP/1.1 Upgrade: h2c",
                partial(http1, http_port, None, path, headers=_h2c_upgrade_headers()),
                101,
            ),
        ]
    if protocol == "websocket":
        return [
            Planned("GET over TLS", partial(http1, https_port, ctx.h1, path), 426),
            Planned("WebSocket over TLS", partial(websocket, https_port, ctx.h1, path), 101),
            Planned("WebSocket over TCP", partial(websocket, http_port, None, path), 101),
            Planned(
                "WebSocket over HTTP/2 (RFC 8441)",
                partial(websocket_over_h2, https_port, ctx.h2, path),
                200,
            ),
            Planned(
                f"GET Sec-WebSocket-Version: {UNASSIGNED_WEBSOCKET_VERSION} over TLS",
                # A fresh key per call, as the plugin's plan makes one per observation.
                lambda: http1(https_port, ctx.h1, path, headers=_ws_version_headers()),
                400,
            ),
        ]
    if protocol == "TLS/1.2":
        return [
            Planned("HTTP/1.1 over TCP", partial(http1, http_port, None, path), 426),
            Planned("HTTP/2 over TLS >= 1.2", partial(http2, https_port, ctx.min12, path), 200),
            Planned("TLS 1.0 handshake", partial(tls_attempt, https_port, ctx.tls10), False),
            Planned("TLS 1.1 handshake", partial(tls_attempt, https_port, ctx.tls11), False),
            Planned("TLS 1.2 handshake", partial(tls_attempt, https_port, ctx.tls12), True),
        ]
    if protocol == "HTTP/1.1":
        return [
            Planned(
                "HTTP/1.0 over TLS", partial(http1, https_port, ctx.h1, path, version="1.0"), 426
            ),
            Planned("HTTP/1.1 over TLS", partial(http1, https_port, ctx.h1, path), 200),
        ]
    if protocol == "h3":
        return [
            Planned(
                "HTTP/1.1 over TLS (ALPN http/1.1)", partial(http1, https_port, ctx.h1, path), 200
            ),
            Planned(
                "HTTP/2 over TLS, then HTTP/3 over QUIC (aioquic) to its Alt-Svc port",
                partial(http2_then_http3, https_port, ctx.h2, ctx.cafile, path),
                200,
            ),
        ]
    raise ValueError(protocol)
