"""A closed QUIC connection read by its frame type: TLS alerts are transport errors
(CRYPTO_ERROR, 0x0100-0x01ff, RFC 9001 §4.8), HTTP/3's codes application errors
(RFC 9114 §8.1) that share those numbers (RFC 9000 §19.19)."""

from __future__ import annotations

import pytest

from pytest_upgrade._model import FailureKind
from pytest_upgrade.probes.quic_errors import rejected, terminated

WHERE = "127.0.0.1:4433 (UDP)"


def test_the_same_number_is_a_tls_alert_only_in_a_transport_close() -> None:
    alert = terminated(0x10E, "", WHERE, application=False)
    assert (alert.kind, alert.message) == (
        FailureKind.TLS_REFUSED,
        f"the QUIC handshake with {WHERE} failed: TLS alert 14",
    )
    h3 = terminated(0x10E, "bad request", WHERE, application=True)
    assert (h3.kind, h3.message) == (
        FailureKind.CLOSED,
        f"{WHERE} closed the HTTP/3 connection with H3_MESSAGE_ERROR (0x10e)"
        " (RFC 9114 §8.1): bad request",
    )


@pytest.mark.parametrize(
    ("code", "kind", "words"),
    [
        (0x130, FailureKind.CERTIFICATE, "did not verify (unknown_ca)"),
        (0x178, FailureKind.ALPN_MISMATCH, "does not offer h3 in ALPN"),
        (0x128, FailureKind.TLS_REFUSED, "TLS alert 40"),
        (0x0A, FailureKind.CLOSED, "transport error 0xa, RFC 9000 §20"),
    ],
)
def test_transport_closes(code: int, kind: FailureKind, words: str) -> None:
    error = terminated(code, "", WHERE, application=False)
    assert error.kind is kind
    assert words in error.message


@pytest.mark.parametrize(
    ("code", "name"),
    [(0x100, "H3_NO_ERROR"), (0x10B, "H3_REQUEST_REJECTED"), (0x200, "QPACK_DECOMPRESSION_FAILED")],
)
def test_application_closes_name_the_http3_code(code: int, name: str) -> None:
    error = terminated(code, "", WHERE, application=True)
    assert error.kind is FailureKind.CLOSED
    assert f"with {name} (0x{code:x})" in error.message
    assert "TLS alert" not in error.message


def test_an_answer_this_client_rejected_is_the_servers_protocol_error() -> None:
    specific = rejected(0x10E, "Header b'upgrade' is connection-specific", WHERE)
    assert specific.kind is FailureKind.PROTOCOL
    assert "connection-specific field upgrade, which HTTP/3 forbids (RFC 9114 §4.2)" in (
        specific.message
    )
    assert "the app (or its server) set it on an HTTP/3 answer" in specific.message
    other = rejected(0x105, "HEADERS frame is not allowed in this state", WHERE)
    assert other.kind is FailureKind.PROTOCOL
    assert "H3_FRAME_UNEXPECTED (0x105)" in other.message
    assert "HEADERS frame is not allowed" in other.message
