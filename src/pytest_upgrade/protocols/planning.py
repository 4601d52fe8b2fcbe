"""A requirement's probe plan, and its one Observation from what the probes recorded.

Each protocol's plan (its module here) decides *what* to send for a
requirement; the probes (``probes/``) know *how*; the engine
(``probes.engine``) runs a :class:`~pytest_upgrade.probes.engine.ProbePlan`
without knowing what it is for. Probes of one requirement are independent
connections, so they run at the same time: a requirement costs about its
slowest probe.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Sequence
from functools import partial

from .._credentials import Headers, shown_headers
from .._model import Exchange, Observation, Requirement, TlsHandshake
from ..grammar.cors import preflight_request_headers
from ..probes.engine import ProbePlan
from ..probes.target import CORS_PREFLIGHT, Made, Probe, Target, declared_headers
from . import protocol_for
from .roles import LEGACY

__all__ = ["assemble", "plan_probes"]


def plan_probes(requirement: Requirement, target: Target, *, timeout: float) -> ProbePlan:
    """The probes of ``requirement`` against ``target``: its protocol's plan.

    A browser application's request (``origin``) that needs a CORS preflight
    gets one too, made as the legacy request is (Fetch §4.8).
    """
    protocol = protocol_for(requirement.protocol)
    probes = protocol.plan(requirement, target, timeout)
    if protocol.cors and requirement.origin is not None:
        probes += _preflight(probes, requirement, target)
    return ProbePlan(tuple(probes), target)


def _preflight(probes: list[Probe], requirement: Requirement, target: Target) -> list[Probe]:
    """The legacy request's preflight: OPTIONS with only the CORS fields (no credentials)."""
    assert requirement.origin is not None
    legacy = next(
        (p for p in probes if isinstance(p, partial) and p.keywords.get("role") == LEGACY), None
    )
    if legacy is None:
        return []
    fields = preflight_request_headers(
        requirement.method, declared_headers(requirement, target), requirement.origin
    )
    if fields is None:
        return []  # a simple request: no preflight (Fetch §4.1)
    spec, request = legacy.args
    preflight = request.but(method="OPTIONS", headers=fields)
    return [partial(legacy.func, spec, preflight, **{**legacy.keywords, "role": CORS_PREFLIGHT})]


def assemble(
    requirement: Requirement,
    target: Target,
    made: Sequence[Made],
    *,
    observed_at: dt.datetime,
) -> Observation:
    """The Observation of ``requirement`` from its probes' records, in the plan's order.

    A probe records one exchange or handshake, several exchanges (made on one
    connection), or nothing (it found it need not be made). ``observed_at``:
    when its probes were started.
    """
    results = [r for one in made for r in (one if isinstance(one, tuple) else (one,))]
    declared = declared_headers(requirement, target)
    return Observation(
        requirement=requirement,
        target=target.label,
        bundled=target.bundled,
        # What reports show of the request: credentials redacted, ${NAME} as declared.
        exchanges=tuple(_shown(r, declared) for r in results if isinstance(r, Exchange)),
        handshakes=tuple(r for r in results if isinstance(r, TlsHandshake)),
        observed_at=observed_at,
    )


def _shown(exchange: Exchange, declared: Headers) -> Exchange:
    shown = shown_headers(exchange.request_headers, declared)
    if shown == exchange.request_headers:
        return exchange
    return dataclasses.replace(exchange, request_headers=shown)
