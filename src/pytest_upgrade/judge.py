"""The judge: from an observation to a requirement's result, with no I/O.

It runs the checks that apply (``checks.catalogue.run_checks``), decides
whether the target could be evaluated at all (:func:`target_error`), and
holds the requirement's verdict and the strict policy
(:class:`RequirementResult`). A *check's* decision is a
``_verdict.Verdict`` (ok, violated, skipped); a *requirement's*
verdict, drawn from its findings, is PASSED, FAILED, WARNED or SKIPPED.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._model import FailureKind, Finding, Observation, Outcome, Requirement, Severity
from .checks.catalogue import run_checks
from .faults import unevaluable

__all__ = ["RequirementResult", "judge", "target_error"]


def judge(
    observation: Observation,
    *,
    selected: Sequence[str] | None = None,
    strict: bool = False,
    cafile: str | None = None,
    require_all: bool = False,
) -> RequirementResult:
    """Run the checks of the observation's requirement: its result."""
    findings = tuple(run_checks(observation, selected))
    return RequirementResult(
        observation,
        findings,
        strict=strict,
        cafile=cafile,
        app_errors=observation.app_errors,
        require_all=require_all,
    )


@dataclass(frozen=True)
class RequirementResult:
    """The findings for one requirement of one test, with what they were drawn from."""

    observation: Observation
    findings: tuple[Finding, ...]
    strict: bool = False
    cafile: str | None = None
    app_errors: tuple[str, ...] = ()
    # --upgrade-require-all-checks: a must-check that could not run fails the test.
    require_all: bool = False

    @property
    def requirement(self) -> Requirement:
        return self.observation.requirement

    def with_outcome(self, outcome: Outcome) -> list[Finding]:
        return [f for f in self.findings if f.outcome is outcome]

    @property
    def not_run(self) -> list[Finding]:
        """Must-checks skipped although their rule applies: nothing shows it holds.

        A check skipped because its rule's condition does not hold (no 426 to
        read, no 101 to follow: ``Finding.applies`` false) is not among them.
        """
        skipped = self.with_outcome(Outcome.SKIPPED)
        return [f for f in skipped if f.severity is Severity.MUST and f.applies]

    @property
    def failed(self) -> list[Finding]:
        """Findings that fail the test: must-level, should-level under --upgrade-strict,
        and must-checks that could not run under --upgrade-require-all-checks."""
        failing = self.with_outcome(Outcome.FAILED)
        if self.strict:
            failing += self.with_outcome(Outcome.WARNED)
        if self.require_all:
            failing += self.not_run
        return failing

    @property
    def warnings(self) -> list[Finding]:
        return [] if self.strict else self.with_outcome(Outcome.WARNED)

    @property
    def all_skipped(self) -> bool:
        """No must or should check could run: nothing says the requirement holds."""
        judged = (Outcome.PASSED, Outcome.FAILED, Outcome.WARNED)
        return bool(self.findings) and not any(
            f.outcome in judged and f.severity is not Severity.INFO for f in self.findings
        )

    @property
    def skip_reason(self) -> str:
        """Why nothing could be judged: the reason of the first must-check, else the first."""
        musts = [f for f in self.findings if f.severity is Severity.MUST]
        return (musts or list(self.findings))[0].message if self.findings else ""

    @property
    def check_error(self) -> str | None:
        """One line when a check raised: the requirement could not be evaluated."""
        errors = self.with_outcome(Outcome.ERROR)
        if not errors:
            return None
        return "; ".join(f"{f.check_id}: {f.message}" for f in errors)

    @property
    def verdict(self) -> str:
        if self.check_error is not None:
            return "ERROR"
        if self.failed:
            return "FAILED"
        if self.all_skipped:
            return "SKIPPED"
        if self.warnings:
            return "WARNED"
        return "PASSED"


_NOT_HTTP = frozenset({FailureKind.PROTOCOL, FailureKind.CLOSED, FailureKind.TIMEOUT})


def target_error(observation: Observation) -> str | None:
    """One line when the target could not be evaluated at all (the test errors).

    That is: a probe could not reach it or did not trust it; or no probe got
    any HTTP answer and none was refused by a TLS decision (which would
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
        if exchange.failure is not None and exchange.failure.is_error and not quic:
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
    for exchange in observation.exchanges:
        # A timeout or a reset is not what the target decided (faults).
        why = unevaluable(exchange, others_answered=answered)
        if exchange.failure is not None and why is not None:
            return f"{exchange.role} probe ({exchange.offered}): {exchange.failure.message} ({why})"
    return None
