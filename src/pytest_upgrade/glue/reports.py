"""pytest wiring of the report files: the JSON report, the HTML report, the Markdown
summary, pytest-html.

* ``--upgrade-report=PATH``, ``--upgrade-html=PATH`` and ``--upgrade-markdown=PATH``
  (written at the end of the session by ``glue.session`` from one document, the
  HTML and Markdown through :mod:`pytest_upgrade.report.publish`); the files that
  could not be written are listed at the end of the terminal summary;
* with pytest-html in use (``--html``), each marked test's row in its report
  gets the requirement's checks and reproduce commands, through pytest-html's
  documented ``pytest_html_results_table_html`` hook. That hook runs where the
  report is written (the controller under pytest-xdist) and reads the results
  the test report carries, so it needs nothing from the workers.
"""

from __future__ import annotations

import hashlib

import pytest

from .session import OUTPUT_PROBLEMS

__all__: list[str] = []  # a pytest plugin: hooks only


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


@pytest.hookimpl(trylast=True)
def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, config: pytest.Config
) -> None:
    """The report files that could not be written, each on a line of its own."""
    for problem in config.stash.get(OUTPUT_PROBLEMS, []):
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
