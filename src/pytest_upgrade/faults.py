"""Which probe failures are evidence about the target, and which only say it could not be asked.

A check may only judge what the target did. A TLS alert (RFC 8446 §6.2), a
version the server refused, an answer that is not the protocol spoken, or a
response (a 4xx or 5xx, or a close after a complete answer, recorded as the
response) is something the target *did*. A timeout or a connection closed or
reset before any answer is not: an upstream that never answers, a load
balancer's idle reset or a host that resets every connection look the same
whatever the target's policy is, and the README promises "no answer within
the timeout ... is an error". Pure: one :class:`~pytest_upgrade._model.Exchange`
in, a cause or None out.
"""

from __future__ import annotations

from collections.abc import Sequence

from ._model import Exchange, FailureKind
from .probes.client_cert import GIVE_ONE
from .protocols import PROTOCOLS
from .protocols.roles import LEGACY

__all__ = ["EVALUATED_ROLES", "client_certificate_refused", "unevaluable"]

# The exchanges whose answers the requirement's verdict is drawn from: the
# old client's request (must get 426, RFC 9110 §15.5.22) and the new one's
# (must succeed). Other roles (the h2c upgrade, the WebSocket version probe,
# the TLS version handshakes) are judged by their own checks.
EVALUATED_ROLES = frozenset({LEGACY, *(r for p in PROTOCOLS.values() for r in p.upgraded_roles)})

# A handshake closed or reset by the peer (probes.connection words them so):
# not an alert, not a version refused — no decision the server announced.
_SILENT_TLS = ("closed the connection during the TLS handshake", "during the TLS handshake,")


def unevaluable(exchange: Exchange, *, others_answered: bool) -> str | None:
    """Why ``exchange``'s failure says nothing about the target (None: it does, or none).

    A timeout never does. A connection closed or reset before any answer, or
    a TLS handshake closed without an alert, does when another request probe
    of the requirement was answered: the host speaks, and this was its
    reaction to what this client asked (an old client's TLS version refused
    by a bare close, an HTTP/1.1 client dropped); with no answer to any
    probe it is a host that closes everything. Only the evaluated roles'
    request probes count; QUIC (an alternative service, RFC 7838) is judged
    by the h3 checks.
    """
    failure = exchange.failure
    if failure is None or exchange.response is not None or exchange.role not in EVALUATED_ROLES:
        return None
    if exchange.offer is not None and exchange.offer.quic:
        return None
    if failure.kind is FailureKind.TIMEOUT:
        return "no answer within the probe timeout: not evidence either way"
    if others_answered:
        return None
    if failure.kind is FailureKind.CLOSED:
        return "closed or reset before any answer, as every probe was: not evidence either way"
    if failure.kind is FailureKind.TLS_REFUSED and any(t in failure.message for t in _SILENT_TLS):
        return (
            "the TLS handshake was closed or reset without an alert, and no probe was answered:"
            " not evidence either way"
        )
    return None


# What a server that asked for a client certificate answers when it completed the
# handshake without one, or with one it refuses: nginx's ssl_verify_client on
# answers 400 for its internal 496 ("No required SSL certificate was sent") and
# 495 ("The SSL certificate error"); others answer 403.
_CERTIFICATE_STATUSES = frozenset({400, 403, 495, 496})


def client_certificate_refused(exchanges: Sequence[Exchange], offered: str | None) -> str | None:
    """Why the answers are about the client certificate, not the requirement: the server
    asked for one in the TLS handshake (its CertificateRequest, seen by the probe:
    ``Transport.certificate_requested``) and answered every request probe of the
    evaluated roles with 400 or 403. None without that evidence: then the answers
    are judged as they are.
    """
    answered = [
        (e, e.response.status)
        for e in exchanges
        if e.response is not None
        and e.role in EVALUATED_ROLES
        and not (e.offer is not None and e.offer.quic)
    ]
    if not answered or any(status not in _CERTIFICATE_STATUSES for _, status in answered):
        return None
    asked = [
        (e, status)
        for e, status in answered
        if e.transport is not None and e.transport.certificate_requested
    ]
    if not asked:
        return None
    first, status = asked[0]
    where = f"{first.role} probe ({first.offered})"
    if offered is None:
        return (
            f"{where}: the server asked for a client certificate in the TLS handshake, none"
            f" was given, and it answered {status} to every request: a client certificate"
            f" is required; {GIVE_ONE}"
        )
    return (
        f"{where}: the server asked for a client certificate in the TLS handshake and"
        f" answered {status} to every request made with {offered}: it does not accept"
        " that certificate (is it issued by a CA the server trusts, and still valid?)"
    )
