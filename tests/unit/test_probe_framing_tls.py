"""What the TLS probes make of a server's first bytes (RFC 8446 §5.1, §6), scripted:
no socket. The client's own ClientHello is real (OpenSSL's); the server's
answer is the script.
"""

from __future__ import annotations

from pytest_upgrade._model import FailureKind, HandshakeOutcome
from pytest_upgrade.probes.endpoint import ClientTrust, Endpoint
from pytest_upgrade.probes.http1 import http1_exchange
from pytest_upgrade.probes.spec import ConnectionSpec
from pytest_upgrade.probes.tls import tls_handshake
from pytest_upgrade.probes.tls_upgrade import tls_upgrade_exchanges
from support.probing import UPGRADE_TO_TLS12
from support.scripted import GET, Peer, failure_of, spec

# -- TLS: what the server's first bytes say (RFC 8446 §5.1, §6) --------------

SECURE = Endpoint("https", "app.example", 8443)
# An alert record (RFC 8446 §6): fatal (2), protocol_version (70).
PROTOCOL_VERSION_ALERT = b"\x15\x03\x01\x00\x02\x02\x46"


def secure(peer: Peer) -> ConnectionSpec:
    return ConnectionSpec(SECURE, ClientTrust(), 5.0, dialer=peer.dial)


def test_a_request_refused_by_a_tls_alert_names_the_alert() -> None:
    peer = Peer(PROTOCOL_VERSION_ALERT)
    exchange = http1_exchange(secure(peer), GET, role="legacy")
    assert peer.sent[:1] == b"\x16"  # the ClientHello's handshake record
    assert exchange.transport is None
    assert failure_of(exchange) == (
        FailureKind.TLS_REFUSED,
        "the server refused the TLS handshake: alert protocol_version",
    )


def test_a_cleartext_answer_on_a_tls_port_is_named() -> None:
    exchange = http1_exchange(secure(Peer(b"HTTP/1.1 400 Bad Request\r\n\r\n")), GET, role="x")
    assert exchange.failure is not None
    assert exchange.failure.kind is FailureKind.PROTOCOL
    assert exchange.failure.message.startswith("the server did not answer with TLS (")
    assert exchange.failure.message.endswith("): is this a cleartext port?")


def test_a_version_handshake_refused_by_an_alert() -> None:
    handshake = tls_handshake(secure(Peer(PROTOCOL_VERSION_ALERT)), version="TLSv1.2")
    assert (handshake.outcome, handshake.detail) == (
        HandshakeOutcome.REFUSED,
        "alert protocol_version",
    )


def test_a_version_handshake_closed_twice_is_a_confirmed_refusal() -> None:
    # A bare close is ambiguous with ALPN offered: asked again without it (RFC 7301 §3.2).
    handshake = tls_handshake(secure(Peer()), version="TLSv1.2")
    assert (handshake.outcome, handshake.detail, handshake.alpn) == (
        HandshakeOutcome.REFUSED,
        "the server closed the connection, with ALPN h2, http/1.1 and without ALPN",
        (),
    )


def test_a_version_handshake_answered_in_cleartext_is_an_error() -> None:
    handshake = tls_handshake(secure(Peer(b"HTTP/1.1 400 Bad Request\r\n\r\n")), version="TLSv1.2")
    assert handshake.outcome is HandshakeOutcome.ERROR
    assert handshake.detail.startswith("the server did not answer with TLS (")


def test_after_the_in_band_101_a_failed_handshake_is_the_second_exchange() -> None:
    # RFC 2817 §3.3: after the 101 the TLS handshake starts on the same connection.
    switch = b"HTTP/1.1 101 Switching Protocols\r\nUpgrade: TLS/1.2\r\nConnection: Upgrade\r\n\r\n"
    peer = Peer(switch, PROTOCOL_VERSION_ALERT)
    upgrade, upgraded = tls_upgrade_exchanges(spec(peer), GET, **UPGRADE_TO_TLS12)
    assert upgrade.response is not None
    assert upgrade.response.status == 101
    assert (upgraded.role, upgraded.url) == ("tls-upgraded", "http://app.example:8080/base/x")
    assert upgraded.failure is not None
    assert (upgraded.failure.kind, upgraded.failure.message) == (
        FailureKind.TLS_REFUSED,
        "after the 101, the TLS handshake: the server refused the TLS handshake:"
        " alert protocol_version",
    )
