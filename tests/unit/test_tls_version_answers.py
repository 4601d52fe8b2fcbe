"""The version handshakes' reading of the server's answer: bytes and errors in, a verdict out."""

from __future__ import annotations

import pytest

from pytest_upgrade._model import HandshakeOutcome
from pytest_upgrade.probes.http1 import speaks_http2
from pytest_upgrade.probes.tls import judge_answer
from pytest_upgrade.probes.tls_errors import TlsError, TlsErrorKind
from pytest_upgrade.probes.tls_hello import FirstFlight, read_first_flight

ACCEPTED, REFUSED = HandshakeOutcome.ACCEPTED, HandshakeOutcome.REFUSED
INCONCLUSIVE, ERROR = HandshakeOutcome.INCONCLUSIVE, HandshakeOutcome.ERROR


def record(content_type: int, fragment: bytes, version: int = 0x0303) -> bytes:
    """One TLS record (RFC 8446 §5.1)."""
    return (
        bytes([content_type])
        + version.to_bytes(2, "big")
        + len(fragment).to_bytes(2, "big")
        + fragment
    )


def server_hello(legacy: int, supported: int | None = None) -> bytes:
    """A ServerHello handshake message (RFC 8446 §4.1.3), with supported_versions if given."""
    body = legacy.to_bytes(2, "big") + b"\x11" * 32 + b"\x00" + b"\x13\x01" + b"\x00"
    extensions = b""
    if supported is not None:
        extensions += b"\x00\x33\x00\x02\x00\x1d"  # key_share, some bytes
        extensions += b"\x00\x2b\x00\x02" + supported.to_bytes(2, "big")
    body += len(extensions).to_bytes(2, "big") + extensions
    return b"\x02" + len(body).to_bytes(3, "big") + body


def alert(description: int) -> bytes:
    return record(21, bytes([2, description]))


@pytest.mark.parametrize(
    ("data", "flight"),
    [
        (record(22, server_hello(0x0301)), FirstFlight(version="TLSv1")),
        (record(22, server_hello(0x0302)), FirstFlight(version="TLSv1.1")),
        (record(22, server_hello(0x0303)), FirstFlight(version="TLSv1.2")),
        # TLS 1.3 says its version in supported_versions (RFC 8446 §4.2.1).
        (record(22, server_hello(0x0303, 0x0304)), FirstFlight(version="TLSv1.3")),
        # A ServerHello split over two records (RFC 8446 §5.1 allows it).
        (
            record(22, server_hello(0x0302)[:20]) + record(22, server_hello(0x0302)[20:]),
            FirstFlight(version="TLSv1.1"),
        ),
        (alert(70), FirstFlight(alert="protocol_version")),
        (alert(120), FirstFlight(alert="no_application_protocol")),
        (alert(112), FirstFlight(alert="unrecognized_name")),
        (alert(200), FirstFlight(alert="alert 200")),
        (b"HTTP/1.1 400 Bad Request\r\n\r\n", FirstFlight(not_tls=True)),
        (b"", FirstFlight()),
        (record(22, server_hello(0x0303))[:30], FirstFlight()),  # cut short: nothing to read
    ],
)
def test_the_first_flight_is_read_from_the_servers_bytes(data: bytes, flight: FirstFlight) -> None:
    assert read_first_flight(data) == flight


def error(kind: TlsErrorKind, detail: str) -> TlsError:
    return TlsError(kind, detail)


@pytest.mark.parametrize(
    ("flight", "tls_error", "alpn", "outcome", "detail", "retry"),
    [
        # The version chosen decides, whatever fails after the ServerHello.
        (
            FirstFlight(version="TLSv1"),
            error(TlsErrorKind.ALERT, "certificate_required"),
            True,
            ACCEPTED,
            "the server chose TLSv1 in its ServerHello (the handshake then failed:"
            " certificate_required)",
            None,
        ),
        (
            FirstFlight(version="TLSv1.2"),
            None,
            True,
            REFUSED,
            "the server answered with TLSv1.2",
            None,
        ),
        (
            FirstFlight(alert="protocol_version"),
            None,
            True,
            REFUSED,
            "alert protocol_version",
            None,
        ),
        (
            FirstFlight(alert="insufficient_security"),
            None,
            True,
            REFUSED,
            "alert insufficient_security",
            None,
        ),
        # No version or cipher in common, or so some servers say for other reasons:
        # confirmed without ALPN when ALPN was offered.
        (
            FirstFlight(alert="handshake_failure"),
            None,
            True,
            REFUSED,
            "alert handshake_failure",
            "alpn",
        ),
        (
            FirstFlight(alert="handshake_failure"),
            None,
            False,
            REFUSED,
            "alert handshake_failure",
            None,
        ),
        (FirstFlight(alert="internal_error"), None, True, REFUSED, "alert internal_error", "alpn"),
        (FirstFlight(), None, True, REFUSED, "the server closed the connection", "alpn"),
        (FirstFlight(), None, False, REFUSED, "the server closed the connection", None),
        # About an extension, never the version: asked again without it.
        (
            FirstFlight(alert="no_application_protocol"),
            error(TlsErrorKind.ALERT, "no_application_protocol"),
            True,
            INCONCLUSIVE,
            "alert no_application_protocol (about ALPN, RFC 7301 §3.2)",
            "alpn",
        ),
        (
            FirstFlight(alert="unrecognized_name"),
            None,
            False,
            INCONCLUSIVE,
            "alert unrecognized_name (about the server name, RFC 6066 §3)",
            "sni",
        ),
        (
            FirstFlight(alert="access_denied"),
            None,
            True,
            INCONCLUSIVE,
            "alert access_denied (not about the version)",
            None,
        ),
        # OpenSSL's reading when the bytes say nothing more.
        (
            FirstFlight(),
            error(TlsErrorKind.ALERT, "protocol_version"),
            True,
            REFUSED,
            "alert protocol_version",
            None,
        ),
        (
            FirstFlight(),
            error(TlsErrorKind.VERSION, "unsupported protocol"),
            True,
            REFUSED,
            "the server answered with another TLS version",
            None,
        ),
        (
            FirstFlight(),
            error(TlsErrorKind.OTHER, "bad key share"),
            True,
            INCONCLUSIVE,
            "handshake failed: bad key share",
            None,
        ),
        (
            FirstFlight(not_tls=True),
            None,
            True,
            ERROR,
            "the server did not answer with TLS (not a TLS record)",
            None,
        ),
    ],
)
def test_only_an_answer_about_the_version_is_a_refusal(
    flight: FirstFlight,
    tls_error: TlsError | None,
    alpn: bool,
    outcome: HandshakeOutcome,
    detail: str,
    retry: str | None,
) -> None:
    answer = judge_answer("TLSv1", flight, tls_error, alpn=alpn)
    assert (answer.outcome, answer.detail, answer.retry) == (outcome, detail, retry)


# What nginx 1.22 (`listen 127.0.0.1:PORT http2;`, cleartext, prior knowledge only)
# sent to "GET / HTTP/1.1", taken by hand: SETTINGS, WINDOW_UPDATE, GOAWAY.
NGINX_H2_ONLY = bytes.fromhex(
    "000012040000000000000300000080000400010000000500ffffff0000040800000000007fff0000"
    "0000080700000000000000000000000001"
)


@pytest.mark.parametrize(
    ("first_bytes", "http2"),
    [
        (NGINX_H2_ONLY, True),
        (bytes.fromhex("000008070000000000000000000000000001"), True),  # a bare GOAWAY
        (b"HTTP/1.1 200 OK\r\n", False),
        (b"\x00\x00\x12\x04\x00\x00\x00\x00\x01", False),  # a SETTINGS frame on stream 1
        (b"\x00\x00\x05\x04\x00", False),  # too short
    ],
)
def test_an_http2_server_preface_is_recognised(first_bytes: bytes, http2: bool) -> None:
    assert speaks_http2(first_bytes) is http2
