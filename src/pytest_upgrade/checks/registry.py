"""The registry of checks: each a named rule with its severity, RFC section and phase.

A check is a small pure function from an :class:`Observation` (what the probes
recorded) to a :class:`~pytest_upgrade._verdict.Verdict`. It does no I/O and
imports nothing from pytest, httpx, hypercorn or asyncio, so every rule is
unit-tested with hand-built exchanges. Check ids are public and stable: they
appear in failure reports, in the JSON report and in ``--upgrade-checks``
selections.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from .._model import FailureKind, Finding, Observation, Outcome, Requirement, Severity
from .._verdict import Status, Verdict
from ..protocols.roles import LEGACY

# The registry filled with every check (REGISTRY, checks_for, run_checks) is
# reached through checks.catalogue, which imports the modules that register.
__all__ = ["Check", "CheckFunction", "Phase", "check"]

CheckFunction = Callable[[Observation], Verdict]


class Phase(enum.StrEnum):
    """When a check applies, relative to a requirement's deadline (``after=``)."""

    ALWAYS = "always"  # the upgraded protocol must work before and after the deadline
    REFUSAL = "refusal"  # judges a 426: from the deadline on, or whenever a 426 was served
    ENFORCED = "enforced"  # judges that the legacy protocol is refused: from the deadline on
    ANNOUNCED = "announced"  # judges the announcement: only before the deadline
    GATED = "gated"  # judges a requirement with a deadline, before and after it


@dataclass(frozen=True)
class Check:
    id: str
    severity: Severity
    rfc: str
    rule: str  # one sentence, for the reference and the report
    protocols: frozenset[str]
    function: CheckFunction
    phase: Phase = Phase.ALWAYS
    # Whether the check applies to a requirement at all (beyond its protocol): a
    # check that needs what only some requirements declare is not run, nor listed,
    # for the others.
    applies: Callable[[Requirement], bool] | None = None

    def run(self, observation: Observation) -> Finding:
        try:
            verdict = self.function(observation)
        except Exception as exc:  # a bug in a check: an error of the requirement, never a skip
            return Finding(
                check_id=self.id,
                severity=self.severity,
                outcome=Outcome.ERROR,
                message=f"the check itself failed: {type(exc).__name__}: {exc}",
                rfc=self.rfc,
            )
        severity = verdict.severity or self.severity
        if verdict.status is Status.OK:
            outcome = Outcome.PASSED
        elif verdict.status is Status.SKIPPED:
            outcome = Outcome.SKIPPED
        elif severity is Severity.MUST:
            outcome = Outcome.FAILED
        elif severity is Severity.SHOULD:
            outcome = Outcome.WARNED
        else:
            # Info never fails; nor does it pass without the evidence its rule asks for.
            outcome = Outcome.NOTED
        return Finding(
            check_id=self.id,
            severity=severity,
            outcome=outcome,
            message=verdict.message,
            rfc=self.rfc,
            expected=verdict.expected,
            actual=verdict.actual,
            diagnosis=verdict.diagnosis,
            applies=verdict.applies,
        )


REGISTRY: dict[str, Check] = {}


def check(
    check_id: str,
    severity: Severity,
    rfc: str,
    rule: str,
    protocols: Iterable[str],
    *,
    phase: Phase = Phase.ALWAYS,
    applies: Callable[[Requirement], bool] | None = None,
) -> Callable[[CheckFunction], CheckFunction]:
    def register(function: CheckFunction) -> CheckFunction:
        if check_id in REGISTRY:  # pragma: no cover - a programming error
            raise ValueError(f"duplicate check id {check_id}")
        REGISTRY[check_id] = Check(
            check_id, severity, rfc, rule, frozenset(protocols), function, phase, applies
        )
        return function

    return register


def checks_for(protocol: str, selected: Sequence[str] | None = None) -> list[Check]:
    """The registered checks that apply to ``protocol``, in catalogue order."""
    return [
        check
        for check in REGISTRY.values()
        if protocol in check.protocols and (selected is None or check.id in selected)
    ]


def _not_yet(check: Check, observation: Observation) -> Finding:
    """Skipped: the deadline (``observation.before_deadline``) has not come."""
    return Finding(
        check_id=check.id,
        severity=check.severity,
        outcome=Outcome.SKIPPED,
        message=f"not enforced before the deadline {observation.requirement.after}"
        f" ({observation.days_left} day(s) left, as of {observation.as_of})",
        rfc=check.rfc,
        applies=False,  # the requirement does not ask for it yet
    )


def _proxy_failed(check: Check, cause: str) -> Finding:
    """Skipped: the egress proxy failed, so nothing the target did was seen."""
    return Finding(
        check_id=check.id,
        severity=check.severity,
        outcome=Outcome.SKIPPED,
        message=f"not judged: {cause}",
        rfc=check.rfc,
        applies=False,  # the requirement errors (judge.target_error): not a check not run
    )


def _proxy_failure(observation: Observation) -> str | None:
    """The first probe failure of the egress proxy (``FailureKind.PROXY``), if any."""
    for exchange in observation.exchanges:
        if exchange.failure is not None and exchange.failure.kind is FailureKind.PROXY:
            return exchange.failure.message
    return None


def run_checks(observation: Observation, selected: Sequence[str] | None = None) -> list[Finding]:
    """Run the checks of the observation's requirement, as its deadline says.

    Before a declared deadline the announcement is judged and refusals are
    not expected yet; a 426 served early is still judged on its content. From
    the deadline on, the announcement checks no longer apply. When the egress
    proxy failed, no check is judged: what failed is not the target.
    """
    findings: list[Finding] = []
    proxy_failure = _proxy_failure(observation)
    before = observation.before_deadline
    legacy = observation.exchange(LEGACY)
    served_426 = (
        legacy is not None and legacy.response is not None and legacy.response.status == 426
    )
    for check in checks_for(observation.requirement.protocol, selected):
        if check.applies is not None and not check.applies(observation.requirement):
            continue
        if (check.phase is Phase.ANNOUNCED and not before) or (
            check.phase is Phase.GATED and observation.requirement.after is None
        ):
            continue
        if proxy_failure is not None:
            findings.append(_proxy_failed(check, proxy_failure))
            continue
        if before and (
            check.phase is Phase.ENFORCED or (check.phase is Phase.REFUSAL and not served_426)
        ):
            findings.append(_not_yet(check, observation))
            continue
        findings.append(check.run(observation))
    return findings
