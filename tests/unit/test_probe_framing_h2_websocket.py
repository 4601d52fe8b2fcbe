"""The HTTP/2 and WebSocket probes' framing, fed scripted server bytes: no socket.

The server's HTTP/2 frames are written by h2's own server side, its WebSocket
accept value computed from the key the probe sent (RFC 6455 §4.2.2).
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable

import h2.config
import h2.connection
import h2.errors
import h2.events
import pytest

from pytest_upgrade._model import Exchange, FailureKind
from pytest_upgrade.probes.http2 import http2_exchange
from pytest_upgrade.probes.spec import Limits, Request
from pytest_upgrade.probes.websocket import websocket_handshake
from pytest_upgrade.probes.websocket_offer import WebSocketOffer
from support.scripted import DEFAULTS, GET, Peer, failure_of, spec

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
    assert failure_of(exchange) == (
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
    assert failure_of(exchange) == (
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
    kind, message = failure_of(exchange)
    assert kind is FailureKind.PROTOCOL
    assert message.startswith("the client refused the handshake:")


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
