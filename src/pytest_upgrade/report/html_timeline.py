"""The HTML report's deadline timeline: one inline SVG row per requirement with a deadline."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Sequence

from .html_markup import esc, follows
from .model import (
    deadline_entries,
    describe,
    verdict,
)
from .results import days_text
from .schema import Entry
from .verdicts import VERDICT_MARKS

__all__ = ["timeline"]


# -- the deadline timeline ---------------------------------------------------------

_WIDTH = 760
_LEFT, _RIGHT = 20, 20
_ROW = 26
_TOP = 46

# Each verdict's colour on the timeline.
_SVG_COLOURS = {
    "passed": "#1a7f37",
    "failed": "#cf222e",
    "warned": "#9a6700",
    "skipped": "#57606a",
    "error": "#bc4c00",
    "known": "#57606a",
    "waived": "#57606a",
}


# Over 60 lines: one SVG drawing, top to bottom (axis, today, one row per
# deadline); split, its coordinates would be passed around rather than read.
def timeline(entries: Sequence[Entry], anchors: Sequence[str], date: str) -> str:
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
    start, end = _shift(min(days), -14), _shift(max(days), 14)
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
            f"as of {esc(today.isoformat())}</text>"
        )
    for row, (day, entry) in enumerate(dated):
        v = verdict(entry)
        colour, mark = _SVG_COLOURS[v], VERDICT_MARKS[v]
        cx, cy = x(day), _TOP + row * _ROW
        left_side = cx > _WIDTH * 0.6
        label = f"{mark} {describe(entry, deadline=False)}  {day.isoformat()}"
        left = days_text(entry.get("days_left"))
        if left:
            label += f" ({left})"
        tx = cx - 10 if left_side else cx + 10
        anchor_attr = "end" if left_side else "start"
        shapes.append(
            f'<g {follows(entry, anchor_of[id(entry)])}><a href="#{anchor_of[id(entry)]}">'
            f"<title>{esc(describe(entry))}: {v}</title>"
            f'<line x1="{cx:.1f}" y1="{cy}" x2="{cx:.1f}" y2="{axis_y}" stroke="{colour}"'
            ' stroke-opacity=".35"/>'
            f'<circle cx="{cx:.1f}" cy="{cy}" r="7" fill="{colour}"/>'
            f'<text x="{tx:.1f}" y="{cy + 4}" text-anchor="{anchor_attr}">{esc(label)}</text>'
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
        f"<tr {follows(entry, anchor_of[id(entry)])}>"
        f'<td data-label="deadline"><time>{day.isoformat()}</time></td>'
        f'<td data-label="when">{esc(days_text(entry.get("days_left")))}</td>'
        f'<td data-label="requirement"><a href="#{anchor_of[id(entry)]}">'
        f"{esc(describe(entry))}</a></td>"
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


def _shift(day: dt.date, days: int) -> dt.date:
    """``day`` moved by ``days``, held at the calendar's ends (after=9999-12-31 means never)."""
    try:
        return day + dt.timedelta(days=days)
    except OverflowError:
        return dt.date.max if days > 0 else dt.date.min


_MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
# Years between ticks over a long span: at most about a dozen ticks, up to 0001-9999.
_YEAR_STEPS = (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000)


def _tick_days(start: dt.date, end: dt.date) -> tuple[list[dt.date], bool]:
    """The days after ``start`` that get a tick, and whether they are labelled by month."""
    months = (end.year - start.year) * 12 + end.month - start.month
    if months <= 40:
        step = 1 if months <= 14 else 3
        firsts = (
            dt.date(start.year + (start.month + n - 1) // 12, (start.month + n - 1) % 12 + 1, 1)
            for n in range(1, months + 1)
        )
        return [day for day in firsts if (day.month - 1) % step == 0], True
    years = end.year - start.year
    step = next((s for s in _YEAR_STEPS if years / s <= 12), _YEAR_STEPS[-1])
    first = start.year // step * step + step
    return [dt.date(year, 1, 1) for year in range(first, end.year + 1, step)], False


def _ticks(start: dt.date, end: dt.date, x: Callable[[dt.date], float], axis_y: int) -> list[str]:
    """A tick on the first day of each month (of each year, decade... over a long span)."""
    days, by_month = _tick_days(start, end)
    ticks: list[str] = []
    for day in days:
        tx = x(day)
        text = f"{_MONTHS[day.month - 1]} {day.year}" if by_month else str(day.year)
        ticks.append(
            f'<line x1="{tx:.1f}" y1="{axis_y - 4}" x2="{tx:.1f}" y2="{axis_y + 4}"'
            ' stroke="#57606a"/>'
            f'<text x="{tx:.1f}" y="{axis_y + 18}" text-anchor="middle">{text}</text>'
        )
    return ticks
