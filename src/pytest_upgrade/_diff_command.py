"""``python -m pytest_upgrade diff OLD.json NEW.json [--markdown PATH] [--html PATH]``.

The file I/O around :mod:`pytest_upgrade.report.diff`: exit 1 when NEW has
failures OLD did not have, 0 otherwise, 2 (one line on stderr) for input that
cannot be read or is not a pytest-upgrade report.
"""

from __future__ import annotations

import argparse
import sys
from typing import Any

from .report.diff import (
    compare_documents,
    render_diff_html,
    render_diff_markdown,
    render_diff_text,
)
from .report.output import read_report, write_or_raise

__all__ = ["add_diff_parser", "run_diff"]


def add_diff_parser(commands: Any) -> None:
    """The ``diff`` subcommand on the ``python -m pytest_upgrade`` parser's subparsers."""
    diff = commands.add_parser(
        "diff",
        help="what changed between two runs' JSON reports (exit 1 on new failures)",
        description="Compare two --upgrade-report files: new failures, fixed, still failing,"
        " requirements added or gone, by deployment. Exit 1 when there are new failures.",
    )
    diff.add_argument("old", metavar="OLD.json", help="the earlier report")
    diff.add_argument("new", metavar="NEW.json", help="the later report")
    diff.add_argument("--markdown", metavar="PATH", help="also write the difference as Markdown")
    diff.add_argument("--html", metavar="PATH", help="also write the difference as an HTML page")


def run_diff(args: argparse.Namespace) -> int:
    try:
        diff = compare_documents(
            read_report(args.old), read_report(args.new), old_name=args.old, new_name=args.new
        )
        if args.markdown:
            write_or_raise("--markdown", args.markdown, render_diff_markdown(diff))
        if args.html:
            write_or_raise("--html", args.html, render_diff_html(diff))
    except ValueError as exc:  # ReportFileError, or a document diff cannot read
        print(f"python -m pytest_upgrade diff: {exc}", file=sys.stderr)
        return 2
    sys.stdout.write(render_diff_text(diff))
    return 1 if diff.new else 0
