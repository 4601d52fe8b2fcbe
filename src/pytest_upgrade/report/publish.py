"""Writing the HTML report and the Markdown summary at the end of a session.

The I/O around the pure renderers (``html``, ``markdown``): where each goes
comes from the command line (``--upgrade-html``, ``--upgrade-markdown``) and
from the CI environment (``GITHUB_STEP_SUMMARY``), which ``glue.reports``
reads. Only the process that saw every result calls this: the controller
under pytest-xdist, so both are merged.
"""

from __future__ import annotations

import pathlib
from collections.abc import Mapping

from .output import write_output
from .schema import Document

__all__ = ["STEP_SUMMARY", "publish_reports"]

# GitHub Actions: a file the job appends Markdown to, shown on the run's page.
STEP_SUMMARY = "GITHUB_STEP_SUMMARY"


def publish_reports(
    document: Document,
    *,
    html_path: str | None,
    markdown_path: str | None,
    environ: Mapping[str, str],
) -> list[str]:
    """Write what was asked for; one line for each file that could not be written."""
    step_summary = environ.get(STEP_SUMMARY, "")
    # Under CI a run without any requirement (a plain test suite) adds nothing to the page.
    summarize_ci = bool(step_summary) and bool(document.get("results"))
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
    return problems


def _write(option: str, path: pathlib.Path, text: str, *, append: bool = False) -> list[str]:
    problem = write_output(option, path, text, append=append)
    return [problem] if problem is not None else []
