"""The HTML report (``--upgrade-html``): the JSON report's document rendered as one page.

A pure function from the document to a string. The page is self-contained
(inline style and script, an inline SVG timeline, a Content-Security-Policy
that forbids every request), so it works opened from disk or attached to a CI
run. Everything that comes from the run is escaped with :func:`html.escape`.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Mapping, Sequence
from typing import Any

from .html_assets import CSP, SCRIPT, STYLE
from .model import (
    CHECK_MARKS,
    VERDICT_MARKS,
    VERDICTS,
    as_of,
    check_counts,
    check_ids,
    days_text,
    deadline_entries,
    describe,
    targets,
    verdict,
    verdict_counts,
)

__all__ = ["checks_fragment", "pytest_html_fragment", "render_html"]

Entry = Mapping[str, Any]


def _e(value: object) -> str:
    return html.escape(str(value), quote=True)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}" + ("" if count == 1 else "s")


def render_html(document: Mapping[str, Any]) -> str:
    """The whole report page for one run's document (the ``--upgrade-report`` dict)."""
    entries: list[Entry] = list(document.get("results", ()))
    anchors = [f"r{n}" for n in range(1, len(entries) + 1)]
    date = as_of(document)
    title = "Upgrade compliance" + (f" as of {date}" if date else "")
    parts = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f'<meta http-equiv="Content-Security-Policy" content="{_e(CSP)}">',
        '<meta name="generator" content="pytest-upgrade">',
        f"<title>{_e(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        _header(entries, date),
        "<main>",
        _nav(),
        _filters(entries),
        _matrix(entries, anchors),
        _timeline(entries, anchors, date),
        _targets(entries),
        _requirements(entries, anchors),
        _refused(document.get("refused", ())),
        "</main>",
        f"<script>{SCRIPT}</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(part for part in parts if part) + "\n"


# -- the top of the page -----------------------------------------------------------


def _header(entries: Sequence[Entry], date: str) -> str:
    counts = verdict_counts(entries)
    tests = len({e.get("nodeid") for e in entries})
    where = targets(entries)
    meta = [
        f"as of <time>{_e(date)}</time>" if date else "",
        f"{_plural(len(entries), 'requirement')} in {_plural(tests, 'test')}",
        ("target: " if len(where) == 1 else "targets: ") + ", ".join(_e(t) for t in where)
        if where
        else "",
    ]
    items = "".join(
        f'<li class="{v if counts[v] else "zero"}" data-count="{v}">'
        f'<span class="n">{counts[v]}</span>'
        f" {VERDICT_MARKS[v]} {v}</li>"
        for v in VERDICTS
    )
    checks = check_counts(entries)
    check_line = ", ".join(f"{n} {outcome}" for outcome, n in checks.items())
    return (
        "<header>"
        "<h1>Upgrade compliance</h1>"
        f'<p class="meta">{" · ".join(m for m in meta if m)}</p>'
        f'<ul class="counts" aria-label="requirements by verdict">{items}</ul>'
        f'<p class="meta">checks: {_e(check_line)}</p>'
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
        for v in VERDICTS
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


def _search_text(entry: Entry) -> str:
    words = [describe(entry), str(entry.get("nodeid", "")), str(entry.get("target", ""))]
    words.append(verdict(entry))
    for check in entry.get("checks", ()):
        words += [str(check.get("id", "")), str(check.get("message", ""))]
    if entry.get("error"):
        words.append(str(entry["error"]))
    return _e(" ".join(words).lower())


def _filter_attributes(entry: Entry) -> str:
    """What the filters read: on the requirement's article only (the page stays small)."""
    return f'data-verdict="{verdict(entry)}" data-search="{_search_text(entry)}"'


def _follows(entry: Entry, anchor: str) -> str:
    """An element shown or hidden with the requirement's article (matrix row, deadline)."""
    return f'data-verdict="{verdict(entry)}" data-entry="{anchor}"'


# -- the matrix --------------------------------------------------------------------


def _matrix(entries: Sequence[Entry], anchors: Sequence[str]) -> str:
    if not entries:
        return (
            '<section id="matrix"><h2>Requirements × checks</h2>'
            "<p>No requirement was checked in this run.</p></section>"
        )
    ids = check_ids(entries)
    head = "".join(f'<th scope="col" class="check"><span>{_e(i)}</span></th>' for i in ids)
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
                f'<td class="{_e(outcome)}" data-check="{_e(check_id)}"'
                f' data-outcome="{_e(outcome)}">'
                f'<a href="#{anchor}-{_e(check_id)}" title="{_e(label)}">{mark}'
                f'<span class="sr-only"> {_e(outcome)}</span></a></td>'
            )
        v = verdict(entry)
        rows.append(
            f"<tr {_follows(entry, anchor)}>"
            f'<th scope="row"><a href="#{anchor}">{_e(describe(entry))}</a>'
            f"<small>{_e(entry.get('nodeid', ''))}</small></th>"
            f'<td class="{v}" data-outcome="{v}">{VERDICT_MARKS[v]} {v}</td>'
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
        f'<p class="legend">{legend}</p>'
        "</section>"
    )


# -- the deadline timeline ---------------------------------------------------------

_WIDTH = 760
_LEFT, _RIGHT = 20, 20
_ROW = 26
_TOP = 46

_SVG_COLOURS = {
    "passed": ("#1a7f37", "✔"),
    "failed": ("#cf222e", "✘"),
    "warned": ("#9a6700", "⚠"),
    "skipped": ("#57606a", "○"),
    "error": ("#bc4c00", "‼"),
}


def _timeline(entries: Sequence[Entry], anchors: Sequence[str], date: str) -> str:
    anchor_of = {id(entry): anchor for entry, anchor in zip(entries, anchors, strict=True)}
    dated = deadline_entries(entries)
    head = '<section id="deadlines" class="timeline"><h2>Deadlines</h2>'
    if not dated:
        return head + "<p>No requirement has a deadline (<code>after=</code>).</p></section>"
    try:
        today: dt.date | None = dt.date.fromisoformat(date)
    except ValueError:
        today = None
    days = [d for d, _ in dated] + ([today] if today else [])
    start, end = min(days) - dt.timedelta(days=14), max(days) + dt.timedelta(days=14)
    span = (end - start).days or 1

    def x(day: dt.date) -> float:
        return _LEFT + (day - start).days / span * (_WIDTH - _LEFT - _RIGHT)

    height = _TOP + _ROW * len(dated) + 34
    axis_y = height - 26
    shapes = [
        f'<line x1="{_LEFT}" y1="{axis_y}" x2="{_WIDTH - _RIGHT}" y2="{axis_y}"'
        ' stroke="#57606a" stroke-width="1"/>'
    ]
    shapes += _ticks(start, end, x, axis_y)
    if today is not None:
        tx = x(today)
        shapes.append(
            f'<line x1="{tx:.1f}" y1="22" x2="{tx:.1f}" y2="{axis_y}" stroke="#0550ae"'
            ' stroke-width="2" stroke-dasharray="5 4"/>'
            f'<text x="{tx:.1f}" y="16" text-anchor="middle" font-weight="bold">'
            f"as of {_e(today.isoformat())}</text>"
        )
    for row, (day, entry) in enumerate(dated):
        v = verdict(entry)
        colour, mark = _SVG_COLOURS[v]
        cx, cy = x(day), _TOP + row * _ROW
        left_side = cx > _WIDTH * 0.6
        label = f"{mark} {describe(entry).split(' after=')[0]}  {day.isoformat()}"
        left = days_text(entry.get("days_left"))
        if left:
            label += f" ({left})"
        tx = cx - 10 if left_side else cx + 10
        anchor_attr = "end" if left_side else "start"
        shapes.append(
            f'<g {_follows(entry, anchor_of[id(entry)])}><a href="#{anchor_of[id(entry)]}">'
            f"<title>{_e(describe(entry))}: {v}</title>"
            f'<line x1="{cx:.1f}" y1="{cy}" x2="{cx:.1f}" y2="{axis_y}" stroke="{colour}"'
            ' stroke-opacity=".35"/>'
            f'<circle cx="{cx:.1f}" cy="{cy}" r="7" fill="{colour}"/>'
            f'<text x="{tx:.1f}" y="{cy + 4}" text-anchor="{anchor_attr}">{_e(label)}</text>'
            "</a></g>"
        )
    svg = (
        f'<svg viewBox="0 0 {_WIDTH} {height}" role="img" aria-labelledby="timeline-title"'
        ' xmlns="http://www.w3.org/2000/svg">'
        '<title id="timeline-title">Each after= deadline on a time axis, the as-of date marked,'
        " coloured by verdict</title>"
        f"{''.join(shapes)}</svg>"
    )
    rows = "".join(
        f"<tr {_follows(entry, anchor_of[id(entry)])}>"
        f'<td data-label="deadline"><time>{day.isoformat()}</time></td>'
        f'<td data-label="when">{_e(days_text(entry.get("days_left")))}</td>'
        f'<td data-label="requirement"><a href="#{anchor_of[id(entry)]}">'
        f"{_e(describe(entry))}</a></td>"
        f'<td data-label="verdict" class="{verdict(entry)}">'
        f"{VERDICT_MARKS[verdict(entry)]} {verdict(entry)}</td></tr>"
        for day, entry in dated
    )
    table = (
        '<div class="scroll"><table class="stack deadline-table">'
        '<thead><tr><th scope="col">deadline</th><th scope="col">when</th>'
        '<th scope="col">requirement</th><th scope="col">verdict</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div>"
    )
    return head + svg + table + "</section>"


def _ticks(start: dt.date, end: dt.date, x: Any, axis_y: int) -> list[str]:
    """A tick on the first day of each month (of each year over a long span)."""
    months = (end.year - start.year) * 12 + end.month - start.month
    step = 1 if months <= 14 else 3 if months <= 40 else 12
    ticks: list[str] = []
    year, month = start.year, start.month
    while True:
        month += 1
        if month > 12:
            year, month = year + 1, 1
        day = dt.date(year, month, 1)
        if day > end:
            return ticks
        if (month - 1) % step:
            continue
        tx = x(day)
        text = day.strftime("%b %Y") if step < 12 else str(year)
        ticks.append(
            f'<line x1="{tx:.1f}" y1="{axis_y - 4}" x2="{tx:.1f}" y2="{axis_y + 4}"'
            ' stroke="#57606a"/>'
            f'<text x="{tx:.1f}" y="{axis_y + 18}" text-anchor="middle">{text}</text>'
        )


# -- the per-target roll-up --------------------------------------------------------


def _targets(entries: Sequence[Entry]) -> str:
    by_target: dict[str, list[Entry]] = {}
    for entry in entries:
        by_target.setdefault(str(entry.get("target", "")), []).append(entry)
    head = "".join(f'<th scope="col">{VERDICT_MARKS[v]} {v}</th>' for v in VERDICTS)
    rows = []
    for target in sorted(by_target):
        counts = verdict_counts(by_target[target])
        cells = "".join(
            f'<td data-label="{v}" class="{v if counts[v] else "none"}">{counts[v]}</td>'
            for v in VERDICTS
        )
        rows.append(
            f'<tr><th scope="row">{_e(target or "(no target)")}</th>'
            f'<td data-label="requirements">{len(by_target[target])}</td>{cells}</tr>'
        )
    return (
        '<section id="targets"><h2>Targets</h2>'
        '<div class="scroll"><table class="stack rollup">'
        f'<thead><tr><th scope="col">target</th><th scope="col">requirements</th>{head}</tr>'
        f"</thead><tbody>{''.join(rows)}</tbody></table></div></section>"
    )


# -- per requirement ---------------------------------------------------------------


def _requirements(entries: Sequence[Entry], anchors: Sequence[str]) -> str:
    articles = [_requirement(e, a) for e, a in zip(entries, anchors, strict=True)]
    return f'<section id="requirements"><h2>Details</h2>{"".join(articles)}</section>'


def _requirement(entry: Entry, anchor: str) -> str:
    v = verdict(entry)
    is_open = " open" if v in ("failed", "error", "warned") else ""
    facts = [f"test <code>{_e(entry.get('nodeid', ''))}</code>"]
    if entry.get("outcome"):
        facts.append(f"test outcome {_e(entry['outcome'])}")
    if entry.get("target"):
        facts.append(f"target {_e(entry['target'])}")
    requirement = entry.get("requirement", {})
    if requirement.get("after"):
        when = days_text(entry.get("days_left"))
        facts.append(
            f"deadline {_e(requirement['after'])}"
            + (f", as of {_e(entry.get('as_of'))}: {_e(when)}" if when else "")
        )
    if requirement.get("headers"):
        headers = ", ".join(f"{k}: {val}" for k, val in requirement["headers"].items())
        facts.append(f"headers {_e(headers)}")
    body = [f'<p class="nodeid">{" · ".join(facts)}</p>']
    if entry.get("error"):
        body.append(f'<p class="error"><b>Error:</b> {_e(entry["error"])}</p>')
    body.append(_exchanges(entry))
    body.append(checks_fragment(entry, anchor))
    return (
        f'<article class="requirement" id="{anchor}" {_filter_attributes(entry)}>'
        f"<details{is_open}><summary>"
        f'<span class="badge {v}">{VERDICT_MARKS[v]} {v}</span> '
        f"<h3>{_e(describe(entry))}</h3></summary>"
        f'<div class="body">{"".join(body)}</div></details></article>'
    )


def _exchanges(entry: Entry) -> str:
    exchanges = entry.get("exchanges", ())
    handshakes = entry.get("handshakes", ())
    if not exchanges and not handshakes:
        return ""
    rows = []
    for exchange in exchanges:
        response, failure = exchange.get("response"), exchange.get("failure")
        if response:
            answer = _e(response.get("status_line", response.get("status", "")))
            headers = response.get("headers", ())
            if headers:
                lines = "\n".join(f"{name}: {value}" for name, value in headers)
                answer += (
                    f"<details><summary>{len(headers)} header field(s)</summary>"
                    f"<pre>{_e(lines)}</pre></details>"
                )
        elif failure:
            answer = f"{_e(failure.get('message', ''))} <small>({_e(failure.get('kind'))})</small>"
        else:
            answer = "nothing recorded"
        negotiated = ", ".join(
            str(value)
            for value in (exchange.get("tls_version"), exchange.get("alpn") and
                          f"ALPN {exchange.get('alpn')}")
            if value
        )  # fmt: skip
        rows.append(
            f'<tr><td data-label="probe">{_e(exchange.get("role", ""))}</td>'
            f'<td data-label="request" class="mono">{_e(exchange.get("method", ""))}'
            f" {_e(exchange.get('url', ''))}</td>"
            f'<td data-label="offered">{_e(exchange.get("offered", ""))}</td>'
            f'<td data-label="negotiated">{_e(negotiated)}</td>'
            f'<td data-label="answer">{answer}</td></tr>'
        )
    for handshake in handshakes:
        rows.append(
            f'<tr><td data-label="probe">tls</td>'
            f'<td data-label="request">{_e(handshake.get("version", ""))} handshake</td>'
            '<td data-label="offered"></td><td data-label="negotiated"></td>'
            f'<td data-label="answer">{_e(handshake.get("outcome", ""))}'
            f" ({_e(handshake.get('detail', ''))})</td></tr>"
        )
    return (
        "<h4>Exchanges</h4>"
        '<div class="scroll"><table class="stack exchanges">'
        '<thead><tr><th scope="col">probe</th><th scope="col">request</th>'
        '<th scope="col">offered</th><th scope="col">negotiated</th>'
        f'<th scope="col">answer</th></tr></thead><tbody>{"".join(rows)}</tbody>'
        "</table></div>"
    )


def checks_fragment(entry: Entry, anchor: str, *, copy_button: bool = True) -> str:
    """Every check of one requirement with its evidence, and the reproduce commands."""
    rows = []
    for check in entry.get("checks", ()):
        outcome = str(check.get("outcome", ""))
        details = "".join(
            f'<div class="detail"><b>{key}:</b> {_e(check[key])}</div>'
            for key in ("expected", "actual", "diagnosis")
            if check.get(key)
        )
        rows.append(
            f'<tr id="{anchor}-{_e(check.get("id", ""))}" data-outcome="{_e(outcome)}">'
            f'<td data-label="outcome" class="outcome {_e(outcome)}">'
            f"{CHECK_MARKS.get(outcome, '?')}&nbsp;{_e(outcome)}</td>"
            f'<td data-label="check"><code>{_e(check.get("id", ""))}</code></td>'
            f'<td data-label="severity">{_e(check.get("severity", ""))}</td>'
            f'<td data-label="result">{_e(check.get("message", ""))}{details}</td>'
            f'<td data-label="RFC">{_e(check.get("rfc", ""))}</td></tr>'
        )
    parts = []
    if rows:
        parts.append(
            "<h4>Checks</h4>"
            '<div class="scroll"><table class="stack checks">'
            '<thead><tr><th scope="col">outcome</th><th scope="col">check</th>'
            '<th scope="col">severity</th><th scope="col">result</th>'
            f'<th scope="col">RFC</th></tr></thead><tbody>{"".join(rows)}</tbody>'
            "</table></div>"
        )
    commands = entry.get("reproduce", ())
    if commands:
        block = f"{anchor}-reproduce"
        button = (
            f'<button type="button" data-copy="{block}"'
            f' aria-label="Copy the reproduce commands of {_e(describe(entry))}">Copy</button>'
            '<span class="copied" role="status" aria-live="polite"></span>'
        )
        parts.append(
            "<h4>Reproduce</h4>"
            f'<div class="repro"><pre><code id="{block}">{_e(chr(10).join(commands))}</code></pre>'
            f"{button if copy_button else ''}</div>"
        )
    return "".join(parts)


def pytest_html_fragment(entries: Sequence[Entry], prefix: str) -> str:
    """What a test's row in a pytest-html report shows: each requirement's checks.

    One line of markup (pytest-html's log area keeps line breaks), styled
    inline (its page does not have this report's style sheet) and without the
    copy button (its page does not run this report's script).
    """
    blocks = []
    for n, entry in enumerate(entries, 1):
        v = verdict(entry)
        blocks.append(
            f'<div class="upgrade-requirement" data-verdict="{v}">'
            f"<p><b>{VERDICT_MARKS[v]} {v}</b> {_e(describe(entry))}</p>"
            f"{checks_fragment(entry, f'{prefix}-{n}', copy_button=False)}</div>"
        )
    return (
        '<div class="upgrade-compliance" style="white-space: normal; font-family: sans-serif">'
        f"<h3>upgrade compliance</h3>{''.join(blocks)}</div>"
    )


def _refused(refused: Sequence[Mapping[str, Any]]) -> str:
    if not refused:
        return ""
    rows = "".join(
        f'<tr><td data-label="request" class="mono">{_e(r.get("method", ""))}'
        f" {_e(r.get('path', ''))}</td>"
        f'<td data-label="spoken">{_e(r.get("spoken", ""))}</td>'
        f'<td data-label="required">{_e(r.get("required", ""))}</td>'
        f'<td data-label="test"><code>{_e(r.get("test", ""))}</code></td></tr>'
        for r in refused
    )
    return (
        '<section id="refused"><h2>Requests refused by enforcement</h2>'
        '<div class="scroll"><table class="stack">'
        '<thead><tr><th scope="col">request</th><th scope="col">spoken</th>'
        '<th scope="col">required</th><th scope="col">test</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div></section>"
    )
