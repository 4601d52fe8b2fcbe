"""The HTML report (``--upgrade-html``): the JSON report's document rendered as one page.

A pure function from the document to a string. The page is self-contained
(inline style and script, an inline SVG timeline, a Content-Security-Policy
that forbids every request), so it works opened from disk or attached to a CI
run. Everything that comes from the run is escaped with :func:`html.escape`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from .html_assets import CSP, SCRIPT, STYLE
from .html_markup import esc, follows, plural
from .html_requirements import requirements_section
from .html_scale import in_full, is_large, nearest_deadlines, target_list
from .html_timeline import timeline
from .model import (
    as_of,
    check_counts,
    check_ids,
    describe,
    interrupted_note,
    natural_sorted,
    node_note,
    not_run,
    shown_verdicts,
    targets,
    verdict,
    verdict_counts,
)
from .schema import Document, Entry, Refused
from .verdicts import CHECK_MARKS, VERDICT_MARKS
from .waived import html_expiries

__all__ = ["render_html"]


def render_html(document: Document) -> str:
    """The whole report page for one run's document (the ``--upgrade-report`` dict)."""
    entries: list[Entry] = list(document.get("results", ()))
    anchors = [f"r{n}" for n in range(1, len(entries) + 1)]
    date = as_of(document)
    # Thousands of requirements: the passing ones are summarised (html_scale).
    large = is_large(entries)
    full = in_full(entries)
    title = "Upgrade compliance" + (f" as of {date}" if date else "")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{esc(CSP)}">',
        '<meta name="generator" content="pytest-upgrade">',
        f"<title>{esc(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        _header(entries, date, interrupted_note(document)),
        "<main>",
        _nav(),
        _filters(entries),
        _matrix(entries, anchors, full),
        _timeline(entries, anchors, date, large=large),
        html_expiries(entries, date),
        _targets(entries, large=large),
        requirements_section(entries, anchors, full),
        _refused(document.get("refused", ())),
        "</main>",
        f"<script>{SCRIPT}</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(part for part in parts if part) + "\n"


# -- the top of the page -----------------------------------------------------------


def _not_run_line(entries: Sequence[Entry]) -> str:
    """Passed requirements whose must-checks did not all run: said at the top, never hidden."""
    incomplete = sum(1 for e in entries if not_run(e))
    if not incomplete:
        return ""
    return (
        f'<p class="meta error">{plural(incomplete, "passed requirement")} with must-checks'
        " not run (see Details)</p>"
    )


def _header(entries: Sequence[Entry], date: str, interrupted: str | None = None) -> str:
    counts = verdict_counts(entries)
    tests = len({e.get("nodeid") for e in entries})
    where = targets(entries)
    meta = [
        f"as of <time>{esc(date)}</time>" if date else "",
        f"{plural(len(entries), 'requirement')} in {plural(tests, 'test')}",
    ]
    items = "".join(
        f'<li class="{v if counts[v] else "zero"}" data-count="{v}">'
        f'<span class="n">{counts[v]}</span>'
        f" {VERDICT_MARKS[v]} {v}</li>"
        for v in shown_verdicts(counts)
    )
    checks = check_counts(entries)
    check_line = ", ".join(f"{n} {outcome}" for outcome, n in checks.items())
    # An interrupted run says so above its counts: what was not checked is not known to hold.
    alert = f'<p class="interrupted" role="alert">{esc(interrupted)}</p>' if interrupted else ""
    return (
        "<header>"
        "<h1>Upgrade compliance</h1>"
        f"{alert}"
        # The counts first; the targets, however many, after them and folded.
        f'<ul class="counts" aria-label="requirements by verdict">{items}</ul>'
        f'<p class="meta">{" · ".join(m for m in meta if m)}</p>'
        + (f'<div class="meta">{target_list(where)}</div>' if where else "")
        + f'<p class="meta">checks: {esc(check_line)}</p>{_not_run_line(entries)}'
        "</header>"
    )


def _nav() -> str:
    links = [
        ("matrix", "Requirements × checks"),
        ("deadlines", "Deadlines"),
        ("targets", "Targets"),
        ("requirements", "Details"),
    ]
    items = "".join(f'<li><a href="#{anchor}">{text}</a></li>' for anchor, text in links)
    return f'<nav aria-label="sections"><ul>{items}</ul></nav>'


def _filters(entries: Sequence[Entry]) -> str:
    counts = verdict_counts(entries)
    boxes = "".join(
        f'<label><input type="checkbox" name="verdict" value="{v}" checked>'
        f" {VERDICT_MARKS[v]} {v} ({counts[v]})</label>"
        for v in shown_verdicts(counts)
    )
    return (
        '<section class="filters" aria-label="filter the requirements">'
        f"<fieldset><legend>Show verdicts</legend>{boxes}</fieldset>"
        '<div class="search"><label for="search">Search</label>'
        '<input type="search" id="search" placeholder="path, test, check id, message…"'
        ' autocomplete="off"></div>'
        f'<p id="shown" role="status" aria-live="polite">{len(entries)} of {len(entries)}'
        " requirement(s) shown</p>"
        "</section>"
    )


# -- the matrix --------------------------------------------------------------------


def _matrix(entries: Sequence[Entry], anchors: Sequence[str], full: Callable[[Entry], bool]) -> str:
    if not entries:
        return (
            '<section id="matrix"><h2>Requirements × checks</h2>'
            "<p>No requirement was checked in this run.</p></section>"
        )
    listed = [(e, a) for e, a in zip(entries, anchors, strict=True) if full(e)]
    note = ""
    if len(listed) < len(entries):
        note = (
            f'<p class="meta">{len(entries) - len(listed)} requirement(s) are not rows here'
            " (passing, or past the first failing ones): each is listed under Details,"
            " every check in the JSON report.</p>"
        )
    entries, anchors = [e for e, _ in listed], [a for _, a in listed]
    ids = check_ids(entries)
    head = "".join(f'<th scope="col" class="check"><span>{esc(i)}</span></th>' for i in ids)
    rows = []
    for entry, anchor in zip(entries, anchors, strict=True):
        outcomes = {c.get("id"): c for c in entry.get("checks", ())}
        cells = []
        for check_id in ids:
            check = outcomes.get(check_id)
            if check is None:
                cells.append('<td class="none" data-check="">·<span class="sr-only">'
                             " not applicable</span></td>")  # fmt: skip
                continue
            outcome = str(check.get("outcome", ""))
            mark = CHECK_MARKS.get(outcome, "?")
            label = f"{check_id}: {outcome}. {check.get('message', '')}"
            cells.append(
                f'<td class="{esc(outcome)}" data-check="{esc(check_id)}"'
                f' data-outcome="{esc(outcome)}">'
                f'<a href="#{anchor}-{esc(check_id)}" title="{esc(label)}">{mark}'
                f'<span class="sr-only"> {esc(outcome)}</span></a></td>'
            )
        v = verdict(entry)
        incomplete = f" <small>({esc(not_run(entry))})</small>" if not_run(entry) else ""
        rows.append(
            f"<tr {follows(entry, anchor)}>"
            f'<th scope="row"><a href="#{anchor}">{esc(describe(entry))}</a>'
            f"<small>{esc(entry.get('nodeid', ''))}</small></th>"
            f'<td class="{v}" data-outcome="{v}">{VERDICT_MARKS[v]} {v}{incomplete}</td>'
            f"{''.join(cells)}</tr>"
        )
    legend = (
        " ".join(f'<span class="{o}">{m} {o}</span>' for o, m in CHECK_MARKS.items())
        + ' <span class="none">· not applicable</span>'
    )
    return (
        '<section id="matrix" aria-labelledby="matrix-title">'
        '<h2 id="matrix-title">Requirements × checks</h2>'
        '<div class="scroll" role="region" aria-label="the matrix (scrolls sideways)"'
        ' tabindex="0">'
        '<table class="matrix"><caption class="sr-only">The outcome of every check for'
        " every requirement</caption>"
        f'<thead><tr><th scope="col">requirement</th><th scope="col">verdict</th>{head}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table></div>"
        f'<p class="legend">{legend}</p>{note}'
        "</section>"
    )


# -- the per-target roll-up --------------------------------------------------------


def _targets(entries: Sequence[Entry], *, large: bool = False) -> str:
    by_target: dict[str, list[Entry]] = {}
    for entry in entries:
        by_target.setdefault(str(entry.get("target", "")), []).append(entry)
    shown = shown_verdicts(verdict_counts(entries))
    head = "".join(f'<th scope="col">{VERDICT_MARKS[v]} {v}</th>' for v in shown)
    rows = []
    # A large run's table: the targets where something did not pass (html_scale).
    listed = [
        t for t in by_target if not large or any(verdict(e) != "passed" for e in by_target[t])
    ]
    note = ""
    if len(listed) < len(by_target):
        note = (
            f'<p class="meta">and {len(by_target) - len(listed)} target(s) where every'
            " requirement passed</p>"
        )
    for target in natural_sorted(listed):
        counts = verdict_counts(by_target[target])
        cells = "".join(
            f'<td data-label="{v}" class="{v if counts[v] else "none"}">{counts[v]}</td>'
            for v in shown
        )
        nodes = node_note(by_target[target])
        shown_nodes = f" <small>{esc(nodes)}</small>" if nodes else ""
        rows.append(
            f'<tr><th scope="row">{esc(target or "(no target)")}{shown_nodes}</th>'
            f'<td data-label="requirements">{len(by_target[target])}</td>{cells}</tr>'
        )
    return (
        '<section id="targets"><h2>Targets</h2>'
        '<div class="scroll"><table class="stack rollup">'
        f'<thead><tr><th scope="col">target</th><th scope="col">requirements</th>{head}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table></div>{note}</section>"
    )


def _timeline(entries: Sequence[Entry], anchors: Sequence[str], date: str, *, large: bool) -> str:
    """The deadline timeline; a large run's draws the nearest deadlines (html_scale)."""
    if not large:
        return timeline(entries, anchors, date)
    near, near_anchors, total = nearest_deadlines(entries, anchors)
    drawn = timeline(near, near_anchors, date)
    if total <= len(near):
        return drawn
    note = (
        f'<p class="meta">The {len(near)} nearest of {total} deadlines are drawn;'
        " every one is in the JSON report.</p></section>"
    )
    return drawn.removesuffix("</section>") + note


def _refused(refused: Sequence[Refused]) -> str:
    if not refused:
        return ""
    rows = "".join(
        f'<tr><td data-label="request" class="mono">{esc(r.get("method", ""))}'
        f" {esc(r.get('path', ''))}</td>"
        f'<td data-label="spoken">{esc(r.get("spoken", ""))}</td>'
        f'<td data-label="required">{esc(r.get("required", ""))}</td>'
        f'<td data-label="test"><code>{esc(r.get("test", ""))}</code></td></tr>'
        for r in refused
    )
    return (
        '<section id="refused"><h2>Requests refused by enforcement</h2>'
        '<div class="scroll"><table class="stack">'
        '<thead><tr><th scope="col">request</th><th scope="col">spoken</th>'
        '<th scope="col">required</th><th scope="col">test</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div></section>"
    )
