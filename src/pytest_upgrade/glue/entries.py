"""Every collected requirement gets an entry in the reports, whatever happened to it.

A marked or declared item's results ride on its test reports (to the
controller, under pytest-xdist). Most items carry the results their checks
gave; an item whose setup failed or was skipped — a probe that crashed, a
fixture that raised, an app that did not start, pytest-timeout's ``Failed:
Timeout`` — carries one entry per requirement it was collected with, ``error``
(or ``skipped``) with the one-line cause, so that no report says less than
pytest's own counts.

The run's counts (how many requirements were collected, how many selected)
ride on the setup reports too, so the controller knows them under
pytest-xdist, where only the workers collect.
"""

from __future__ import annotations

import pytest

from .._model import Requirement
from ..judge import RequirementResult
from ..report.results import result_to_json, summary_line, unevaluated_result
from ..report.schema import Result
from .keys import ERROR, ITEM_DEPLOYMENT, ITEM_NODE, ITEM_TARGET, REQUIREMENTS, RESULTS
from .settings import SETTINGS

__all__ = ["COUNTS", "Counts", "attach_entries", "first_line", "with_names"]

# A cause longer than this is cut (a report line, not a traceback).
_CAUSE_WIDTH = 400


class Counts:
    """The requirements of the run: collected (before deselection) and selected."""

    def __init__(self) -> None:
        self.collected = 0
        self.selected = 0

    def as_tuple(self) -> tuple[int, int]:
        return (self.collected, self.selected)


COUNTS = pytest.StashKey[Counts]()


def first_line(text: str) -> str:
    """The first non-blank line of ``text``, stripped and cut to a report line's width."""
    line = next((line.strip() for line in text.splitlines() if line.strip()), "")
    return line if len(line) <= _CAUSE_WIDTH else line[: _CAUSE_WIDTH - 1] + "…"


def _cause(item: pytest.Item, excinfo: pytest.ExceptionInfo[BaseException] | None) -> str:
    """Why the item's requirements could not be evaluated, in one line."""
    error = item.stash.get(ERROR, "")
    if error:
        return first_line(error)
    if excinfo is None:
        return "the test's setup did not complete"
    value = excinfo.value
    if isinstance(value, pytest.fail.Exception | pytest.skip.Exception):
        return first_line(value.msg or type(value).__name__)
    text = first_line(str(value))
    name = type(value).__name__
    return f"{name}: {text}" if text else name


def _item_target_label(item: pytest.Item) -> str:
    target = item.stash.get(ITEM_TARGET, None)
    if target is not None:
        return target.label
    settings = item.config.stash[SETTINGS]
    if settings.live and settings.fleet:
        return settings.fleet[0].target.label
    return "the bundled server"


def _unevaluated(
    item: pytest.Item,
    requirements: tuple[Requirement, ...],
    results: list[RequirementResult],
    verdict: str,
    cause: str,
) -> list[Result]:
    """One entry per requirement: its result where it has one, marked ``verdict``."""
    label = _item_target_label(item)
    return [
        {**result_to_json(results[index]), "verdict": verdict, "error": cause}
        if index < len(results)
        else unevaluated_result(requirement, label, verdict, cause)
        for index, requirement in enumerate(requirements)
    ]


def _mark_properties(
    item: pytest.Item, requirements: tuple[Requirement, ...], verdict: str
) -> None:
    """The JUnit verdict properties say what the reports say (glue.fixtures records them)."""
    names = {f"upgrade {r.describe(deadline=False)} verdict" for r in requirements}
    kept = [(name, value) for name, value in item.user_properties if name not in names]
    item.user_properties[:] = kept + [(name, verdict) for name in sorted(names)]


def with_names(entry: Result, item: pytest.Item) -> Result:
    """``entry`` with the item's deployment name and node address, when it has them."""
    deployment = item.stash.get(ITEM_DEPLOYMENT, None)
    node = item.stash.get(ITEM_NODE, None)
    if deployment is not None:
        entry["deployment"] = deployment
    if node is not None:
        entry["node"] = node
    return entry


def attach_entries(
    item: pytest.Item, call: pytest.CallInfo[None], report: pytest.TestReport
) -> None:
    """Put the item's entries on ``report``: once, on the call report, or on the setup
    report when the item never got to its call phase."""
    requirements = item.stash.get(REQUIREMENTS, None)
    if not requirements:
        return
    results = item.stash.get(RESULTS, None) or []
    if call.when == "teardown":
        # The reports carry what is needed from here on; the exchanges (and
        # their bodies) need not live as long as the session's items.
        if RESULTS in item.stash:
            del item.stash[RESULTS]
        return
    if call.when == "setup":
        counts = item.config.stash.get(COUNTS, None)
        if counts is not None:
            report.upgrade_counts = counts.as_tuple()  # type: ignore[attr-defined]
    if call.when == "call" and len(results) == len(requirements):
        report.upgrade_results = [with_names(result_to_json(r), item) for r in results]  # type: ignore[attr-defined]
        report.upgrade_summary = [summary_line(r) for r in results]  # type: ignore[attr-defined]
    elif call.when == "setup" and (report.failed or report.skipped):
        # The target (or the test's setup) could not be evaluated: every
        # requirement reads as an error, or skipped with the skip's reason.
        verdict = "error" if report.failed else "skipped"
        cause = _cause(item, call.excinfo)
        entries = _unevaluated(item, requirements, results, verdict, cause)
        report.upgrade_results = [with_names(entry, item) for entry in entries]  # type: ignore[attr-defined]
        report.upgrade_summary = [  # type: ignore[attr-defined]
            f"{verdict.upper():<7} {r.describe()}: {cause}" for r in requirements
        ]
        _mark_properties(item, requirements, verdict)
