"""A marked test's outcome: failed must-checks fail it before its body runs,
should-checks warn (after the must-check report is decided), and its results
ride on its reports.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator
from typing import Any

import pytest

from .._warnings import PytestUpgradeWarning
from ..judge import RequirementResult, RequirementVerdict
from ..report.results import failure_report
from .entries import attach_entries
from .keys import COVERED, RESULTS

__all__ = []  # a pytest plugin: hooks only


# A plain hook, not a wrapper, and tryfirst: it runs inside the call phase,
# before pytest's own implementation runs the body. Raising here ends the call
# as a failing body would, so every plugin's call wrapper (pytest-json-report,
# pytest-timeout, pytest's warnings capture) still runs around it.
@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    results = item.stash.get(RESULTS, None)
    if not results:
        return
    covered = item.stash.get(COVERED, frozenset())  # waived or known (glue.gating)
    failing = [
        r
        for n, r in enumerate(results)
        if r.verdict is RequirementVerdict.FAILED and n not in covered
    ]
    # Warnings an error filter (-W error, filterwarnings = error) raised.
    raised = _warn(results)
    if failing:
        # The must-check report is the outcome: a should-warning that an error
        # filter turned into an exception does not take its place (the report
        # lists it, marked ⚠).
        pytest.fail("\n\n".join(failure_report(r) for r in failing), pytrace=False)
    if raised:
        pytest.fail(
            f"a should-level warning is an error here ({raised[0]}):\n\n"
            + "\n\n".join(failure_report(r) for r in results if r.warnings),
            pytrace=False,
        )
    if all(r.all_skipped for r in results):
        reasons = "; ".join(f"{r.requirement.describe()}: {r.skip_reason}" for r in results)
        pytest.skip(f"no check could run: {reasons}")


def _warn(results: list[RequirementResult]) -> list[PytestUpgradeWarning]:
    """Emit every should-level finding; return those a warnings filter raised as errors."""
    raised: list[PytestUpgradeWarning] = []
    for result in results:
        for finding in result.warnings:
            warning = PytestUpgradeWarning(
                f"{result.requirement.describe()}: {finding.check_id}: {finding.message}"
            )
            try:
                warnings.warn(warning, stacklevel=1)
            except PytestUpgradeWarning as exc:
                raised.append(exc)
    return raised


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, Any]:
    report = yield
    # Every requirement the item was collected with, whatever happened to it.
    attach_entries(item, call, report)
    return report
