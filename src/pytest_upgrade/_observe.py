"""Which probes each requirement makes, run concurrently, into one Observation.

This module decides *what* to send for a requirement; ``_probes`` knows *how*.
Probes of one requirement are independent connections, so they run at the
same time on a small thread pool: a requirement costs about its slowest probe.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import Executor
from dataclasses import dataclass, field

from ._model import Exchange, FailureKind, Observation, ProbeFailure, Requirement, TlsHandshake
from ._probes import ClientTrust, Endpoint, http1_exchange, http2_exchange, tls_handshake

__all__ = ["Target", "observe", "target_error"]


@dataclass(frozen=True)
class Target:
    """Where the probes go: an https and/or an http base URL, and whom to trust."""

    https: Endpoint | None
    http: Endpoint | None
    trust: ClientTrust = field(compare=False)
    cafile: str | None = None  # shown in reproduce commands (curl --cacert)
    bundled: bool = False

    @property
    def label(self) -> str:
        endpoints = [e for e in (self.https, self.http) if e is not None]
        return " and ".join(e.url("") for e in endpoints)

    @classmethod
    def from_url(cls, url: str, *, cafile: str | None = None) -> Target:
        endpoint = Endpoint.from_url(url)
        trust = ClientTrust(cafile)
        if endpoint.scheme == "https":
            return cls(https=endpoint, http=None, trust=trust, cafile=cafile)
        return cls(https=None, http=endpoint, trust=trust, cafile=cafile)


Probe = Callable[[], Exchange | TlsHandshake]


def _missing(role: str, requirement: Requirement, needs: str) -> Exchange:
    return Exchange(
        role=role,
        url="",
        method=requirement.method,
        offered="",
        failure=ProbeFailure(
            FailureKind.NOT_APPLICABLE,
            f"the target has no {needs} URL, which the {requirement.protocol} requirement is"
            f" tested over",
        ),
    )


def _h2_plan(requirement: Requirement, target: Target, timeout: float) -> list[Probe]:
    https = target.https
    if https is None:
        return [
            lambda: _missing("legacy", requirement, "https"),
            lambda: _missing("upgraded", requirement, "https"),
        ]
    common = {
        "method": requirement.method,
        "path": requirement.path,
        "headers": requirement.headers,
        "trust": target.trust,
        "timeout": timeout,
    }
    probes: list[Probe] = [
        # An HTTP/1.1-only client: ALPN offers http/1.1 and nothing else.
        lambda: http1_exchange(https, role="legacy", alpn=("http/1.1",), **common),  # type: ignore[arg-type]
        # A client that can do both, as browsers and httpx do; the server picks (RFC 9113 §3.2).
        lambda: http2_exchange(https, role="upgraded", alpn=("h2", "http/1.1"), **common),  # type: ignore[arg-type]
    ]
    for version in ("TLSv1", "TLSv1.1"):
        probes.append(
            lambda version=version: tls_handshake(  # type: ignore[misc]
                https, version=version, trust=target.trust, timeout=timeout
            )
        )
    return probes


_PLANS: dict[str, Callable[[Requirement, Target, float], list[Probe]]] = {
    "h2": _h2_plan,
}


def observe(
    requirement: Requirement,
    target: Target,
    *,
    timeout: float,
    executor: Executor | None = None,
) -> Observation:
    """Run every probe of ``requirement`` against ``target`` and collect the records."""
    probes = _PLANS[requirement.protocol](requirement, target, timeout)
    if executor is None:
        results = [probe() for probe in probes]
    else:
        futures = [executor.submit(probe) for probe in probes]
        results = [future.result() for future in futures]
    return Observation(
        requirement=requirement,
        target=target.label,
        exchanges=tuple(r for r in results if isinstance(r, Exchange)),
        handshakes=tuple(r for r in results if isinstance(r, TlsHandshake)),
    )


_NOT_HTTP = frozenset({FailureKind.PROTOCOL, FailureKind.CLOSED})


def target_error(observation: Observation) -> str | None:
    """One line when the target could not be evaluated at all (the test errors).

    That is: a probe could not reach it, timed out, or did not trust it; or
    no probe got any HTTP answer and none was refused by a TLS decision
    (which would itself be the finding), so the peer does not speak HTTP.
    """
    for exchange in observation.exchanges:
        if exchange.failure is not None and exchange.failure.is_error:
            return f"{exchange.role} probe ({exchange.offered}): {exchange.failure.message}"
    failures = [e.failure for e in observation.exchanges if e.url and e.failure is not None]
    answered = any(e.response is not None for e in observation.exchanges)
    if failures and not answered and all(f.kind in _NOT_HTTP for f in failures):
        roles: dict[str, list[str]] = {}
        for exchange in observation.exchanges:
            if exchange.failure is not None:
                roles.setdefault(exchange.failure.message, []).append(exchange.role)
        causes = "; ".join(f"{' and '.join(r)}: {message}" for message, r in roles.items())
        return f"the target gave no HTTP answer to any probe ({causes})"
    return None
