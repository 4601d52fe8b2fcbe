"""Waiver expiries in the reports for people: the HTML timeline's and the Markdown summary's.

Read from the document's entries (``waived.waivers``, ``waiver_expired``:
glue.gating writes them), so that a report read back from disk, or merged
from shards, shows the same. Pure.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass

from .schema import Entry
from .verdicts import GATED, MARKS

__all__ = [
    "WaiverExpiry",
    "expiries",
    "gate_notes",
    "html_expiries",
    "markdown_covered",
    "markdown_expiring",
]

# How the Markdown summary escapes a value for a list item or a table cell.
Cell = Callable[[object], str]

# The HTML timeline counts the waivers expiring this soon; the summary lists
# those expiring within SOON (glue.gating's terminal section too).
HORIZON = 30
SOON = 14


@dataclass(frozen=True)
class WaiverExpiry:
    until: dt.date
    where: str
    reason: str
    requirements: int  # how many results it covers (or no longer covers: expired)

    def days_left(self, today: dt.date) -> int:
        """Days from ``today`` to the expiry: 0 on the day, negative once expired."""
        return (self.until - today).days


def expiries(entries: Iterable[Entry]) -> list[WaiverExpiry]:
    """Each waiver the entries name, once, soonest first."""
    found: dict[str, tuple[dt.date, str, int]] = {}
    for entry in entries:
        waived = entry.get("waived")
        named = list(waived.get("waivers", ())) if isinstance(waived, Mapping) else []
        named += list(entry.get("waiver_expired") or ())
        for waiver in named:
            try:
                until = dt.date.fromisoformat(str(waiver.get("until")))
            except ValueError:
                continue
            where = str(waiver.get("where", ""))
            count = found.get(where, (until, "", 0))[2]
            found[where] = (until, str(waiver.get("reason", "")), count + 1)
    return sorted(
        (WaiverExpiry(until, where, reason, n) for where, (until, reason, n) in found.items()),
        key=lambda w: (w.until, w.where),
    )


def _as_of(date: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(date)
    except ValueError:
        return None


def _when(waiver: WaiverExpiry, today: dt.date | None) -> str:
    if today is None:
        return ""
    days = waiver.days_left(today)
    if days < 0:
        return f"expired {-days} day(s) ago"
    return "expires today" if days == 0 else f"{days} day(s) left"


def html_expiries(entries: Sequence[Entry], date: str) -> str:
    """The timeline's waiver section: how many expire in the next 30 days, and each one."""
    found = expiries(entries)
    if not found:
        return ""
    today = _as_of(date)
    esc = html.escape
    ahead = [w for w in found if today is not None and 0 <= w.days_left(today) <= HORIZON]
    count = len(ahead)
    headline = f"{count} waiver{'' if count == 1 else 's'} expire{'s' if count == 1 else ''}"
    rows = "".join(
        f'<tr><td data-label="until"><time>{w.until.isoformat()}</time></td>'
        f'<td data-label="when">{esc(_when(w, today))}</td>'
        f'<td data-label="reason">{esc(w.reason)}</td>'
        f'<td data-label="waiver"><code>{esc(w.where)}</code></td>'
        f'<td data-label="requirements">{w.requirements}</td></tr>'
        for w in found
    )
    return (
        '<section id="waivers" class="timeline"><h2>Waiver expiries</h2>'
        f"<p><strong>{headline} in the next {HORIZON} days</strong>"
        f" (as of {esc(date)}; {len(found)} waiver(s) in use).</p>"
        + _svg(found, today)
        + '<div class="scroll"><table class="stack deadline-table">'
        '<thead><tr><th scope="col">until</th><th scope="col">when</th>'
        '<th scope="col">reason</th><th scope="col">waiver</th>'
        '<th scope="col">requirements</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div></section>"
    )


_WIDTH, _SIDE, _ROW, _TOP = 760, 20, 24, 40


def _svg(found: Sequence[WaiverExpiry], today: dt.date | None) -> str:
    """Each waiver's expiry on a time axis, the evaluation date marked, as the deadlines are."""
    days = [w.until for w in found] + ([today] if today else [])
    start, end = min(days) - dt.timedelta(days=14), max(days) + dt.timedelta(days=14)
    span = (end - start).days or 1

    def x(day: dt.date) -> float:
        return _SIDE + (day - start).days / span * (_WIDTH - 2 * _SIDE)

    axis = _TOP + _ROW * len(found)
    shapes = [
        f'<line x1="{_SIDE}" y1="{axis}" x2="{_WIDTH - _SIDE}" y2="{axis}" stroke="#57606a"/>',
        f'<text x="{_SIDE}" y="{axis + 18}">{start.isoformat()}</text>',
        f'<text x="{_WIDTH - _SIDE}" y="{axis + 18}" text-anchor="end">{end.isoformat()}</text>',
    ]
    if today is not None:
        shapes.append(
            f'<line x1="{x(today):.1f}" y1="20" x2="{x(today):.1f}" y2="{axis}" stroke="#0550ae"'
            ' stroke-width="2" stroke-dasharray="5 4"/>'
            f'<text x="{x(today):.1f}" y="14" text-anchor="middle" font-weight="bold">'
            f"as of {today.isoformat()}</text>"
        )
    for row, waiver in enumerate(found):
        cx, cy = x(waiver.until), _TOP + row * _ROW
        expired = today is not None and waiver.until < today
        colour = "#cf222e" if expired else "#57606a"
        left = cx > _WIDTH * 0.6
        label = f"{MARKS['waived']} {waiver.until.isoformat()} {waiver.reason} ({waiver.where})"
        shapes.append(
            f'<line x1="{cx:.1f}" y1="{cy}" x2="{cx:.1f}" y2="{axis}" stroke="{colour}"'
            ' stroke-opacity=".35"/>'
            f'<rect x="{cx - 6:.1f}" y="{cy - 6}" width="12" height="12" fill="{colour}"'
            f' transform="rotate(45 {cx:.1f} {cy})"/>'
            f'<text x="{cx - 10 if left else cx + 10:.1f}" y="{cy + 4}"'
            f' text-anchor="{"end" if left else "start"}">{html.escape(label)}</text>'
        )
    return (
        f'<svg viewBox="0 0 {_WIDTH} {axis + 26}" role="img" aria-label="each waiver\'s expiry'
        ' on a time axis, the as-of date marked" xmlns="http://www.w3.org/2000/svg">'
        f"{''.join(shapes)}</svg>"
    )


def markdown_expiring(entries: Sequence[Entry], date: str, cell: Cell) -> list[str]:
    """The summary's list of waivers expiring within 14 days (``cell`` escapes a value)."""
    today = _as_of(date)
    if today is None:
        return []
    soon = [w for w in expiries(entries) if 0 <= w.days_left(today) <= SOON]
    if not soon:
        return []
    lines = [f"### Waivers expiring within {SOON} days", ""]
    lines += [
        f"- {w.until.isoformat()} ({cell(_when(w, today))}): {cell(w.reason)}"
        f" ({cell(w.where)}, {w.requirements} requirement(s))"
        for w in soon
    ]
    return [*lines, ""]


def _notes(entry: Entry) -> list[tuple[str, str]]:
    """``(kind, text)`` for what waivers and the baseline made of the entry."""
    notes: list[tuple[str, str]] = []
    for kind in GATED:
        value = entry.get(kind)
        if isinstance(value, Mapping) and value.get("reason"):
            notes.append((kind, str(value["reason"])))
    for waiver in entry.get("waiver_expired") or ():
        notes.append(
            (
                "failed",
                f"waiver expired on {waiver.get('until')}: {waiver.get('reason')}"
                f" ({waiver.get('where')}); the failure stands",
            )
        )
    for where in entry.get("waiver_unneeded") or ():
        notes.append(("warned", f"waiver no longer needed: {where}"))
    return notes


def gate_notes(entry: Entry) -> list[str]:
    """The HTML requirement article's lines on its waivers and the baseline."""
    return [
        f'<p class="{kind}"><b>{html.escape(kind)}:</b> {html.escape(text)}</p>'
        for kind, text in _notes(entry)
    ]


def markdown_covered(entries: Sequence[Entry], cell: Cell) -> list[str]:
    """The summary's list of failures a waiver or the baseline covers, with the reasons."""
    lines: list[str] = []
    expired = [e for e in entries if e.get("waiver_expired")]
    if expired:
        lines += ["### Expired waivers: the failures stand", ""]
        lines += [_listed(entry, cell) for entry in expired[:200]]
        lines.append("")
    covered = [e for e in entries if e.get("verdict") in GATED]
    if covered:
        lines += [f"<details><summary>{len(covered)} waived or known failure(s)</summary>", ""]
        lines += [_listed(entry, cell) for entry in covered[:200]]
        lines += ["", "</details>", ""]
    return lines


def _listed(entry: Entry, cell: Cell) -> str:
    reason = "; ".join(text for _, text in _notes(entry))
    return f"- {entry.get('verdict')}: {cell(entry.get('nodeid', ''))}: {cell(reason)}"
