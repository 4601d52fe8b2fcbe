"""What a closed QUIC connection says, in the probe's words (RFC 9000 §19.19, §20;
RFC 9001 §4.8; RFC 9114 §8.1). Pure: codes in, a :class:`~.connection.ProbeError` out."""

from __future__ import annotations

import re

from .._model import FailureKind
from .client_cert import CLIENT_CERTIFICATE_ALERTS, refusal
from .connection import ProbeError
from .tls_hello import ALERTS

__all__ = ["H3_ERRORS", "rejected", "terminated"]

# RFC 9001 §4.8: a TLS alert travels as the QUIC transport error CRYPTO_ERROR,
# 0x0100 + alert (0x0100-0x01ff), in a CONNECTION_CLOSE of type 0x1c. HTTP/3's own
# error codes (RFC 9114 §8.1) share those numbers but are application errors,
# carried in a CONNECTION_CLOSE of type 0x1d (RFC 9000 §19.19): the frame type,
# never the number, tells the two apart.
_CRYPTO_ERROR = 0x100
# RFC 9114 §8.1 and RFC 9204 §6 (QPACK): the application error codes of HTTP/3.
H3_ERRORS = {
    0x100: "H3_NO_ERROR",
    0x101: "H3_GENERAL_PROTOCOL_ERROR",
    0x102: "H3_INTERNAL_ERROR",
    0x103: "H3_STREAM_CREATION_ERROR",
    0x104: "H3_CLOSED_CRITICAL_STREAM",
    0x105: "H3_FRAME_UNEXPECTED",
    0x106: "H3_FRAME_ERROR",
    0x107: "H3_EXCESSIVE_LOAD",
    0x108: "H3_ID_ERROR",
    0x109: "H3_SETTINGS_ERROR",
    0x10A: "H3_MISSING_SETTINGS",
    0x10B: "H3_REQUEST_REJECTED",
    0x10C: "H3_REQUEST_CANCELLED",
    0x10D: "H3_REQUEST_INCOMPLETE",
    0x10E: "H3_MESSAGE_ERROR",
    0x10F: "H3_CONNECT_ERROR",
    0x110: "H3_VERSION_FALLBACK",
    0x200: "QPACK_DECOMPRESSION_FAILED",
    0x201: "QPACK_ENCODER_STREAM_ERROR",
    0x202: "QPACK_DECODER_STREAM_ERROR",
}
_H3_MESSAGE_ERROR = 0x10E
# RFC 9114 §4.2: fields an HTTP/3 message must not carry (aioquic's wording of
# that rejection names the field; the rule is the RFC's).
_CONNECTION_SPECIFIC = re.compile(r"[Hh]eader b?'([^']+)' is connection-specific")
# RFC 8446 §6: the alerts a client raises when the certificate does not verify.
_CERTIFICATE_ALERTS = {
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    48: "unknown_ca",
}
_NO_APPLICATION_PROTOCOL = 120  # RFC 7301 §3.2


def _h3_error(code: int) -> str:
    name = H3_ERRORS.get(code)
    return f"{name} (0x{code:x})" if name else f"0x{code:x}"


def rejected(code: int, reason: str, where: str) -> ProbeError:
    """This client closed the HTTP/3 connection because of what ``where`` sent (RFC 9114 §8)."""
    because = f": {reason}" if reason else ""
    fields = _CONNECTION_SPECIFIC.findall(reason)
    if code == _H3_MESSAGE_ERROR and fields:
        return ProbeError(
            FailureKind.PROTOCOL,
            f"the HTTP/3 answer from {where} is malformed: it carries the connection-specific"
            f" field {', '.join(fields)}, which HTTP/3 forbids (RFC 9114 §4.2): the app (or its"
            " server) set it on an HTTP/3 answer, and this client closed the connection with"
            f" {_h3_error(code)} (RFC 9114 §4.1.2, §8.1)",
        )
    return ProbeError(
        FailureKind.PROTOCOL,
        f"the HTTP/3 answer from {where} broke HTTP/3's rules, so this client closed the"
        f" connection with {_h3_error(code)} (RFC 9114 §8.1){because}",
    )


def terminated(
    code: int,
    reason: str,
    where: str,
    application: bool,
    *,
    by_peer: bool = False,
    offered: str | None = None,
) -> ProbeError:
    """What a closed QUIC connection means (RFC 9000 §19.19, §20; RFC 9001 §4.8; RFC 9114 §8.1).

    ``application``: the close carried an application error code (frame type
    0x1d), HTTP/3's; otherwise a transport error code, where 0x0100-0x01ff is
    a TLS alert. ``by_peer``: the server closed it (not this client); a
    certificate alert from the server is about the client's certificate
    (``offered``, the file given, or None).
    """
    because = f": {reason}" if reason else ""
    if application:
        return ProbeError(
            FailureKind.CLOSED,
            f"{where} closed the HTTP/3 connection with {_h3_error(code)} (RFC 9114 §8.1){because}",
        )
    alert = code - _CRYPTO_ERROR
    name = ALERTS.get(alert, "")
    if name == "certificate_required" or (by_peer and name in CLIENT_CERTIFICATE_ALERTS):
        return ProbeError(
            FailureKind.CLIENT_CERTIFICATE, f"over QUIC to {where}, {refusal(name, offered)}"
        )
    if alert in _CERTIFICATE_ALERTS:
        return ProbeError(
            FailureKind.CERTIFICATE,
            f"the certificate {where} presented over QUIC did not verify"
            f" ({_CERTIFICATE_ALERTS[alert]}{because})",
        )
    if alert == _NO_APPLICATION_PROTOCOL:
        return ProbeError(
            FailureKind.ALPN_MISMATCH,
            f"{where} does not offer h3 in ALPN (no_application_protocol)",
        )
    if 0 <= alert < 0x100:
        return ProbeError(
            FailureKind.TLS_REFUSED,
            f"the QUIC handshake with {where} failed: TLS alert {alert}{because}",
        )
    return ProbeError(
        FailureKind.CLOSED,
        f"{where} closed the QUIC connection (transport error 0x{code:x}, RFC 9000 §20{because})",
    )
