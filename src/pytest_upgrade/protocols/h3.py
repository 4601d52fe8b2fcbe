"""``h3``: HTTP/3 is offered (RFC 9114), advertised by ``Alt-Svc`` (RFC 7838).

There is no upgrade token for HTTP/3 and a 426 cannot ask for QUIC, so the
"legacy" side is the advertisement: the request over HTTP/1.1 (``legacy``)
and over HTTP/2 (``legacy-h2``) is answered, with an ``Alt-Svc`` field naming
an ``h3`` endpoint on the target's host (RFC 9114 §3.1.1). The "upgraded"
side is the same request over HTTP/3, to the advertised endpoint
(``upgraded``). When that endpoint does not answer and is not the origin's
own port, one more request goes to the origin's port over UDP, where RFC
9114 §3.1 lets clients try HTTP/3 directly (``h3-direct``): if it answers,
the advertisement names the wrong port.

The probes depend on each other (the QUIC probe goes where the answers
point), yet run concurrently: each request is made once, by whichever probe
needs it first (:class:`_Once`), and the others wait for it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from functools import partial
from types import MappingProxyType
from typing import Any
from urllib.parse import urlsplit

from .._model import Exchange, FailureKind, Observation, ProbeFailure, Requirement, Response
from .._verdict import Verdict
from ..grammar import Alternative, parse_alt_svc
from ..probes.endpoint import ClientTrust, Endpoint
from ..probes.http1 import http1_exchange
from ..probes.http2 import http2_exchange
from ..probes.quic import h3_exchange, quic_unavailable
from ..probes.target import Probe, Target
from ._base import Protocol, alpn_verdict, mention, no_response
from .pieces import missing, requirement_request
from .roles import LEGACY, UPGRADED

__all__ = ["ADVERTISING_ROLES", "H3", "LEGACY_H2", "advertised_h3", "origin_host"]

LEGACY_H2 = "legacy-h2"
DIRECT = "h3-direct"
# The answers whose Alt-Svc advertises HTTP/3, preferred first: the HTTP/2
# one (clients reach h3 from h2 most often), then the HTTP/1.1 one.
ADVERTISING_ROLES = (LEGACY_H2, LEGACY)
H3_ALPN_ID = "h3"  # RFC 9114 §3.1, §11.1: the final version's ALPN identifier


class _Once:
    """A probe made once, by whichever caller comes first; later callers get its record."""

    def __init__(self, make: Callable[[], Exchange | None]) -> None:
        self._make = make
        self._lock = threading.Lock()
        self._done = False
        self._value: Exchange | None = None

    def __call__(self) -> Exchange | None:
        with self._lock:
            if not self._done:
                self._value = self._make()
                self._done = True
            return self._value


def origin_host(url: str) -> str:
    """The lower-cased host of an exchange's URL ("" when it has none)."""
    return (urlsplit(url).hostname or "").lower()


def advertised_h3(response: Response, host: str) -> Alternative | None:
    """The first ``h3`` alternative on ``host`` (the origin's) that ``response`` advertises."""
    value = response.combined("alt-svc")
    if value is None:
        return None
    for alternative in parse_alt_svc(value).alternatives:
        # RFC 7838 §2.1: an empty host is the origin's host.
        if alternative.protocol_id == H3_ALPN_ID and alternative.host in ("", host.lower()):
            return alternative
    return None


def _endpoint_of(
    answers: list[_Once], origin: Endpoint
) -> tuple[Alternative | None, Exchange | None]:
    # In order, each waited for only when the one before advertised nothing.
    for answer in answers:
        exchange = answer()
        if exchange is not None and exchange.response is not None:
            alternative = advertised_h3(exchange.response, origin.host)
            if alternative is not None:
                return alternative, exchange
    return None, None


def _plan(requirement: Requirement, target: Target, timeout: float) -> list[Probe]:
    https = target.https
    if https is None:
        return [missing(LEGACY, requirement, "https"), missing(UPGRADED, requirement, "https")]
    spec = target.spec_for(https, timeout)
    request = requirement_request(requirement, target)
    unsupported = quic_unavailable(spec)
    if unsupported is not None:
        # Without the extra, or through a proxy, nothing is probed: the requirement
        # is skipped, never passed.
        return [partial(_cannot, https, requirement, unsupported)]
    legacy = _Once(partial(http1_exchange, spec, request, role=LEGACY, alpn=("http/1.1",)))
    legacy_h2 = _Once(
        partial(http2_exchange, spec, request, role=LEGACY_H2, alpn=("h2", "http/1.1"))
    )

    def upgraded() -> Exchange:
        alternative, source = _endpoint_of([legacy_h2, legacy], https)
        if alternative is None or source is None:
            return Exchange(
                role=UPGRADED,
                url=https.url(requirement.path),
                method=requirement.method,
                offered="",
                failure=ProbeFailure(
                    FailureKind.NOT_APPLICABLE,
                    f"no answer advertised an h3 endpoint on {https.host} (see alt-svc-h3)",
                ),
            )
        # The alternative is on the origin's own host (advertised_h3): its name, or
        # empty (RFC 7838 §2.1); either way the node's address when a node is probed,
        # so each node's own QUIC listener is judged, not the one the name resolves to.
        host = spec.peer[0]
        return h3_exchange(spec, request, role=UPGRADED, alternative=(host, alternative.port))

    first_try = _Once(upgraded)

    def direct() -> Exchange | None:
        tried = first_try()
        assert tried is not None
        failure = tried.failure
        if failure is None or failure.kind not in (FailureKind.TIMEOUT, FailureKind.UNREACHABLE):
            return None
        alternative, _ = _endpoint_of([legacy_h2, legacy], https)
        if alternative is None or alternative.port == https.port:
            return None
        return h3_exchange(spec, request, role=DIRECT, alternative=spec.peer)

    return [legacy, legacy_h2, first_try, direct]


def _cannot(https: Endpoint, requirement: Requirement, reason: str) -> Exchange:
    return Exchange(
        role=UPGRADED,
        url=https.url(requirement.path),
        method=requirement.method,
        offered="HTTP/3 over QUIC, ALPN h3",
        failure=ProbeFailure(FailureKind.UNSUPPORTED, reason),
    )


def _upgrade_field(observation: Observation, response: Response, value: str) -> Verdict:
    # Never called: the checks on a 426 do not apply to h3 (legacy_refused=False).
    return Verdict.skip("no Upgrade field can ask for HTTP/3 (RFC 9114 §3.1: ALPN h3 over QUIC)")


def _upgraded(observation: Observation, exchange: Exchange) -> Verdict:
    """RFC 9114 §3.1: HTTP/3 is the protocol QUIC's TLS handshake selects as "h3"."""
    expected = "HTTP/3: ALPN h3 selected in the QUIC handshake"
    transport = exchange.transport
    if transport is None:
        return Verdict.skip(
            f"the QUIC handshake did not complete: {no_response(exchange, 'no connection')}"
        )
    actual = f"QUIC, ALPN {transport.alpn or 'none'}"
    return alpn_verdict(
        exchange,
        H3_ALPN_ID,
        name="HTTP/3",
        how=" over QUIC",
        expected=expected,
        actual=actual,
        diagnosis='Offer ALPN "h3" on the QUIC listener (drafts such as h3-29 are obsolete).',
    )


def _diagnose(observation: Observation, exchange: Exchange) -> str | None:
    """Why the advertised endpoint failed, when another probe shows it (the wrong port)."""
    direct = observation.exchange(DIRECT)
    if direct is None or direct.response is None or exchange.failure is None:
        return None
    try:
        port = urlsplit(direct.url).port
    except ValueError:
        port = None
    return (
        f"The advertised endpoint does not answer QUIC ({exchange.failure.message}), but HTTP/3"
        f" answers at the origin's own port {port} ({direct.response.status_line}): Alt-Svc"
        " advertises the wrong port. Advertise the port the QUIC listener uses."
    )


def _client_options(target: Target, trust: ClientTrust) -> dict[str, Any]:
    raise ValueError(
        "httpx does not speak HTTP/3, so an h3 requirement has no upgrade.client; the probes'"
        " HTTP/3 exchange is upgrade.upgraded (use aioquic for more)"
    )


_UDP_SILENT = (
    "Nothing answered QUIC at the advertised endpoint within the timeout (no reply to the"
    " client's Initial packets, RFC 9000 §7): its UDP port is filtered or nothing serves QUIC"
    " there. Open the UDP port (firewalls, security groups and load balancers often pass only"
    " TCP) or stop advertising h3 there."
)
_UDP_CLOSED = (
    "Nothing listens on the advertised UDP port (the host answered ICMP port unreachable):"
    " start the QUIC listener, or advertise the port it listens on."
)
_NOT_AUTHORITATIVE = (
    "The QUIC listener's certificate does not verify for the origin, and an alternative service"
    " must be authoritative for it (RFC 7838 §2.1, RFC 9114 §3.3): give it the certificate the"
    " TLS listener has."
)
_MALFORMED = (
    "The HTTP/3 answer breaks HTTP/3's message rules (RFC 9114 §4.1.2), so HTTP/3 clients"
    " discard it. Connection-specific fields (Connection, Upgrade, Keep-Alive,"
    " Proxy-Connection, Transfer-Encoding) are forbidden in HTTP/3 (RFC 9114 §4.2): an app"
    " that sets Upgrade or Connection must do so on HTTP/1.x answers only"
    ' (scope["http_version"] starting with "1").'
)
_NO_H3 = (
    'The QUIC listener does not offer ALPN "h3" (RFC 9114 §3.1): serve the final HTTP/3,'
    " not a draft version."
)

H3 = Protocol(
    token="h3",
    aliases=("HTTP/3",),
    mention=mention(r"HTTP/3(?:\.0)?|HTTP3|h3|QUIC"),
    roles=(LEGACY, UPGRADED, LEGACY_H2, DIRECT),
    plan=_plan,
    judge_upgrade_field=_upgrade_field,
    judge_upgraded=_upgraded,
    client_options=_client_options,
    enforce=None,  # no 426 can ask for QUIC: HTTP/3 is advertised, never enforced
    failure_hints=MappingProxyType(
        {
            FailureKind.TIMEOUT: _UDP_SILENT,
            FailureKind.UNREACHABLE: _UDP_CLOSED,
            FailureKind.CERTIFICATE: _NOT_AUTHORITATIVE,
            FailureKind.ALPN_MISMATCH: _NO_H3,
            FailureKind.PROTOCOL: _MALFORMED,
        }
    ),
    legacy_refused=False,
    diagnose=_diagnose,
)
