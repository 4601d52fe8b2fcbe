"""Switching the gate on where the fleet already fails: waivers and a baseline.

* ``--upgrade-waivers=FILE`` (ini ``upgrade_waivers``): a failing requirement
  whose failing checks are all waived (``_waivers``) is WAIVED, a pytest xfail
  whose reason carries the waiver's reason and expiry; an expired waiver
  leaves the failure standing ("waiver expired on …"); a waiver whose
  requirement now passes warns "waiver no longer needed" (fails the test under
  ``--upgrade-strict``); a waiver matching nothing is a warning naming its
  FILE:LINE in the terminal section.
* ``--upgrade-baseline=REPORT.json``: a failure the earlier report already had
  (``report.baseline`` fingerprints) is KNOWN, an xfail "failing since the
  baseline of DATE"; the baseline's failures this run no longer has are
  listed as fixed.

The decisions are made where the test runs (a pytest-xdist worker too): the
results ride on the reports with their ``waived`` / ``known`` verdicts, so
the controller, a merge of shards and a serial run see the same.
"""

from __future__ import annotations

import contextlib
import json
import pathlib
import warnings
from collections.abc import Generator, Mapping
from dataclasses import dataclass
from typing import Any

import pytest

from .._waivers import Waiver, parse_waivers
from .._warnings import PytestUpgradeWarning
from ..judge import RequirementResult
from ..report.baseline import Baseline, GateDecision, decide, expiring, fixed_since, read_baseline
from ..report.results import result_to_json
from ..report.schema import Result
from .entries import with_names
from .keys import COVERED, RESULTS
from .settings import SETTINGS
from .workers import is_xdist_worker

__all__ = ["Gate", "read_gate"]  # and hooks

EXPIRING_WITHIN = 14  # days: waivers expiring this soon are listed in the summary


@dataclass(frozen=True)
class Gate:
    waivers: tuple[Waiver, ...]
    baseline: Baseline | None


GATE = pytest.StashKey[Gate]()
DECISIONS = pytest.StashKey[list[GateDecision]]()


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("upgrade")
    group.addoption(
        "--upgrade-waivers",
        metavar="FILE",
        help="a TOML file of [[waiver]] tables: failures they cover are reported as waived"
        " (xfail) until their date.",
    )
    group.addoption(
        "--upgrade-baseline",
        metavar="REPORT.json",
        help="an earlier --upgrade-report: failures it already had are reported as known"
        " (xfail); only new failures fail the run.",
    )
    parser.addini("upgrade_waivers", "the waivers file (TOML), as --upgrade-waivers.")


def _read(path: pathlib.Path, option: str) -> str:
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = getattr(exc, "strerror", None) or exc
        raise pytest.UsageError(f"{option}: cannot read {path}: {reason}") from None


def read_gate(values: Mapping[str, Any], *, base_dir: pathlib.Path) -> Gate:
    """The run's waivers and baseline (a UsageError names a file that is not one).

    ``values`` maps ``--upgrade-waivers``, the ini name ``upgrade_waivers`` and
    ``--upgrade-baseline`` to their values as pytest parsed them (each may be
    left out); the ini file's path starts at ``base_dir``.
    """
    return Gate(_waivers(values, base_dir), _baseline(values.get("--upgrade-baseline")))


def _waivers(values: Mapping[str, Any], base_dir: pathlib.Path) -> tuple[Waiver, ...]:
    if option := values.get("--upgrade-waivers"):
        path = pathlib.Path(option)
    elif raw := values.get("upgrade_waivers"):
        path = base_dir / str(raw)
    else:
        return ()
    try:
        return parse_waivers(_read(path, "--upgrade-waivers"), str(path))
    except ValueError as exc:
        raise pytest.UsageError(f"--upgrade-waivers: {exc}") from None


def _baseline(option: str | None) -> Baseline | None:
    if not option:
        return None
    text = _read(pathlib.Path(option), "--upgrade-baseline")
    try:
        document = json.loads(text)
    except json.JSONDecodeError as exc:
        raise pytest.UsageError(
            f"--upgrade-baseline: {option}:{exc.lineno}: not JSON ({exc.msg})"
        ) from None
    try:
        return read_baseline(document, option)
    except ValueError as exc:
        raise pytest.UsageError(f"--upgrade-baseline: {exc}") from None


def pytest_configure(config: pytest.Config) -> None:
    given = {
        "--upgrade-waivers": config.getoption("upgrade_waivers"),
        "upgrade_waivers": config.getini("upgrade_waivers"),
        "--upgrade-baseline": config.getoption("upgrade_baseline"),
    }
    base_dir = config.inipath.parent if config.inipath else config.rootpath
    gate = config.stash[GATE] = read_gate(given, base_dir=base_dir)
    if (gate.waivers or gate.baseline) and not is_xdist_worker(config):
        config.pluginmanager.register(GateReport(config, gate), "pytest-upgrade-gate")


def _entry(item: pytest.Item, result: RequirementResult) -> Result:
    """The result as the JSON report gives it, for matching."""
    return with_names(result_to_json(result), item)


def _unneeded_text(waiver: Waiver) -> str:
    return (
        f"waiver no longer needed: {waiver.where} ({waiver.deployment!r},"
        f" {waiver.requirement!r}) now passes; remove it"
    )


# tryfirst, registered after glue.runtest: it decides before runtest judges the test.
@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    gate = item.config.stash.get(GATE, None)
    results = item.stash.get(RESULTS, None)
    if gate is None or not results or not (gate.waivers or gate.baseline):
        return
    as_of = item.config.stash[SETTINGS].as_of
    decisions = [
        decide(_entry(item, r), [f.check_id for f in r.failed], gate.waivers, gate.baseline, as_of)
        for r in results
    ]
    item.stash[DECISIONS] = decisions
    # glue.runtest leaves the covered results out of the test's failure, and the
    # body runs: its own assertions still count. The report is made an xfail
    # afterwards (pytest_runtest_makereport) when nothing else failed it.
    item.stash[COVERED] = frozenset(n for n, d in enumerate(decisions) if d.verdict)
    for result, decision in zip(results, decisions, strict=True):
        if decision.verdict is not None:
            _record_verdict(item, result, decision.verdict)
    if any(r.failed for r in results):
        return  # waived, known or new: glue.runtest decides
    unneeded = [_unneeded_text(w) for d in decisions for w in d.unneeded]
    if unneeded and item.config.stash[SETTINGS].strict:
        pytest.fail("\n".join(unneeded) + " (an error under --upgrade-strict)", pytrace=False)
    for text in unneeded:
        try:
            warnings.warn(PytestUpgradeWarning(text), stacklevel=1)
        except PytestUpgradeWarning:
            pytest.fail(f"{text} (a warning an error filter raised)", pytrace=False)


def _record_verdict(item: pytest.Item, result: RequirementResult, verdict: str) -> None:
    """The JUnit XML property of the verdict (glue.fixtures records it) says waived/known."""
    name = f"upgrade {result.requirement.describe(deadline=False)} verdict"
    item.user_properties[:] = [
        (key, verdict if key == name else value) for key, value in item.user_properties
    ]


def _annotate(result: Result, summary: str, decision: GateDecision, gate: Gate) -> str:
    """Mark the result's JSON entry and summary line with the decision; the new summary."""
    if decision.verdict is not None:
        result["verdict"] = decision.verdict
        reason = decision.reason(gate.baseline)
        if decision.verdict == "waived" or decision.waivers:
            result["waived"] = {
                "reason": reason,
                "waivers": [
                    {"where": w.where, "until": w.until.isoformat(), "reason": w.reason}
                    for w in decision.waivers
                ],
            }
        if decision.known and gate.baseline is not None:
            result["known"] = {
                "reason": reason,
                "since": gate.baseline.as_of,
                "checks": [*decision.known],
            }
        summary = f"{decision.verdict.upper():<7} {summary.split(' ', 1)[1].lstrip()}"
        summary += f" ({reason})"
    if decision.expired:
        result["waiver_expired"] = [
            {"where": w.where, "until": w.until.isoformat(), "reason": w.reason}
            for w in decision.expired
        ]
        summary += " (" + "; ".join(_expired_text(w) for w in decision.expired) + ")"
    if decision.unneeded:
        result["waiver_unneeded"] = [w.where for w in decision.unneeded]
    return summary


def _expired_text(waiver: Waiver) -> str:
    return f"waiver expired on {waiver.until.isoformat()}: {waiver.reason} ({waiver.where})"


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Generator[None, Any, Any]:
    report = yield
    gate = item.config.stash.get(GATE, None)
    results: list[Result] | None = getattr(report, "upgrade_results", None)
    if gate is None or not results or call.when not in ("setup", "call"):
        return report
    report.upgrade_waivers_matched = sorted(
        {w.where for r in results for w in gate.waivers if w.covers_requirement(r)}
    )
    decisions = item.stash.get(DECISIONS, None)
    if call.when != "call" or decisions is None:
        return report
    summaries = list(getattr(report, "upgrade_summary", [])) or [""] * len(results)
    report.upgrade_summary = [
        _annotate(result, summary, decision, gate)
        for result, summary, decision in zip(results, summaries, decisions, strict=True)
    ]
    reasons = [d.reason(gate.baseline) for d in decisions if d.verdict]
    if reasons and report.passed:
        # Every failing requirement was covered and the body passed: an xfail,
        # as pytest's skipping plugin reports one (outcome skipped, wasxfail).
        report.outcome = "skipped"
        report.wasxfail = "; ".join(reasons)
    expired = [_expired_text(w) for d in decisions for w in d.expired]
    if expired and report.failed:
        report.sections.append(("upgrade waivers", "the failure stands: " + "; ".join(expired)))
    return report


class GateReport:
    """The controller's view: which waivers matched, what the baseline had that is fixed."""

    def __init__(self, config: pytest.Config, gate: Gate) -> None:
        self.config = config
        self.gate = gate
        self.matched: set[str] = set()
        self.entries: dict[str, list[Result]] = {}

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.matched.update(getattr(report, "upgrade_waivers_matched", ()))
        results = getattr(report, "upgrade_results", None)
        if results is not None:
            self.entries[report.nodeid] = results

    @pytest.hookimpl(trylast=True)
    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        unmatched = self.unmatched()
        lines = [f"WARNING {text}" for text in unmatched] + self.lines()
        if lines:
            terminalreporter.section("upgrade waivers and baseline")
            for line in lines:
                terminalreporter.write_line(line)
        # Also as warnings (pytest's "warnings summary (final)"), which filters can select;
        # an error filter does not end the run here: the lines above already say it.
        for text in unmatched:
            with contextlib.suppress(PytestUpgradeWarning):
                warnings.warn(PytestUpgradeWarning(text), stacklevel=1)

    def unmatched(self) -> list[str]:
        """A warning for each waiver that matched no requirement of the run."""
        if not self.entries:
            return []
        return [
            f"{w.where}: the waiver matches nothing in this run"
            f" (deployment {w.deployment!r}, requirement {w.requirement!r}"
            + (f", node {w.node!r}" if w.node else "")
            + ")"
            for w in self.gate.waivers
            if w.where not in self.matched
        ]

    def lines(self) -> list[str]:
        as_of = self.config.stash[SETTINGS].as_of
        entries = [e for results in self.entries.values() for e in results]
        lines = [
            f"waiver {w.where} expires on {w.until.isoformat()}"
            f" ({'today' if days == 0 else f'in {days} day(s)'}): {w.reason}"
            for w, days in expiring(self.gate.waivers, as_of, within=EXPIRING_WITHIN)
        ]
        if self.gate.baseline is not None:
            fixed = fixed_since(self.gate.baseline, entries)
            lines += [
                f"FIXED   {f.deployment} {f.requirement} [{f.check}] (failing in the baseline"
                f" of {self.gate.baseline.as_of})"
                for f in fixed
            ]
        return lines
