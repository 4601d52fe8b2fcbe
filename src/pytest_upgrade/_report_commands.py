"""The commands around the plugin's reports (``pytest-upgrade merge``, ``diff``).

``merge OUT IN [IN ...]`` merges the JSON reports (``--upgrade-report``) of a
fleet's shards (CI jobs, machines) into one, and with ``--html`` or
``--markdown`` renders the merged report as one page or summary.

``diff OLD NEW`` shows what changed between two reports (exit 1 on new failures).
"""

from __future__ import annotations

import argparse
import io
import sys
from collections.abc import Sequence

from ._diff_command import add_diff_parser, run_diff
from .report.document import MergeError, dump_document, merge_documents
from .report.output import ReportFileError, read_report, write_or_raise

__all__ = ["main"]


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m pytest_upgrade", description="pytest-upgrade's report tools."
    )
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    merge = commands.add_parser(
        "merge",
        help="merge the JSON reports of several runs (the shards of a fleet) into one",
        description="Merge the --upgrade-report files of disjoint runs into one report.",
    )
    merge.add_argument("out", metavar="OUT.json", help="where to write the merged report")
    merge.add_argument("inputs", metavar="IN.json", nargs="+", help="the reports to merge")
    merge.add_argument("--html", metavar="PATH", help="also render the merged report as HTML")
    merge.add_argument("--markdown", metavar="PATH", help="also render it as a Markdown summary")
    merge.add_argument(
        "--allow-incomplete",
        action="store_true",
        help="merge interrupted runs and short sets of shards too, marking the report interrupted",
    )
    add_diff_parser(commands)
    return parser


def _merge(args: argparse.Namespace) -> str:
    document = merge_documents(
        [(path, read_report(path)) for path in args.inputs], allow_incomplete=args.allow_incomplete
    )
    text = io.StringIO()
    dump_document(document, text)
    write_or_raise("OUT.json", args.out, text.getvalue())
    if args.html:
        from .report.html import render_html  # noqa: PLC0415 (only when asked for)

        write_or_raise("--html", args.html, render_html(document))
    if args.markdown:
        from .report.markdown import render_markdown  # noqa: PLC0415 (only when asked for)

        write_or_raise("--markdown", args.markdown, render_markdown(document))
    results = document["results"]
    message = f"merged {len(results)} result(s) from {len(args.inputs)} report(s) into {args.out}"
    if document["interrupted"]:
        counts = document["requirements"]
        message += f" (incomplete: {counts['reported']} of {counts['selected']} requirements)"
    return message


def main(argv: Sequence[str] | None = None) -> int:
    """Run a command; 0 on success, 2 (one line on stderr) when it cannot be done."""
    args = _parser().parse_args(argv)
    if args.command == "diff":
        return run_diff(args)
    try:
        message = _merge(args)
    except (MergeError, ReportFileError) as exc:
        print(f"python -m pytest_upgrade merge: {exc}", file=sys.stderr)
        return 2
    print(message)
    return 0
