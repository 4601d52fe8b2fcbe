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
from ..judge import RequirementResult
from ..report.results import failure_report, result_to_json, summary_line
from .keys import ERROR, ITEM_DEPLOYMENT, RESULTS

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
    failing = [r for r in results if r.failed]
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
    results = item.stash.get(RESULTS, None)
    if results is None:
        return report
    if call.when == "teardown":
        # The reports carry what is needed from here on; the exchanges (and
        # their bodies) need not live as long as the session's items.
        del item.stash[RESULTS]
        return report
    # Attach the results once: to the call report, or to the setup report when
    # the test never got to its call phase.
    # A fleet's results name their deployment, as their test ids do.
    deployment = item.stash.get(ITEM_DEPLOYMENT, None)
    named = {"deployment": deployment} if deployment is not None else {}
    if call.when == "call":
        report.upgrade_results = [{**result_to_json(r), **named} for r in results]
        report.upgrade_summary = [summary_line(r) for r in results]
    elif call.when == "setup" and report.failed:
        # The target could not be evaluated: every requirement reads as an error.
        cause = item.stash.get(ERROR, "") or report.longreprtext.strip()
        report.upgrade_results = [
            {**result_to_json(r), **named, "verdict": "error", "error": cause} for r in results
        ]
        report.upgrade_summary = [f"ERROR   {r.requirement.describe()}: {cause}" for r in results]
    return report
