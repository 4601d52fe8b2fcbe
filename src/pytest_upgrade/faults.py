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

from ._model import Exchange, FailureKind
from .protocols import PROTOCOLS
from .protocols.roles import LEGACY

__all__ = ["EVALUATED_ROLES", "unevaluable"]

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
