"""``TLS/1.2`` and ``TLS/1.3``: a minimum TLS version (RFC 8446; RFC 2817 for the 426)."""

from __future__ import annotations

from functools import partial
from types import MappingProxyType
from typing import Any

from .._model import (
    Exchange,
    FailureKind,
    HandshakeOutcome,
    Observation,
    Refusal,
    Requirement,
    Response,
)
from .._verdict import Verdict
from ..probes.endpoint import TLS_VERSIONS, ClientTrust
from ..probes.http1 import http1_exchange
from ..probes.http2 import http2_exchange
from ..probes.target import Probe, Target, handshakes
from ..probes.tls_upgrade import tls_upgrade_exchanges
from ._base import (
    ClientOptions,
    Enforcement,
    FailureDiagnosis,
    Protocol,
    UpgradedJudge,
    UpgradeFieldJudge,
    mention,
    version_tuple,
    versioned_verdict,
)
from .pieces import Plan, missing, requirement_request
from .roles import LEGACY, UPGRADED

__all__ = ["TLS12", "TLS13", "TLS_UPGRADE", "TLS_UPGRADED"]

# The in-band upgrade (RFC 2817 §3.2): OPTIONS * with Upgrade: TLS/1.x over cleartext,
# then the request over the connection upgraded to TLS.
TLS_UPGRADE = "tls-upgrade"
TLS_UPGRADED = "tls-upgraded"


def _plan_for(token: str, ssl_version: str) -> Plan:
    def plan(requirement: Requirement, target: Target, timeout: float) -> list[Probe]:
        request = requirement_request(requirement, target)
        probes: list[Probe] = []
        if target.http is not None:
            cleartext = target.spec_for(target.http, timeout)
            probes.append(partial(http1_exchange, cleartext, request, role=LEGACY))
            if target.in_band_tls:
                # RFC 2817 §3.2: the in-band upgrade a 426 naming TLS/1.x points to
                # (the bundled server makes one only when told to: tls_upgrade).
                upgrade = partial(
                    tls_upgrade_exchanges,
                    cleartext,
                    request,
                    token=token,
                    tls_minimum=ssl_version,
                    role=TLS_UPGRADE,
                    upgraded_role=TLS_UPGRADED,
                )
                probes.append(upgrade)
        else:
            probes.append(missing(LEGACY, requirement, "cleartext (http)"))
        https = target.https
        if https is None:
            probes.append(missing(UPGRADED, requirement, "https"))
            return probes
        spec = target.spec_for(https, timeout)
        below = tuple(v for v in TLS_VERSIONS if TLS_VERSIONS[v] < TLS_VERSIONS[ssl_version])
        # The request as a current client makes it: HTTP/2 when the server offers
        # it, HTTP/1.1 otherwise; what is judged is the TLS version under it.
        probes.append(
            partial(
                http2_exchange,
                spec,
                request,
                role=UPGRADED,
                tls_minimum=ssl_version,
                http1_fallback=True,
            )
        )
        probes += handshakes(spec, (*below, ssl_version))
        return probes

    return plan


def _upgrade_field_for(minimum: tuple[int, ...]) -> UpgradeFieldJudge:
    def upgrade_field(observation: Observation, response: Response, value: str) -> Verdict:
        # RFC 2817 §3-4: "TLS/1.x" tokens; a later version also satisfies.
        label = "TLS/" + ".".join(map(str, minimum)) + " or later"
        return versioned_verdict(value, "tls", minimum, label)

    return upgrade_field


def _upgraded_for(minimum: tuple[int, ...]) -> UpgradedJudge:
    label = "TLSv" + ".".join(map(str, minimum))

    def upgraded(observation: Observation, exchange: Exchange) -> Verdict:
        expected = f"{label} or later negotiated"
        transport = exchange.transport
        if transport is None or transport.tls_version is None:
            reason = exchange.failure.message if exchange.failure else "no TLS connection"
            return Verdict.skip(f"no TLS connection to judge: {reason}")
        negotiated = version_tuple(transport.tls_version.removeprefix("TLSv")) or (0,)
        pinned = [h for h in observation.handshakes if h.version == label]
        note = ""
        if pinned:
            note = f"; a {label}-only handshake: {pinned[0].outcome.value} ({pinned[0].detail})"
        actual = f"{transport.tls_version}{note}"
        if negotiated >= minimum:
            return Verdict.ok(
                f"{transport.tls_version} was negotiated", expected=expected, actual=actual
            )
        return Verdict.violated(  # pragma: no cover - the client never offers less than the minimum
            f"{transport.tls_version} was negotiated", expected=expected, actual=actual
        )

    return upgraded


def _diagnose_for(ssl_version: str) -> FailureDiagnosis:
    def diagnose(observation: Observation, exchange: Exchange) -> str | None:
        # A refused request handshake while a bare handshake at the version was
        # accepted: the refusal is about what else the request offered, not the version.
        failure = exchange.failure
        if failure is None or failure.kind is not FailureKind.TLS_REFUSED:
            return None
        pinned = [h for h in observation.handshakes if h.version == ssl_version]
        if not pinned or pinned[0].outcome is not HandshakeOutcome.ACCEPTED:
            return None
        return (
            f"A bare {ssl_version} handshake was accepted ({pinned[0].detail}), so the server"
            " refused something else this request's handshake offered (ALPN h2, http/1.1;"
            " the server name), not the TLS version: offer HTTP/2 or HTTP/1.1 by ALPN on"
            " the listener (RFC 7301 §3.2)."
        )

    return diagnose


def _client_options_for(token: str, ssl_version: str) -> ClientOptions:
    def client_options(target: Target, trust: ClientTrust) -> dict[str, Any]:
        if target.https is None:
            raise ValueError(f"the target has no https URL to speak {token} to")
        return {
            "base_url": target.https.url(""),
            "http2": True,
            "verify": trust.context(minimum=ssl_version),
        }

    return client_options


def _enforce_for(token: str, version: str) -> Enforcement:
    def enforce(scheme: str, http_version: str, spoken: str) -> Refusal | None:
        # TLS versions are enforced in the handshake (the server's minimum);
        # RFC 2817 §4: a 426 naming TLS, on the cleartext connection.
        if scheme == "http":
            return Refusal(token, f"TLS {version} or later (https)", spoken)
        return None

    return enforce


def _tls(version: str, *, names: str) -> Protocol:
    """TLS/``version``: that version or later; ``names`` is how a problem document names it."""
    token = f"TLS/{version}"
    ssl_version = f"TLSv{version}"  # the name in TLS_VERSIONS and ssl.TLSVersion
    minimum = version_tuple(version)
    assert minimum is not None
    return Protocol(
        token=token,
        aliases=(ssl_version,),
        mention=mention(names),
        roles=(LEGACY, UPGRADED, TLS_UPGRADE, TLS_UPGRADED),
        plan=_plan_for(token, ssl_version),
        judge_upgrade_field=_upgrade_field_for(minimum),
        judge_upgraded=_upgraded_for(minimum),
        client_options=_client_options_for(token, ssl_version),
        enforce=_enforce_for(token, version),
        server_tls_minimum=TLS_VERSIONS[ssl_version],
        diagnose=_diagnose_for(ssl_version),
        https_redirect_stands_in=True,
        failure_hints=MappingProxyType(
            {
                FailureKind.TLS_REFUSED: (
                    f"The server refuses a {token} handshake, so clients that upgrade as told"
                    " cannot connect: enable that TLS version on the listener."
                )
            }
        ),
    )


TLS12 = _tls("1.2", names=r"TLS ?(?:v|/)?1\.[23]|https(?=\b)|https://\S*")
TLS13 = _tls("1.3", names=r"TLS ?(?:v|/)?1\.3|https://\S*")
