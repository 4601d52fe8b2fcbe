"""A marked test's outcome: failed must-checks fail it before its body runs,
should-checks warn, and its results ride on its reports.
"""

from __future__ import annotations

import warnings
from collections.abc import Generator
from typing import Any

import pytest

from .._warnings import PytestUpgradeWarning
from ..report.results import failure_report
from .entries import attach_entries
from .keys import RESULTS

__all__ = []  # a pytest plugin: hooks only


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> Generator[None, object, object]:
    results = item.stash.get(RESULTS, None)
    if results:
        failing = [r for r in results if r.failed]
        for result in results:
            for finding in result.warnings:
                warnings.warn(
                    PytestUpgradeWarning(
                        f"{result.requirement.describe()}: {finding.check_id}: {finding.message}"
                    ),
                    stacklevel=1,
                )
        if failing:
            pytest.fail("\n\n".join(failure_report(r) for r in failing), pytrace=False)
        if all(r.all_skipped for r in results):
            reasons = "; ".join(f"{r.requirement.describe()}: {r.skip_reason}" for r in results)
            pytest.skip(f"no check could run: {reasons}")
    return (yield)


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, Any]:
    report = yield
    # Every requirement the item was collected with, whatever happened to it.
    attach_entries(item, call, report)
    return report
