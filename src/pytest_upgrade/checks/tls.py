"""TLS requirements: older versions and cleartext are refused."""

from __future__ import annotations

from .._model import (
    HandshakeOutcome,
    Observation,
    Response,
    Severity,
    TlsHandshake,
)
from .._verdict import Verdict
from ..grammar import parse_connection, parse_upgrade
from ..probes.target import LEGACY_TLS_VERSIONS
from ..protocols import version_tuple
from ..protocols.roles import LEGACY
from .preconditions import TLS_REQUIREMENTS, https_redirect, required_tls
from .registry import Phase
from .registry import check as _check


@_check(
    "tls-legacy-refused",
    Severity.MUST,
    "RFC 8996 §2-3, RFC 9113 §9.2",
    "TLS 1.0 and TLS 1.1 handshakes are refused.",
    ("h2", *TLS_REQUIREMENTS),
    phase=Phase.ENFORCED,
)
def check_tls_legacy_refused(observation: Observation) -> Verdict:
    handshakes = [h for h in observation.handshakes if h.version in LEGACY_TLS_VERSIONS]
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
                " (RFC 9113 §9.2): set the server's minimum TLS version to 1.2. (A client whose"
                " TLS is too old sees a handshake error, which is the intended refusal.)"
            ),
        )
    inconclusive = [h for h in handshakes if h.outcome is not HandshakeOutcome.REFUSED]
    if inconclusive:
        return Verdict.skip("inconclusive, never passed: " + actual)
    return Verdict.ok("TLS 1.0 and 1.1 are refused", actual=actual)


def _handshake_lines(handshakes: list[TlsHandshake]) -> str:
    return "; ".join(f"{h.version}: {h.outcome.value} ({h.detail})" for h in handshakes)


@_check(
    "tls-below-required-refused",
    Severity.MUST,
    "RFC 8446 §4.2.1",
    "A TLS 1.2 handshake is refused when TLS 1.3 is required.",
    ("TLS/1.3",),
    phase=Phase.ENFORCED,
)
def check_tls_below_required_refused(observation: Observation) -> Verdict:
    handshakes = [h for h in observation.handshakes if h.version == "TLSv1.2"]
    if not handshakes:
        return Verdict.skip("no TLS 1.2 handshake probe was made (the target has no https URL)")
    actual = _handshake_lines(handshakes)
    outcome = handshakes[0].outcome
    if outcome is HandshakeOutcome.ACCEPTED:
        return Verdict.violated(
            "the server accepts TLS 1.2",
            expected="TLS 1.2 refused",
            actual=actual,
            diagnosis="Set the server's minimum TLS version to 1.3.",
        )
    if outcome is not HandshakeOutcome.REFUSED:
        return Verdict.skip("inconclusive, never passed: " + actual)
    return Verdict.ok("TLS 1.2 is refused", actual=actual)


@_check(
    "cleartext-refused",
    Severity.MUST,
    "RFC 2817 §4, RFC 9110 §15.4",
    "A cleartext request gets 426 with Upgrade: TLS/1.x and Connection: upgrade, or a"
    " redirect to the same resource over https.",
    TLS_REQUIREMENTS,
    phase=Phase.ENFORCED,
)
def check_cleartext_refused(observation: Observation) -> Verdict:
    exchange = observation.exchange(LEGACY)
    if exchange is None or exchange.response is None:
        failure = exchange.failure if exchange else None
        return Verdict.skip(failure.message if failure else "no cleartext probe was made")
    response = exchange.response
    minimum = required_tls(observation)
    expected = (
        f"426 with Upgrade: TLS/{'.'.join(map(str, minimum))} and Connection: upgrade,"
        " or a redirect to the same resource over https"
    )
    redirect = https_redirect(exchange)
    if redirect is not None and redirect.stands_in:
        return Verdict.ok(
            "the cleartext request is redirected to the same resource over https",
            expected=expected,
            actual=f"{response.status_line}, Location: {redirect.location}",
        )
    if redirect is not None:
        return Verdict.violated(
            f"the redirect does not lead to the same resource over https: {redirect.problem}",
            expected=expected,
            actual=f"{response.status_line}, Location: {redirect.location}",
            diagnosis=(
                "Clients follow the redirect to where it points: a cleartext URL keeps them on"
                " cleartext, another host or path breaks every deep link. Redirect to"
                " https://HOST followed by the requested path and query (nginx:"
                " `return 308 https://$host$request_uri;`)."
            ),
        )
    problems = _cleartext_426_problems(response, minimum)
    actual = f"{response.status_line}, Upgrade: {response.combined('upgrade')}, Connection:"
    actual += f" {response.combined('connection')}"
    if problems:
        return Verdict.violated(
            "the cleartext request is not refused as RFC 2817 describes: " + "; ".join(problems),
            expected=expected,
            actual=actual,
            diagnosis=(
                "Cleartext is still served or refused without directions: answer it with 426 and"
                " Upgrade: TLS/1.x (RFC 2817 §4), or redirect (308) to the https URL of the same"
                " resource."
            ),
        )
    return Verdict.ok("the cleartext request is refused with 426", expected=expected, actual=actual)


def _cleartext_426_problems(response: Response, minimum: tuple[int, ...]) -> list[str]:
    if response.status != 426:
        return [f"answered with {response.status}"]
    problems: list[str] = []
    protocols = parse_upgrade(response.combined("upgrade") or "").protocols
    if not any(
        p.name.lower() == "tls" and (version_tuple(p.version) or (0,)) >= minimum for p in protocols
    ):
        problems.append("Upgrade does not name TLS at the required version")
    if "upgrade" not in parse_connection(response.combined("connection") or "").options:
        problems.append("Connection lacks upgrade")
    return problems
