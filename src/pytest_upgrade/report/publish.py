"""Writing the HTML report and the Markdown summary at the end of a session.

The I/O around the pure renderers (``html``, ``markdown``): where each goes
comes from the command line (``--upgrade-html``, ``--upgrade-markdown``) and
from the CI environment (``GITHUB_STEP_SUMMARY``). Only the process that saw
every result calls this: the controller under pytest-xdist, so both are
merged.
"""

from __future__ import annotations

import os
import pathlib
import sys
from collections.abc import Iterable

import pytest

from .output import write_output
from .schema import Document

__all__ = ["OUTPUT_PROBLEMS", "STEP_SUMMARY", "publish_reports", "report_problems"]

# The report files of this run that could not be written, one line each: shown
# in the terminal summary (glue.reports), on lines of their own after the tests.
OUTPUT_PROBLEMS = pytest.StashKey[list[str]]()

# GitHub Actions: a file the job appends Markdown to, shown on the run's page.
STEP_SUMMARY = "GITHUB_STEP_SUMMARY"


def publish_reports(session: pytest.Session, document: Document) -> None:
    """Write what was asked for; a path that cannot be written is a one-line usage error."""
    config = session.config
    html_path = config.getoption("upgrade_html", None)
    markdown_path = config.getoption("upgrade_markdown", None)
    step_summary = os.environ.get(STEP_SUMMARY, "")
    # Under CI a run without any requirement (a plain test suite) adds nothing to the page.
    summarize_ci = bool(step_summary) and bool(document.get("results"))
    if not (html_path or markdown_path or summarize_ci):
        return
    problems: list[str] = []
    if html_path:
        from .html import render_html  # noqa: PLC0415 (only when asked for)

        problems += _write("--upgrade-html", pathlib.Path(html_path), render_html(document))
    if markdown_path or summarize_ci:
        from .markdown import render_markdown  # noqa: PLC0415 (only when asked for)

        markdown = render_markdown(document)
        if markdown_path:
            problems += _write("--upgrade-markdown", pathlib.Path(markdown_path), markdown)
        if summarize_ci:
            problems += _write(STEP_SUMMARY, pathlib.Path(step_summary), markdown, append=True)
    report_problems(session, problems)


def report_problems(session: pytest.Session, problems: Iterable[str]) -> None:
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
    config.stash.setdefault(OUTPUT_PROBLEMS, []).extend(problems)


def _write(option: str, path: pathlib.Path, text: str, *, append: bool = False) -> list[str]:
    problem = write_output(option, path, text, append=append)
    return [problem] if problem is not None else []
