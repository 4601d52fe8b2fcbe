"""The server's first TLS flight, read from its bytes: which version it chose, or its alert.

A version handshake is judged on the version alone (RFC 8446 §4.1.3, RFC
8996). OpenSSL's error after a failed handshake does not say whether the
server got as far as choosing a version, so the version probe reads the
server's cleartext first flight itself: a ServerHello (or HelloRetryRequest)
names the version chosen, in ``legacy_version`` or, from TLS 1.3 on, in its
``supported_versions`` extension (RFC 8446 §4.2.1); an alert before any
ServerHello is in cleartext too (RFC 8446 §5.1, §6). Pure: bytes in, a value out.
"""

from __future__ import annotations

from dataclasses import dataclass

__all__ = ["ALERTS", "FirstFlight", "read_first_flight"]

# The TLS Alert registry (IANA; RFC 8446 §6, RFC 7301 §3.2 for 120).
ALERTS = {
    0: "close_notify",
    10: "unexpected_message",
    20: "bad_record_mac",
    21: "decryption_failed",
    22: "record_overflow",
    30: "decompression_failure",
    40: "handshake_failure",
    41: "no_certificate",
    42: "bad_certificate",
    43: "unsupported_certificate",
    44: "certificate_revoked",
    45: "certificate_expired",
    46: "certificate_unknown",
    47: "illegal_parameter",
    48: "unknown_ca",
    49: "access_denied",
    50: "decode_error",
    51: "decrypt_error",
    60: "export_restriction",
    70: "protocol_version",
    71: "insufficient_security",
    80: "internal_error",
    86: "inappropriate_fallback",
    90: "user_canceled",
    100: "no_renegotiation",
    109: "missing_extension",
    110: "unsupported_extension",
    111: "certificate_unobtainable",
    112: "unrecognized_name",
    113: "bad_certificate_status_response",
    114: "bad_certificate_hash_value",
    115: "unknown_psk_identity",
    116: "certificate_required",
    120: "no_application_protocol",
}

_VERSIONS = {
    0x0300: "SSLv3",
    0x0301: "TLSv1",
    0x0302: "TLSv1.1",
    0x0303: "TLSv1.2",
    0x0304: "TLSv1.3",
}
_HANDSHAKE, _ALERT = 22, 21  # record content types (RFC 8446 §5.1)
_SERVER_HELLO = 2  # handshake message type (RFC 8446 §4)
_SUPPORTED_VERSIONS = 43  # extension type (RFC 8446 §4.2.1)


@dataclass(frozen=True)
class FirstFlight:
    """What the server's first records say: the version it chose, or the alert it sent.

    ``version`` is set once a whole ServerHello was read; ``alert`` when an
    alert came before any ServerHello; ``not_tls`` when the first bytes are not
    a TLS record at all. All None/False: nothing readable arrived (a close).
    """

    version: str | None = None
    alert: str | None = None
    not_tls: bool = False


def read_first_flight(data: bytes) -> FirstFlight:
    """The server's choice from its first bytes (TLS records, RFC 8446 §5.1)."""
    handshake = b""
    offset = 0
    while offset + 5 <= len(data):
        content_type = data[offset]
        length = int.from_bytes(data[offset + 3 : offset + 5], "big")
        if content_type not in (_HANDSHAKE, _ALERT) or data[offset + 1] != 3:
            return FirstFlight(not_tls=offset == 0)
        fragment = data[offset + 5 : offset + 5 + length]
        offset += 5 + length
        if content_type == _ALERT:
            if len(fragment) < 2:
                return FirstFlight()
            return FirstFlight(alert=ALERTS.get(fragment[1], f"alert {fragment[1]}"))
        handshake += fragment
        if len(handshake) >= 4:
            if handshake[0] != _SERVER_HELLO:
                return FirstFlight()
            size = int.from_bytes(handshake[1:4], "big")
            if len(handshake) >= 4 + size:
                return FirstFlight(version=_hello_version(handshake[4 : 4 + size]))
    if offset == 0 and data and data[0] not in (_HANDSHAKE, _ALERT):
        return FirstFlight(not_tls=True)
    return FirstFlight()


def _hello_version(body: bytes) -> str | None:
    """The version a ServerHello body selects (RFC 8446 §4.1.3, §4.2.1)."""
    if len(body) < 35:
        return None
    version = int.from_bytes(body[0:2], "big")
    at = 34 + 1 + body[34]  # legacy_version, random, session id
    at += 3  # cipher suite, compression method
    if at + 2 <= len(body):
        end = min(len(body), at + 2 + int.from_bytes(body[at : at + 2], "big"))
        at += 2
        while at + 4 <= end:
            kind = int.from_bytes(body[at : at + 2], "big")
            size = int.from_bytes(body[at + 2 : at + 4], "big")
            if kind == _SUPPORTED_VERSIONS and size == 2:
                version = int.from_bytes(body[at + 4 : at + 6], "big")
            at += 4 + size
    return _VERSIONS.get(version, f"0x{version:04x}")
