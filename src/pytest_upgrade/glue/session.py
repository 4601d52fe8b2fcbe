"""The session's report: the terminal section, the JSON file, the HTML and
Markdown reports, gathered from every marked test (from xdist workers too).
"""

from __future__ import annotations

import json
from typing import Any

import pytest

from ..report.document import build_document
from ..report.publish import publish_reports
from ..report.summary import summary_lines
from .keys import NO_REQUIREMENT
from .settings import SETTINGS
from .workers import is_xdist_worker

__all__ = ["COLLECTOR_NAME", "Collector"]


COLLECTOR_NAME = "pytest-upgrade-collector"


class Collector:
    """Gathers the results of every marked test (from xdist workers too) and reports them.

    Workers attach their results to the test reports, which xdist sends to
    the controller; so only the controller (or a plain run) writes the
    terminal section and the JSON file.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        self.entries: dict[str, list[dict[str, Any]]] = {}
        self.refused: list[dict[str, str]] = []

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        self.refused += getattr(report, "upgrade_refused", [])
        results = getattr(report, "upgrade_results", None)
        if results is None:
            return
        outcome = "error" if report.when == "setup" and report.failed else report.outcome
        summaries = getattr(report, "upgrade_summary", [])
        self.entries[report.nodeid] = [
            {"nodeid": report.nodeid, **result, "outcome": outcome, "summary": summary}
            for result, summary in zip(results, summaries, strict=True)
        ]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if not self.entries or is_xdist_worker(self.config):
            return
        terminalreporter.section("upgrade compliance")
        # Passing requirements are listed as pytest lists passing tests in
        # its short summary: with -rA (or -rp, -rP), and here also with -v.
        chars = self.config.getoption("reportchars", "") or ""
        show_all = self.config.getoption("verbose", 0) > 0 or bool(set(chars) & set("ApP"))
        entries = [entry for nodeid in self.entries for entry in self.entries[nodeid]]
        rollup = self.config.stash[SETTINGS].is_fleet
        for line in summary_lines(entries, show_all=show_all, rollup=rollup):
            terminalreporter.write_line(line)

    def pytest_sessionfinish(self, session: pytest.Session) -> None:
        settings = self.config.stash[SETTINGS]
        if is_xdist_worker(self.config):
            return
        reporter = self.config.pluginmanager.get_plugin("terminalreporter")
        selecting = bool(self.config.option.keyword or self.config.option.markexpr)
        deselected = reporter is not None and bool(reporter.stats.get("deselected"))
        if (
            settings.live
            and session.exitstatus == pytest.ExitCode.NO_TESTS_COLLECTED
            and not settings.declared
            and not (selecting or deselected)  # -k or -m left nothing: not a usage error
        ):
            # Under pytest-xdist the workers collect, and cannot raise the
            # usage error themselves: the controller turns "no tests ran" into it.
            if reporter is not None:
                reporter.write_line(f"ERROR: {NO_REQUIREMENT}", red=True)
            session.exitstatus = pytest.ExitCode.USAGE_ERROR
        if self.config.option.collectonly:
            return  # nothing was checked: an empty report would replace a real one
        results = [
            {key: value for key, value in entry.items() if key != "summary"}
            for entries in self.entries.values()
            for entry in entries
        ]
        document = build_document(settings.as_of.isoformat(), results, self.refused)
        if settings.report_path is not None:
            settings.report_path.parent.mkdir(parents=True, exist_ok=True)
            text = json.dumps(document, indent=2) + "\n"
            settings.report_path.write_text(text, encoding="utf-8")
        # The HTML report, the Markdown summary and the CI step summary.
        publish_reports(session, document)
