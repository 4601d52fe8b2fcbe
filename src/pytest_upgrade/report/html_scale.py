"""The HTML report of a large run (a fleet of thousands of deployments): what is summarised.

A page with every exchange, check and matrix cell of 15,000 requirements is
over 200 MB, and no browser renders it. Above :data:`FULL_DETAIL_LIMIT`
requirements the page keeps everything about the requirements that did not
pass (the first :data:`FULL_DETAIL_LIMIT` of them), and summarises the
others: such a requirement is one line (its description, test id and
target, found by the filters and the search), the matrix and the per-target
table list only what did not pass, and the timeline draws the nearest
deadlines. The JSON report keeps it all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .html_markup import esc
from .model import TOP_TARGETS, deadline_entries, describe, verdict
from .schema import Entry
from .verdicts import VERDICT_MARKS

__all__ = [
    "FULL_DETAIL_LIMIT",
    "TIMELINE_LIMIT",
    "in_full",
    "is_large",
    "nearest_deadlines",
    "summary_article",
    "target_list",
]

# Up to this many requirements every one is shown in full.
FULL_DETAIL_LIMIT = 500
# The deadlines a large run's timeline draws (the nearest).
TIMELINE_LIMIT = 200


def is_large(entries: Sequence[Entry]) -> bool:
    return len(entries) > FULL_DETAIL_LIMIT


def summary_article(entry: Entry, anchor: str) -> str:
    """A passing requirement of a large run in one line, still found by the filters."""
    v = verdict(entry)
    search = " ".join(
        [describe(entry), str(entry.get("nodeid", "")), str(entry.get("target", "")), v]
    ).lower()
    return (
        f'<article class="requirement brief" id="{anchor}" data-verdict="{v}"'
        f' data-search="{esc(search)}">'
        f'<span class="badge {v}">{VERDICT_MARKS[v]} {v}</span> '
        f"<b>{esc(describe(entry))}</b> <code>{esc(entry.get('nodeid', ''))}</code>"
        f" <small>{esc(entry.get('target', ''))}</small></article>"
    )


def in_full(entries: Sequence[Entry]) -> Callable[[Entry], bool]:
    """Which entries the page shows in full: every one of a small run; of a large run
    the first :data:`FULL_DETAIL_LIMIT` that did not pass (a fleet failing everywhere
    is as large as one passing everywhere: the rest are in the JSON report)."""
    if not is_large(entries):
        return lambda entry: True
    chosen = {id(e) for e in entries if verdict(e) != "passed"}
    if len(chosen) > FULL_DETAIL_LIMIT:
        kept = [e for e in entries if id(e) in chosen][:FULL_DETAIL_LIMIT]
        chosen = {id(e) for e in kept}
    return lambda entry: id(entry) in chosen


def nearest_deadlines(
    entries: Sequence[Entry], anchors: Sequence[str]
) -> tuple[list[Entry], list[str], int]:
    """The entries with the :data:`TIMELINE_LIMIT` nearest deadlines, their anchors, and
    how many deadlines there are in all."""
    dated = deadline_entries(entries)
    keep = {id(entry) for _, entry in dated[:TIMELINE_LIMIT]}
    pairs = [(e, a) for e, a in zip(entries, anchors, strict=True) if id(e) in keep]
    return [e for e, _ in pairs], [a for _, a in pairs], len(dated)


def target_list(where: Sequence[str]) -> str:
    """The headline's targets: all of a few, else how many, the list folded."""
    if not where:
        return ""
    label = "target: " if len(where) == 1 else "targets: "
    if len(where) <= TOP_TARGETS:
        return label + ", ".join(esc(t) for t in where)
    items = "".join(f"<li>{esc(t)}</li>" for t in where)
    return (
        f'<details class="targets"><summary>{len(where)} targets</summary>'
        f"<ul>{items}</ul></details>"
    )
