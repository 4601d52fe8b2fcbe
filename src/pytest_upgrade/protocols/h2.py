"""``h2``: HTTP/2 over TLS, negotiated by ALPN (RFC 9113 §3.2)."""

from __future__ import annotations

from functools import partial
from types import MappingProxyType
from typing import Any

from .._model import Exchange, FailureKind, Observation, Refusal, Requirement, Response, Severity
from .._verdict import Verdict
from ..grammar import parse_upgrade
from ..probes.endpoint import ClientTrust
from ..probes.http1 import http1_exchange
from ..probes.http2 import http2_exchange
from ..probes.target import LEGACY_TLS_VERSIONS, Probe, Target, handshakes
from ._base import Protocol, alpn_verdict, mention, no_response
from .pieces import missing, requirement_request
from .roles import LEGACY, UPGRADED

__all__ = ["H2"]


def _plan(requirement: Requirement, target: Target, timeout: float) -> list[Probe]:
    https = target.https
    if https is None:
        return [missing(LEGACY, requirement, "https"), missing(UPGRADED, requirement, "https")]
    spec = target.spec_for(https, timeout)
    request = requirement_request(requirement, target)
    return [
        # An HTTP/1.1-only client: ALPN offers http/1.1 and nothing else.
        partial(http1_exchange, spec, request, role=LEGACY, alpn=("http/1.1",)),
        # A client that can do both, as browsers and httpx do; the server picks (RFC 9113 §3.2).
        partial(http2_exchange, spec, request, role=UPGRADED, alpn=("h2", "http/1.1")),
        *handshakes(spec, LEGACY_TLS_VERSIONS),
    ]


def _upgrade_field(observation: Observation, response: Response, value: str) -> Verdict:
    """Does Upgrade ask for HTTP/2? (RFC 9110 §7.8; IANA HTTP Upgrade Token registry)."""
    parsed = parse_upgrade(value)
    legacy = observation.exchange(LEGACY)
    cleartext = legacy is not None and legacy.url.startswith("http://")
    registered = notes = False
    for protocol in parsed.protocols:
        name, version = protocol.name.lower(), protocol.version
        if name == "http" and version == "2.0":
            # The registered token is "HTTP" with a DIGIT.DIGIT version.
            registered = True
        elif (name == "http" and version == "2") or (name == "h2" and version is None):
            notes = True
        elif name == "h2c" and version is None and cleartext:
            registered = True
    expected = "Upgrade listing HTTP/2.0"
    actual = f"Upgrade: {value}"
    if registered:
        return Verdict.ok("Upgrade names HTTP/2", expected=expected, actual=actual)
    if notes:
        return Verdict.violated(
            "Upgrade names HTTP/2 in a form that is not the registered token",
            expected=expected,
            actual=actual,
            diagnosis=(
                'The IANA upgrade token is "HTTP" with a DIGIT.DIGIT version (HTTP/2.0); "h2" is'
                " an ALPN identifier and HTTP/2 lacks the minor digit. Clients that match the"
                " registered form will not recognise it."
            ),
            severity=Severity.SHOULD,
        )
    return Verdict.violated(
        "Upgrade does not name HTTP/2",
        expected=expected,
        actual=actual,
        diagnosis=(
            "h2c names cleartext HTTP/2 and is meaningless on a TLS connection"
            if any(p.name.lower() == "h2c" for p in parsed.protocols)
            else "The client is not told to switch to the protocol the requirement declares."
        ),
    )


def _upgraded(observation: Observation, exchange: Exchange) -> Verdict:
    """RFC 9113 §3.2: HTTP/2 over TLS is the one ALPN selects as "h2"."""
    expected = "HTTP/2 selected by ALPN (h2)"
    transport = exchange.transport
    if transport is None:
        reason = no_response(exchange, "no connection")
        return Verdict.skip(f"the upgraded probe did not get a connection: {reason}")
    actual = f"ALPN {transport.alpn or 'none'}, {transport.tls_version or 'no TLS'}"
    if exchange.response is not None:
        actual += f", response over HTTP/{exchange.response.http_version}"
    return alpn_verdict(
        exchange,
        "h2",
        name="HTTP/2",
        how=" by ALPN",
        expected=expected,
        actual=actual,
        diagnosis="Enable HTTP/2 (ALPN h2) on the TLS endpoint that serves this path.",
    )


def _client_options(target: Target, trust: ClientTrust) -> dict[str, Any]:
    if target.https is None:
        raise ValueError("the target has no https URL to speak h2 to")
    # http1=False: HTTP/2 as chosen by ALPN (RFC 9113 §3.2), never a fallback to HTTP/1.1.
    return {
        "base_url": target.https.url(""),
        "http1": False,
        "http2": True,
        "verify": trust.context(),
    }


def _enforce(scheme: str, http_version: str, spoken: str) -> Refusal | None:
    if scheme == "https" and http_version == "2":
        return None
    # Over cleartext the client first needs TLS, then HTTP/2 by ALPN.
    upgrade = "HTTP/2.0" if scheme == "https" else "TLS/1.2, HTTP/2.0"
    return Refusal(upgrade, "HTTP/2 over TLS", spoken)


H2 = Protocol(
    token="h2",
    aliases=("HTTP/2",),
    mention=mention(r"HTTP/2(?:\.0)?|HTTP2|h2"),
    roles=(LEGACY, UPGRADED),
    plan=_plan,
    judge_upgrade_field=_upgrade_field,
    judge_upgraded=_upgraded,
    client_options=_client_options,
    enforce=_enforce,
    failure_hints=MappingProxyType(
        {
            FailureKind.ALPN_MISMATCH: (
                "The server does not offer h2 in ALPN, so clients told to upgrade cannot: enable"
                " HTTP/2 on the TLS listener (and on any TLS-terminating proxy in front of it)."
            )
        }
    ),
)
