"""The HTTP/1.x probe's framing, fed scripted server bytes the way h11's tests feed them:
no socket. Each test gives the probe a spec whose dialer returns a scripted
:class:`~support.scripted.Peer` and asserts the exchange it records: what it
sent, the response it read, or the failure it named.
"""

from __future__ import annotations

from pytest_upgrade._model import Exchange, FailureKind, Transport
from pytest_upgrade.probes.http1 import http1_exchange
from pytest_upgrade.probes.spec import Limits, Request
from pytest_upgrade.probes.tls_upgrade import tls_upgrade_exchanges
from pytest_upgrade.protocols.tls import TLS_UPGRADE
from support.probing import UPGRADE_TO_TLS12
from support.scripted import DEFAULTS, GET, Peer, failure_of, spec


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
    assert failure_of(exchange) == (
        FailureKind.PROTOCOL,
        "invalid HTTP/1.x response: peer unexpectedly closed connection",
    )


def test_a_close_without_a_byte_is_no_answer() -> None:
    exchange = http1(Peer())
    assert failure_of(exchange) == (
        FailureKind.CLOSED,
        "the server closed the connection without answering",
    )


def test_a_reset_is_a_closed_connection() -> None:
    exchange = http1(Peer(b"HTTP/1.1 200 OK\r\n", ConnectionResetError()))
    assert failure_of(exchange) == (
        FailureKind.CLOSED,
        "reading the response: the connection was reset by the peer",
    )


def test_silence_after_bytes_that_are_not_http_names_them() -> None:
    exchange = http1(Peer(b"SSH-2.0-OpenSSH_9.6\r\n", TimeoutError()))
    assert failure_of(exchange) == (
        FailureKind.PROTOCOL,
        "the server sent bytes that are not an HTTP response ('SSH-2.0-OpenSSH_9.6') and then"
        " nothing",
    )


def test_silence_is_a_timeout() -> None:
    exchange = http1(Peer(TimeoutError()))
    assert failure_of(exchange) == (
        FailureKind.TIMEOUT,
        "reading the response: no answer within 5 s",
    )


def test_a_port_that_speaks_only_http2_is_named() -> None:
    settings = bytes.fromhex("000000040000000000")  # an empty SETTINGS frame, stream 0
    exchange = http1(Peer(settings + b"\x00\x00\x08\x07\x00\x00\x00\x00\x00" + bytes(8)))
    kind, message = failure_of(exchange)
    assert kind is FailureKind.PROTOCOL
    assert message.startswith("this port speaks HTTP/2 only")
    assert "HTTP/2 frames (a SETTINGS or GOAWAY frame" in message  # what it saw


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
    exchanges = tls_upgrade_exchanges(spec(peer), GET, **UPGRADE_TO_TLS12)
    assert bytes(peer.sent).startswith(b"OPTIONS * HTTP/1.1\r\nHost: app.example:8080\r\n")
    assert b"Upgrade: TLS/1.2\r\nConnection: Upgrade\r\n" in peer.sent
    assert [(e.role, e.url, e.method) for e in exchanges] == [
        (TLS_UPGRADE, "http://app.example:8080", "OPTIONS")
    ]
    assert exchanges[0].response is not None
    assert exchanges[0].response.status == 400
