"""One reading of a failed TLS handshake, for the request probes and the version handshakes."""

from __future__ import annotations

import ssl

import pytest

from pytest_upgrade.probes.connection import _certificate_advice
from pytest_upgrade.probes.tls_errors import (
    TlsErrorKind,
    alert_name,
    classify_tls_error,
    ssl_reason,
)


def ssl_error(reason: str, message: str, cls: type[ssl.SSLError] = ssl.SSLError) -> ssl.SSLError:
    """An error as OpenSSL reports it: a reason code and a message."""
    error = cls(1, message)
    error.reason = reason  # type: ignore[misc]  # set by the ssl module in real errors
    return error


@pytest.mark.parametrize(
    ("reason", "message", "kind", "detail"),
    [
        (
            "TLSV1_ALERT_PROTOCOL_VERSION",
            "[SSL: TLSV1_ALERT_PROTOCOL_VERSION] tlsv1 alert protocol version (_ssl.c:1000)",
            TlsErrorKind.ALERT,
            "protocol_version",
        ),
        (
            "SSLV3_ALERT_HANDSHAKE_FAILURE",
            "[SSL: SSLV3_ALERT_HANDSHAKE_FAILURE] sslv3 alert handshake failure",
            TlsErrorKind.ALERT,
            "handshake_failure",
        ),
        # An alert Python has no reason code for shows only in the message.
        (
            "UNKNOWN",
            "[SSL] tlsv1 alert no application protocol (_ssl.c:1000)",
            TlsErrorKind.ALERT,
            "no_application_protocol",
        ),
        ("WRONG_VERSION_NUMBER", "wrong version number", TlsErrorKind.NOT_TLS, ""),
        ("HTTP_REQUEST", "http request", TlsErrorKind.NOT_TLS, ""),
        ("PACKET_LENGTH_TOO_LONG", "packet length too long", TlsErrorKind.NOT_TLS, ""),
        ("RECORD_LAYER_FAILURE", "record layer failure", TlsErrorKind.NOT_TLS, ""),
        ("UNSUPPORTED_PROTOCOL", "unsupported protocol", TlsErrorKind.VERSION, ""),
        ("WRONG_SSL_VERSION", "wrong ssl version", TlsErrorKind.VERSION, ""),
        ("UNEXPECTED_EOF_WHILE_READING", "eof", TlsErrorKind.CLOSED, ""),
        ("CERTIFICATE_UNKNOWN", "something else", TlsErrorKind.OTHER, ""),
    ],
)
def test_a_handshake_error_is_classified_once(
    reason: str, message: str, kind: TlsErrorKind, detail: str
) -> None:
    error = classify_tls_error(ssl_error(reason, message))
    assert error.kind is kind
    assert error.detail == (detail or reason.lower().replace("_", " "))


def test_an_eof_error_is_a_close_whatever_its_reason() -> None:
    error = ssl_error("", "EOF occurred in violation of protocol", ssl.SSLEOFError)
    assert classify_tls_error(error).kind is TlsErrorKind.CLOSED


def test_reason_and_alert_read_openssl_wording() -> None:
    error = ssl_error("WRONG_VERSION_NUMBER", "[SSL: WRONG_VERSION_NUMBER] wrong version number")
    assert ssl_reason(error) == "wrong version number"
    assert alert_name(error) is None


@pytest.mark.parametrize(
    ("code", "cafile", "advice"),
    [
        (9, "ca.pem", "its validity starts later: check the server's and this machine's clocks"),
        (10, "ca.pem", "renew the server's certificate: no CA makes an expired one valid"),
        (62, None, "the certificate is not issued for example.test: test the name it names"),
        (20, "ca.pem", "the CA file given, ca.pem, does not issue it: give the CA that does"),
        (20, None, "trust a private CA with --upgrade-ca=PEM"),
    ],
)
def test_certificate_advice_fits_the_cause(code: int, cafile: str | None, advice: str) -> None:
    error = ssl.SSLCertVerificationError(1, "certificate verify failed")
    error.verify_code = code  # type: ignore[attr-defined]  # set by the ssl module
    assert _certificate_advice(error, cafile, "example.test") == advice
