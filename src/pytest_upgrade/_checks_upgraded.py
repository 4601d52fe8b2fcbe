"""Checks on the upgraded exchange, and the protocol-specific checks.

The catalogue these implement is CHECKS.md; each rule's RFC section is in
its registration and shown next to every finding.
"""

from __future__ import annotations

from ._checks_refusal import _ALL_H2, _describe_failure
from ._model import (
    FailureKind,
    HandshakeOutcome,
    Observation,
    Severity,
)
from ._registry import UPGRADED, Verdict
from ._registry import check as _check

# -- checks on the upgraded exchange -------------------------------------------


@_check(
    "upgraded-succeeds",
    Severity.MUST,
    "RFC 9110 §15.5.22",
    "The same request made with the required protocol is answered with neither 426 nor 5xx.",
    _ALL_H2,
)
def check_upgraded_succeeds(observation: Observation) -> Verdict:
    exchange = observation.exchange(UPGRADED)
    if exchange is None:
        return Verdict.skip("no upgraded probe was made")
    expected = "a status other than 426 and 5xx"
    if exchange.response is None:
        failure = exchange.failure
        if failure is None:  # pragma: no cover
            return Verdict.skip("the upgraded probe recorded nothing")
        if failure.kind in (FailureKind.UNSUPPORTED, FailureKind.NOT_APPLICABLE):
            return Verdict.skip(failure.message)
        diagnosis = "Clients that upgrade as told still cannot use the endpoint."
        if failure.kind is FailureKind.ALPN_MISMATCH:
            diagnosis = (
                "The server does not offer h2 in ALPN, so clients told to upgrade cannot: enable"
                " HTTP/2 on the TLS listener (and on any TLS-terminating proxy in front of it)."
            )
        return Verdict.violated(
            f"the upgraded request failed: {failure.message}",
            expected=expected,
            actual=failure.message,
            diagnosis=diagnosis,
        )
    response = exchange.response
    actual = response.status_line
    if response.status == 426:
        return Verdict.violated(
            "the upgraded request was also answered with 426",
            expected=expected,
            actual=actual,
            diagnosis=(
                "The server refuses the required protocol too: it probably decides on something"
                " other than the protocol the request arrived with, or a proxy in front of it"
                " speaks the legacy protocol to the app."
            ),
        )
    if response.status >= 500:
        return Verdict.violated(
            f"the upgraded request was answered with {response.status}",
            expected=expected,
            actual=actual,
            diagnosis="The server failed on the upgraded request; see the app's traceback below.",
        )
    return Verdict.ok("the upgraded request succeeded", expected=expected, actual=actual)


@_check(
    "upgraded-protocol",
    Severity.MUST,
    "RFC 9113 §3.2",
    "The upgraded exchange really used the required protocol.",
    _ALL_H2,
)
def check_upgraded_protocol(observation: Observation) -> Verdict:
    exchange = observation.exchange(UPGRADED)
    if exchange is None:
        return Verdict.skip("no upgraded probe was made")
    expected = "HTTP/2 selected by ALPN (h2)"
    transport = exchange.transport
    if transport is None:
        reason = exchange.failure.message if exchange.failure else "no connection"
        return Verdict.skip(f"the upgraded probe did not get a connection: {reason}")
    actual = f"ALPN {transport.alpn or 'none'}, {transport.tls_version or 'no TLS'}"
    if exchange.response is not None:
        actual += f", response over HTTP/{exchange.response.http_version}"
    if transport.alpn != "h2":
        return Verdict.violated(
            "HTTP/2 was not negotiated",
            expected=expected,
            actual=actual,
            diagnosis="Enable HTTP/2 (ALPN h2) on the TLS endpoint that serves this path.",
        )
    if exchange.response is None:
        return Verdict.skip(
            f"h2 was negotiated but no response arrived: {_describe_failure(exchange)}"
        )
    return Verdict.ok("HTTP/2 was negotiated by ALPN", expected=expected, actual=actual)


_CONNECTION_SPECIFIC = (
    "connection",
    "upgrade",
    "keep-alive",
    "proxy-connection",
    "transfer-encoding",
)


@_check(
    "h2-no-connection-headers",
    Severity.MUST,
    "RFC 9113 §8.2.2",
    "An HTTP/2 response carries no connection-specific header fields.",
    _ALL_H2,
)
def check_h2_no_connection_headers(observation: Observation) -> Verdict:
    seen: list[str] = []
    checked = 0
    for exchange in observation.exchanges:
        response = exchange.response
        if response is None or response.http_version != "2":
            continue
        checked += 1
        seen += [
            f"{name}: {value} ({exchange.role})"
            for name, value in response.headers
            if name in _CONNECTION_SPECIFIC
        ]
    if not checked:
        return Verdict.skip("no HTTP/2 response was received")
    if seen:
        return Verdict.violated(
            "an HTTP/2 response carries connection-specific fields",
            expected="none of " + ", ".join(_CONNECTION_SPECIFIC),
            actual="; ".join(seen),
            diagnosis=(
                "HTTP/2 responses with these fields are malformed (RFC 9113 §8.2.2) and clients"
                " must treat them as errors; remove them when the response goes out over HTTP/2."
            ),
        )
    return Verdict.ok("no HTTP/2 response carries connection-specific fields")


_LEGACY_TLS = ("TLSv1", "TLSv1.1")


@_check(
    "tls-legacy-refused",
    Severity.MUST,
    "RFC 8996 §2-3, RFC 9113 §9.2",
    "TLS 1.0 and TLS 1.1 handshakes are refused.",
    _ALL_H2,
)
def check_tls_legacy_refused(observation: Observation) -> Verdict:
    handshakes = [h for h in observation.handshakes if h.version in _LEGACY_TLS]
    if not handshakes:
        return Verdict.skip("no TLS handshake probe was made (the target has no https URL)")
    lines = [f"{h.version}: {h.outcome.value} ({h.detail})" for h in handshakes]
    actual = "; ".join(lines)
    accepted = [h for h in handshakes if h.outcome is HandshakeOutcome.ACCEPTED]
    if accepted:
        versions = ", ".join(h.version for h in accepted)
        return Verdict.violated(
            f"the server accepts {versions}",
            expected="TLS 1.0 and 1.1 refused",
            actual=actual,
            diagnosis=(
                "TLS 1.0 and 1.1 are deprecated (RFC 8996) and HTTP/2 requires TLS 1.2 or later"
                " (RFC 9113 §9.2): set the server's minimum TLS version to 1.2."
            ),
        )
    inconclusive = [h for h in handshakes if h.outcome is not HandshakeOutcome.REFUSED]
    if inconclusive:
        return Verdict.skip("inconclusive, never passed: " + actual)
    return Verdict.ok("TLS 1.0 and 1.1 are refused", actual=actual)
