"""pytest wiring of the session's report: the terminal section, the JSON report, the
HTML report, the Markdown summary, pytest-html.

* the session's :class:`Collector` gathers the results of every marked test
  (from xdist workers too: they ride on the test reports) and, on the
  controller or in a plain run, writes the ``upgrade compliance`` section and,
  at the end of the session, the report files from one document;
* ``--upgrade-report=PATH``, ``--upgrade-html=PATH`` and ``--upgrade-markdown=PATH``
  (the HTML and Markdown through :mod:`pytest_upgrade.report.publish`); the files
  that could not be written are listed at the end of the terminal summary;
* with pytest-html in use (``--html``), each marked test's row in its report
  gets the requirement's checks and reproduce commands, through pytest-html's
  documented ``pytest_html_results_table_html`` hook. That hook runs where the
  report is written (the controller under pytest-xdist) and reads the results
  the test report carries, so it needs nothing from the workers.

The collector is registered when this module's ``pytest_configure`` runs:
after glue.enforcement's refusal collector (plugin.pytest_plugins lists this
module before that one), so that its section comes first in the terminal
summary, the refused requests after it.
"""

from __future__ import annotations

import hashlib
import io
import os
import sys
from collections.abc import Iterable
from typing import Any

import pytest

from ..report.document import build_document, dump_document, interrupted_line
from ..report.output import write_output
from ..report.publish import publish_reports
from ..report.schema import Document, Entry, Result, RunCounts
from ..report.summary import Line, summary_lines
from .entries import COUNTS, Counts
from .keys import NO_REQUIREMENT, REFUSED, REQUIREMENTS
from .settings import SETTINGS
from .workers import is_xdist_worker

__all__ = ["Collector"]  # and hooks

_COLLECTOR = "pytest-upgrade-collector"

# The report files of this run that could not be written, one line each: shown
# in the terminal summary (below), on lines of their own after the tests.
_OUTPUT_PROBLEMS = pytest.StashKey[list[str]]()


class Collector:
    """Gathers the results of every marked test (from xdist workers too) and reports them.

    Workers attach their results to the test reports, which xdist sends to
    the controller; so only the controller (or a plain run) writes the
    terminal section and the JSON file.
    """

    def __init__(self, config: pytest.Config) -> None:
        self.config = config
        # Each test's entries, with the terminal's line of each.
        self.entries: dict[str, list[tuple[Entry, str]]] = {}
        # The run's requirements, collected and selected: counted here in a
        # plain run (and on each xdist worker), read from the reports on the controller.
        self.counts = config.stash[COUNTS] = Counts()
        self.interrupted = False
        self.run: RunCounts | None = None  # the document's counts, once written

    def pytest_deselected(self, items: list[pytest.Item]) -> None:
        self.counts.collected += sum(len(i.stash.get(REQUIREMENTS, ())) for i in items)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        selected = sum(len(item.stash.get(REQUIREMENTS, ())) for item in session.items)
        self.counts.selected = selected
        self.counts.collected += selected

    def pytest_keyboard_interrupt(self) -> None:
        self.interrupted = True

    def pytest_runtest_logreport(self, report: pytest.TestReport) -> None:
        counts = getattr(report, "upgrade_counts", None)
        if counts is not None:
            # Under pytest-xdist every worker collects the whole run and tells
            # the same counts; in a plain run they are this collector's own.
            collected, selected = counts
            self.counts.collected = max(self.counts.collected, collected)
            self.counts.selected = max(self.counts.selected, selected)
        results: list[Result] | None = getattr(report, "upgrade_results", None)
        if results is None:
            return
        outcome = "error" if report.when == "setup" and report.failed else report.outcome
        summaries = getattr(report, "upgrade_summary", [])
        self.entries[report.nodeid] = [
            ({"nodeid": report.nodeid, **result, "outcome": outcome}, summary)
            for result, summary in zip(results, summaries, strict=True)
        ]

    def pytest_terminal_summary(self, terminalreporter: Any) -> None:
        if is_xdist_worker(self.config) or not (self.entries or self.interrupted):
            return
        terminalreporter.section("upgrade compliance")
        # Passing requirements are listed as pytest lists passing tests in
        # its short summary: with -rA (or -rp, -rP), and here also with -v.
        chars = self.config.getoption("reportchars", "") or ""
        show_all = self.config.getoption("verbose", 0) > 0 or bool(set(chars) & set("ApP"))
        entries: list[Line] = [
            {**entry, "summary": summary}
            for nodeid in self.entries
            for entry, summary in self.entries[nodeid]
        ]
        settings = self.config.stash[SETTINGS]
        rollup = settings.is_fleet or settings.several_nodes
        for line in summary_lines(entries, show_all=show_all, rollup=rollup):
            terminalreporter.write_line(line)
        if self.interrupted and self.run is not None:
            terminalreporter.write_line(interrupted_line(self.run), red=True)

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
        results = [entry for entries in self.entries.values() for entry, _ in entries]
        # Stopped early (Ctrl-C, SIGTERM, -x, --maxfail) before every selected
        # requirement was reported: every report says so.
        self.interrupted = self.interrupted or session.exitstatus == pytest.ExitCode.INTERRUPTED
        selected = max(self.counts.selected, len(results))
        self.interrupted = self.interrupted or len(results) < selected
        refused = self.config.stash[REFUSED]  # collected by glue.enforcement
        document = build_document(
            settings.as_of.isoformat(),
            results,
            refused,
            interrupted=self.interrupted,
            collected=max(self.counts.collected, selected),
            selected=selected,
        )
        self.run = document["requirements"]
        if settings.report_path is not None:
            text = io.StringIO()
            dump_document(document, text)
            problem = write_output("--upgrade-report", settings.report_path, text.getvalue())
            # Reported with the others' (exit 4): the other reports are still written.
            _report_problems(session, [problem] if problem else [])
        # The HTML report, the Markdown summary and the CI step summary.
        _publish(session, document)


def _publish(session: pytest.Session, document: Document) -> None:
    """The HTML report, the Markdown summary and the CI step summary of the session."""
    config = session.config
    problems = publish_reports(
        document,
        html_path=config.getoption("upgrade_html", None),
        markdown_path=config.getoption("upgrade_markdown", None),
        environ=os.environ,
    )
    _report_problems(session, problems)


def _report_problems(session: pytest.Session, problems: Iterable[str]) -> None:
    """Report files that could not be written: exit 4 (a usage error) after the tests ran.

    Each line is shown in the terminal summary (or on stderr without the
    terminal reporter), never on the progress line the session ended on.
    """
    problems = list(problems)
    if not problems:
        return
    session.exitstatus = pytest.ExitCode.USAGE_ERROR
    config = session.config
    # Without the terminal reporter (-p no:terminal) the lines go to stderr.
    if config.pluginmanager.get_plugin("terminalreporter") is None:
        for problem in problems:
            print(f"ERROR: {problem}", file=sys.stderr)
        return
    config.stash.setdefault(_OUTPUT_PROBLEMS, []).extend(problems)


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("upgrade")
    group.addoption(
        "--upgrade-report",
        metavar="PATH",
        help="write the compliance results as JSON to PATH.",
    )
    group.addoption(
        "--upgrade-html",
        metavar="PATH",
        help="write the compliance results as one self-contained HTML page to PATH.",
    )
    group.addoption(
        "--upgrade-markdown",
        metavar="PATH",
        help="write a Markdown summary of the compliance results to PATH (in GitHub"
        " Actions it is also appended to $GITHUB_STEP_SUMMARY).",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.pluginmanager.register(Collector(config), _COLLECTOR)


def pytest_unconfigure(config: pytest.Config) -> None:
    collector = config.pluginmanager.get_plugin(_COLLECTOR)
    if collector is not None:
        config.pluginmanager.unregister(collector)


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """The report files that could not be written, each on a line of its own."""
    for problem in config.stash.get(_OUTPUT_PROBLEMS, []):
        terminalreporter.write_line(f"ERROR: {problem}", red=True)


@pytest.hookimpl(optionalhook=True)
def pytest_html_results_table_html(report: pytest.TestReport, data: list[str]) -> None:
    """pytest-html: the requirement's checks and reproduce commands in the test's row."""
    results = getattr(report, "upgrade_results", None)
    if not results:
        return
    from ..report.html_requirements import pytest_html_fragment  # noqa: PLC0415 (pytest-html)

    prefix = "upgrade-" + hashlib.sha256(report.nodeid.encode()).hexdigest()[:10]
    data.append(pytest_html_fragment(results, prefix))
