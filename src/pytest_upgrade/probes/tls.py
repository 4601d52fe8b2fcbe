"""TLS version handshakes: does the server accept a handshake offering one version?"""

from __future__ import annotations

import ssl

from .._model import (
    FailureKind,
    HandshakeOutcome,
    TlsHandshake,
)
from .connection import (
    Connection,
    Deadline,
    ProbeError,
)
from .endpoint import ClientTrust, Endpoint
from .tls_errors import TlsErrorKind, classify_tls_error, ssl_reason

__all__ = ["tls_handshake"]


# Over 60 lines: one handshake driven by hand over memory BIOs, from the
# ClientHello to the server's answer; every exit is a different finding.
def tls_handshake(
    endpoint: Endpoint, *, version: str, trust: ClientTrust, timeout: float
) -> TlsHandshake:
    """A bare TLS handshake offering only ``version``.

    Tells apart a server that refused (an alert, a close, or a ServerHello
    for another version) from a client that could not offer the version at
    all (an error before any byte was sent): only the first says something
    about the server (RFC 8996).
    """
    try:
        context = trust.context(alpn=("http/1.1",), version=version)
    except (ssl.SSLError, ValueError) as exc:
        return TlsHandshake(
            version,
            HandshakeOutcome.CLIENT_CANNOT_OFFER,
            f"this client's TLS cannot offer {version} ({exc}): inconclusive",
        )
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=endpoint.host)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    except ssl.SSLError as exc:
        return TlsHandshake(
            version,
            HandshakeOutcome.CLIENT_CANNOT_OFFER,
            f"this client's OpenSSL cannot offer {version} ({ssl_reason(exc)}): inconclusive",
        )
    hello = outgoing.read()
    if not hello:
        return TlsHandshake(
            version,
            HandshakeOutcome.CLIENT_CANNOT_OFFER,
            f"the local OpenSSL produced no {version} ClientHello",
        )
    deadline = Deadline(timeout)
    try:
        connection = Connection.open(endpoint, deadline)
    except ProbeError as exc:
        return TlsHandshake(version, HandshakeOutcome.ERROR, exc.message)
    try:
        connection.send_raw(hello)
        while True:
            data = connection.recv_raw(f"{version} handshake")
            if not data:
                return TlsHandshake(
                    version, HandshakeOutcome.REFUSED, "the server closed the connection"
                )
            incoming.write(data)
            try:
                tls.do_handshake()
            except ssl.SSLWantReadError:
                pending = outgoing.read()
                if pending:
                    connection.send_raw(pending)
                continue
            except ssl.SSLCertVerificationError as exc:
                # A certificate is sent only after the server agreed to the
                # version in its ServerHello: the version was accepted.
                return TlsHandshake(
                    version,
                    HandshakeOutcome.ACCEPTED,
                    f"the server agreed to {version} (its certificate then failed to verify:"
                    f" {exc.verify_message})",
                )
            except ssl.SSLError as exc:
                return _refusal(version, exc)
            return TlsHandshake(
                version, HandshakeOutcome.ACCEPTED, f"negotiated {tls.version() or version}"
            )
    except ProbeError as exc:
        if exc.kind is FailureKind.CLOSED:
            # A close and a reset say the same here, and which one arrives
            # depends on timing: one wording keeps reports comparable.
            return TlsHandshake(
                version, HandshakeOutcome.REFUSED, "the server closed the connection"
            )
        return TlsHandshake(version, HandshakeOutcome.ERROR, exc.message)
    finally:
        connection.close()


def _refusal(version: str, exc: ssl.SSLError) -> TlsHandshake:
    """The server's answer to a handshake offering only ``version``, from its error."""
    error = classify_tls_error(exc)
    if error.kind is TlsErrorKind.ALERT:
        return TlsHandshake(version, HandshakeOutcome.REFUSED, f"alert {error.detail}")
    if error.kind is TlsErrorKind.VERSION:
        return TlsHandshake(
            version, HandshakeOutcome.REFUSED, "the server answered with another TLS version"
        )
    if error.kind is TlsErrorKind.CLOSED:
        return TlsHandshake(version, HandshakeOutcome.REFUSED, "the server closed the connection")
    if error.kind is TlsErrorKind.NOT_TLS:
        return TlsHandshake(
            version,
            HandshakeOutcome.ERROR,
            f"the server did not answer with TLS ({error.detail})",
        )
    return TlsHandshake(version, HandshakeOutcome.REFUSED, f"handshake failed: {error.detail}")
