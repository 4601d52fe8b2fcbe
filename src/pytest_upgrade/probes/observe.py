"""Which probes each requirement makes, run concurrently, into one Observation.

Each protocol's plan (``protocols/``) decides *what* to send for a
requirement; ``http1``, ``http2``, ``tls`` and ``websocket`` know *how*; this module runs them.
Probes of one requirement are independent connections, so they run at the
same time on a small thread pool: a requirement costs about its slowest probe.
"""

from __future__ import annotations

from collections.abc import Sequence
from concurrent.futures import Executor
from functools import partial

from .._model import Exchange, FailureKind, Observation, Requirement, TlsHandshake
from ..protocols import protocol_for
from .target import HandshakeCache, HandshakeProbe, Probe, Target

__all__ = ["Target", "assemble", "observe", "plan_probes", "target_error"]


def observe(
    requirement: Requirement,
    target: Target,
    *,
    timeout: float,
    executor: Executor | None = None,
    handshakes: HandshakeCache | None = None,
) -> Observation:
    """Run every probe of ``requirement`` against ``target`` and collect the records.

    ``handshakes``, the session's cache, answers TLS version handshakes it
    has seen conclusively; without it every handshake is made.
    """
    probes = plan_probes(requirement, target, timeout=timeout, handshakes=handshakes)
    if executor is None:
        results = [probe() for probe in probes]
    else:
        futures = [executor.submit(probe) for probe in probes]
        results = [future.result() for future in futures]
    return assemble(requirement, target, results)


def plan_probes(
    requirement: Requirement,
    target: Target,
    *,
    timeout: float,
    handshakes: HandshakeCache | None = None,
) -> list[Probe]:
    """The probes of ``requirement`` (its protocol's plan), version handshakes through the cache."""
    return [
        _cached(probe, handshakes)
        for probe in protocol_for(requirement.protocol).plan(requirement, target, timeout)
    ]


def assemble(
    requirement: Requirement, target: Target, results: Sequence[Exchange | TlsHandshake]
) -> Observation:
    """The Observation of ``requirement`` from its probes' records, in the plan's order."""
    return Observation(
        requirement=requirement,
        target=target.label,
        bundled=target.bundled,
        exchanges=tuple(r for r in results if isinstance(r, Exchange)),
        handshakes=tuple(r for r in results if isinstance(r, TlsHandshake)),
    )


def _cached(probe: Probe, handshakes: HandshakeCache | None) -> Probe:
    if handshakes is not None and isinstance(probe, HandshakeProbe):
        return partial(handshakes.handshake, probe)
    return probe


_NOT_HTTP = frozenset({FailureKind.PROTOCOL, FailureKind.CLOSED, FailureKind.TIMEOUT})


def target_error(observation: Observation) -> str | None:
    """One line when the target could not be evaluated at all (the test errors).

    That is: a probe could not reach it or did not trust it; or no probe got
    any HTTP answer and none was refused by a TLS decision (which would
    itself be the finding): the peer hangs, or does not speak HTTP. When
    other probes were answered, one probe's timeout or broken answer is a
    finding about the protocol it spoke, judged by the checks.
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
        if all(f.kind is FailureKind.TIMEOUT for f in failures):
            return f"the target did not answer ({causes})"
        return f"the target gave no HTTP answer to any probe ({causes})"
    return None
