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
from dataclasses import dataclass
from functools import partial
from typing import Protocol

from .._credentials import Headers, shown_headers
from .._model import AnsweredBy, Exchange, Observation, Requirement, TlsHandshake
from ..grammar.cors import preflight_request_headers
from ..probes.engine import ProbePlan
from ..probes.target import Made, Probe, Target
from . import protocol_for
from .pieces import declared_headers
from .roles import CORS_PREFLIGHT, LEGACY

__all__ = ["AnswerRecord", "Circumstances", "assemble", "plan_probes"]


class AnswerRecord(Protocol):
    """The bundled server's record of a requirement's answers (``server.answers.ServedAnswers``)."""

    def answered_by(self, exchange: Exchange) -> AnsweredBy:
        """Who gave ``exchange``'s answer: the app, or the server before the app saw it."""
        ...

    def app_headers(self, exchange: Exchange) -> Headers | None:
        """The header fields the app sent for ``exchange``'s answer (None: not recorded)."""
        ...


@dataclass(frozen=True)
class Circumstances:
    """What the code running the probes knows that they do not: the rest of an
    Observation, collected once the probes are done (``glue.fixtures``)."""

    as_of: dt.date | None = None  # the evaluation date (--upgrade-as-of, else today)
    enforced: tuple[str, ...] = ()  # what the bundled server enforced (the probes bypass it)
    # The tracebacks the bundled server recorded (and a framework logged) while
    # the app served the probes.
    app_errors: tuple[str, ...] = ()
    answers: AnswerRecord | None = None  # None: a live target, no record


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
    circumstances: Circumstances = Circumstances(),
) -> Observation:
    """The Observation of ``requirement`` from its probes' records, in the plan's order,
    complete: with the ``circumstances`` they were made in.

    A probe records one exchange or handshake, several exchanges (made on one
    connection), or nothing (it found it need not be made). ``observed_at``:
    when its probes were started.
    """
    results = [r for one in made for r in (one if isinstance(one, tuple) else (one,))]
    declared = declared_headers(requirement, target)
    exchanges = (r for r in results if isinstance(r, Exchange))
    return Observation(
        requirement=requirement,
        target=target.label,
        bundled=target.bundled,
        exchanges=tuple(_recorded(e, declared, circumstances.answers) for e in exchanges),
        handshakes=tuple(r for r in results if isinstance(r, TlsHandshake)),
        as_of=circumstances.as_of,
        app_errors=circumstances.app_errors,
        observed_at=observed_at,
        enforced=circumstances.enforced,
        route=target.route,
    )


def _recorded(exchange: Exchange, declared: Headers, answers: AnswerRecord | None) -> Exchange:
    """``exchange`` as the Observation keeps it: what reports show of the request
    (credentials redacted, ${NAME} as declared) and the server's record of its answer."""
    shown = shown_headers(exchange.request_headers, declared)
    if shown != exchange.request_headers:
        exchange = dataclasses.replace(exchange, request_headers=shown)
    if answers is None:
        return exchange
    return dataclasses.replace(
        exchange,
        app_headers=answers.app_headers(exchange),
        answered_by=answers.answered_by(exchange),
    )
