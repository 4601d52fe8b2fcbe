"""The Markdown summary (``--upgrade-markdown``, and ``$GITHUB_STEP_SUMMARY`` in CI).

A pure function from the report document to GitHub-flavoured Markdown, laid
out like a CI job summary: a heading with the outcome, one small counts
table, the failing requirements with their failed checks, the nearest
deadlines; everything long folds into ``<details>``, so that the top of the
summary fits a screen.
"""

from __future__ import annotations

import datetime as dt
import html
import re
from collections.abc import Mapping, Sequence

from .model import (
    TOP_TARGETS,
    as_of,
    deadline_entries,
    describe,
    failed_checks,
    interrupted_note,
    node_note,
    not_run,
    route_facts,
    shown_verdicts,
    targets,
    verdict,
    verdict_counts,
)
from .results import days_text
from .schema import Document, Entry
from .verdicts import FAILING, VERDICT_MARKS
from .waived import markdown_covered, markdown_expiring

__all__ = ["render_markdown"]

# How many failing requirements and deadlines are shown before the fold.
TOP_FAILURES = 5
TOP_DEADLINES = 3
# GitHub keeps at most 1 MiB of a step's summary: long lists stop well before.
MAX_LISTED = 200


# Characters that start Markdown inline syntax (GFM: emphasis, code spans, links,
# strikethrough, table cells); a backslash makes each literal (GFM §2.4). "<" and
# "&" are HTML's, escaped as HTML.
_MARKDOWN_SPECIAL = re.compile(r"([\\`*_\[\]~|])")


def _cell(value: object) -> str:
    """Text safe in a list item or a table cell: no HTML, no Markdown, no line breaks.

    A path such as ``/plain*emph*`` reads as written, asterisks included.
    """
    text = _MARKDOWN_SPECIAL.sub(r"\\\1", html.escape(str(value), quote=False))
    return text.replace("\r", " ").replace("\n", " ")


def _code(value: object) -> str:
    text = str(value).replace("`", "'").replace("\n", " ").replace("|", "\\|")
    return f"`{text}`"


def render_markdown(document: Document) -> str:
    entries: list[Entry] = list(document.get("results", ()))
    counts = verdict_counts(entries)
    date = as_of(document)
    incomplete = {"not run": sum(1 for e in entries if not_run(e))}
    headline = _headline({**counts, **incomplete}, len(entries))
    interrupted = interrupted_note(document)
    if interrupted is not None:
        # Never a plain ✔: what was not checked is not known to hold.
        headline = f"{VERDICT_MARKS['error']} {interrupted.split(';')[0]}; " + headline
    lines = [f"## Upgrade compliance: {headline}", ""]
    if interrupted is not None:
        lines += [f"> **{_cell(interrupted)}**", ""]
    where = targets(entries)
    meta = [f"as of {date}" if date else ""]
    if where and len(where) <= TOP_TARGETS:
        meta.append(("target " if len(where) == 1 else "targets ") + ", ".join(where))
    elif where:
        meta.append(f"{len(where)} targets (listed with every requirement below)")
    lines += [_cell(" · ".join(m for m in meta if m)), ""]
    lines += _nodes(entries)
    if not entries:
        return "\n".join([*lines, "No requirement was checked in this run.", ""])
    shown = shown_verdicts(counts)
    lines += [
        "| " + " | ".join(f"{VERDICT_MARKS[v]} {v}" for v in shown) + " |",
        "|" + "---:|" * len(shown),
        "| " + " | ".join(str(counts[v]) for v in shown) + " |",
        "",
    ]
    lines += _failures(entries)
    lines += _not_run(entries)
    lines += _deadlines(entries)
    lines += markdown_expiring(entries, date, _cell)
    lines += markdown_covered(entries, _cell)
    lines += _all_requirements(entries)
    return "\n".join(lines) + "\n"


def _nodes(entries: Sequence[Entry]) -> list[str]:
    """A line per target of several nodes: how many of them fail ("1 of 3 nodes fails")."""
    by_target: dict[str, list[Entry]] = {}
    for entry in entries:
        by_target.setdefault(str(entry.get("target", "")), []).append(entry)
    notes = [(t, node_note(group)) for t, group in by_target.items()]
    listed = [f"- {_code(target)}: {note}" for target, note in notes if note]
    return [*listed, ""] if listed else []


def _headline(counts: Mapping[str, int], total: int) -> str:
    bad = [f"{counts[v]} {v}" for v in FAILING if counts[v]]
    if bad:
        return f"{VERDICT_MARKS['failed']} " + ", ".join(bad) + f" of {total} requirement(s)"
    if counts["warned"]:
        return f"{VERDICT_MARKS['warned']} {total} requirement(s) hold, {counts['warned']} warned"
    if counts["skipped"]:
        # A skipped requirement was not shown to hold: say so rather than a plain ✔.
        return (
            f"{VERDICT_MARKS['skipped']} {counts['passed']} of {total} requirement(s) hold,"
            f" {counts['skipped']} could not be checked"
        )
    incomplete = counts.get("not run", 0)
    if incomplete:
        # Passed, but on fewer checks than the requirement has: never a plain ✔.
        return (
            f"{VERDICT_MARKS['skipped']} {total} requirement(s) hold,"
            f" {incomplete} with must-checks not run"
        )
    return f"{VERDICT_MARKS['passed']} {total} requirement(s), none failing"


def _not_run(entries: Sequence[Entry]) -> list[str]:
    listed = [(e, not_run(e)) for e in entries if not_run(e)]
    if not listed:
        return []
    lines = ["### Must-checks not run", ""]
    for entry, text in listed[:MAX_LISTED]:
        lines.append(
            f"- **{_cell(describe(entry))}** ({_code(entry.get('nodeid', ''))}): {_cell(text)}"
        )
    return [*lines, *_left_out(len(listed)), ""]


def _failure_block(entry: Entry) -> list[str]:
    v = verdict(entry)
    head = f"- {VERDICT_MARKS[v]} **{_cell(describe(entry))}** ({_code(entry.get('nodeid', ''))})"
    lines = [head]
    facts = route_facts(entry)
    if facts:
        lines.append(f"  - {_cell(' · '.join(facts))}")
    if entry.get("error"):
        lines.append(f"  - error: {_cell(entry['error'])}")
    for check in failed_checks(entry):
        text = f"  - {_code(check.get('id', ''))}: {_cell(check.get('message', ''))}"
        if check.get("rfc"):
            text += f" ({_cell(check['rfc'])})"
        lines.append(text)
        for key in ("expected", "actual"):
            if check.get(key):
                lines.append(f"    - {key}: {_cell(check[key])}")
    return lines


def _failures(entries: Sequence[Entry]) -> list[str]:
    failing = [e for e in entries if verdict(e) in FAILING]
    if not failing:
        return []
    lines = ["### Failing requirements", ""]
    for entry in failing[:TOP_FAILURES]:
        lines += _failure_block(entry)
    rest = failing[TOP_FAILURES:]
    if rest:
        lines += ["", f"<details><summary>{len(rest)} more failing requirement(s)</summary>", ""]
        for entry in rest[:MAX_LISTED]:
            lines += _failure_block(entry)
        lines += [*_left_out(len(rest)), "", "</details>"]
    return [*lines, ""]


def _left_out(listed: int) -> list[str]:
    if listed <= MAX_LISTED:
        return []
    return ["", f"… and {listed - MAX_LISTED} more: see the HTML or JSON report."]


def _deadline_rows(dated: Sequence[tuple[dt.date, Entry]]) -> list[str]:
    return [
        f"| {day.isoformat()} | {_cell(days_text(entry.get('days_left')))}"
        f" | {_cell(describe(entry))} | {VERDICT_MARKS[verdict(entry)]} {verdict(entry)} |"
        for day, entry in dated
    ]


def _deadlines(entries: Sequence[Entry]) -> list[str]:
    dated = deadline_entries(entries)
    if not dated:
        return []
    # The nearest deadlines still ahead first; those already enforced after them.
    ahead = [pair for pair in dated if (pair[1].get("days_left") or 0) >= 0]
    passed = [pair for pair in dated if (pair[1].get("days_left") or 0) < 0]
    ordered = ahead + passed[::-1]
    table_head = ["| deadline | when | requirement | verdict |", "|---|---|---|---|"]
    lines = ["### Nearest deadlines", "", *table_head, *_deadline_rows(ordered[:TOP_DEADLINES])]
    rest = ordered[TOP_DEADLINES:]
    if rest:
        lines += [
            "",
            f"<details><summary>{len(rest)} more deadline(s)</summary>",
            "",
            *table_head,
            *_deadline_rows(rest[:MAX_LISTED]),
            *_left_out(len(rest)),
            "",
            "</details>",
        ]
    return [*lines, ""]


def _all_requirements(entries: Sequence[Entry]) -> list[str]:
    rows = [
        f"| {VERDICT_MARKS[verdict(e)]} {verdict(e)}{' (must-checks not run)' * bool(not_run(e))}"
        f" | {_cell(describe(e))}"
        f" | {_code(e.get('nodeid', ''))} | {_cell(e.get('target', ''))} |"
        for e in entries[:MAX_LISTED]
    ]
    return [
        f"<details><summary>All {len(entries)} requirement(s)</summary>",
        "",
        "| verdict | requirement | test | target |",
        "|---|---|---|---|",
        *rows,
        *_left_out(len(entries)),
        "",
        "</details>",
        "",
    ]
