"""Waiver expiries in the reports for people: the HTML timeline's and the Markdown summary's.

Read from the document's entries (``waived.waivers``, ``waiver_expired``:
glue.gating writes them), so that a report read back from disk, or merged
from shards, shows the same. Pure.
"""

from __future__ import annotations

import datetime as dt
import html
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

__all__ = [
    "WaiverExpiry",
    "expiries",
    "gate_notes",
    "html_expiries",
    "markdown_covered",
    "markdown_expiring",
]

Entry = Mapping[str, Any]

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


def _when(until: dt.date, today: dt.date | None) -> str:
    if today is None:
        return ""
    days = (until - today).days
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
    ahead = [w for w in found if today is not None and 0 <= (w.until - today).days <= HORIZON]
    count = len(ahead)
    headline = f"{count} waiver{'' if count == 1 else 's'} expire{'s' if count == 1 else ''}"
    rows = "".join(
        f'<tr><td data-label="until"><time>{w.until.isoformat()}</time></td>'
        f'<td data-label="when">{esc(_when(w.until, today))}</td>'
        f'<td data-label="reason">{esc(w.reason)}</td>'
        f'<td data-label="waiver"><code>{esc(w.where)}</code></td>'
        f'<td data-label="requirements">{w.requirements}</td></tr>'
        for w in found
    )
    return (
        '<section id="waivers" class="timeline"><h2>Waiver expiries</h2>'
        f"<p><strong>{headline} in the next {HORIZON} days</strong>"
        f" (as of {esc(date)}; {len(found)} waiver(s) in use).</p>"
        '<div class="scroll"><table class="stack deadline-table">'
        '<thead><tr><th scope="col">until</th><th scope="col">when</th>'
        '<th scope="col">reason</th><th scope="col">waiver</th>'
        '<th scope="col">requirements</th></tr></thead>'
        f"<tbody>{rows}</tbody></table></div></section>"
    )


def markdown_expiring(entries: Sequence[Entry], date: str, cell: Any) -> list[str]:
    """The summary's list of waivers expiring within 14 days (``cell`` escapes a value)."""
    today = _as_of(date)
    if today is None:
        return []
    soon = [w for w in expiries(entries) if 0 <= (w.until - today).days <= SOON]
    if not soon:
        return []
    lines = [f"### Waivers expiring within {SOON} days", ""]
    lines += [
        f"- {w.until.isoformat()} ({cell(_when(w.until, today))}): {cell(w.reason)}"
        f" (`{cell(w.where)}`, {w.requirements} requirement(s))"
        for w in soon
    ]
    return [*lines, ""]


def _notes(entry: Entry) -> list[tuple[str, str]]:
    """``(kind, text)`` for what waivers and the baseline made of the entry."""
    notes: list[tuple[str, str]] = []
    for kind in ("waived", "known"):
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


def markdown_covered(entries: Sequence[Entry], cell: Any) -> list[str]:
    """The summary's list of failures a waiver or the baseline covers, with the reasons."""
    covered = [e for e in entries if e.get("verdict") in ("waived", "known")]
    if not covered:
        return []
    lines = [f"<details><summary>{len(covered)} waived or known failure(s)</summary>", ""]
    for entry in covered[:200]:
        reason = "; ".join(text for _, text in _notes(entry))
        lines.append(f"- {entry.get('verdict')}: `{cell(entry.get('nodeid', ''))}`: {cell(reason)}")
    return [*lines, "", "</details>", ""]
