"""Builders for hand-made observations: the unit tests of the checks, the judge
and the reports build what the probes would have recorded, without sockets.
"""

from __future__ import annotations

import datetime as dt

from pytest_upgrade._model import (
    AnsweredBy,
    Exchange,
    Observation,
    ProbeFailure,
    Requirement,
    Response,
    TlsHandshake,
    Transport,
)

HTTPS = "https://127.0.0.1:8443"
# When the probes of a hand-built observation ran: the checks read no clock.
OBSERVED_AT = dt.datetime(2026, 6, 1, 12, 0, tzinfo=dt.UTC)
TLS_HTTP11 = Transport("https", "TLSv1.3", "http/1.1")
TLS_H2 = Transport("https", "TLSv1.3", "h2")

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
) -> Response:
    """A response as a probe records it: field names lower-cased, the usual reason phrase."""
    return Response(
        status=status,
        http_version=http_version,
        headers=tuple((name.lower(), value) for name, value in headers),
        body=body,
        reason=_REASONS.get(status, "") if http_version != "2" else "",
        body_truncated=truncated,
    )


def exchange(
    role: str,
    answer: Response | ProbeFailure,
    *,
    url: str = HTTPS + "/",
    offered: str = "HTTP/1.1 over TLS, ALPN http/1.1",
    method: str = "GET",
    transport: Transport | None = None,
    request_headers: tuple[tuple[str, str], ...] = (),
    answered_by: AnsweredBy = AnsweredBy.UNKNOWN,
) -> Exchange:
    """One probe's exchange: ``answer`` is the response it got, or why it got none."""
    return Exchange(
        role=role,
        url=url,
        method=method,
        offered=offered,
        request_headers=request_headers,
        transport=transport,
        response=answer if isinstance(answer, Response) else None,
        failure=answer if isinstance(answer, ProbeFailure) else None,
        answered_by=answered_by,
    )


def observation(
    requirement: Requirement,
    *exchanges: Exchange,
    handshakes: tuple[TlsHandshake, ...] = (),
    target: str = HTTPS,
    as_of: dt.date | None = None,
    observed_at: dt.datetime | None = OBSERVED_AT,
) -> Observation:
    """What the probes of ``requirement`` recorded."""
    return Observation(
        requirement=requirement,
        target=target,
        exchanges=exchanges,
        handshakes=handshakes,
        as_of=as_of,
        observed_at=observed_at,
    )
