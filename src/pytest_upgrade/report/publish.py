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
from collections.abc import Mapping
from typing import Any

import pytest

__all__ = ["STEP_SUMMARY", "publish_reports"]

# GitHub Actions: a file the job appends Markdown to, shown on the run's page.
STEP_SUMMARY = "GITHUB_STEP_SUMMARY"


def publish_reports(session: pytest.Session, document: Mapping[str, Any]) -> None:
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
    if problems:
        reporter = config.pluginmanager.get_plugin("terminalreporter")
        for problem in problems:
            if reporter is not None:
                reporter.write_line(f"ERROR: {problem}", red=True)
        session.exitstatus = pytest.ExitCode.USAGE_ERROR


def _write(option: str, path: pathlib.Path, text: str, *, append: bool = False) -> list[str]:
    try:
        if not append:
            path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a" if append else "w", encoding="utf-8") as stream:
            stream.write(("\n" if append else "") + text)
    except OSError as exc:
        return [f"{option}: cannot write {path}: {exc.strerror or exc}"]
    return []
