"""The judge: from an observation to a requirement's result, with no I/O.

:func:`evaluate` is the one place a requirement's verdict is decided: it runs
the checks that apply (``checks.catalogue.run_checks``), decides whether the
target could be evaluated at all (:func:`target_error`, or a check that
raised), and applies the run's :class:`EvaluationPolicy` (``--upgrade-strict``,
``--upgrade-require-all-checks``). A *check's* decision is a
``_verdict.Verdict`` (ok, violated, skipped); a *requirement's*
verdict, drawn from its findings, is a :class:`RequirementVerdict`. The
pytest glue only translates it (ERROR: the test errors; FAILED: it fails;
WARNED: it warns; SKIPPED: it is skipped).
"""

from __future__ import annotations

import enum
from collections.abc import Sequence
from dataclasses import dataclass

from ._model import FailureKind, Finding, Observation, Outcome, Requirement, Severity
from .checks.catalogue import run_checks
from .checks.preconditions import certificate_wanted
from .faults import unevaluable

__all__ = [
    "EvaluationPolicy",
    "RequirementResult",
    "RequirementVerdict",
    "conclude",
    "evaluate",
    "target_error",
]


class RequirementVerdict(enum.Enum):
    """What became of one requirement: drawn from its findings by :func:`evaluate`."""

    PASSED = "passed"
    FAILED = "failed"  # a must-check failed (a should-check too, under --upgrade-strict)
    WARNED = "warned"  # only should-checks failed
    SKIPPED = "skipped"  # no must or should check could run
    ERROR = "error"  # it could not be evaluated: the target, or a check that raised


@dataclass(frozen=True)
class EvaluationPolicy:
    """The run's options that decide how findings become a verdict."""

    selected: Sequence[str] | None = None  # --upgrade-checks: only these check ids
    strict: bool = False  # --upgrade-strict: a should-level failure fails the test
    # --upgrade-require-all-checks: a must-check that could not run fails the test.
    require_all: bool = False


def evaluate(
    observation: Observation,
    policy: EvaluationPolicy = EvaluationPolicy(),
    *,
    cafile: str | None = None,
) -> RequirementResult:
    """Run the checks of the observation's requirement and decide its verdict.

    ``cafile`` (the CA the probes trusted) goes into the reproduce commands.
    """
    return conclude(
        observation, tuple(run_checks(observation, policy.selected)), policy, cafile=cafile
    )


def conclude(
    observation: Observation,
    findings: Sequence[Finding],
    policy: EvaluationPolicy = EvaluationPolicy(),
    *,
    cafile: str | None = None,
) -> RequirementResult:
    """The result of ``findings`` (the checks' findings for ``observation``): its verdict."""
    findings = tuple(findings)
    error = target_error(observation) or _check_error(findings)
    not_run = tuple(
        f
        for f in findings
        if f.outcome is Outcome.SKIPPED and f.severity is Severity.MUST and f.applies
    )
    failed = _with(findings, Outcome.FAILED)
    if policy.strict:
        failed += _with(findings, Outcome.WARNED)
    if policy.require_all:
        failed += not_run
    warnings = () if policy.strict else _with(findings, Outcome.WARNED)
    if error is not None:
        verdict = RequirementVerdict.ERROR
    elif failed:
        verdict = RequirementVerdict.FAILED
    elif _all_skipped(findings):
        verdict = RequirementVerdict.SKIPPED
    elif warnings:
        verdict = RequirementVerdict.WARNED
    else:
        verdict = RequirementVerdict.PASSED
    return RequirementResult(
        observation, findings, verdict, failed, warnings, not_run, error, cafile
    )


def _with(findings: tuple[Finding, ...], outcome: Outcome) -> tuple[Finding, ...]:
    return tuple(f for f in findings if f.outcome is outcome)


def _all_skipped(findings: tuple[Finding, ...]) -> bool:
    """No must or should check could run: nothing says the requirement holds."""
    judged = (Outcome.PASSED, Outcome.FAILED, Outcome.WARNED)
    return bool(findings) and not any(
        f.outcome in judged and f.severity is not Severity.INFO for f in findings
    )


def _check_error(findings: tuple[Finding, ...]) -> str | None:
    """One line when a check raised: the requirement could not be evaluated."""
    errors = _with(findings, Outcome.ERROR)
    if not errors:
        return None
    return "; ".join(f"{f.check_id}: {f.message}" for f in errors)


@dataclass(frozen=True)
class RequirementResult:
    """The findings for one requirement of one test, and the verdict :func:`evaluate` drew."""

    observation: Observation
    findings: tuple[Finding, ...]
    verdict: RequirementVerdict
    # The findings that fail the test: must-level, should-level under
    # --upgrade-strict, and must-checks not run under --upgrade-require-all-checks.
    failed: tuple[Finding, ...] = ()
    warnings: tuple[Finding, ...] = ()  # should-level failures (none under --upgrade-strict)
    # Must-checks skipped although their rule applies: nothing shows it holds.
    # A check skipped because its rule's condition does not hold (no 426 to
    # read, no 101 to follow: ``Finding.applies`` false) is not among them.
    not_run: tuple[Finding, ...] = ()
    error: str | None = None  # why it could not be evaluated (verdict ERROR)
    cafile: str | None = None  # the CA the probes trusted, for the reproduce commands

    @property
    def requirement(self) -> Requirement:
        return self.observation.requirement

    @property
    def all_skipped(self) -> bool:
        """No must or should check could run: nothing says the requirement holds."""
        return _all_skipped(self.findings)

    @property
    def skip_reason(self) -> str:
        """Why nothing could be judged: the reason of the first must-check, else the first."""
        musts = [f for f in self.findings if f.severity is Severity.MUST]
        return (musts or list(self.findings))[0].message if self.findings else ""


_NOT_HTTP = frozenset({FailureKind.PROTOCOL, FailureKind.CLOSED, FailureKind.TIMEOUT})


def target_error(observation: Observation) -> str | None:
    """One line when the target could not be evaluated at all (the test errors).

    That is: a probe could not reach it or did not trust it, or the server
    refused its client certificate (or wanted one: an alert, or a 400 or 403 to
    every request after asking for one, ``checks.preconditions.certificate_wanted``);
    or no probe got any HTTP answer and none was refused by a TLS decision (which would
    itself be the finding): the peer hangs, or does not speak HTTP; or the
    old or new client's request timed out, or every probe was closed or
    reset before an answer (``faults.unevaluable``: not evidence either way).
    When other probes were answered, one probe's broken answer or close is a
    finding about the protocol it spoke, judged by the checks.
    """
    for exchange in observation.exchanges:
        # A QUIC endpoint is an alternative service (RFC 7838), not the target:
        # what fails there is a finding of the h3 checks.
        quic = exchange.offer is not None and exchange.offer.quic
        failure = exchange.failure
        # A client certificate refused is no finding about h3 either: no check can judge.
        refused = failure is not None and failure.kind is FailureKind.CLIENT_CERTIFICATE
        if failure is not None and failure.is_error and (not quic or refused):
            return f"{exchange.role} probe ({exchange.offered}): {failure.message}"
    refused_answers = certificate_wanted(observation)
    if refused_answers is not None:
        return refused_answers
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
    for exchange in observation.exchanges:
        # A timeout or a reset is not what the target decided (faults).
        why = unevaluable(exchange, others_answered=answered)
        if exchange.failure is not None and why is not None:
            return f"{exchange.role} probe ({exchange.offered}): {exchange.failure.message} ({why})"
    return None
