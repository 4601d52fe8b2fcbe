"""What a failed TLS handshake means: one pure classification of ``ssl.SSLError``.

The request probes and the version handshakes word their records differently
(a failure of the request, or the server's answer to one version), but read
an error the same way, here.
"""

from __future__ import annotations

import enum
import re
import ssl
from dataclasses import dataclass

__all__ = ["TlsError", "TlsErrorKind", "alert_name", "classify_tls_error", "ssl_reason"]


class TlsErrorKind(enum.Enum):
    ALERT = "alert"  # the peer sent a TLS alert (RFC 8446 §6)
    VERSION = "version"  # the peer refused the version offered, or answered with another
    CLOSED = "closed"  # the peer closed the connection during the handshake
    NOT_TLS = "not-tls"  # the peer's answer is not TLS at all (a cleartext port)
    OTHER = "other"


@dataclass(frozen=True)
class TlsError:
    """A classified handshake error: its kind, and the alert name or OpenSSL's reason."""

    kind: TlsErrorKind
    detail: str


# OpenSSL reason codes: the answer was not a TLS record.
_NOT_TLS = frozenset(
    {"WRONG_VERSION_NUMBER", "HTTP_REQUEST", "PACKET_LENGTH_TOO_LONG", "RECORD_LAYER_FAILURE"}
)
# OpenSSL reason codes: no version in common (RFC 8446 §4.1.3, RFC 8996).
_VERSION = frozenset({"UNSUPPORTED_PROTOCOL", "WRONG_SSL_VERSION", "TLSV1_ALERT_PROTOCOL_VERSION"})


def ssl_reason(exc: ssl.SSLError) -> str:
    return str(exc.reason or exc.strerror or exc).lower().replace("_", " ")


def alert_name(exc: ssl.SSLError) -> str | None:
    """The TLS alert the peer sent ("protocol_version"), if the error is one."""
    reason = str(exc.reason or "")
    if "ALERT_" in reason:
        return reason.split("ALERT_", 1)[1].lower()
    # Alerts Python has no reason code for (no_application_protocol, on some
    # OpenSSL builds) only show in the message: "... tlsv1 alert no application protocol (...)".
    match = re.search(r"alert ([a-z ]+?)\s*(?:\(|$)", str(exc).lower())
    return match.group(1).strip().replace(" ", "_") if match else None


def classify_tls_error(exc: ssl.SSLError) -> TlsError:
    """The kind of a handshake's ``ssl.SSLError``, with its alert or reason."""
    alert = alert_name(exc)
    if alert is not None:
        return TlsError(TlsErrorKind.ALERT, alert)
    reason = str(exc.reason or "")
    if reason in _NOT_TLS:
        kind = TlsErrorKind.NOT_TLS
    elif reason in _VERSION:
        kind = TlsErrorKind.VERSION
    elif reason == "UNEXPECTED_EOF_WHILE_READING" or isinstance(exc, ssl.SSLEOFError):
        kind = TlsErrorKind.CLOSED
    else:
        kind = TlsErrorKind.OTHER
    return TlsError(kind, ssl_reason(exc))
