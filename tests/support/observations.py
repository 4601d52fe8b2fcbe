"""Builders for hand-made observations: the unit tests of the checks, the judge
and the reports build what the probes would have recorded, without sockets.

One builder per recorded value (``response``, ``failure``, ``exchange``,
``handshake``, ``observation``), defaulting to what a probe of the bundled
server over TLS records, and ``run``/``said`` to run one check and read all it said.
"""

from __future__ import annotations

import datetime as dt

from pytest_upgrade._model import (
    AnsweredBy,
    Exchange,
    FailureKind,
    Finding,
    HandshakeOutcome,
    Observation,
    Offer,
    ProbeFailure,
    Requirement,
    Response,
    TlsHandshake,
    Transport,
)
from pytest_upgrade.checks.catalogue import REGISTRY

HTTPS = "https://127.0.0.1:8443"
# When the probes of a hand-built observation ran: the checks read no clock.
OBSERVED_AT = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
TLS_HTTP11 = Transport("https", "TLSv1.3", "http/1.1")
TLS_H2 = Transport("https", "TLSv1.3", "h2")

# The checks that read the 426 itself; none of them can pass without one.
ON_THE_426 = (
    "upgrade-present",
    "upgrade-syntax",
    "upgrade-names-required",
    "connection-upgrade",
    "problem-media-type",
    "problem-body",
    "problem-actionable",
    "not-cacheable",
)

_REASONS = {
    101: "Switching Protocols",
    200: "OK",
    400: "Bad Request",
    426: "Upgrade Required",
    505: "HTTP Version Not Supported",
}


def response(
    status: int,
    *headers: tuple[str, str],
    http_version: str = "1.1",
    body: bytes = b"",
    truncated: bool = False,
    reason: str | None = None,
) -> Response:
    """A response as a probe records it: field names lower-cased, the usual reason phrase
    (none over HTTP/2 and HTTP/3, which have none)."""
    if reason is None:
        reason = _REASONS.get(status, "") if http_version not in ("2", "3") else ""
    return Response(
        status=status,
        http_version=http_version,
        headers=tuple((name.lower(), value) for name, value in headers),
        body=body,
        reason=reason,
        body_truncated=truncated,
    )


def failure(kind: FailureKind, message: str = "") -> ProbeFailure:
    """Why a probe got no response; the message defaults to one naming the kind."""
    return ProbeFailure(kind, message or f"probe failed: {kind.value}")


def exchange(
    role: str,
    answer: Response | ProbeFailure | None = None,
    *,
    url: str = HTTPS + "/",
    offered: str = "HTTP/1.1 over TLS, ALPN http/1.1",
    offer: Offer | None = None,
    method: str = "GET",
    transport: Transport | None = None,
    request_headers: tuple[tuple[str, str], ...] = (),
    answered_by: AnsweredBy = AnsweredBy.UNKNOWN,
    app_headers: tuple[tuple[str, str], ...] | None = None,
    round_trip: str = "",
    failed_after: ProbeFailure | None = None,
) -> Exchange:
    """One probe's exchange: ``answer`` is the response it got, or why it got none
    (None: neither, as when the request was never made); ``failed_after`` is what
    failed after a response (a WebSocket round trip that got no answer)."""
    return Exchange(
        role,
        url,
        method,
        offered,
        request_headers,
        transport,
        response=answer if isinstance(answer, Response) else None,
        failure=answer if isinstance(answer, ProbeFailure) else failed_after,
        answered_by=answered_by,
        offer=offer,
        app_headers=app_headers,
        round_trip=round_trip,
    )


def handshake(
    version: str,
    outcome: HandshakeOutcome,
    detail: str = "",
    *,
    alpn: tuple[str, ...] = (),
    sni: bool = True,
) -> TlsHandshake:
    """One TLS version's handshake: ``detail`` is the alert, the version or the reason."""
    return TlsHandshake(version, outcome, detail, alpn, sni=sni)


def observation(
    requirement: Requirement,
    *exchanges: Exchange,
    handshakes: tuple[TlsHandshake, ...] = (),
    target: str = HTTPS,
    as_of: dt.date | None = None,
    observed_at: dt.datetime | None = OBSERVED_AT,
    bundled: bool = False,
    app_errors: tuple[str, ...] = (),
) -> Observation:
    """What the probes of ``requirement`` recorded."""
    return Observation(
        requirement,
        target,
        exchanges,
        handshakes,
        as_of=as_of,
        observed_at=observed_at,
        bundled=bundled,
        app_errors=app_errors,
    )


def run(check_id: str, observation: Observation) -> Finding:
    """One named check of the catalogue over ``observation``."""
    return REGISTRY[check_id].run(observation)


def said(finding: Finding) -> str:
    """Everything a finding says, in one string to search."""
    return " ".join((finding.message, finding.expected, finding.actual, finding.diagnosis))
