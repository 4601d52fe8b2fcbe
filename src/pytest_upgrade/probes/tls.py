"""TLS version handshakes: does the server accept a handshake offering one version?

The answer is about the version alone (RFC 8996, RFC 8446 §4.1.3). The
handshake offers what a current client offers besides the version (ALPN
``h2, http/1.1``, the server name), so that a server refusing something else
is not taken for one refusing the version. Only the version decides:

- the server's ServerHello (read from its bytes, :mod:`.tls_hello`) choosing
  the version offered: accepted, whatever fails later (a certificate that does
  not verify, a client certificate required); choosing another: refused;
- an alert about the version (``protocol_version``, ``insufficient_security``),
  or one meaning no shared version or cipher at it (``handshake_failure``,
  ``internal_error`` from nginx, a bare close): refused; the last three, when
  ALPN was offered, only once a handshake without ALPN says the same;
- an alert about another extension (``no_application_protocol``, RFC 7301
  §3.2; ``unrecognized_name``, RFC 6066 §3): asked once more without it, and
  inconclusive if the answer is still not about the version; any other alert:
  inconclusive with its name. An inconclusive handshake is never "refused".
"""

from __future__ import annotations

import ssl
from dataclasses import dataclass

from .._model import (
    FailureKind,
    HandshakeOutcome,
    TlsHandshake,
)
from .connection import Connection, Deadline, ProbeError
from .spec import ConnectionSpec
from .tls_errors import TlsError, TlsErrorKind, classify_tls_error, ssl_reason
from .tls_hello import FirstFlight, read_first_flight

__all__ = ["OFFERED_ALPN", "Answer", "judge_answer", "tls_handshake"]

# What current HTTP clients offer (RFC 9113 §3.2): a server of either protocol can answer.
OFFERED_ALPN = ("h2", "http/1.1")

# Alerts that refuse the version (RFC 8446 §6.2, RFC 8996 §5).
_VERSION_ALERTS = frozenset({"protocol_version", "insufficient_security"})
# Alerts (and a bare close) that servers send for "no version or cipher in common" —
# and some for other reasons too: a refusal, once a handshake without ALPN agrees.
_AMBIGUOUS_ALERTS = frozenset({"handshake_failure", "internal_error"})
# Alerts about one extension, not the version: leave it out and ask once more.
_EXTENSION_ALERTS = {
    "no_application_protocol": ("alpn", "about ALPN, RFC 7301 §3.2"),
    "unrecognized_name": ("sni", "about the server name, RFC 6066 §3"),
}
_RECEIVED_LIMIT = 16384  # bytes of the server's answer kept to read its first flight


@dataclass(frozen=True)
class Answer:
    """One handshake's outcome, and the extension to leave out if it should be asked again."""

    outcome: HandshakeOutcome
    detail: str
    retry: str | None = None  # "alpn" or "sni"


def judge_answer(
    version: str, flight: FirstFlight, error: TlsError | None, *, alpn: bool
) -> Answer:
    """What a failed handshake offering only ``version`` says (``error`` None: a close)."""
    if flight.version == version:
        reason = f": {error.detail}" if error is not None else ", then closed"
        return Answer(
            HandshakeOutcome.ACCEPTED,
            f"the server chose {version} in its ServerHello (the handshake then failed{reason})",
        )
    if flight.version is not None:
        return Answer(HandshakeOutcome.REFUSED, f"the server answered with {flight.version}")
    if flight.not_tls or (error is not None and error.kind is TlsErrorKind.NOT_TLS):
        detail = error.detail if error is not None else "not a TLS record"
        return Answer(HandshakeOutcome.ERROR, f"the server did not answer with TLS ({detail})")
    alert = flight.alert
    if alert is None and error is not None and error.kind is TlsErrorKind.ALERT:
        alert = error.detail
    if alert in _VERSION_ALERTS:
        return Answer(HandshakeOutcome.REFUSED, f"alert {alert}")
    if alert in _EXTENSION_ALERTS:
        retry, about = _EXTENSION_ALERTS[alert]
        return Answer(HandshakeOutcome.INCONCLUSIVE, f"alert {alert} ({about})", retry)
    confirm = "alpn" if alpn else None
    if alert in _AMBIGUOUS_ALERTS:
        return Answer(HandshakeOutcome.REFUSED, f"alert {alert}", confirm)
    if alert is not None:
        return Answer(HandshakeOutcome.INCONCLUSIVE, f"alert {alert} (not about the version)")
    if error is None or error.kind is TlsErrorKind.CLOSED:
        return Answer(HandshakeOutcome.REFUSED, "the server closed the connection", confirm)
    if error.kind is TlsErrorKind.VERSION:
        return Answer(HandshakeOutcome.REFUSED, "the server answered with another TLS version")
    return Answer(HandshakeOutcome.INCONCLUSIVE, f"handshake failed: {error.detail}")


def tls_handshake(spec: ConnectionSpec, *, version: str) -> TlsHandshake:
    """A bare TLS handshake offering only ``version``, asked again once if need be.

    Tells apart a server that refused the version from one that answered about
    something else, and from a client that could not offer the version at all
    (an error before any byte was sent): only the first is a refusal (RFC 8996).
    """
    alpn: tuple[str, ...] = OFFERED_ALPN
    sni = True
    first = _attempt(spec, version, alpn=alpn, sni=sni)
    if first.retry is None:
        return TlsHandshake(version, first.outcome, first.detail, alpn, sni)
    offered = "with ALPN " + ", ".join(alpn)
    if first.retry == "alpn":
        alpn, without = (), "without ALPN"
    else:
        offered, sni, without = "with the server name", False, "without it"
    second = _attempt(spec, version, alpn=alpn, sni=sni)
    if (second.outcome, second.detail) == (first.outcome, first.detail):
        detail = f"{first.detail}, {offered} and {without}"  # a refusal, confirmed
    else:
        detail = f"{offered}: {first.detail}; {without}: {second.detail}"
    return TlsHandshake(version, second.outcome, detail, alpn, sni)


@dataclass
class _Hello:
    """A client handshake driven by hand over memory BIOs, its ClientHello written."""

    tls: ssl.SSLObject
    incoming: ssl.MemoryBIO
    outgoing: ssl.MemoryBIO
    hello: bytes


def _client_hello(
    spec: ConnectionSpec, version: str, *, alpn: tuple[str, ...], sni: bool
) -> _Hello | Answer:
    """The ClientHello offering only ``version``, or why this client cannot write one."""
    try:
        context = spec.trust.context(alpn, version=version, check_hostname=sni)
    except (ssl.SSLError, ValueError) as exc:
        return Answer(
            HandshakeOutcome.CLIENT_CANNOT_OFFER,
            f"this client's TLS cannot offer {version} ({exc}): inconclusive",
        )
    incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
    tls = context.wrap_bio(incoming, outgoing, server_hostname=spec.server_name if sni else None)
    try:
        tls.do_handshake()
    except ssl.SSLWantReadError:
        pass
    except ssl.SSLError as exc:
        return Answer(
            HandshakeOutcome.CLIENT_CANNOT_OFFER,
            f"this client's OpenSSL cannot offer {version} ({ssl_reason(exc)}): inconclusive",
        )
    hello = outgoing.read()
    if not hello:
        return Answer(
            HandshakeOutcome.CLIENT_CANNOT_OFFER,
            f"the local OpenSSL produced no {version} ClientHello",
        )
    return _Hello(tls, incoming, outgoing, hello)


def _attempt(spec: ConnectionSpec, version: str, *, alpn: tuple[str, ...], sni: bool) -> Answer:
    hello = _client_hello(spec, version, alpn=alpn, sni=sni)
    if isinstance(hello, Answer):
        return hello
    try:
        connection = Connection.open(spec, Deadline(spec.timeout))
    except ProbeError as exc:
        return Answer(HandshakeOutcome.ERROR, exc.message)
    received = bytearray()
    try:
        connection.send_raw(hello.hello)
        return _answer(connection, hello, version, received, alpn=bool(alpn))
    except ProbeError as exc:
        if exc.kind is FailureKind.CLOSED:
            # A close and a reset say the same here, and which one arrives
            # depends on timing: one judgement keeps reports comparable.
            return judge_answer(version, read_first_flight(bytes(received)), None, alpn=bool(alpn))
        return Answer(HandshakeOutcome.ERROR, exc.message)
    finally:
        connection.close()


def _answer(
    connection: Connection, hello: _Hello, version: str, received: bytearray, *, alpn: bool
) -> Answer:
    """Read the server's answer to the ClientHello until it says what it makes of the
    version; ``received`` keeps its first bytes."""
    while True:
        data = connection.recv_raw(f"{version} handshake")
        if not data:
            return judge_answer(version, read_first_flight(bytes(received)), None, alpn=alpn)
        received += data[: max(0, _RECEIVED_LIMIT - len(received))]
        hello.incoming.write(data)
        try:
            hello.tls.do_handshake()
        except ssl.SSLWantReadError:
            pending = hello.outgoing.read()
            if pending:
                connection.send_raw(pending)
            continue
        except ssl.SSLCertVerificationError as exc:
            # A certificate is sent only after the server agreed to the
            # version in its ServerHello: the version was accepted.
            return Answer(
                HandshakeOutcome.ACCEPTED,
                f"the server agreed to {version} (its certificate then failed to verify:"
                f" {exc.verify_message})",
            )
        except ssl.SSLError as exc:
            flight = read_first_flight(bytes(received))
            return judge_answer(version, flight, classify_tls_error(exc), alpn=alpn)
        selected = hello.tls.selected_alpn_protocol()
        chose = f" (ALPN {selected})" if selected else ""
        return Answer(
            HandshakeOutcome.ACCEPTED, f"negotiated {hello.tls.version() or version}{chose}"
        )
