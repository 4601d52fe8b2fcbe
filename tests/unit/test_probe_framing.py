"""The probes' framing, fed scripted server bytes the way h11's tests feed them: no socket.

Each test gives a probe a :class:`~pytest_upgrade.probes.spec.ConnectionSpec`
whose dialer returns a :class:`Peer` (the server's bytes, in the order they
arrive) and asserts the exchange the probe records: what it sent, the response
it read, or the failure it named.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import h2.config
import h2.connection
import h2.events
import pytest

from pytest_upgrade._model import Exchange, FailureKind, Transport
from pytest_upgrade.probes.endpoint import ClientTrust, Endpoint
from pytest_upgrade.probes.http1 import http1_exchange
from pytest_upgrade.probes.http2 import http2_exchange
from pytest_upgrade.probes.spec import ConnectionSpec, Limits, Request
from pytest_upgrade.probes.tls_upgrade import TLS_UPGRADE, tls_upgrade_exchanges
from pytest_upgrade.probes.websocket import websocket_handshake
from pytest_upgrade.probes.websocket_offer import WebSocketOffer

# A chunk the server sends, an error its socket raises, or an answer made from
# what the client has sent so far (a WebSocket accept value, say).
Chunk = bytes | OSError | Callable[[bytes], bytes]


class Peer:
    """A connected socket whose server side is a script: each ``recv`` returns the next
    chunk, then b"" (the server closed)."""

    def __init__(self, *script: Chunk) -> None:
        self.script = list(script)
        self.sent = bytearray()
        self.dialed: tuple[str, int] | None = None
        self.closed = False

    def dial(self, peer: tuple[str, int], timeout: float) -> Peer:
        self.dialed = peer
        return self

    def settimeout(self, value: float | None) -> None:
        pass

    def setblocking(self, flag: bool) -> None:
        pass

    def setsockopt(self, level: int, option: int, value: int) -> None:
        pass

    def sendall(self, data: bytes) -> None:
        self.sent += data

    def send(self, data: bytes) -> int:
        self.sent += data
        return len(data)

    def recv(self, size: int) -> bytes:
        if not self.script:
            return b""
        chunk = self.script.pop(0)
        if isinstance(chunk, OSError):
            raise chunk
        data = chunk(bytes(self.sent)) if callable(chunk) else chunk
        assert len(data) <= size
        return data

    def close(self) -> None:
        self.closed = True


ENDPOINT = Endpoint("http", "app.example", 8080, "/base")
GET = Request("GET", "/x", (("X-Trace", "1"),))


DEFAULTS = Limits()


def spec(peer: Peer, *, limits: Limits = DEFAULTS) -> ConnectionSpec:
    return ConnectionSpec(ENDPOINT, ClientTrust(), 5.0, limits, dialer=peer.dial)


def http1(
    peer: Peer,
    request: Request = GET,
    *,
    limits: Limits = DEFAULTS,
    http_version: str = "1.1",
    alpn: tuple[str, ...] = ("http/1.1",),
) -> Exchange:
    exchange = http1_exchange(
        spec(peer, limits=limits), request, role="legacy", http_version=http_version, alpn=alpn
    )
    assert peer.closed
    return exchange


# -- HTTP/1.1 (RFC 9112) ----------------------------------------------------


def test_a_normal_answer_is_recorded_with_the_request_that_was_sent() -> None:
    peer = Peer(b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n", b"Server: x\r\n\r\nok")
    exchange = http1(peer)
    assert peer.dialed == ("app.example", 8080)
    assert bytes(peer.sent) == (
        b"GET /base/x HTTP/1.1\r\nHost: app.example:8080\r\nUser-Agent: pytest-upgrade/0.1\r\n"
        b"Accept: */*\r\nX-Trace: 1\r\n\r\n"
    )
    assert exchange.role == "legacy"
    assert exchange.url == "http://app.example:8080/base/x"
    assert exchange.method == "GET"
    assert exchange.request_headers[0] == ("Host", "app.example:8080")
    assert exchange.transport == Transport(scheme="http")
    assert exchange.failure is None
    response = exchange.response
    assert response is not None
    assert (response.status, response.reason, response.http_version) == (200, "OK", "1.1")
    assert response.headers == (("content-length", "2"), ("server", "x"))
    assert (response.body, response.body_truncated) == (b"ok", False)


def test_a_426_names_the_upgrade() -> None:
    peer = Peer(
        b"HTTP/1.1 426 Upgrade Required\r\nUpgrade: h2c, HTTP/2.0\r\nConnection: Upgrade\r\n"
        b"Content-Length: 0\r\n\r\n"
    )
    response = http1(peer).response
    assert response is not None
    assert (response.status, response.reason) == (426, "Upgrade Required")
    assert response.combined("upgrade") == "h2c, HTTP/2.0"
    assert response.body == b""


def test_an_answer_read_to_the_close_keeps_its_body() -> None:
    # RFC 9112 §6.3: without Content-Length or chunking, the body ends with the connection.
    peer = Peer(b"HTTP/1.1 200 OK\r\n\r\npart one, ", b"part two")
    response = http1(peer).response
    assert response is not None
    assert response.body == b"part one, part two"


def test_a_body_shorter_than_its_content_length_is_a_truncated_answer() -> None:
    peer = Peer(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nabc")
    exchange = http1(peer)
    assert exchange.response is None
    assert exchange.failure is not None
    assert exchange.failure.kind is FailureKind.PROTOCOL
    assert exchange.failure.message.startswith("invalid HTTP/1.x response: peer closed connection")


def test_a_body_over_the_limit_is_cut_there_and_marked() -> None:
    peer = Peer(b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\n0123456789")
    response = http1(peer, limits=Limits(body=4)).response
    assert response is not None
    assert (response.body, response.body_truncated) == (b"0123", True)


def test_garbage_is_named_in_the_failure() -> None:
    exchange = http1(Peer(b"\x00\xffGARBAGE\r\n\r\n"))
    assert exchange.failure is not None
    assert exchange.failure.kind is FailureKind.PROTOCOL
    assert exchange.failure.message == (
        "invalid HTTP/1.x response: illegal status line: b'\\x00\\xffGARBAGE'"
    )


def test_a_close_mid_headers_is_an_invalid_response() -> None:
    exchange = http1(Peer(b"HTTP/1.1 200 OK\r\nContent-Le"))
    assert exchange.response is None
    assert exchange.failure is not None
    assert (exchange.failure.kind, exchange.failure.message) == (
        FailureKind.PROTOCOL,
        "invalid HTTP/1.x response: peer unexpectedly closed connection",
    )


def test_a_close_without_a_byte_is_no_answer() -> None:
    exchange = http1(Peer())
    assert exchange.failure is not None
    assert (exchange.failure.kind, exchange.failure.message) == (
        FailureKind.CLOSED,
        "the server closed the connection without answering",
    )


def test_a_reset_is_a_closed_connection() -> None:
    exchange = http1(Peer(b"HTTP/1.1 200 OK\r\n", ConnectionResetError()))
    assert exchange.failure is not None
    assert (exchange.failure.kind, exchange.failure.message) == (
        FailureKind.CLOSED,
        "reading the response: the connection was reset by the peer",
    )


def test_silence_after_bytes_that_are_not_http_names_them() -> None:
    exchange = http1(Peer(b"SSH-2.0-OpenSSH_9.6\r\n", TimeoutError()))
    assert exchange.failure is not None
    assert (exchange.failure.kind, exchange.failure.message) == (
        FailureKind.PROTOCOL,
        "the server sent bytes that are not an HTTP response ('SSH-2.0-OpenSSH_9.6') and then"
        " nothing",
    )


def test_silence_is_a_timeout() -> None:
    exchange = http1(Peer(TimeoutError()))
    assert exchange.failure is not None
    assert (exchange.failure.kind, exchange.failure.message) == (
        FailureKind.TIMEOUT,
        "reading the response: no answer within 5 s",
    )


def test_a_port_that_speaks_only_http2_is_named() -> None:
    settings = bytes.fromhex("000000040000000000")  # an empty SETTINGS frame, stream 0
    exchange = http1(Peer(settings + b"\x00\x00\x08\x07\x00\x00\x00\x00\x00" + bytes(8)))
    assert exchange.failure is not None
    assert exchange.failure.kind is FailureKind.PROTOCOL
    assert exchange.failure.message.startswith("this port speaks HTTP/2 only")


def test_interim_answers_are_skipped_and_101_ends_the_exchange() -> None:
    continued = http1(
        Peer(b"HTTP/1.1 103 Early Hints\r\nLink: </a>\r\n\r\nHTTP/1.1 204 No\r\n\r\n")
    )
    assert continued.response is not None
    assert continued.response.status == 204
    # RFC 9110 §7.8: a 101 answers a request that asked to upgrade; the rest is h2c's.
    asked = GET.but(headers=(("Connection", "Upgrade"), ("Upgrade", "h2c")))
    switch = b"HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\nUpgrade: h2c\r\n\r\n"
    switched = http1(Peer(switch + b"\x00\x00\x00\x04"), asked)
    assert switched.response is not None
    assert (switched.response.status, switched.response.body) == (101, b"")
    unasked = http1(Peer(switch))
    assert unasked.failure is not None
    assert unasked.failure.kind is FailureKind.PROTOCOL


def test_an_http10_request_is_written_by_hand() -> None:
    peer = Peer(b"HTTP/1.1 505 HTTP Version Not Supported\r\nContent-Length: 0\r\n\r\n")
    exchange = http1(peer, Request("HEAD", "/"), http_version="1.0", alpn=())
    assert bytes(peer.sent).startswith(b"HEAD /base/ HTTP/1.0\r\nHost: app.example:8080\r\n")
    assert exchange.offer is not None
    assert exchange.offer.http_versions == ("1.0",)
    assert exchange.response is not None
    assert exchange.response.status == 505


def test_the_in_band_tls_upgrade_refused_is_one_exchange() -> None:
    # RFC 2817 §3.2: OPTIONS * with Upgrade: TLS/1.2; anything but 101 ends the probe.
    peer = Peer(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n")
    exchanges = tls_upgrade_exchanges(spec(peer), GET, token="TLS/1.2", tls_minimum="TLSv1.2")
    assert bytes(peer.sent).startswith(b"OPTIONS * HTTP/1.1\r\nHost: app.example:8080\r\n")
    assert b"Upgrade: TLS/1.2\r\nConnection: Upgrade\r\n" in peer.sent
    assert [(e.role, e.url, e.method) for e in exchanges] == [
        (TLS_UPGRADE, "http://app.example:8080", "OPTIONS")
    ]
    assert exchanges[0].response is not None
    assert exchanges[0].response.status == 400


# -- HTTP/2 with prior knowledge (RFC 9113 §3.3) ----------------------------


def h2_server(
    answer: Callable[[h2.connection.H2Connection], None],
) -> Callable[[bytes], bytes]:
    """The server's bytes, once the client's preface and request arrived: its SETTINGS,
    then what ``answer`` makes it send on the request's stream (1)."""

    def respond(sent: bytes) -> bytes:
        config = h2.config.H2Configuration(
            client_side=False,
            header_encoding=None,
            # A server may send what HTTP/2 forbids (Upgrade, RFC 9113 §8.2.2): h2 must not
            # tidy it away before the probe sees it.
            normalize_outbound_headers=False,
            validate_outbound_headers=False,
        )
        server = h2.connection.H2Connection(config)
        server.initiate_connection()
        events = server.receive_data(sent)
        assert any(isinstance(e, h2.events.RequestReceived) for e in events)
        answer(server)
        return server.data_to_send()

    return respond


def http2(peer: Peer, limits: Limits = DEFAULTS) -> Exchange:
    return http2_exchange(spec(peer, limits=limits), GET, role="upgraded")


def test_an_http2_answer_is_read_from_its_frames() -> None:
    def answer(server: h2.connection.H2Connection) -> None:
        server.send_headers(1, [(":status", "200"), ("content-type", "text/plain")])
        server.send_data(1, b"over h2", end_stream=True)

    exchange = http2(Peer(h2_server(answer)))
    assert exchange.failure is None
    assert dict(exchange.request_headers)["x-trace"] == "1"  # names lower-cased (RFC 9113 §8.2)
    response = exchange.response
    assert response is not None
    assert (response.status, response.http_version, response.body) == (200, "2", b"over h2")
    assert response.headers == (("content-type", "text/plain"),)


def test_an_http2_426_keeps_its_connection_specific_fields_for_the_checks() -> None:
    def answer(server: h2.connection.H2Connection) -> None:
        server.send_headers(1, [(":status", "426"), ("upgrade", "h2c")], end_stream=True)

    response = http2(Peer(h2_server(answer))).response
    assert response is not None
    assert (response.status, response.combined("upgrade")) == (426, "h2c")


def test_an_http2_body_over_the_limit_is_cut_there() -> None:
    def answer(server: h2.connection.H2Connection) -> None:
        server.send_headers(1, [(":status", "200")])
        server.send_data(1, b"0123456789")

    response = http2(Peer(h2_server(answer)), Limits(body=4)).response
    assert response is not None
    assert (response.body, response.body_truncated) == (b"0123", True)


def test_an_http2_stream_reset_before_the_answer_is_a_closed_stream() -> None:
    def answer(server: h2.connection.H2Connection) -> None:
        server.reset_stream(1, error_code=h2.errors.ErrorCodes.REFUSED_STREAM)

    exchange = http2(Peer(h2_server(answer)))
    assert exchange.failure is not None
    assert exchange.failure.kind is FailureKind.CLOSED
    assert exchange.failure.message.startswith("the server reset the stream (error code")


def test_goaway_before_the_answer_is_named() -> None:
    def answer(server: h2.connection.H2Connection) -> None:
        server.close_connection()

    exchange = http2(Peer(h2_server(answer)))
    assert exchange.failure is not None
    assert exchange.failure.kind is FailureKind.CLOSED
    assert exchange.failure.message.startswith("the server sent GOAWAY (")


def test_an_http1_answer_to_the_http2_preface_is_named() -> None:
    exchange = http2(Peer(b"HTTP/1.1 400 Bad Request\r\nConnection: close\r\n\r\n"))
    assert exchange.failure is not None
    assert (exchange.failure.kind, exchange.failure.message) == (
        FailureKind.PROTOCOL,
        "the server answered the HTTP/2 preface with 'HTTP/1.1 400 Bad Request'",
    )


def test_http2_garbage_is_invalid_http2() -> None:
    headers_on_stream_0 = b"\x00\x00\x05\x01\x00\x00\x00\x00\x00"  # RFC 9113 §6.2
    exchange = http2(Peer(headers_on_stream_0 + b"x" * 40))
    assert exchange.failure is not None
    assert exchange.failure.kind is FailureKind.PROTOCOL
    assert exchange.failure.message.startswith("invalid HTTP/2 from the server:")


def test_an_http2_close_before_the_answer() -> None:
    exchange = http2(Peer())
    assert exchange.failure is not None
    assert (exchange.failure.kind, exchange.failure.message) == (
        FailureKind.CLOSED,
        "the server closed the connection without an HTTP/2 response",
    )


# -- The WebSocket opening handshake (RFC 6455 §4) ---------------------------

_GUID = "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"  # RFC 6455 §1.3


def switched(*, accept: str | None = None) -> Callable[[bytes], bytes]:
    """A 101 whose Sec-WebSocket-Accept answers the key sent (RFC 6455 §4.2.2), or ``accept``."""

    def respond(sent: bytes) -> bytes:
        key = next(
            line.split(b":", 1)[1].strip()
            for line in sent.split(b"\r\n")
            if line.lower().startswith(b"sec-websocket-key:")
        )
        digest = hashlib.sha1(key + _GUID.encode("ascii")).digest()  # RFC 6455 §4.2.2
        value = accept or base64.b64encode(digest).decode("ascii")
        return (
            "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Accept: {value}\r\n\r\n"
        ).encode("ascii")

    return respond


def websocket(peer: Peer) -> Exchange:
    return websocket_handshake(
        spec(peer), Request("GET", "/ws"), role="upgraded", offering=WebSocketOffer()
    )


def test_a_websocket_101_is_accepted_and_closed_as_a_client_should() -> None:
    peer = Peer(switched())
    exchange = websocket(peer)
    assert exchange.url == "ws://app.example:8080/base/ws"
    assert exchange.failure is None
    assert exchange.response is not None
    assert exchange.response.status == 101
    assert dict(exchange.request_headers)["Origin"] == "http://app.example:8080"
    # RFC 6455 §5.5.1: a masked Close frame (opcode 0x8) follows the handshake.
    assert peer.sent.split(b"\r\n\r\n", 1)[1][:1] == b"\x88"


def test_a_websocket_101_with_a_wrong_accept_is_refused_by_the_client() -> None:
    exchange = websocket(Peer(switched(accept="d3Jvbmc=")))
    assert exchange.response is not None
    assert exchange.response.status == 101
    assert exchange.failure is not None
    assert exchange.failure.kind is FailureKind.PROTOCOL
    assert exchange.failure.message.startswith("the client refused the handshake:")


def test_a_websocket_426_is_an_answer_not_a_failure() -> None:
    exchange = websocket(
        Peer(b"HTTP/1.1 426 Upgrade Required\r\nUpgrade: websocket\r\nContent-Length: 0\r\n\r\n")
    )
    assert exchange.failure is None
    assert exchange.response is not None
    assert (exchange.response.status, exchange.response.combined("upgrade")) == (426, "websocket")


@pytest.mark.parametrize(
    ("script", "kind", "start"),
    [
        ((b"\x00\xffGARBAGE\r\n\r\n",), FailureKind.PROTOCOL, "invalid handshake response:"),
        ((b"HTTP/1.1 101 Switching",), FailureKind.PROTOCOL, "invalid handshake response:"),
        ((), FailureKind.CLOSED, "the server closed the connection without answering"),
    ],
    ids=["garbage", "close-mid-headers", "close-without-a-byte"],
)
def test_a_websocket_handshake_without_an_answer(
    script: tuple[bytes, ...], kind: FailureKind, start: str
) -> None:
    exchange = websocket(Peer(*script))
    assert exchange.response is None
    assert exchange.failure is not None
    assert exchange.failure.kind is kind
    assert exchange.failure.message.startswith(start)
